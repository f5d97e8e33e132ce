"""Rules applied automatically (moderation/decisions/automatic.py): what they may do, where
the platform or the evidence rules say less."""

import pytest

from audit.models import AuditEvent
from moderation.decisions import services as decisions
from moderation.decisions.automatic import apply_automatic
from moderation.models import Decision, PlatformAction
from tests.factories import ChannelFactory, CommentFactory, QueueItemFactory, VerdictFactory

pytestmark = pytest.mark.django_db


def _item(platform="facebook", **verdict):
    channel = ChannelFactory(platform=platform)
    comment = CommentFactory(channel=channel, text="You lot are useless idiots")
    return QueueItemFactory(verdict=VerdictFactory(comment=comment, **verdict))


def test_automatic_hide_closes_a_plain_item():
    item = _item(action="hide", auto_apply=True, categories=["advertising"], rules=[{"id": "ads", "category": "advertising", "clause": "9", "spans": []}])
    [decision] = apply_automatic([(item.verdict, item)])
    item.refresh_from_db()
    assert (decision.kind, decision.automatic, decision.decided_by) == ("hide", True, None)
    assert item.status == "decided"
    assert list(PlatformAction.objects.values_list("kind", flat=True)) == ["hide"]
    assert AuditEvent.objects.get(verb="decision.hide").system_actor == "rule:auto_apply"


def test_crisis_post_is_never_deleted_automatically():
    item = _item(action="delete", auto_apply=True, signpost="crisis", escalation="urgent", categories=["crisis", "profanity"])
    [decision] = apply_automatic([(item.verdict, item)])
    item.refresh_from_db()
    assert decision.kind == "hide"
    assert list(PlatformAction.objects.values_list("kind", flat=True)) == ["hide"]
    assert item.status == "open"  # a person still decides


def test_without_auto_apply_nothing_happens():
    item = _item(action="delete", auto_apply=False)
    assert apply_automatic([(item.verdict, item)]) == []
    assert (Decision.objects.count(), PlatformAction.objects.count()) == (0, 0)


def test_automatic_delete_falls_back_to_hide_where_the_platform_cannot_delete():
    item = _item(platform="x", action="delete", auto_apply=True, categories=["advertising"])
    [decision] = apply_automatic([(item.verdict, item)])
    assert decision.kind == "hide"
    item.refresh_from_db()
    assert item.status == "open"  # the rule asked for more than was done


def test_undo_of_an_automatic_hide_puts_the_item_back_open(officer):
    item = _item(action="hide", auto_apply=True, categories=["advertising"],
                 rules=[{"id": "ads", "category": "advertising", "clause": "9", "spans": []}])
    [decision] = apply_automatic([(item.verdict, item)])
    item.refresh_from_db()
    assert (item.status, decision.item_status_before) == ("decided", "open")
    decisions.decision_undo(item=item, decision=decision, user=officer)
    item.refresh_from_db()
    assert (item.status, item.claimed_by, item.decided_at) == ("open", None, None)
