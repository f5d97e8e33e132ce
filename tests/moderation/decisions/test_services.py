"""Decisions: who, when, why, which rule set; platform actions requested; conflicts refused."""

import pytest
from django.core import mail

from moderation.decisions import services as decisions
from moderation.decisions.actions import ActionNotSupported
from audit.models import AuditEvent
from moderation.models import Author, Decision, PlatformAction, QueueItem
from tests.factories import ChannelFactory, CommentFactory, QueueItemFactory, UserFactory, VerdictFactory

pytestmark = pytest.mark.django_db


def _item(platform="facebook", **verdict):
    channel = ChannelFactory(platform=platform)
    comment = CommentFactory(channel=channel, text="You lot are useless idiots")
    return QueueItemFactory(verdict=VerdictFactory(comment=comment, **verdict))


def test_hide_records_decision_action_audit_and_strike(officer):
    item = _item()
    outcome = decisions.decision_make(item=item, user=officer, kind="hide", reason="abusive")
    item.refresh_from_db()
    d = Decision.objects.get()
    assert (d.kind, d.decided_by, d.reason, d.verdict_id, d.automatic) == ("hide", officer, "abusive", item.verdict_id, False)
    assert (item.status, item.claimed_by) == ("decided", officer)
    assert [(a.kind, a.status, a.decision_id) for a in PlatformAction.objects.all()] == [("hide", "requested", d.pk)]
    assert outcome.actions[0].kind == "hide"
    event = AuditEvent.objects.get(verb="decision.hide")
    assert (event.actor, event.comment_id, event.data["reason"]) == (officer, item.comment_id, "abusive")
    assert Author.objects.get(pk=item.comment.author_id).strikes == 1


def test_second_officer_is_told_already_decided_and_nothing_is_written(officer):
    other = UserFactory(username="second.officer")
    item = _item()
    stale_copy = QueueItem.objects.get(pk=item.pk)
    decisions.decision_make(item=item, user=officer, kind="hide")
    with pytest.raises(decisions.AlreadyDecided) as exc:
        decisions.decision_make(item=stale_copy, user=other, kind="approve")
    assert str(exc.value).startswith("Already decided: hide by Test ")
    assert Decision.objects.count() == 1
    assert PlatformAction.objects.count() == 1
    assert not AuditEvent.objects.filter(actor=other).exists()


def test_an_item_claimed_by_someone_else_cannot_be_decided(officer):
    other = UserFactory(username="claimer")
    item = _item()
    decisions.item_claim(item=item, user=other)
    with pytest.raises(decisions.AlreadyDecided, match="Already claimed by"):
        decisions.decision_make(item=item, user=officer, kind="hide")
    with pytest.raises(decisions.AlreadyDecided):
        decisions.item_claim(item=item, user=officer)
    item.refresh_from_db()
    assert (item.status, item.claimed_by) == ("claimed", other)


def test_unsupported_action_is_refused_with_the_platform_reason_and_nothing_changes(officer):
    item = _item(platform="x")
    with pytest.raises(ActionNotSupported, match="X does not let us delete"):
        decisions.decision_make(item=item, user=officer, kind="delete")
    item.refresh_from_db()
    assert (item.status, Decision.objects.count(), PlatformAction.objects.count()) == ("open", 0, 0)


def test_block_hides_and_blocks_where_the_platform_can(officer):
    item = _item(platform="facebook")
    decisions.decision_make(item=item, user=officer, kind="block", reason="repeated abuse")
    assert sorted(PlatformAction.objects.values_list("kind", flat=True)) == ["block", "hide"]
    author = Author.objects.get(pk=item.comment.author_id)
    assert (author.blocked, author.blocked_at is not None, author.strikes) == (True, True, 1)


