"""Webhook deliveries: stored verbatim by the endpoint (``webhook_receive``, called from
ingest/endpoints.py) and processed by ``webhookdelivery_process`` in one transaction that
also marks them processed; the sweeper re-rings deliveries still pending.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils import timezone

from moderation import doorbells
from moderation.ingest.store import comment_mark_deleted_upstream, comment_mark_hidden_upstream, comments_upsert_batch
from moderation.models import Channel, WebhookDelivery
from moderation.platforms import parse_webhook
from moderation.triage.classify import comments_classify

log = logging.getLogger(__name__)

# Delivery headers worth keeping with the body (for audit and re-verification). Never
# cookies or authorisation headers.
KEPT_HEADERS = ("content-type", "user-agent", "x-hub-signature-256", "x-twitter-webhooks-signature")



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
        doorbells.webhookdelivery_process(delivery.pk)
    return delivery, True


# A doorbell for one delivery also drains others still pending (the row is the queue): with
# one-comment deliveries at 100/s the per-task overhead, not the comments, was the bottleneck
# (bench/ingest.py), and a later doorbell for a drained row is a no-op. Bounded by count and
# by bytes, so a burst of big deliveries is still spread over every worker process. 256 KB
# is about seven 100-comment Meta deliveries: measured in one process (cProfile harness over
# PostgreSQL), 2,000 comments in such deliveries went from ~1,600/s draining 64 KB a task
# (one delivery: the batch's fixed ~25 queries dominate) to ~2,300/s; larger drains gained
# nothing more and would leave the other worker processes idle during a burst.
DRAIN_BATCH = 200
DRAIN_MAX_BYTES = 256 * 1024


def webhookdelivery_process(*, delivery_id: int) -> WebhookDelivery | None:
    """Upsert the delivery's comments and record its deletions, then mark it processed, all
    in one transaction holding the delivery's row lock (with the other pending deliveries it
    drains): a concurrent task skips locked rows, and a worker killed half-way leaves them
    pending with nothing half-written. A delivery that cannot be processed is marked failed
    with the reason instead of blocking the rest. New comments are judged after the commit."""
    new_ids: list[int] = []
    with transaction.atomic():
        first = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        # A doorbell whose own delivery another task already drained still drains what is
        # pending: otherwise, at 100 one-comment deliveries/s, the newest delivery waited
        # behind a backlog of such no-op doorbells and delivery-to-verdict grew for as long
        # as the load lasted (bench/ingest.py: p50 55 ms in the first second, 460 ms by the tenth).
        budget = DRAIN_MAX_BYTES - (len(first.body) if first is not None else 0)
        # Choose without locking, then lock only the chosen (skipping any another task holds):
        # a row locked here but not processed would have its own doorbell turned away.
        candidates = (
            WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
            .exclude(pk=delivery_id)
            .annotate(size=Length("body"))
            .order_by("received_at")
            .values_list("pk", "size")[: DRAIN_BATCH - (first is not None)]
        )
        chosen = []
        for pk, size in candidates:
            if size > budget:
                break
            budget -= size
            chosen.append(pk)
        drained = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=chosen, status=WebhookDelivery.Status.PENDING)
            .order_by("received_at")
        )
        deliveries = [first, *drained] if first is not None else list(drained)
        if not deliveries:
            return None
        channels: dict[tuple[str, str], Channel | None] = {}
        parsed = [(d, _delivery_events(d)) for d in deliveries]
        # Deliveries made only of comment upserts (nearly all) are stored together: one batch
        # per channel for the whole drain. Anything else goes one by one, in order.
        simple = [(d, e) for d, e in parsed if e is not None and all(x.kind == "upsert" for x in e)]
        try:
            with transaction.atomic():
                new_ids += _deliveries_apply_together(simple, channels)
        except Exception:  # noqa: BLE001 - fall back to one by one, where a bad one fails alone
            log.warning("batched deliveries failed together; processing them one by one", exc_info=True)
            simple = []
        together = {d.pk for d, _ in simple}
        for delivery, events in parsed:
            if delivery.pk in together:
                continue
            try:
                with transaction.atomic():
                    new_ids += _delivery_apply(delivery, events, channels)
            except Exception as exc:  # noqa: BLE001 - one poisoned delivery must not block the rest
                log.exception("webhook delivery %s could not be processed", delivery.pk)
                _delivery_finish(delivery, status=WebhookDelivery.Status.FAILED,
                                 error=f"processing failed: {type(exc).__name__}")
    if new_ids:
        # Judged here, right after the commit, rather than behind another doorbell: one task
        # hop less is most of the delivery-to-verdict time at 100 deliveries/s (bench/ingest.py).
        # A worker dying here leaves comments without a verdict, which the sweeper re-rings.
        comments_classify(comment_ids=new_ids)
    if first is None:
        return None
    first.refresh_from_db()
    return first


def _delivery_events(delivery: WebhookDelivery):
    try:
        payload = json.loads(bytes(delivery.body))
        return parse_webhook("x" if delivery.platform == "x" else "meta", payload)
    except (ValueError, TypeError, AttributeError) as exc:
        delivery.parse_error = f"unreadable delivery: {type(exc).__name__}"
        return None


def _delivery_finish(delivery: WebhookDelivery, *, status: str, error: str = "") -> None:
    delivery.status, delivery.error, delivery.processed_at = status, error, timezone.now()
    delivery.save(update_fields=["status", "error", "processed_at"])


def _channel(channels: dict, event) -> Channel | None:
    key = (event.platform, event.account_id)
    if key not in channels:
        channels[key] = Channel.objects.filter(platform=event.platform, account_id=event.account_id).first()
    return channels[key]


def _unknown_note(unknown: int) -> str:
    return f"{unknown} event(s) for accounts that are not connected channels" if unknown else ""


def _deliveries_apply_together(items, channels: dict) -> list[int]:
    by_channel: dict[int, tuple[Channel, list]] = {}
    notes: dict[str, list[int]] = {}
    for delivery, events in items:
        unknown = 0
        for event in events:
            channel = _channel(channels, event)
            if channel is None:
                unknown += 1
                continue
            by_channel.setdefault(channel.pk, (channel, []))[1].append((delivery.received_at, event.comment))
        notes.setdefault(_unknown_note(unknown), []).append(delivery.pk)
    new_ids: list[int] = []
    for channel, rows in by_channel.values():
        received_at = min(r for r, _ in rows)
        new_ids += comments_upsert_batch(channel=channel, incomings=[c for _, c in rows], received_at=received_at,
                                         ring=False)
    now = timezone.now()
    for note, pks in notes.items():
        WebhookDelivery.objects.filter(pk__in=pks).update(status=WebhookDelivery.Status.PROCESSED, error=note,
                                                          processed_at=now)
    return new_ids


def _delivery_apply(delivery: WebhookDelivery, events, channels: dict) -> list[int]:
    """One delivery's events, in order; returns the new comments to judge."""
    if events is None:
        _delivery_finish(delivery, status=WebhookDelivery.Status.FAILED, error=delivery.parse_error)
        return []
    unknown = 0
    # Consecutive upserts for one channel are stored as a batch; a delete that follows an add
    # still finds the comment because batches are flushed before it.
    pending: list = []
    pending_channel = None
    new_ids: list[int] = []
    for event in [*events, None]:
        channel = _channel(channels, event) if event is not None else None
        if pending and (event is None or event.kind != "upsert" or channel != pending_channel):
            new_ids += comments_upsert_batch(channel=pending_channel, incomings=pending,
                                             received_at=delivery.received_at, ring=False)
            pending = []
        if event is None:
            break
        if channel is None:
            unknown += 1  # an account we do not (or no longer) moderate
            continue
        if event.kind == "delete":
            comment_mark_deleted_upstream(platform=event.platform, external_id=event.external_id)
        elif event.kind in ("hide", "unhide"):
            comment_mark_hidden_upstream(platform=event.platform, external_id=event.external_id,
                                         hidden=event.kind == "hide")
        else:
            pending.append(event.comment)
            pending_channel = channel
    _delivery_finish(delivery, status=WebhookDelivery.Status.PROCESSED, error=_unknown_note(unknown))
    return new_ids


def deliveries_pending(*, cutoff: dt.datetime, batch: int) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, received_at__lte=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:batch]
    )
