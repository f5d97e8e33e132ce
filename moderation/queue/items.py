"""Queue items: what needs a person, in what order, due when (DESIGN.md, service levels)."""

from __future__ import annotations

import datetime as dt

from moderation.models import Comment, QueueItem, Verdict
from moderation.queue import sla

# Working minutes allowed before somebody first looks at an item, by escalation. Escalations
# are looked at within the hour; everything else within half a working day.
FIRST_LOOK_MINUTES = {"urgent": 15, "duty_manager": 15, "safeguarding": 15, "none": 240}


def needs_person(verdict) -> bool:
    """Whether a verdict (the engine's or a stored one) puts its comment in the queue."""
    return (
        verdict.action != Verdict.Action.ALLOW
        or verdict.escalation != Verdict.Escalation.NONE
        or verdict.signpost != Verdict.Signpost.NONE
    )


def queue_item_sla(*, received_at: dt.datetime, escalation: str, action: str, needs_reply: bool, calendar,
                   first_look_minutes: int | None = None) -> dict:
    """A queue item's escalation, priority and due times, derived from its arrival and its
    current escalation: the one place they are worked out, for a new item, a re-judged one
    and an officer's escalation alike, so an item is due when an item that arrived with that
    escalation would be (sla.py: escalations are due SLA_ESCALATION_FIRST_LOOK_MINUTES
    wall-clock minutes after arrival, the rest the rule set's working minutes). Pure Python."""
    if escalation != Verdict.Escalation.NONE:
        priority = QueueItem.PRIORITY_ESCALATION
    elif action != Verdict.Action.ALLOW:
        priority = QueueItem.PRIORITY_REMOVAL
    elif needs_reply:
        priority = QueueItem.PRIORITY_REPLY
    else:
        priority = QueueItem.PRIORITY_OTHER
    if first_look_minutes is None:
        first_look_minutes = FIRST_LOOK_MINUTES["none"]
    return dict(
        escalation=escalation,
        priority=priority,
        first_look_due=sla.first_look_due(calendar=calendar, received_at=received_at, escalation=escalation,
                                          minutes=first_look_minutes),
        reply_due=sla.reply_due(calendar=calendar, received_at=received_at) if needs_reply else None,
    )


def queue_item_fields(*, comment: Comment, verdict: Verdict, calendar, first_look_minutes: int | None = None) -> dict:
    """A new queue item's fields for a verdict that needs a person: pure Python, no queries
    (the due times come from the rule set's calendar), so a batch can bulk_create them."""
    needs_reply = verdict.signpost != Verdict.Signpost.NONE
    return dict(
        verdict=verdict,
        needs_reply=needs_reply,
        **queue_item_sla(received_at=comment.received_at, escalation=verdict.escalation, action=verdict.action,
                         needs_reply=needs_reply, calendar=calendar, first_look_minutes=first_look_minutes),
        platform=comment.platform,
        channel_id=comment.channel_id,
        action=verdict.action,
        categories=list(verdict.categories),
    )


def queue_item_escalate(*, item: QueueItem, escalation: str) -> None:
    """Set an item's escalation (an officer escalated it), with the priority and due times
    that escalation gives (``queue_item_sla``, under the published rule set's calendar).
    Inside the caller's transaction."""
    QueueItem.objects.filter(pk=item.pk).update(**queue_item_sla(
        received_at=item.comment.received_at, escalation=escalation, action=item.verdict.action,
        needs_reply=item.needs_reply, calendar=sla.published_calendar(),
        first_look_minutes=sla.published_first_look_minutes(),
    ))
