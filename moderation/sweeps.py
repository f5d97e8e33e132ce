"""The periodic sweeps (Celery beat): work whose doorbell was lost, found from the rows and
rung again, in bounded batches (STYLE.md). Every task they ring is idempotent, so a
doorbell rung twice costs a no-op.

- ``pending_sweep``: comments without a verdict for their current revision, platform
  actions still requested or stuck in flight, webhook deliveries still pending;
- ``escalation_sweep``: out-of-hours escalations never paged, and the backup for those not
  acknowledged in time (these page at once, from the sweep);
- ``dryrun_sweep``: dry runs never started, or whose worker died.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from moderation import doorbells
from moderation.decisions.actions import actions_pending
from moderation.decisions.notify import PAGED, escalation_page, escalation_page_backup, pages_duty_manager
from moderation.dryrun import STALE_AFTER
from moderation.ingest.webhooks import deliveries_pending
from moderation.models import Comment, DryRun, QueueItem, Verdict
from moderation.queue.sla import published_calendar
from moderation.triage.read import READ_BATCH, UNREAD

# Lost-doorbell window: an unpaged escalation older than this is not paged any
# more by the sweep (it is on the escalations page; paging about last week helps nobody).
SWEEP_LOOKBACK = dt.timedelta(hours=24)
# Rows per escalation sweep run (STYLE.md: bounded batches); a night produces a handful.
SWEEP_BATCH = 100


def pending_sweep(*, now: dt.datetime | None = None, grace: dt.timedelta, batch: int) -> dict[str, int]:
    """Find work whose doorbell was lost and ring it again; bounded batches.

    - comments (not our own, not deleted upstream) with no verdict for their current
      revision, received more than ``grace`` ago;
    - platform actions requested more than ``grace`` ago (not waiting for a scheduled retry)
      or in flight longer than a task can live (decisions/actions.py);
    - webhook deliveries still pending more than ``grace`` after they arrived;
    - current verdicts the model reader has not read (pending or unavailable) for more than
      ``grace``: the reader task rung once per batch it will claim.
    Returns counts per kind, for the log and the tests.
    """
    now = now or timezone.now()
    cutoff = now - grace
    judged = Verdict.objects.filter(
        comment=OuterRef("pk"), is_current=True, comment_revision=OuterRef("revision")
    )
    unjudged = (
        Comment.objects.filter(is_own=False, deleted_upstream_at__isnull=True, received_at__lte=cutoff)
        .filter(~Exists(judged))
        .order_by("received_at")
        .values_list("pk", flat=True)[:batch]
    )
    ids = list(unjudged)
    for comment_id in ids:
        doorbells.comment_classify(comment_id, after_commit=False)
    # Platform actions and webhook deliveries (issue 4): rows still requested / in flight /
    # pending past the grace period get their doorbell again; their tasks are idempotent.
    action_ids = actions_pending(now=now, cutoff=cutoff, batch=batch)
    doorbells.platformactions_apply(action_ids, after_commit=False)
    delivery_ids = deliveries_pending(cutoff=cutoff, batch=batch)
    for delivery_id in delivery_ids:
        doorbells.webhookdelivery_process(delivery_id, after_commit=False)
    # Verdicts the model reader has not read (its doorbell lost, or the reader unavailable
    # then): one doorbell per READ_BATCH of them, at most ``batch`` rows' worth per run.
    unread = Verdict.objects.filter(is_current=True, model_state__in=UNREAD, created_at__lte=cutoff)[:batch].count()
    rings = -(-unread // READ_BATCH)
    if rings:
        doorbells.comments_read(count=rings, after_commit=False)
    return {"comments": len(ids), "actions": len(action_ids), "deliveries": len(delivery_ids), "unread": unread}


def escalation_sweep(*, now: dt.datetime | None = None, batch: int = SWEEP_BATCH) -> dict[str, int]:
    """Beat: page anything whose doorbell was lost, then the backup for anything unacknowledged.

    Uses queue_unacked_escalation_idx (acknowledged_at IS NULL AND escalation <> 'none').
    """
    now = now or timezone.now()
    calendar = published_calendar()
    unacked = QueueItem.objects.filter(acknowledged_at__isnull=True, escalation__in=PAGED)
    # Whether a safeguarding item pages depends on the working calendar, which SQL cannot
    # apply: read the day's unpaged candidates (four columns each, a handful on a normal day)
    # and keep the first ``batch`` that page, so in-hours safeguarding items, which never
    # page, cannot crowd an out-of-hours one out of the batch.
    lost = []
    candidates = (
        unacked.filter(notified_at__isnull=True, created_at__gte=now - SWEEP_LOOKBACK)
        .order_by("created_at")
        .values_list("pk", "escalation", "safeguarding_referred_at", "comment__received_at")
    )
    for pk, escalation, referred_at, received_at in candidates.iterator():
        probe = QueueItem(escalation=escalation, safeguarding_referred_at=referred_at)
        if pages_duty_manager(probe, received_at=received_at, calendar=calendar):
            lost.append(pk)
            if len(lost) == batch:
                break
    for pk in lost:
        escalation_page(item_id=pk, now=now)
    overdue = list(
        unacked.filter(
            notified_at__lte=now - dt.timedelta(minutes=settings.DUTY_ACK_MINUTES), backup_notified_at__isnull=True
        )
        .order_by("notified_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in overdue:
        escalation_page_backup(item_id=pk, now=now)
    return {"paged": len(lost), "backup": len(overdue)}


def dryrun_sweep(*, grace: dt.timedelta, batch: int, now: dt.datetime | None = None) -> int:
    """Ring the doorbell again for runs whose message was lost: pending for longer than
    ``grace``, or running with no heartbeat for STALE_AFTER (the worker died). The claim in
    dryrun.dryrun_execute makes a duplicate message harmless. Bounded by ``batch``."""
    now = now or timezone.now()
    lost = (
        DryRun.objects.filter(
            Q(status=DryRun.Status.PENDING, created_at__lt=now - grace)
            | Q(status=DryRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:batch]
    )
    ids = list(lost)
    for dryrun_id in ids:
        doorbells.dryrun_execute(dryrun_id, after_commit=False)
    return len(ids)
