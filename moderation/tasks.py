"""Celery tasks: thin. Id in -> one service -> record. Every task is safe to run twice.

Rung by name from moderation/doorbells.py (never imported by the code that rings them).
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings

from moderation import sweeps
from moderation.decisions.actions import platform_action_apply
from moderation.decisions.notify import escalation_page
from moderation.dryrun import dryrun_execute
from moderation.ingest.polling import channel_poll_backlog, channels_poll_due
from moderation.ingest.webhooks import webhookdelivery_process
from moderation.triage.classify import comments_classify
from moderation.triage.read import comments_read

log = logging.getLogger(__name__)


@shared_task(name="moderation.tasks.comment_classify_task")
def comment_classify_task(*, comment_id: int) -> dict[str, int]:
    """One comment (an edit, a row-by-row store, the sweeper): the batch path, a batch of one."""
    return comments_classify(comment_ids=[comment_id])


@shared_task(name="moderation.tasks.comments_classify_batch_task")
def comments_classify_batch_task(*, comment_ids: list[int]) -> dict[str, int]:
    """Judge a page or a delivery's new comments together (moderation/triage/classify.py)."""
    return comments_classify(comment_ids=comment_ids)


@shared_task(name="moderation.tasks.comments_read_task")
def comments_read_task() -> dict[str, int]:
    """The model reader (its own ``reader`` queue): one batch of verdicts waiting for it
    (moderation/triage/read.py). Rung after every classification and by the sweeper."""
    return comments_read()


@shared_task(name="moderation.tasks.pending_sweep_task")
def pending_sweep_task() -> dict[str, int]:
    counts = sweeps.pending_sweep(
        grace=dt.timedelta(seconds=settings.SWEEPER_GRACE_SECONDS), batch=settings.SWEEPER_BATCH_SIZE
    )
    if any(counts.values()):
        log.info("sweeper re-queued %s", counts)
    return counts


@shared_task(
    name="moderation.tasks.dryrun_execute_task",
    # 100,000 comments take ~30 s (bench/dryrun.py); the largest history we expect is a few
    # times that, so a dry run gets nine minutes, not the default two.
    soft_time_limit=540,
    time_limit=580,  # under the broker visibility_timeout (600 s) so no double delivery
)
def dryrun_execute_task(*, dryrun_id: int) -> None:
    dryrun_execute(dryrun_id=dryrun_id)


@shared_task(name="moderation.tasks.dryrun_sweep_task")
def dryrun_sweep_task() -> int:
    """Beat: re-ring dry runs whose message was lost or whose worker died (idempotent)."""
    return sweeps.dryrun_sweep(
        grace=dt.timedelta(seconds=settings.SWEEPER_GRACE_SECONDS), batch=settings.SWEEPER_BATCH_SIZE
    )


@shared_task(name="moderation.tasks.queueitem_page_task")
def queueitem_page_task(*, item_id: int) -> None:
    """Page the duty manager on call about one out-of-hours escalation (idempotent)."""
    escalation_page(item_id=item_id)


@shared_task(name="moderation.tasks.escalation_sweep_task")
def escalation_sweep_task() -> dict[str, int]:
    """Beat: page lost escalations and the backup for unacknowledged ones."""
    counts = sweeps.escalation_sweep()
    if any(counts.values()):
        log.info("escalation sweep %s", counts)
    return counts


# --- Platforms (issue 4): ingest and actions out. Thin: id in -> one service. ------------
@shared_task(name="moderation.tasks.channels_poll_due_task")
def channels_poll_due_task() -> int:
    """Beat: claim the channels due a poll and ring one poll task each."""
    return len(channels_poll_due())


@shared_task(name="moderation.tasks.channel_poll_task")
def channel_poll_task(*, channel_id: int) -> str:
    return channel_poll_backlog(channel_id=channel_id).status


@shared_task(name="moderation.tasks.webhookdelivery_process_task")
def webhookdelivery_process_task(*, delivery_id: int) -> None:
    webhookdelivery_process(delivery_id=delivery_id)


@shared_task(name="moderation.tasks.platformaction_apply_task")
def platformaction_apply_task(*, action_id: int) -> None:
    platform_action_apply(action_id=action_id)
