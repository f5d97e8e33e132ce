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
import time
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from moderation.crypto import CredentialsError
from moderation.models import Channel, WebhookDelivery
from moderation.platforms import client_for, parse_webhook
from moderation.platforms.base import AuthExpired, PlatformError, RateLimited
from audit.services import audit_record
from moderation.services import comment_mark_deleted_upstream, comment_upsert

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
            transaction.on_commit(lambda: [_enqueue_poll(pk) for pk in ids])
    return ids


def _enqueue_poll(channel_id: int) -> None:
    from moderation.tasks import channel_poll_task

    channel_poll_task.delay(channel_id=channel_id)


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
                    transaction.on_commit(lambda: _enqueue_poll(channel_id))
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
            transaction.on_commit(lambda: _enqueue_poll(channel_id))  # at once outside a transaction
            return outcome


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
    from django.db.models.functions import Length

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
        comments_classify_batch(comment_ids=new_ids)
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
            from moderation.services import comment_mark_hidden_upstream

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


# --- batches: the fast path for polling pages and webhook deliveries ----------------------
# Measured (bench/ingest.py): each PostgreSQL round trip costs ~1-2 ms here, and the per-row
# path (services.comment_upsert + comment_classify) makes ~15 of them per comment, so it tops
# out near 30 comments/s per process. A batch makes a constant number of round trips for the
# whole page, which is what lets one 2-core machine keep up with a busy page. The per-row
# services stay the reference behaviour: anything unusual (an edit, a verdict that needs a
# person, a race) is handed to them.


def _copy_rows(model, rows: list[dict], *, ids: bool = False) -> list[int]:
    """Append ``rows`` (dicts by column name, all with the same keys, JSON already dumped to
    text) to ``model``'s table with one ``COPY ... FROM STDIN``, inside the caller's
    transaction. A column a row leaves out takes the field's default, as an unsaved model
    instance would; one without a default must be named (asserted), ``auto_now_add``
    columns too: COPY runs no ``pre_save``. With ``ids``, the rows' ids are
    drawn from the table's sequence first (one query) and returned in row order; otherwise
    the table assigns them and nothing is returned.

    Measured (bench/ingest.py, a 900-comment page): bulk_create spent ~60% of a batch's CPU
    turning model instances into SQL parameters; COPY streams the same rows in a fraction
    of that. A constraint violation raises Django's IntegrityError as an INSERT would, and
    triggers (the audit trail's append-only one) fire as for any INSERT."""
    from django.db import connection

    if not rows:
        return []
    table = model._meta.db_table
    fields = {f.column: f for f in model._meta.concrete_fields if not f.primary_key}
    given = list(rows[0])
    assert set(given) <= set(fields), (table, sorted(set(given) - set(fields)))
    defaults = {}
    for column, field in fields.items():
        if column not in rows[0]:
            default = field.get_default()  # "" for a text field without one, as Django does
            assert default is not None or field.null, f"{table}.{column} has no default: name it"
            defaults[column] = field.get_db_prep_save(default, connection)
    columns = [*given, *defaults]
    tail = tuple(defaults.values())
    values = [(*(row[c] for c in given), *tail) for row in rows]
    new_ids: list[int] = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if ids:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [table, len(values)])
            new_ids = [pk for (pk,) in cursor.fetchall()]
            values = [(pk, *row) for pk, row in zip(new_ids, values, strict=True)]
            columns = ["id", *columns]
        sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        started = time.monotonic()
        with cursor.copy(sql) as copy:
            for row in values:
                copy.write_row(row)
        if connection.queries_logged:  # DEBUG and CaptureQueriesContext see it like any statement
            connection.queries_log.append({"sql": f"{sql} -- {len(values)} rows",
                                           "time": f"{time.monotonic() - started:.3f}"})
    return new_ids