def test_reply_sends_the_text_and_closes_the_item(officer):
    item = _item(action="allow", signpost="clinical", categories=["clinical_question"])
    decisions.decision_make(item=item, user=officer, kind="reply", reply_text="Please contact NHS 111.")
    action = PlatformAction.objects.get()
    assert (action.kind, action.payload) == ("reply", {"message": "Please contact NHS 111."})
    item.refresh_from_db()
    assert item.status == "decided"


def test_reply_without_text_is_refused(officer):
    item = _item()
    with pytest.raises(decisions.DecisionError, match="Write the reply first"):
        decisions.decision_make(item=item, user=officer, kind="reply", reply_text="  ")
    assert Decision.objects.count() == 0


def test_note_keeps_the_item_open(officer):
    item = _item()
    decisions.decision_make(item=item, user=officer, kind="note", reason="Checking with the ward")
    item.refresh_from_db()
    assert (item.status, Decision.objects.get().kind, PlatformAction.objects.count()) == ("open", "note", 0)


def test_undo_hide_requests_unhide_and_returns_the_item(officer):
    item = _item()
    hide = decisions.decision_make(item=item, user=officer, kind="hide").decision
    outcome = decisions.decision_undo(item=item, decision=hide, user=officer)
    item.refresh_from_db()
    assert (outcome.decision.kind, outcome.decision.undoes_id) == ("undo", hide.pk)
    # Back as the hide found it: open, nobody's (test_sla.py has undo's due times).
    assert (item.status, item.claimed_by, item.decided_at) == ("open", None, None)
    assert sorted(PlatformAction.objects.values_list("kind", flat=True)) == ["hide", "unhide"]
    assert Author.objects.get(pk=item.comment.author_id).strikes == 0
    with pytest.raises(decisions.NotReversible):
        decisions.decision_undo(item=item, decision=hide, user=officer)


def test_delete_cannot_be_undone(officer):
    item = _item()
    delete = decisions.decision_make(item=item, user=officer, kind="delete").decision
    with pytest.raises(decisions.NotReversible):
        decisions.decision_undo(item=item, decision=delete, user=officer)


def test_bulk_applies_to_each_and_reports_refusals(officer):
    fb, x = _item("facebook"), _item("x")
    decided = _item("facebook")
    decisions.decision_make(item=decided, user=officer, kind="approve")
    result = decisions.decisions_bulk(items=[fb, x, decided], user=officer, kind="delete")
    assert result.done == [fb.pk]
    assert set(result.refused) == {x.pk, decided.pk}
    assert result.refused[x.pk].startswith("X does not let us delete")


def test_escalate_to_safeguarding_sends_evidence_once_and_keeps_the_comment(officer, settings):
    settings.SAFEGUARDING_EMAIL = "safeguarding@example.nhs.uk"
    item = _item(action="allow", escalation="safeguarding", categories=["safeguarding"])
    decisions.decision_make(item=item, user=officer, kind="escalate", escalate_to="safeguarding", reason="child at risk")
    item.refresh_from_db()
    assert item.safeguarding_referred_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["safeguarding@example.nhs.uk"]
    assert "You lot are useless idiots" in message.body
    assert f"@{item.comment.author.handle}" in message.body
    assert "child at risk" in message.body
    with pytest.raises(decisions.DecisionError, match="Already referred"):
        decisions.decision_make(item=item, user=officer, kind="escalate", escalate_to="safeguarding")
    with pytest.raises(decisions.DecisionError, match="Hide it instead"):
        decisions.decision_make(item=item, user=officer, kind="delete")
    assert len(mail.outbox) == 1


def test_escalate_to_duty_manager_pages_after_commit(officer, django_capture_on_commit_callbacks, broker):
    item = _item()
    with django_capture_on_commit_callbacks(execute=True):
        decisions.decision_make(item=item, user=officer, kind="escalate", escalate_to="duty_manager")
    item.refresh_from_db()
    assert (item.escalation, item.priority, item.status) == ("duty_manager", 10, "open")
    assert ("moderation.tasks.queueitem_page_task", {"item_id": item.pk}) in broker.messages()
