"""Storing comments: one by one (``comment_upsert``: edits, races) or a page or delivery at a
time (``comments_upsert_batch``), and what the platform says happened to them upstream.

Idempotent on (platform, external id): a redelivery with the same text changes nothing and
rings nothing. A new comment, or an edit, is judged after commit (triage/classify.py, rung
through moderation/doorbells.py); our own page's replies are stored but never judged.

Measured (bench/ingest.py): each PostgreSQL round trip costs ~1-2 ms here, and the per-row
path made ~15 of them per comment, so it topped out near 30 comments/s per process. A batch
makes a constant number of round trips for the whole page, which is what lets one 2-core
machine keep up with a busy page. Anything unusual (an edit, a race) goes row by row.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from audit.services import audit_record
from audit.text import storable_json, storable_json_text, storable_text
from moderation import doorbells
from moderation.bulk import copy_rows
from moderation.models import Author, Channel, Comment, PlatformAction
from moderation.platforms.base import IncomingComment
from moderation.selectors import comment_hidden_upstream

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpsertResult:
    comment: Comment
    created: bool
    text_changed: bool
    stale: bool = False  # an older copy than the one stored: recorded, not applied


def _field(value: str, max_length: int) -> str:
    """A short identifier or name from a platform, made storable and cut to the column."""
    return storable_text(value or "")[0][:max_length]


def _author_upsert(*, platform: str, external_id: str, handle: str, name: str) -> Author | None:
    external_id, handle, name = _field(external_id, 128), _field(handle, 200), _field(name, 200)
    if not external_id:
        return None
    author, created = Author.objects.get_or_create(
        platform=platform, external_id=external_id, defaults={"handle": handle, "display_name": name}
    )
    if not created and (handle and author.handle != handle or name and author.display_name != name):
        Author.objects.filter(pk=author.pk).update(handle=handle or author.handle, display_name=name or author.display_name)
    return author


def not_older_than(version: dt.datetime | None) -> Q:
    """Comments whose stored text is not newer than a copy of version ``version``: the copy
    may replace it. An equal version may (two edits in one second of a platform's clock,
    delivered in order); an unversioned copy only replaces an unversioned text."""
    if version is None:
        return Q(source_version_at__isnull=True)
    return Q(source_version_at__isnull=True) | Q(source_version_at__lte=version)


def comment_upsert(*, channel: Channel, incoming: IncomingComment, received_at: dt.datetime | None = None) -> UpsertResult:
    """Insert or update one comment, idempotently on (platform, external id).

    A new comment, or an edit that changes the text, is classified: the classify task is
    enqueued after commit. A redelivery with the same text changes nothing and enqueues
    nothing. Our own page's replies are stored for the thread view but never classified.

    Copies are ordered by ``incoming.source_version_at``, not by arrival: a different text
    replaces the stored one only when its copy is not older, which the UPDATE itself checks
    (so two deliveries racing cannot both win, nor the older one win last). An older copy
    changes nothing and is recorded: a ``comment.stale_copy_ignored`` audit event and a log
    line. A newer copy with the same text only moves the stored version on.
    """
    text, altered = storable_text(incoming.text)
    raw = storable_json(incoming.raw or {})
    external_id = _field(incoming.external_id, 200)
    parent_external_id = _field(incoming.parent_external_id, 200)
    version = incoming.source_version_at
    now = received_at or timezone.now()
    with transaction.atomic():
        author = _author_upsert(
            platform=channel.platform,
            external_id=incoming.author_external_id,
            handle=incoming.author_handle,
            name=incoming.author_name,
        )
        parent = None
        if parent_external_id:
            parent = Comment.objects.filter(platform=channel.platform, external_id=parent_external_id).only("pk").first()
        fields = dict(
            channel=channel,
            author=author,
            parent=parent,
            parent_external_id=parent_external_id,
            thread_external_id=_field(incoming.thread_external_id, 200),
            text=text,
            text_altered=altered,
            created_upstream=incoming.created_upstream,
            permalink=_field(incoming.permalink, 1000),
            raw=raw,
            is_own=incoming.is_own,
            source_version_at=version,
        )
        stale = False
        try:
            with transaction.atomic():
                comment = Comment.objects.create(
                    platform=channel.platform, external_id=external_id, received_at=now, **fields
                )
            created, changed = True, True
        except IntegrityError:
            # Someone (a webhook and a poll racing, or an earlier copy) stored it first.
            created = False
            stored = Comment.objects.filter(platform=channel.platform, external_id=external_id)
            changed = bool(
                stored.filter(not_older_than(version)).exclude(text=text).update(
                    text=text, text_altered=altered, raw=raw, edited_upstream_at=now, revision=F("revision") + 1,
                    source_version_at=version,
                )
            )
            comment = stored.get()
            if changed:
                audit_record(verb="comment.edited_upstream", system_actor=f"platform:{channel.platform}", comment=comment)
            elif comment.text != text:
                stale = True
                _stale_copy_record(comment, version)
            elif version is not None:
                # The same text, maybe from a newer copy: an older one must count as older still.
                stored.filter(Q(source_version_at__isnull=True) | Q(source_version_at__lt=version)).update(
                    source_version_at=version)
        if created:
            # Replies that arrived before their parent are linked now.
            Comment.objects.filter(
                platform=channel.platform, parent_external_id=comment.external_id, parent__isnull=True
            ).update(parent=comment)
        if changed and not comment.is_own:
            doorbells.comment_classify(comment.pk)
    return UpsertResult(comment=comment, created=created, text_changed=changed, stale=stale)


def _stale_copy_record(comment: Comment, version: dt.datetime | None) -> None:
    """An older copy of ``comment`` with another text arrived (a late or repeated webhook, a
    slow poll): kept out of the comment, and said so in the audit trail and the log."""
    stored = comment.source_version_at
    audit_record(
        verb="comment.stale_copy_ignored", system_actor=f"platform:{comment.platform}", comment=comment,
        data={"revision": comment.revision, "copy_version_at": version.isoformat() if version else None,
              "stored_version_at": stored.isoformat() if stored else None},
    )
    log.info("comment %s (%s:%s): an older copy (version %s, stored %s, revision %s) was not applied",
             comment.pk, comment.platform, comment.external_id, version, stored, comment.revision)


def comment_mark_deleted_upstream(*, platform: str, external_id: str) -> Comment | None:
    """Record an upstream deletion; the comment stays as evidence (safeguarding!)."""
    with transaction.atomic():
        comment = Comment.objects.select_for_update().filter(platform=platform, external_id=external_id).first()
        if comment is None or comment.deleted_upstream_at:
            return comment
        comment.deleted_upstream_at = timezone.now()
        comment.save(update_fields=["deleted_upstream_at"])
        audit_record(verb="comment.deleted_upstream", system_actor=f"platform:{platform}", comment=comment)
        return comment


def comment_mark_hidden_upstream(*, platform: str, external_id: str, hidden: bool) -> Comment | None:
    """Record, as an audit event, that the platform says the comment is now hidden (or
    visible again): Meta's hide/unhide verbs, for a hide made in Facebook itself or the echo
    of ours. The trail is the state (``selectors.comment_hidden_upstream``), so a repeated
    delivery, or the echo of an action already recorded as applied, records nothing.
    Serialised per comment by its row lock. A comment we do not hold: None."""
    with transaction.atomic():
        comment = Comment.objects.select_for_update(no_key=True).filter(platform=platform, external_id=external_id).first()
        if comment is None or comment_hidden_upstream(comment.pk) is hidden:
            return comment
        ours = PlatformAction.objects.filter(
            comment=comment, kind="hide" if hidden else "unhide",
            status__in=[PlatformAction.Status.IN_FLIGHT, PlatformAction.Status.APPLIED],
        ).exists()
        audit_record(verb="comment.hidden_upstream" if hidden else "comment.unhidden_upstream",
                     system_actor=f"platform:{platform}", comment=comment, data={"requested_by_us": ours})
        return comment


def comments_upsert_batch(*, channel: Channel, incomings, received_at: dt.datetime | None = None,
                          ring: bool = True) -> list[int]:
    """Store many comments for one channel in a few statements; idempotent like
    ``comment_upsert`` (which handles every edit and any race). Must run inside a
    transaction. Returns the new comments' ids (our own replies excluded); with ``ring``,
    rings ONE batch classify task for them after commit, otherwise the caller judges them
    after its commit (the sweeper covers a caller that dies in between)."""
    assert transaction.get_connection().in_atomic_block, "call inside transaction.atomic()"
    now = received_at or timezone.now()
    platform = channel.platform
    latest: dict[str, object] = {}
    for incoming in incomings:  # a page may carry the same comment twice (edits, boundaries)
        key = _field(incoming.external_id, 200)
        if key and not _older(incoming.source_version_at, getattr(latest.get(key), "source_version_at", None)):
            latest[key] = incoming
    if not latest:
        return []
    existing = {
        external_id: (text, version)
        for external_id, text, version in Comment.objects.filter(platform=platform, external_id__in=list(latest))
        .values_list("external_id", "text", "source_version_at")
    }
    fresh = {k: v for k, v in latest.items() if k not in existing}
    changed = {k: v for k, v in latest.items() if k in existing and existing[k][0] != storable_text(v.text)[0]}
    for incoming in changed.values():  # edits, and older copies: the per-row path decides, bumps or records
        comment_upsert(channel=channel, incoming=incoming, received_at=now)
    # The same text from a newer copy: the stored version moves on (rare: a platform that
    # dates edits, or a comment stored before versions were), so an older copy that comes
    # later still counts as older. Conditional, like comment_upsert's.
    newer = {k: v.source_version_at for k, v in latest.items()
             if k in existing and k not in changed and v.source_version_at is not None
             and (existing[k][1] is None or v.source_version_at > existing[k][1])}
    if newer:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE moderation_comment AS c SET source_version_at = v.at
                FROM unnest(%s::text[], %s::timestamptz[]) AS v(external_id, at)
                WHERE c.platform = %s AND c.external_id = v.external_id
                  AND (c.source_version_at IS NULL OR c.source_version_at < v.at)
                """,
                [list(newer), list(newer.values()), platform],
            )
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
            is_own=bool(incoming.is_own), received_at=now, source_version_at=incoming.source_version_at,
        ))
    try:
        with transaction.atomic():
            new_ids = copy_rows(Comment, rows, ids=True)
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
        doorbells.comments_classify(to_judge)
    return to_judge


def _older(version, than) -> bool:
    """Whether a copy of ``version`` is older than one of ``than`` (None: not known, oldest)."""
    if than is None:
        return False
    return version is None or version < than


def _authors_upsert(platform: str, incomings) -> dict[str, int]:
    """The authors of ``incomings`` by external id -> pk, creating the ones not stored yet
    (names are kept as first seen; _author_upsert refreshes them on the per-row path).
    One query when every author is known, three when some are new."""
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
