"""Ringing a task's doorbell: the one place a message is published to the broker.

The row is the queue and the message only the doorbell (STYLE.md): by the time a doorbell
rings, after commit, the work is in PostgreSQL, and the sweepers find it whatever became of
the message (``services.pending_sweep``: comments without a verdict for their revision,
platform actions still requested, webhook deliveries still pending; ``notify.escalation_sweep``
for pages; ``dryrun.dryrun_sweep``; beat's poll claim for channels once their lease ends).
So a broker that cannot take the message (Redis down, restarting, unreachable) is not the
caller's failure: ``ring`` logs a warning naming the task and its ids and carries on, and
the webhook is still answered 200, the officer still sees the decision recorded.

How long a publish may take while Redis is away is bounded in settings
(``CELERY_TASK_PUBLISH_RETRY_POLICY``, the broker socket timeouts): a few seconds, not the
default's unbounded wait on a Redis that stops answering without closing its connections.
"""

from __future__ import annotations

import logging

import redis
from django.db import transaction
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)

# What a publish raises when the broker cannot take the message: kombu wraps connection
# errors as OperationalError; redis-py's own (and socket errors) can escape unwrapped.
BROKER_ERRORS = (OperationalError, redis.RedisError, OSError)


def ring(task, *, countdown: float | None = None, **kwargs) -> bool:
    """Publish ``task`` with keyword arguments ``kwargs`` (ids) now; False, with a warning
    in the log, when the broker could not take it. Call it after commit (``ring_on_commit``)."""
    try:
        task.apply_async(kwargs=kwargs, countdown=countdown or None)
    except BROKER_ERRORS as exc:
        log.warning("broker unavailable, %s %s not queued (the sweeper will ring it again): %s",
                    task.name, kwargs, exc)
        return False
    return True


def ring_on_commit(task, *, countdown: float | None = None, **kwargs) -> None:
    """``ring`` once the current transaction commits (at once outside one); nothing if it
    rolls back."""
    transaction.on_commit(lambda: ring(task, countdown=countdown, **kwargs))
