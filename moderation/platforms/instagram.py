"""Instagram professional accounts (README §3): poll /{ig-user}/media then /{media}/comments
(no time filter: newest first, stop at the watermark; the recent media in rounds, older ones
swept a media page at a time); webhooks fields "comments" and "live_comments";
hide/unhide/delete/reply. Instagram's API cannot block anyone."""

from __future__ import annotations

import time

from django.conf import settings

from moderation.platforms.base import (
    FetchResult,
    IncomingComment,
    MAX_PAGES_PER_POLL,
    NotSupported,
    WebhookEvent,
    parse_time,
)
from moderation.platforms.meta import GraphClient, hand_over_marks

COMMENT_FIELDS = "id,text,timestamp,username,from{id,username},like_count,hidden,parent_id,replies{id,text,timestamp,username,from,parent_id}"
# Recent media whose comments every round reads; 25 is Graph's default page.
MEDIA_PER_POLL = 25
COMMENTS_PAGE_SIZE = 50  # Instagram's documented maximum for /comments
# Older media are swept behind them, a media page (`after` cursor) at a time, with a share of
# each poll's MAX_PAGES_PER_POLL kept for it so the recent round (a call per media per
# round: /comments has no `since`) cannot starve it. About one media per call: a lap of
# OLDER_MEDIA_MAX media is ~520 calls. A quiet round is 5 polls that follow each other at
# once (`more`): 3 sweep calls in each of the first four, 8 in the last (what the round
# left), so 20 a round and a lap in ~26 rounds, under half an hour at the default 60 s
# interval. Comments on media older than that arrive only through the webhook.
OLDER_PAGES_PER_POLL = 3
OLDER_MEDIA_PAGE = 25
OLDER_MEDIA_MAX = 500


def _incoming(item: dict, *, account_id: str, media_id: str, permalink: str, parent_id: str = "") -> IncomingComment:
    author = item.get("from") or {}
    author_id = str(author.get("id", ""))
    username = str(author.get("username") or item.get("username") or "")
    created = parse_time(item.get("timestamp"))
    return IncomingComment(
        external_id=str(item.get("id", "")),
        text=str(item.get("text", "")),
        author_external_id=author_id,
        author_handle=username,
        parent_external_id=str(item.get("parent_id") or parent_id or ""),
        thread_external_id=media_id,
        created_upstream=created,
        permalink=permalink,  # comments have no permalink: link to the media (README §3.2)
        raw={k: v for k, v in item.items() if k != "replies"},
        is_own=author_id == account_id,
        # Instagram comments cannot be edited: every copy is of the comment as posted.
        source_version_at=created,
    )