def comments_upsert_batch(*, channel: Channel, incomings, received_at: dt.datetime | None = None,
                          ring: bool = True) -> list[int]:
    """Store many comments for one channel in a few statements; idempotent like
    ``services.comment_upsert`` (which handles every edit and any race). Must run inside a
    transaction. Returns the new comments' ids (our own replies excluded); with ``ring``,
    rings ONE batch classify task for them after commit, otherwise the caller judges them
    after its commit (the sweeper covers a caller that dies in between)."""
    from django.db import connection

    from moderation.models import Comment
    from moderation.services import _field
    from audit.text import storable_json_text, storable_text

    assert transaction.get_connection().in_atomic_block, "call inside transaction.atomic()"
    now = received_at or timezone.now()
    platform = channel.platform
    latest: dict[str, object] = {}
    for incoming in incomings:  # a page may carry the same comment twice (edits, boundaries)
        key = _field(incoming.external_id, 200)
        if key:
            latest[key] = incoming
    if not latest:
        return []
    existing = dict(
        Comment.objects.filter(platform=platform, external_id__in=list(latest)).values_list("external_id", "text")
    )
    fresh = {k: v for k, v in latest.items() if k not in existing}
    changed = [v for k, v in latest.items() if k in existing and existing[k] != storable_text(v.text)[0]]
    for incoming in changed:  # edits: the per-row path bumps the revision and audits
        comment_upsert(channel=channel, incoming=incoming, received_at=now)
    if not fresh:
        return []
    author_ids = _authors_upsert(platform, fresh.values())
    rows = []
    for external_id, incoming in fresh.items():
        text, altered = storable_text(incoming.text)
        rows.append(dict(
            platform=platform, external_id=external_id, channel_id=channel.pk,
            author_id=author_ids.get(_field(incoming.author_external_id, 128)),
            parent_external_id=_field(incoming.parent_external_id, 200),
            thread_external_id=_field(incoming.thread_external_id, 200),
            text=text, text_altered=altered, created_upstream=incoming.created_upstream,
            permalink=_field(incoming.permalink, 1000), raw=storable_json_text(incoming.raw or {}),
            is_own=bool(incoming.is_own), received_at=now,
        ))
    try:
        with transaction.atomic():
            new_ids = _copy_rows(Comment, rows, ids=True)
    except IntegrityError:
        # Someone (a webhook and a poll racing) inserted some of them meanwhile: row by row.
        for incoming in fresh.values():
            comment_upsert(channel=channel, incoming=incoming, received_at=now)
        return []
    with connection.cursor() as cursor:
        # Link replies to parents in either direction: new replies to stored parents, and
        # stored replies that arrived before their (new) parent. Both sides are found by
        # index (the primary key, comment_orphan_reply_idx, comment_unique_external), so the
        # cost follows the batch, not the table: with an OR across the two tables this was a
        # scan of every comment, 15 ms per batch at 50,000 comments and growing.
        cursor.execute(
            """
            UPDATE moderation_comment AS c SET parent_id = p.id
            FROM moderation_comment AS p
            WHERE c.platform = %s AND c.parent_id IS NULL AND c.parent_external_id <> ''
              AND (c.id = ANY(%s) OR c.parent_external_id = ANY(%s))
              AND p.platform = c.platform AND p.external_id = c.parent_external_id
            """,
            [platform, new_ids, list(fresh)],
        )
    to_judge = [pk for pk, row in zip(new_ids, rows, strict=True) if not row["is_own"]]
    if to_judge and ring:
        transaction.on_commit(lambda: _enqueue_classify_batch(to_judge))
    return to_judge


def _authors_upsert(platform: str, incomings) -> dict[str, int]:
    """The authors of ``incomings`` by external id -> pk, creating the ones not stored yet
    (names are kept as first seen; services._author_upsert refreshes them on the per-row path).
    One query when every author is known, three when some are new."""
    from moderation.models import Author
    from moderation.services import _field

    wanted: dict[str, object] = {}
    for incoming in incomings:
        author_id = _field(incoming.author_external_id, 128)
        if author_id and author_id not in wanted:
            wanted[author_id] = incoming
    if not wanted:
        return {}
    known = dict(Author.objects.filter(platform=platform, external_id__in=list(wanted)).values_list("external_id", "pk"))
    missing = [k for k in wanted if k not in known]
    if missing:
        Author.objects.bulk_create([
            Author(platform=platform, external_id=k, handle=_field(wanted[k].author_handle, 200),
                   display_name=_field(wanted[k].author_name, 200))
            for k in missing
        ], ignore_conflicts=True)  # a concurrent batch may create the same author
        known.update(Author.objects.filter(platform=platform, external_id__in=missing).values_list("external_id", "pk"))
    return known


def _enqueue_classify_batch(comment_ids: list[int]) -> None:
    from moderation.tasks import comments_classify_batch_task

    comments_classify_batch_task.delay(comment_ids=comment_ids)


# What judging a comment reads of it (and _queue_items_create / decisions of the comment).
_JUDGED_FIELDS = ("platform", "channel_id", "author_id", "text", "received_at", "revision")


