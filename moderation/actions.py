"""Requesting platform actions. The row is the queue, the Celery message the doorbell.

`platform_action_request` is what decisions call; the apply side (the task that calls the
platform and moves the row requested -> in_flight -> applied / failed) lives with the
platform clients.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from moderation.models import Comment, Decision, PlatformAction
from moderation.platforms.capabilities import capability


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
        action_id = action.pk
        transaction.on_commit(lambda: _enqueue_apply(action_id))
    return action


def _enqueue_apply(action_id: int) -> None:
    from moderation import tasks

    task = getattr(tasks, "platformaction_apply_task", None)
    if task is not None:  # the apply task arrives with the platform clients
        task.delay(action_id=action_id)