class InstagramClient(GraphClient):
    platform = "instagram"
    base_setting = "INSTAGRAM_API_BASE"

    # Instagram Login long-lived tokens (60 days) may be refreshed once 24 h old (README
    # §3.1): renewing daily keeps them ~59 days from expiry, so an outage of weeks is ridden out.
    REFRESH_AFTER_SECONDS = 24 * 3600

    def can_refresh(self) -> bool:
        # Only Instagram Login tokens carry an expiry; a Facebook Login Page token has none
        # and does not expire (README §1.4), so it is never "refreshed".
        return bool(self.credentials.get("expires_at"))

    def refresh_due(self, now: float) -> bool:
        try:
            issued_at = float(self.credentials.get("issued_at") or 0)
        except (TypeError, ValueError):
            issued_at = 0.0
        return now - issued_at >= self.REFRESH_AFTER_SECONDS or super().refresh_due(now)

    def refresh_grant(self, credentials: dict) -> dict:
        """GET INSTAGRAM_REFRESH_URL?grant_type=ig_refresh_token; the token goes in the
        Authorization header like every other call, never in the URL (which logs keep)."""
        now = time.time()
        body = self._token_post(settings.INSTAGRAM_REFRESH_URL, credentials=credentials, method="GET",
                                data={"grant_type": "ig_refresh_token"},
                                headers={"Authorization": f"Bearer {credentials.get('access_token', '')}"})
        return {"access_token": str(body["access_token"]), "issued_at": int(now), **self._expiry(body, now)}

    def fetch_since(self, cursor: dict) -> FetchResult:
        """Cursor: {"media": {media id: unix seconds}, "resume": {...}, "older": {...}}.

        The MEDIA_PER_POLL most recent media, a round of them over as many polls as it takes
        (``more`` until the round is done): /comments has no ``since`` (README §3.2), so
        every media costs a call each round, more than one poll's budget. ``resume`` says
        where the round goes on (``id``; ``after`` and ``newest`` when that media's own
        comments were cut short), and a media's watermark moves only once it is read down
        to it. Timestamps are inclusive: a comment in the boundary second is read twice and
        the idempotent upsert ignores it. Older media: ``GraphClient.sweep_older``."""
        marks = {k: int(v) for k, v in (cursor.get("media") or {}).items()}
        resume = dict(cursor.get("resume") or {})
        now = int(time.time())
        budget = [MAX_PAGES_PER_POLL - OLDER_PAGES_PER_POLL]
        media = self._json(self.request("GET", f"{self.account_id}/media",
                                        params={"fields": "id,permalink,timestamp", "limit": MEDIA_PER_POLL}))
        budget[0] -= 1
        paging = media.get("paging") or {}
        recent_after = (paging.get("cursors") or {}).get("after") if paging.get("next") else None
        items = [(str(m.get("id")), str(m.get("permalink", ""))) for m in media.get("data") or []]
        ids = [media_id for media_id, _ in items]
        start = ids.index(resume["id"]) if resume.get("id") in ids else 0  # gone: a new round
        comments: list[IncomingComment] = []
        next_resume: dict = {}
        for media_id, permalink in items[start:]:
            if budget[0] <= 0 or self.usage_backoff:
                next_resume = {"id": media_id}
                break
            partial = resume if resume.get("id") == media_id else {}
            mark = marks.get(media_id, 0)
            read, newest, after = self._media_comments(media_id, permalink, mark, budget, after=partial.get("after"))
            comments += read
            newest = max(newest, int(partial.get("newest", 0)))
            if after is not None:
                next_resume = {"id": media_id, "after": after, "newest": newest}
                break
            marks[media_id] = newest
        # Only media still among the recent ones keep a mark here; the sweep takes over the
        # others' marks, so a media pushed out by new posts before the sweep passes it again
        # is read from its own mark, not only from the sweep's.
        older, marks = hand_over_marks(dict(cursor.get("older") or {}), marks, ids, now=now)
        # The sweep's queue holds [media id, permalink] (comments link to their media);
        # ``resume`` is the comments cursor inside the first of them.
        older, read = self.sweep_older(
            older, recent_after, [budget[0] + OLDER_PAGES_PER_POLL], now=now, path=f"{self.account_id}/media",
            fields="id,permalink", page_size=OLDER_MEDIA_PAGE, max_depth=OLDER_MEDIA_MAX,
            entry=lambda m: [str(m.get("id")), str(m.get("permalink", ""))], entry_id=lambda entry: entry[0],
            progress="resume", read=self._older_media)
        comments += read
        next_cursor = {"media": marks, "older": older}
        if next_resume:
            next_cursor["resume"] = next_resume
        return FetchResult(comments=comments, cursor=next_cursor,
                           more=bool(next_resume) and not self.usage_backoff, backoff_seconds=self.usage_backoff)

    def _media_comments(self, media_id: str, permalink: str, since: int, budget: list[int], *,
                        after: str | None = None) -> tuple[list[IncomingComment], int, str | None]:
        """One media's comments created at or after ``since`` (unix seconds), from the page at
        ``after`` (none: the newest page): (comments, newest timestamp read, the ``after``
        to go on from next time, or None once read down to ``since`` or to the end).

        /comments returns newest first, so reading stops at the first top-level comment
        before ``since``; replies come inline and count by their own timestamps, so a new
        reply under an older comment on a page read is kept. Precondition: budget left."""
        assert budget[0] > 0
        params = {"fields": COMMENT_FIELDS, "limit": COMMENTS_PAGE_SIZE}
        if after:
            params["after"] = after
        comments: list[IncomingComment] = []
        newest = since
        for data, next_after in self.pages(f"{media_id}/comments", params, budget=budget):
            reached = False
            for row in data:
                top = _incoming(row, account_id=self.account_id, media_id=media_id, permalink=permalink)
                for reply in (row.get("replies") or {}).get("data") or []:
                    r = _incoming(reply, account_id=self.account_id, media_id=media_id, permalink=permalink,
                                  parent_id=top.external_id)
                    rts = int(r.created_upstream.timestamp()) if r.created_upstream else 0
                    if rts >= since:
                        comments.append(r)
                        newest = max(newest, rts)
                ts = int(top.created_upstream.timestamp()) if top.created_upstream else 0
                if ts < since:
                    reached = True
                    continue
                comments.append(top)
                newest = max(newest, ts)
            if reached or next_after is None:
                return comments, newest, None
            after = next_after
            if self.usage_backoff:
                break
        return comments, newest, after

    def _older_media(self, entry: list[str], since: int, resume: str | None, budget: list[int]):
        """The sweep's reader (``GraphClient.sweep_older``, read newest first down to a
        timestamp because /comments has no ``since``): an older media's comments from the
        comments cursor ``resume`` (where a poll that ran out stopped; none: the newest page);
        (comments, the cursor to go on from, or None once read down to ``since``)."""
        media_id, permalink = entry
        comments, _, resume = self._media_comments(media_id, permalink, since, budget, after=resume)
        return comments, resume

    def apply(self, kind, *, comment_external_id, author_external_id="", thread_external_id="", payload=None):
        payload = payload or {}
        if kind in ("hide", "unhide"):
            body = self._json(self.request("POST", comment_external_id, params={"hide": "true" if kind == "hide" else "false"}))
        elif kind == "delete":
            body = self._json(self.request("DELETE", comment_external_id))
        elif kind == "reply":
            body = self._json(self.request("POST", f"{comment_external_id}/replies", params={"message": payload.get("message", "")}))
        else:
            # block: no Graph endpoint exists (README §3.4); capabilities.py says so to officers.
            raise NotSupported(f"instagram: the API cannot {kind}")
        return body if isinstance(body, dict) else {"result": body}