def comments_classify_batch(*, comment_ids: list[int]) -> dict[str, int]:
    """Judge many new comments at once, in one transaction under the same row locks and
    uniqueness guarantees as ``services.comment_classify``: verdicts and audit events
    appended with COPY; for verdicts that need a person, queue items, automatic decisions
    and pages as ``comment_classify`` makes them (``_queue_items_create``). Measured: a
    flagged comment cost ~16 queries one by one; a whole batch now costs a constant ~12,
    whatever its mix. A comment judged before (an edit) goes through
    ``services.comment_classify``."""
    from django.db.models import Exists, OuterRef

    from moderation import services
    from audit.models import AuditEvent
    from moderation.models import Comment, Verdict
    from audit.text import storable_json_text

    version, matcher = services._matcher()
    version_id = version.pk if version is not None else None
    judgements = Verdict.objects.filter(comment=OuterRef("pk"))
    comments = list(
        Comment.objects.filter(pk__in=comment_ids, is_own=False)
        .only(*_JUDGED_FIELDS)
        .annotate(
            judged_before=Exists(judgements),
            # This revision under this rule set version: a repeated doorbell, nothing to do.
            judged_now=Exists(judgements.filter(comment_revision=OuterRef("revision"), ruleset_version=version)),
        )
        .order_by("pk")
    )
    comments = [c for c in comments if not c.judged_now]
    histories = services.author_histories(comments)
    fresh, slow = [], []
    for comment in comments:
        if comment.judged_before or comment.revision != 1:
            slow.append(comment.pk)  # an edit re-judges: queue_item_refresh's update path
            continue
        history = services.author_history_for(comment, histories)
        result = matcher.evaluate(comment.text, platform=comment.platform, received_at=comment.received_at, author=history)
        if result.action != Verdict.Action.ALLOW and comment.author_id is not None:
            # Judged one by one, the author's later comments in this batch would see this
            # verdict among their recent violations; so they do here (pk order).
            histories[comment.author_id][1].add(comment.pk)
        fresh.append((comment, result))
    judged = flagged = 0
    if fresh:
        with transaction.atomic():
            # The same lock comment_classify takes, in pk order (no deadlocks between batches).
            locked = dict(
                Comment.objects.select_for_update(no_key=True).filter(pk__in=[c.pk for c, _ in fresh]).order_by("pk")
                .values_list("pk", "revision")
            )
            # A separate statement, after the locks: it sees a verdict committed by a task
            # that held one of them while we waited (one query would read an older snapshot).
            already = set(Verdict.objects.filter(comment_id__in=list(locked)).values_list("comment_id", flat=True))
            todo = [(c, r, r.as_dict()["rules"]) for c, r in fresh if locked.get(c.pk) == c.revision and c.pk not in already]
            now = timezone.now()
            verdict_ids = _copy_rows(Verdict, [
                dict(comment_id=c.pk, comment_revision=c.revision, ruleset_version_id=version_id, action=r.action,
                     escalation=r.escalation, signpost=r.signpost, categories=list(r.categories),
                     rules=json.dumps(rules), auto_apply=r.auto_apply, reply_template=r.reply_template or "",
                     created_at=now)
                for c, r, rules in todo
            ], ids=True)
            _copy_rows(AuditEvent, [
                dict(at=now, system_actor="engine", verb="comment.classified", comment_id=c.pk,
                     ruleset_version_id=version_id, data=storable_json_text({
                         "action": r.action, "escalation": r.escalation, "signpost": r.signpost,
                         "categories": list(r.categories), "rules": [h["id"] for h in rules]}))
                for c, r, rules in todo
            ])
            judged = len(verdict_ids)
            # Model instances only for the few that need a person (queue items, decisions).
            flagged = _queue_items_create([
                (c, Verdict(pk=pk, comment=c, comment_revision=c.revision, ruleset_version=version, action=r.action,
                            escalation=r.escalation, signpost=r.signpost, categories=list(r.categories), rules=rules,
                            auto_apply=r.auto_apply, reply_template=r.reply_template or "", is_current=True,
                            created_at=now))
                for (c, r, rules), pk in zip(todo, verdict_ids, strict=True) if services.needs_person(r)
            ], matcher)
    for comment_id in slow:
        services.comment_classify(comment_id=comment_id)
    return {"bulk": judged, "needs_person": flagged, "one_by_one": len(slow)}


def _queue_items_create(pairs, matcher) -> int:
    """What ``comment_classify`` does for a new verdict that needs a person, for many at
    once: queue items (due times from the rule set's calendar, no queries), automatic
    decisions (moderation/decisions.py) and duty-manager pages after commit. Only for
    comments with no earlier verdict, hence no queue item: plain INSERTs. Inside the
    caller's transaction, under its comment locks."""
    from moderation import decisions, notify, services
    from moderation.models import QueueItem, Verdict

    if not pairs:
        return 0
    items = []
    now = timezone.now()
    for comment, verdict in pairs:
        item = QueueItem(comment=comment, **services.queue_item_fields(
            comment=comment, verdict=verdict, calendar=matcher.calendar,
            first_look_minutes=matcher.first_look_minutes))
        if decisions.automatic_closes(verdict, item):
            item.status, item.decided_at = QueueItem.Status.DECIDED, now
        items.append(item)
    items = QueueItem.objects.bulk_create(items)
    decisions.apply_automatic_new([(item.verdict, item) for item in items])
    for item in items:
        if item.escalation == Verdict.Escalation.DUTY_MANAGER and item.notified_at is None:
            notify.escalation_page_on_commit(item_id=item.pk)
    return len(items)
