"""Polling channels. The row is the queue, the Celery message only the doorbell (STYLE.md):

- Beat calls ``channels_poll_due``: it claims due channels with a conditional UPDATE (a
  lease on ``next_poll_at``) and rings one ``channel_poll_task`` per channel after commit.
- ``channel_poll`` reads the platform outside any transaction, then in ONE transaction
  upserts every comment and saves the cursor (compare-and-set). A worker killed mid-poll
  rolls the batch back and leaves the cursor where it was; the lease expires and the next
  poll reads the same pages again; the upsert is idempotent, so nothing is lost or doubled.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from moderation import doorbells
from moderation.crypto import CredentialsError
from moderation.ingest.store import comments_upsert_batch
from moderation.models import Channel
from moderation.platforms import client_for
from moderation.platforms.base import AuthExpired, PlatformError, RateLimited
from moderation.platforms.tokens import channel_needs_reauth

log = logging.getLogger(__name__)

# A claimed channel is not claimed again for this long: longer than the poll task's hard
# time limit (CELERY_TASK_TIME_LIMIT, 150 s), so a live poll is never doubled, and short
# enough that a poll lost with its worker is retried within minutes.
POLL_LEASE = dt.timedelta(minutes=5)
# Beat asks for due channels every POLL_SCHEDULER_SECONDS (config/celery.py); a bounded batch.
POLL_CLAIM_BATCH = 200
# After a failed poll (outage, refused) wait this many poll intervals before trying again.
POLL_FAILURE_INTERVALS = 2
@dataclass(frozen=True)
class PollOutcome:
    status: str  # "polled" | "skipped" | "backing_off" | "needs_reauth" | "failed"
    comments: int = 0
    more: bool = False
    reason: str = ""
    again: bool = False  # pages remain and nothing says wait: poll again straight away


def channels_poll_due(*, now: dt.datetime | None = None, batch: int = POLL_CLAIM_BATCH) -> list[int]:
    """Claim enabled channels due a poll and ring one poll task each (after commit)."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Channel.objects.select_for_update(skip_locked=True)
            .filter(enabled=True, state__in=[Channel.State.ACTIVE, Channel.State.BACKING_OFF])
            .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
            .filter(Q(backoff_until__isnull=True) | Q(backoff_until__lte=now))
            .order_by("next_poll_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        if ids:
            Channel.objects.filter(pk__in=ids).update(next_poll_at=now + POLL_LEASE)
            doorbells.channels_poll(ids)
    return ids


def channel_poll(*, channel_id: int, now: dt.datetime | None = None, ring_again: bool = True) -> PollOutcome:
    """One bounded poll of one channel (see the module docstring for the guarantees). When
    pages remain, keeps the lease and rings the next poll after commit; with ``ring_again``
    false the caller polls again itself (``channel_poll_backlog``)."""
    now = now or timezone.now()
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or not channel.enabled:
        return PollOutcome("skipped", reason="disabled or gone")
    if channel.state not in (Channel.State.ACTIVE, Channel.State.BACKING_OFF):
        return PollOutcome("skipped", reason=channel.state)
    if channel.backoff_until and channel.backoff_until > now:
        return PollOutcome("skipped", reason="backing off")
    cursor = dict(channel.poll_cursor or {})
    try:
        client = client_for(channel)
        result = client.fetch_since(cursor)
    except RateLimited as exc:
        until = now + dt.timedelta(seconds=exc.retry_after)
        _channel_update(channel_id, state=Channel.State.BACKING_OFF, state_reason=str(exc), backoff_until=until,
                        next_poll_at=until)
        log.warning("channel %s backing off until %s: %s", channel_id, until.isoformat(), exc)
        return PollOutcome("backing_off", reason=str(exc))
    except (AuthExpired, CredentialsError) as exc:
        channel_needs_reauth(channel_id=channel_id, reason=str(exc))
        return PollOutcome("needs_reauth", reason=str(exc))
    except PlatformError as exc:
        # Outage or refusal: record why and try again later; never a tight loop.
        interval = dt.timedelta(seconds=channel.poll_interval_seconds * POLL_FAILURE_INTERVALS)
        _channel_update(channel_id, state_reason=str(exc), next_poll_at=now + interval)
        log.warning("channel %s poll failed: %s", channel_id, exc)
        return PollOutcome("failed", reason=str(exc))
    with transaction.atomic():
        # FOR NO KEY UPDATE: serialises polls of this channel, yet does not block the
        # foreign-key checks (FOR KEY SHARE) of other transactions inserting rows for it
        # (queue items): with FOR UPDATE a page's transaction waiting on a parent comment
        # that a classify batch held deadlocked with that batch's commit (bench/ingest.py).
        locked = Channel.objects.select_for_update(no_key=True).get(pk=channel_id)
        comments_upsert_batch(channel=locked, incomings=result.comments, received_at=now)
        fields = dict(last_polled_at=now, state_reason="")
        if locked.poll_cursor == cursor:
            # Compare-and-set: a duplicate poll that finished first already moved it.
            fields["poll_cursor"] = result.cursor
        if result.backoff_seconds:
            until = now + dt.timedelta(seconds=result.backoff_seconds)
            fields.update(state=Channel.State.BACKING_OFF, backoff_until=until, next_poll_at=until,
                          state_reason="usage close to the platform's limit; backing off")
        else:
            fields.update(state=Channel.State.ACTIVE, backoff_until=None)
            if result.more:
                # Pages remain: keep the lease and poll again now, rather than wait for beat.
                fields["next_poll_at"] = now + POLL_LEASE
                if ring_again:
                    doorbells.channels_poll([channel_id])
            else:
                fields["next_poll_at"] = now + dt.timedelta(seconds=locked.poll_interval_seconds)
        Channel.objects.filter(pk=channel_id).update(**fields)
    again = bool(result.more and not result.backoff_seconds)
    return PollOutcome("polled", comments=len(result.comments), more=result.more, again=again)


# A poll that leaves pages unread polls again in the same task for up to this long, then rings
# a new task for the rest. Ringing after every poll put each next poll behind whatever the
# last batch had queued (its classify task, the automatic hides it applied), and a busy
# page's backlog arrived at the pace of that queue: bench/ingest.py's 5,000-comment page took
# 12 polls of ~0.3 s, each waiting ~0.1-0.4 s for a worker. Short, so a backlog holds a worker
# process from classify and webhook work for at most a few seconds; each poll still commits
# its comments with its cursor, and the lease covers the channel meanwhile.
POLL_CONTINUE_SECONDS = 3.0


def channel_poll_backlog(*, channel_id: int, seconds: float | None = None) -> PollOutcome:
    """Poll, and poll again while pages remain and ``seconds`` have not passed; then, if
    pages still remain, ring the next poll task. Each poll is its own transaction, as in
    ``channel_poll``; the total stays well inside the task's soft time limit (one poll is
    bounded by MAX_PAGES_PER_POLL requests)."""
    deadline = time.monotonic() + (POLL_CONTINUE_SECONDS if seconds is None else seconds)
    while True:
        outcome = channel_poll(channel_id=channel_id, ring_again=False)
        if not outcome.again:
            return outcome
        if time.monotonic() >= deadline:
            doorbells.channels_poll([channel_id])  # at once outside a transaction
            return outcome


def _channel_update(channel_id: int, **fields) -> None:
    if "state_reason" in fields:
        fields["state_reason"] = fields["state_reason"][:500]
    Channel.objects.filter(pk=channel_id).update(**fields)
