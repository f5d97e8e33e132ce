"""Getting comments in: polling channels and processing stored webhook deliveries.

The row is the queue, the Celery message only the doorbell (STYLE.md):
- Beat calls ``channels_poll_due``: it claims due channels with a conditional UPDATE (a
  lease on ``next_poll_at``) and rings one ``channel_poll_task`` per channel after commit.
- ``channel_poll`` reads the platform outside any transaction, then in ONE transaction
  upserts every comment and saves the cursor (compare-and-set). A worker killed mid-poll
  rolls the batch back and leaves the cursor where it was; the lease expires and the next
  poll reads the same pages again; the upsert is idempotent, so nothing is lost or doubled.
- A webhook delivery is stored verbatim by the view (``webhook_receive``) and processed by
  ``webhookdelivery_process`` in one transaction that also marks it processed; the sweeper
  re-rings deliveries still pending.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from moderation.crypto import CredentialsError
from moderation.models import Channel, WebhookDelivery
from moderation.platforms import client_for, parse_webhook
from moderation.platforms.base import AuthExpired, PlatformError, RateLimited
from moderation.services import audit_record, comment_mark_deleted_upstream, comment_upsert

log = logging.getLogger(__name__)

# A claimed channel is not claimed again for this long: longer than the poll task's hard
# time limit (CELERY_TASK_TIME_LIMIT, 150 s), so a live poll is never doubled, and short
# enough that a poll lost with its worker is retried within minutes.
POLL_LEASE = dt.timedelta(minutes=5)
# Beat asks for due channels every POLL_SCHEDULER_SECONDS (config/celery.py); a bounded batch.
POLL_CLAIM_BATCH = 200
# After a failed poll (outage, refused) wait this many poll intervals before trying again.
POLL_FAILURE_INTERVALS = 2
# Delivery headers worth keeping with the body (for audit and re-verification). Never
# cookies or authorisation headers.
KEPT_HEADERS = ("content-type", "user-agent", "x-hub-signature-256", "x-twitter-webhooks-signature")


@dataclass(frozen=True)
class PollOutcome:
    status: str  # "polled" | "skipped" | "backing_off" | "needs_reauth" | "failed"
    comments: int = 0
    more: bool = False
    reason: str = ""


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
            transaction.on_commit(lambda: [_enqueue_poll(pk) for pk in ids])
    return ids


def _enqueue_poll(channel_id: int) -> None:
    from moderation.tasks import channel_poll_task

    channel_poll_task.delay(channel_id=channel_id)


def channel_poll(*, channel_id: int, now: dt.datetime | None = None) -> PollOutcome:
    """One bounded poll of one channel (see the module docstring for the guarantees)."""
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
        locked = Channel.objects.select_for_update().get(pk=channel_id)
        for incoming in result.comments:
            comment_upsert(channel=locked, incoming=incoming, received_at=now)
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
                # Pages remain: keep the lease and ring again now, rather than wait for beat.
                fields["next_poll_at"] = now + POLL_LEASE
                transaction.on_commit(lambda: _enqueue_poll(channel_id))
            else:
                fields["next_poll_at"] = now + dt.timedelta(seconds=locked.poll_interval_seconds)
        Channel.objects.filter(pk=channel_id).update(**fields)
    return PollOutcome("polled", comments=len(result.comments), more=result.more)


def _channel_update(channel_id: int, **fields) -> None:
    if "state_reason" in fields:
        fields["state_reason"] = fields["state_reason"][:500]
    Channel.objects.filter(pk=channel_id).update(**fields)


def channel_needs_reauth(*, channel_id: int, reason: str) -> None:
    """Stop polling and acting for a channel until a person reconnects it. Not retried."""
    with transaction.atomic():
        updated = Channel.objects.filter(pk=channel_id).exclude(state=Channel.State.NEEDS_REAUTH).update(
            state=Channel.State.NEEDS_REAUTH, state_reason=reason[:500], next_poll_at=None, backoff_until=None
        )
        if updated:
            audit_record(verb="channel.needs_reauth", system_actor="ingest", target=f"channel:{channel_id}",
                         data={"reason": reason[:500]})
    log.warning("channel %s needs re-authorisation: %s", channel_id, reason)


# --- webhooks ------------------------------------------------------------------------------
class DeliveryInvalid(Exception):
    """The body is not a delivery we can store; the message says why (sent back as the 400)."""


def delivery_platform(source: str, payload) -> str:
    """Which platform a verified, parsed delivery is for, or DeliveryInvalid."""
    if not isinstance(payload, dict):
        raise DeliveryInvalid("the body must be a JSON object")
    if source == "x":
        if "for_user_id" not in payload:
            raise DeliveryInvalid("an X delivery needs for_user_id")
        return "x"
    kind = payload.get("object")
    if kind not in ("page", "instagram"):
        raise DeliveryInvalid('a Meta delivery needs "object": "page" or "instagram"')
    if not isinstance(payload.get("entry"), list):
        raise DeliveryInvalid('a Meta delivery needs an "entry" list')
    return "facebook" if kind == "page" else "instagram"


def webhook_receive(*, platform: str, body: bytes, headers: dict) -> tuple[WebhookDelivery, bool]:
    """Store a verified delivery verbatim; a duplicate body changes nothing. Rings the
    processing task after commit. Returns (delivery, created)."""
    digest = hashlib.sha256(body).hexdigest()
    kept = {k: v for k, v in headers.items() if k.lower() in KEPT_HEADERS}
    with transaction.atomic():
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(platform=platform, body_sha256=digest, body=body, headers=kept)
        except IntegrityError:
            return WebhookDelivery.objects.get(platform=platform, body_sha256=digest), False
        delivery_id = delivery.pk
        transaction.on_commit(lambda: _enqueue_delivery(delivery_id))
    return delivery, True


def _enqueue_delivery(delivery_id: int) -> None:
    from moderation.tasks import webhookdelivery_process_task

    webhookdelivery_process_task.delay(delivery_id=delivery_id)


def webhookdelivery_process(*, delivery_id: int) -> WebhookDelivery | None:
    """Upsert the delivery's comments and record its deletions, then mark it processed, all
    in one transaction holding the delivery's row lock: a concurrent duplicate task skips it,
    and a worker killed half-way leaves it pending with nothing half-written."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return None
        try:
            payload = json.loads(bytes(delivery.body))
            events = parse_webhook("x" if delivery.platform == "x" else "meta", payload)
        except (ValueError, TypeError, AttributeError) as exc:
            delivery.status, delivery.error = WebhookDelivery.Status.FAILED, f"unreadable delivery: {type(exc).__name__}"
            delivery.processed_at = timezone.now()
            delivery.save(update_fields=["status", "error", "processed_at"])
            return delivery
        channels: dict[tuple[str, str], Channel | None] = {}
        unknown = 0
        for event in events:
            key = (event.platform, event.account_id)
            if key not in channels:
                channels[key] = Channel.objects.filter(platform=event.platform, account_id=event.account_id).first()
            channel = channels[key]
            if channel is None:
                unknown += 1  # an account we do not (or no longer) moderate
                continue
            if event.kind == "delete":
                comment_mark_deleted_upstream(platform=event.platform, external_id=event.external_id)
            else:
                comment_upsert(channel=channel, incoming=event.comment, received_at=delivery.received_at)
        delivery.status = WebhookDelivery.Status.PROCESSED
        delivery.processed_at = timezone.now()
        delivery.error = f"{unknown} event(s) for accounts that are not connected channels" if unknown else ""
        delivery.save(update_fields=["status", "error", "processed_at"])
    return delivery


def deliveries_pending(*, cutoff: dt.datetime, batch: int) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, received_at__lte=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:batch]
    )
