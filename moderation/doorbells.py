"""Doorbells: the Celery messages that tell a worker a row is waiting (STYLE.md: the row is
the queue, the message only rings). The one module that queues tasks.

Tasks are queued by name, so this imports no domain module (and tasks.py, which imports
them all, imports nothing back). Every doorbell is rung after the caller's transaction
commits (``transaction.on_commit``; at once when there is none): a task can never look for
a row that is not there yet, and a rolled-back write leaves no message behind. The sweeps,
which ring for rows committed long ago, ring at once (``after_commit=False``).

By the time a doorbell rings the work is in PostgreSQL, and the sweeps find it whatever
became of the message (moderation/sweeps.py; beat's poll claim for channels once their
lease ends). So a broker that cannot take the message (Redis down, restarting,
unreachable) is not the caller's failure: the ring logs a warning naming the task and its
ids and carries on, and the webhook is still answered 200, the officer still sees the
decision recorded. How long a publish may take while Redis is away is bounded in settings
(``CELERY_TASK_PUBLISH_RETRY_POLICY``, the broker socket timeouts): a few seconds, not the
default's unbounded wait on a Redis that stops answering without closing its connections.
"""

from __future__ import annotations

import logging

import redis
from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)

# What a publish raises when the broker cannot take the message: kombu wraps connection
# errors as OperationalError; redis-py's own (and socket errors) can escape unwrapped.
BROKER_ERRORS = (OperationalError, redis.RedisError, OSError)


def _ring(task: str, calls: list[dict], *, after_commit: bool, countdown: float | None = None) -> None:
    """One message per keyword set in ``calls``, sent together (one on_commit callback)."""

    name = f"moderation.tasks.{task}"

    def send() -> None:
        for kwargs in calls:
            try:
                current_app.send_task(name, kwargs=kwargs, countdown=countdown or None)
            except BROKER_ERRORS as exc:
                log.warning("broker unavailable, %s %s not queued (the sweeper will ring it again): %s",
                            name, kwargs, exc)

    if after_commit:
        transaction.on_commit(send)
    else:
        send()


def comment_classify(comment_id: int, *, after_commit: bool = True) -> None:
    """Judge one comment (a new one stored row by row, an edit, one the sweeper found)."""
    _ring("comment_classify_task", [{"comment_id": comment_id}], after_commit=after_commit)


def comments_classify(comment_ids: list[int]) -> None:
    """Judge a page's or a delivery's new comments together."""
    _ring("comments_classify_batch_task", [{"comment_ids": list(comment_ids)}], after_commit=True)


def comments_read(*, count: int = 1, after_commit: bool = True) -> None:
    """Wake the model reader (its own ``reader`` queue, config/celery.py): each message reads
    one batch of verdicts still waiting for it; ``count`` messages for a larger backlog."""
    _ring("comments_read_task", [{} for _ in range(count)], after_commit=after_commit)


def channels_poll(channel_ids: list[int]) -> None:
    """One poll task per channel."""
    _ring("channel_poll_task", [{"channel_id": pk} for pk in channel_ids], after_commit=True)


def webhookdelivery_process(delivery_id: int, *, after_commit: bool = True) -> None:
    _ring("webhookdelivery_process_task", [{"delivery_id": delivery_id}], after_commit=after_commit)


def platformactions_apply(action_ids: list[int], *, countdown: float | None = None, after_commit: bool = True) -> None:
    """Call the platform for requested actions, one task each; ``countdown``: a retry
    scheduled for later."""
    _ring("platformaction_apply_task", [{"action_id": pk} for pk in action_ids], after_commit=after_commit,
          countdown=countdown)


def queueitem_page(item_id: int) -> None:
    """Page the duty manager on call about one out-of-hours escalation."""
    _ring("queueitem_page_task", [{"item_id": item_id}], after_commit=True)


def dryrun_execute(dryrun_id: int, *, after_commit: bool = True) -> None:
    _ring("dryrun_execute_task", [{"dryrun_id": dryrun_id}], after_commit=after_commit)
