"""Reads for the moderation app: querysets with their joins set, nothing else."""

from django.db.models import QuerySet

from moderation.models import AuditEvent, QueueItem


def queue_items_open() -> QuerySet[QueueItem]:
    # Ordered to match queue_open_order_idx.
    return (
        QueueItem.objects.exclude(status=QueueItem.Status.DECIDED)
        .select_related("comment", "comment__channel", "comment__author", "verdict", "claimed_by")
        .order_by("priority", "first_look_due", "id")
    )


def escalations_recent() -> QuerySet[QueueItem]:
    return (
        QueueItem.objects.exclude(escalation="none")
        .select_related("comment", "comment__channel", "verdict", "acknowledged_by")
        .order_by("-created_at")
    )


def audit_events_recent() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.select_related("actor", "comment", "ruleset_version").order_by("-at", "-id")
