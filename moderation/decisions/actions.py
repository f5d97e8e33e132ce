"""Platform actions. The row is the queue, the Celery message the doorbell.

`platform_action_request` is what decisions call; `platform_action_apply` is what the apply
task calls: lock the row (skip if another worker holds it), skip if finished, mark in flight,
call the platform outside any transaction, then record applied / failed / retry-later.

Never twice: hide, unhide, delete and block are idempotent at every platform (hiding a
hidden comment changes nothing), so an action found stuck "in flight" after its worker died
is simply called again. A reply is not idempotent: one found stuck in flight is failed with
"outcome unknown" for a person to check, rather than risk posting it twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from moderation import doorbells
from moderation.crypto import CredentialsError
from moderation.models import Author, Channel, Comment, Decision, PlatformAction
from moderation.platforms import client_for
from moderation.platforms.base import AuthExpired, PlatformError, RateLimited, TransientError
from moderation.platforms.capabilities import capability
from moderation.platforms.tokens import channel_needs_reauth

log = logging.getLogger(__name__)

# Transient failures are retried this many times in all (about 1 + 2 + 4 + 8 + 16 minutes of
# backoff: a platform outage of half an hour is ridden out; longer ones need a person).
MAX_ATTEMPTS = 6
RETRY_BASE_SECONDS = 60
RETRY_MAX_SECONDS = 60 * 60


class ActionNotSupported(Exception):
    """The platform cannot do this; the message is fit to show an officer."""


def platform_action_request(
    *, comment: Comment, kind: str, decision: Decision | None, payload: dict | None = None
) -> PlatformAction:
    """Create the PlatformAction row (once per decision and kind) and ring the doorbell after commit."""
    cap = capability(comment.platform, kind)
    if not cap.supported:
        raise ActionNotSupported(cap.note)
    with transaction.atomic():
        try:
            with transaction.atomic():
                action = PlatformAction.objects.create(
                    comment=comment, decision=decision, kind=kind, payload=payload or {}
                )
        except IntegrityError:
            return PlatformAction.objects.get(decision=decision, kind=kind)
        doorbells.platformactions_apply([action.pk])
    return action


def stuck_after() -> dt.timedelta:
    """An in-flight row older than this lost its worker: past the task's hard time limit."""
    return dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter (half to all of the step), so retries spread out."""
    step = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return random.uniform(step / 2, step)


def _finish(action: PlatformAction, *, status: str, now, error: str = "", response: dict | None = None) -> None:
    action.status = status
    action.finished_at = now
    action.last_error = error
    if response is not None:
        action.response = response
    action.save(update_fields=["status", "finished_at", "last_error", "response"])
    verb = "action.applied" if status == PlatformAction.Status.APPLIED else "action.failed"
    audit_record(verb=verb, system_actor=f"platform:{action.comment.platform}", comment=action.comment,
                 target=f"action:{action.pk}",
                 data={"kind": action.kind, "attempts": action.attempts, **({"error": error} if error else {})})


def platform_action_apply(*, action_id: int, now: dt.datetime | None = None) -> PlatformAction | None:
    """Apply one requested action at most once (module docstring). Safe to call twice."""
    now = now or timezone.now()
    with transaction.atomic():
        action = (
            PlatformAction.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("comment__channel", "comment__author")
            .filter(pk=action_id)
            .first()
        )
        if action is None or action.status in (PlatformAction.Status.APPLIED, PlatformAction.Status.FAILED):
            return action  # locked by a live worker, gone, or done
        if action.status == PlatformAction.Status.REQUESTED and action.next_attempt_at and action.next_attempt_at > now:
            return action  # a retry is scheduled for later
        if action.status == PlatformAction.Status.IN_FLIGHT:
            if action.started_at and action.started_at > now - stuck_after():
                return action  # another worker is calling the platform right now
            if action.kind == PlatformAction.Kind.REPLY:
                _finish(action, status=PlatformAction.Status.FAILED, now=now,
                        error="interrupted while posting; the reply may or may not be on the platform. "
                              "Check there before replying again.")
                return action
        comment = action.comment
        channel = comment.channel
        cap = capability(comment.platform, action.kind)
        if not cap.supported:
            _finish(action, status=PlatformAction.Status.FAILED, now=now, error=cap.note)
            return action
        if channel.state == Channel.State.NEEDS_REAUTH:
            _finish(action, status=PlatformAction.Status.FAILED, now=now,
                    error="the channel needs re-authorisation; reconnect it and request the action again")
            return action
        action.status = PlatformAction.Status.IN_FLIGHT
        action.attempts += 1
        action.started_at = now
        action.save(update_fields=["status", "attempts", "started_at"])

    # The platform call: outside any transaction, so no lock is held across the network.
    outcome, error, response, retry_after = "applied", "", {}, None
    try:
        client = client_for(channel)
        response = client.apply(
            action.kind,
            comment_external_id=comment.external_id,
            author_external_id=comment.author.external_id if comment.author else "",
            thread_external_id=comment.thread_external_id,
            payload=action.payload,
        )
    except (TransientError, RateLimited) as exc:
        outcome, error = "retry", str(exc)
        retry_after = getattr(exc, "retry_after", None)
    except (AuthExpired, CredentialsError) as exc:
        outcome, error = "reauth", str(exc)
    except PlatformError as exc:
        outcome, error = "failed", str(exc)

    done = timezone.now()
    with transaction.atomic():
        action = PlatformAction.objects.select_for_update(of=("self",)).select_related("comment").get(pk=action_id)
        if action.status != PlatformAction.Status.IN_FLIGHT:
            return action
        if outcome == "applied":
            _finish(action, status=PlatformAction.Status.APPLIED, now=done, response=response if isinstance(response, dict) else {})
            if action.kind == PlatformAction.Kind.BLOCK and comment.author_id:
                Author.objects.filter(pk=comment.author_id, blocked=False).update(blocked=True, blocked_at=done)
        elif outcome == "retry" and action.attempts < MAX_ATTEMPTS:
            delay = max(retry_delay(action.attempts), retry_after or 0)
            action.status = PlatformAction.Status.REQUESTED
            action.last_error = error
            action.next_attempt_at = done + dt.timedelta(seconds=delay)
            action.save(update_fields=["status", "last_error", "next_attempt_at"])
            audit_record(verb="action.retry_scheduled", system_actor=f"platform:{comment.platform}", comment=comment,
                         target=f"action:{action.pk}", data={"kind": action.kind, "attempts": action.attempts,
                                                              "error": error, "retry_in_seconds": round(delay)})
            doorbells.platformactions_apply([action_id], countdown=delay)
        else:
            if outcome == "retry":
                error = f"gave up after {action.attempts} attempts: {error}"
            _finish(action, status=PlatformAction.Status.FAILED, now=done, error=error)
    if outcome == "reauth":
        channel_needs_reauth(channel_id=channel.pk, reason=error)
    log.info("platform action %s %s: %s", action_id, action.kind, action.status)
    return action


def actions_pending(*, now: dt.datetime, cutoff: dt.datetime, batch: int) -> list[int]:
    """Actions whose doorbell may have been lost: requested past the grace period (and not
    waiting for a scheduled retry), or in flight longer than a task can live."""
    return list(
        PlatformAction.objects.filter(
            Q(status=PlatformAction.Status.REQUESTED, requested_at__lte=cutoff)
            & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            | Q(status=PlatformAction.Status.IN_FLIGHT, started_at__lte=now - stuck_after())
        )
        .order_by("requested_at")
        .values_list("pk", flat=True)[:batch]
    )
