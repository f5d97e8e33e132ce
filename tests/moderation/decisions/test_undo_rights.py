"""Who may undo a decision (issue 11, defect 4).

An officer undoes only their own decisions (and an automatic rule's); a duty manager may
override a colleague's with a reason, which is recorded and audited. The service refuses
everyone else, and the comment page offers no Undo where it would be refused.
"""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import roles
from moderation.decisions import services as decisions
from moderation.decisions.automatic import apply_automatic
from audit.models import AuditEvent
from moderation.models import Author, Decision, PlatformAction, QueueItem
from tests.factories import ChannelFactory, CommentFactory, QueueItemFactory, UserFactory, VerdictFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def colleague(db):
    user = UserFactory(username="bea.officer", first_name="Bea", last_name="Second")
    user.groups.add(Group.objects.get(name=roles.OFFICER))
    return user


def _item(**verdict):
    comment = CommentFactory(channel=ChannelFactory(platform="facebook"), text="You lot are useless idiots")
    return QueueItemFactory(verdict=VerdictFactory(comment=comment, **verdict))


def _snapshot(item):
    item.refresh_from_db()
    return (
        item.status, item.claimed_by_id, item.decided_at,
        list(Decision.objects.order_by("pk").values_list("kind", "decided_by_id")),
        list(PlatformAction.objects.order_by("pk").values_list("kind", flat=True)),
        AuditEvent.objects.count(),
        Author.objects.get(pk=item.comment.author_id).strikes,
    )


# -- the service ----------------------------------------------------------------------------

def test_an_officer_cannot_undo_a_colleagues_decision_and_nothing_changes(officer, colleague):
    item = _item()
    hide = decisions.decision_make(item=item, user=officer, kind="hide", reason="abusive").decision
    before = _snapshot(item)
    with pytest.raises(decisions.UndoRefused, match="Only Test .* who made it, or a duty manager"):
        decisions.decision_undo(item=item, decision=hide, user=colleague)
    assert _snapshot(item) == before
    assert not AuditEvent.objects.filter(actor=colleague).exists()


def test_an_officer_undoes_their_own_decision(officer):
    item = _item()
    hide = decisions.decision_make(item=item, user=officer, kind="hide").decision
    outcome = decisions.decision_undo(item=item, decision=hide, user=officer)
    item.refresh_from_db()
    assert (outcome.decision.kind, outcome.decision.undoes_id, outcome.decision.reason) == ("undo", hide.pk, "Undo hide")
    # Undo puts the item back as the decision found it (open, nobody's), not claimed by the undoer.
    assert (item.status, item.claimed_by) == ("open", None)
    event = AuditEvent.objects.get(verb="decision.undo")
    assert (event.actor, event.data["override"]) == (officer, False)


def test_any_officer_may_undo_an_automatic_rules_hide(colleague):
    item = _item(action="hide", auto_apply=True, escalation="urgent", categories=["advertising"])
    [automatic] = apply_automatic([(item.verdict, item)])
    outcome = decisions.decision_undo(item=item, decision=automatic, user=colleague)
    assert outcome.decision.undoes_id == automatic.pk


def test_a_duty_manager_overrides_a_colleagues_decision_with_a_recorded_reason(officer, duty_manager):
    item = _item()
    approve = decisions.decision_make(item=item, user=officer, kind="approve", reason="fair comment").decision
    outcome = decisions.decision_undo(item=item, decision=approve, user=duty_manager, reason="  It names a patient  ")
    item.refresh_from_db()
    assert (outcome.decision.decided_by, outcome.decision.reason) == (duty_manager, "It names a patient")
    assert (item.status, item.claimed_by) == ("open", None)
    event = AuditEvent.objects.get(verb="decision.undo_override")
    assert event.actor == duty_manager
    assert event.data == {
        "undoes": approve.pk, "decision": outcome.decision.pk, "override": True,
        "overridden": officer.username, "reason": "It names a patient",
    }


def test_a_duty_manager_override_without_a_reason_is_refused(officer, duty_manager):
    item = _item()
    hide = decisions.decision_make(item=item, user=officer, kind="hide").decision
    before = _snapshot(item)
    with pytest.raises(decisions.DecisionError, match="Say why you are overriding"):
        decisions.decision_undo(item=item, decision=hide, user=duty_manager, reason="   ")
    assert _snapshot(item) == before


def test_undo_right_says_who_may_undo_what(officer, colleague, duty_manager):
    item = _item()
    hide = decisions.decision_make(item=item, user=officer, kind="hide").decision
    assert decisions.undo_right(decision=hide, user=officer) == decisions.UNDO_OWN
    assert decisions.undo_right(decision=hide, user=duty_manager) == decisions.UNDO_OVERRIDE
    assert decisions.undo_right(decision=hide, user=colleague) is None


# -- the views --------------------------------------------------------------------------------

def test_a_colleagues_undo_post_gets_403_and_changes_nothing(client_for, officer, colleague):
    item = _item()
    hide = decisions.decision_make(item=item, user=officer, kind="hide").decision
    before = _snapshot(item)
    url = reverse("moderation:undo", args=[item.comment_id, hide.pk])
    response = client_for(colleague).post(url)
    assert response.status_code == 403
    assert "who made it, or a duty manager" in response.content.decode()
    response = client_for(colleague).post(url, **HX)
    assert response.status_code == 403
    assert response.content.decode().lstrip().startswith('<section id="decision-panel"')
    assert _snapshot(item) == before


def test_the_comment_page_offers_undo_only_to_whoever_may(client_for, officer, colleague, duty_manager):
    item = _item()
    hide = decisions.decision_make(item=item, user=officer, kind="hide").decision
    url = reverse("moderation:comment", args=[item.comment_id])
    undo_url = reverse("moderation:undo", args=[item.comment_id, hide.pk])

    own = client_for(officer).get(url).content.decode()
    assert f'action="{undo_url}"' in own and 'id="override-reason"' not in own

    other = client_for(colleague).get(url).content.decode()
    assert undo_url not in other
    assert "Only Test" in other and "or a duty manager can undo it" in other

    manager = client_for(duty_manager).get(url).content.decode()
    assert f'action="{undo_url}"' in manager
    assert 'id="override-reason"' in manager and "required" in manager.split('id="override-reason"')[1].split(">")[0]


def test_a_duty_manager_override_from_the_page(client_for, officer, duty_manager):
    item = _item()
    hide = decisions.decision_make(item=item, user=officer, kind="hide").decision
    url = reverse("moderation:undo", args=[item.comment_id, hide.pk])
    c = client_for(duty_manager)
    refused = c.post(url, {"reason": ""}, **HX)
    assert refused.status_code == 200 and "Say why you are overriding" in refused.content.decode()
    assert QueueItem.objects.get(pk=item.pk).status == "decided"
    done = c.post(url, {"reason": "Hidden by mistake: it is a fair complaint"}, **HX)
    assert "Undo: recorded" in done.content.decode()
    assert Decision.objects.get(kind="undo").reason == "Hidden by mistake: it is a fair complaint"
    assert sorted(PlatformAction.objects.values_list("kind", flat=True)) == ["hide", "unhide"]
