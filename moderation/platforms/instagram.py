"""Instagram professional accounts (README §3): poll /{ig-user}/media then /{media}/comments
(no time filter: newest first, stop at the watermark); webhooks fields "comments" and
"live_comments"; hide/unhide/delete/reply. Instagram's API cannot block anyone."""

from __future__ import annotations

import time

from django.conf import settings

from moderation.platforms.base import MAX_PAGES_PER_POLL, FetchResult, NotSupported, WebhookEvent, parse_time
from moderation.platforms.meta import GraphClient
from moderation.services import IncomingComment

COMMENT_FIELDS = "id,text,timestamp,username,from{id,username},like_count,hidden,parent_id,replies{id,text,timestamp,username,from,parent_id}"
MEDIA_PER_POLL = 25
COMMENTS_PAGE_SIZE = 50  # Instagram's documented maximum for /comments


def _incoming(item: dict, *, account_id: str, media_id: str, permalink: str, parent_id: str = "") -> IncomingComment:
    author = item.get("from") or {}
    author_id = str(author.get("id", ""))
    username = str(author.get("username") or item.get("username") or "")
    return IncomingComment(
        external_id=str(item.get("id", "")),
        text=str(item.get("text", "")),
        author_external_id=author_id,
        author_handle=username,
        parent_external_id=str(item.get("parent_id") or parent_id or ""),
        thread_external_id=media_id,
        created_upstream=parse_time(item.get("timestamp")),
        permalink=permalink,  # comments have no permalink: link to the media (README §3.2)
        raw={k: v for k, v in item.items() if k != "replies"},
        is_own=author_id == account_id,
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
        """Cursor: {"media": {media id: unix seconds of the newest comment seen}}.

        /comments has no ``since`` (README §3.2), and returns newest first, so each media is
        read until a comment at or before its watermark. If the page budget runs out first,
        that media's watermark is not moved, and the comments read are stored anyway."""
        marks = {k: int(v) for k, v in (cursor.get("media") or {}).items()}
        budget = [MAX_PAGES_PER_POLL]
        media = self._json(self.request("GET", f"{self.account_id}/media",
                                        params={"fields": "id,permalink,timestamp", "limit": MEDIA_PER_POLL}))
        budget[0] -= 1
        comments: list[IncomingComment] = []
        new_marks: dict[str, int] = {}
        incomplete = False
        for item in media.get("data") or []:
            media_id, permalink = str(item.get("id")), str(item.get("permalink", ""))
            mark = marks.get(media_id, 0)
            newest, reached = mark, False
            if budget[0] <= 0 or self.usage_backoff:
                incomplete = True
                new_marks[media_id] = mark
                continue
            params = {"fields": COMMENT_FIELDS, "limit": COMMENTS_PAGE_SIZE}
            for data, after in self.pages(f"{media_id}/comments", params, budget=budget):
                for row in data:
                    top = _incoming(row, account_id=self.account_id, media_id=media_id, permalink=permalink)
                    ts = int(top.created_upstream.timestamp()) if top.created_upstream else 0
                    for reply in (row.get("replies") or {}).get("data") or []:
                        r = _incoming(reply, account_id=self.account_id, media_id=media_id, permalink=permalink, parent_id=top.external_id)
                        rts = int(r.created_upstream.timestamp()) if r.created_upstream else 0
                        if rts >= mark:
                            comments.append(r)
                            newest = max(newest, rts)
                    if ts < mark:
                        reached = True
                        continue
                    comments.append(top)
                    newest = max(newest, ts)
                if reached or after is None or self.usage_backoff:
                    reached = reached or after is None
                    break
            if reached:
                new_marks[media_id] = newest
            else:
                incomplete = True
                new_marks[media_id] = mark
        return FetchResult(comments=comments, cursor={"media": new_marks},
                           more=incomplete and not self.usage_backoff, backoff_seconds=self.usage_backoff)

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
            )))
    return events
