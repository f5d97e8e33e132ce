"""Queue items: what needs a person, in what order, due when (DESIGN.md, service levels)."""

from __future__ import annotations

from moderation.models import Comment, QueueItem, Verdict
from moderation.triage import sla

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


def queue_item_fields(*, comment: Comment, verdict: Verdict, calendar, first_look_minutes: int | None = None) -> dict:
    """A new queue item's fields for a verdict that needs a person: pure Python, no queries
    (the due times come from the rule set's calendar), so a batch can bulk_create them."""
    needs_reply = verdict.signpost != Verdict.Signpost.NONE
    if verdict.escalation != Verdict.Escalation.NONE:
        priority = QueueItem.PRIORITY_ESCALATION
    elif verdict.action != Verdict.Action.ALLOW:
        priority = QueueItem.PRIORITY_REMOVAL
    elif needs_reply:
        priority = QueueItem.PRIORITY_REPLY
    else:
        priority = QueueItem.PRIORITY_OTHER
    # Service levels live in sla.py (rule set's first_look_minutes; escalations are not held
    # until the office opens).
    if first_look_minutes is None:
        first_look_minutes = FIRST_LOOK_MINUTES["none"]
    first_look = sla.first_look_due(
        calendar=calendar, received_at=comment.received_at, escalation=verdict.escalation, minutes=first_look_minutes
    )
    return dict(
        verdict=verdict,
        priority=priority,
        needs_reply=needs_reply,
        escalation=verdict.escalation,
        first_look_due=first_look,
        reply_due=sla.reply_due(calendar=calendar, received_at=comment.received_at) if needs_reply else None,
        platform=comment.platform,
        channel_id=comment.channel_id,
        action=verdict.action,
        categories=list(verdict.categories),
    )


def queue_item_refresh(*, comment: Comment, verdict: Verdict, calendar, first_look_minutes: int | None = None) -> QueueItem:
    """Create the queue item for a verdict that needs a person, or point it at a newer verdict.

    Due times count from arrival in working time (DESIGN.md, service levels): first look
    within FIRST_LOOK_MINUTES working minutes; a reply by the end of the next working day.
    """
    defaults = queue_item_fields(comment=comment, verdict=verdict, calendar=calendar,
                                 first_look_minutes=first_look_minutes)
    priority, needs_reply = defaults["priority"], defaults["needs_reply"]
    item, created = QueueItem.objects.get_or_create(comment=comment, defaults=defaults)
    if not created:
        # An edit re-judged the comment: it needs a fresh look whatever happened before.
        QueueItem.objects.filter(pk=item.pk).update(
            verdict=verdict,
            priority=priority,
            needs_reply=needs_reply,
            escalation=verdict.escalation,
            action=verdict.action,
            categories=list(verdict.categories),
            status=QueueItem.Status.OPEN,
            claimed_by=None,
            claimed_at=None,
            decided_at=None,
        )
        item.refresh_from_db()
    return item