def parse_instagram_webhook(payload: dict) -> list[WebhookEvent]:
    """object "instagram", fields "comments"/"live_comments"; accept ``changes[]`` and the
    inline ``field``/``value`` shape of Meta's example page (README §3.3)."""
    events = []
    for entry in payload.get("entry") or []:
        account_id = str(entry.get("id", ""))
        changes = entry.get("changes")
        if changes is None and "field" in entry:
            changes = [{"field": entry.get("field"), "value": entry.get("value")}]
        for change in changes or []:
            if change.get("field") not in ("comments", "live_comments"):
                continue
            value = change.get("value") or {}
            if not value.get("id"):
                continue
            author = value.get("from") or {}
            author_id = str(author.get("id", ""))
            media = value.get("media") or {}
            events.append(WebhookEvent("instagram", account_id, "upsert", comment=IncomingComment(
                external_id=str(value["id"]),
                text=str(value.get("text", "")),
                author_external_id=author_id,
                author_handle=str(author.get("username", "")),
                parent_external_id=str(value.get("parent_id", "")),
                thread_external_id=str(media.get("id", "")),
                created_upstream=parse_time(entry.get("time")),
                raw=value,
                is_own=author_id == account_id or str(author.get("self_ig_scoped_id", "")) == account_id,
                # The value has no time of its own; the entry's is when Meta sent the change.
                source_version_at=parse_time(entry.get("time")),
            )))
    return events
