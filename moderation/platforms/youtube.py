"""YouTube Data API v3 (README §4): poll commentThreads (no push exists for comments);
"hide" is heldForReview, "delete" is rejected, "block" is rejected + banAuthor. Access
tokens last about an hour: refreshed at Google's token endpoint with the stored refresh
token (README §4.4); ``invalid_grant`` there means revoked, and the channel needs a person."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from django.conf import settings

from moderation.platforms.base import (
    AuthExpired,
    FetchResult,
    IncomingComment,
    MAX_PAGES_PER_POLL,
    NotSupported,
    PermanentError,
    PlatformClient,
    PlatformError,
    RateLimited,
    TransientError,
    parse_time,
)

THREADS_PAGE_SIZE = 100  # maxResults ceiling
# Replies do not bring an old thread back to the top of commentThreads, so the poll keeps
# each recent thread's reply count (in the cursor) and reads replies when it grows. Every
# REPLY_SCAN_SECONDS a poll reads REPLY_SCAN_PAGES pages of threads (300 threads) rather than
# stopping at the watermark. Quota (README §4.3, 10,000 units/day): 2 extra list pages every
# 15 minutes is 192 pages/day, 1-5 units each, beside 1,440 polls/day at the default 60 s.
# Replies on threads older than the 300 most recent are not seen.
REPLY_SCAN_SECONDS = 15 * 60
REPLY_SCAN_PAGES = 3
THREAD_MEMORY = REPLY_SCAN_PAGES * THREADS_PAGE_SIZE  # ~35 bytes each in the cursor
# Five comments.list pages: less than one poll's budget, so a poll that starts on a thread
# always gets this far.
REPLY_READ_ENOUGH = 500
# Daily quota resets at midnight Pacific (README §4.3); per-minute limits clear in a minute.
QUOTA_TZ = ZoneInfo("America/Los_Angeles")
SHORT_LIMIT_SECONDS = 60
MODERATION_STATUS = {"hide": "heldForReview", "unhide": "published", "delete": "rejected", "block": "rejected"}


def seconds_until_quota_reset(now: dt.datetime | None = None) -> float:
    now = (now or dt.datetime.now(tz=dt.UTC)).astimezone(QUOTA_TZ)
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


def _incoming(comment: dict, *, account_id: str) -> IncomingComment:
    snippet = comment.get("snippet") or {}
    author_id = str((snippet.get("authorChannelId") or {}).get("value", ""))
    video_id = str(snippet.get("videoId", ""))
    published = parse_time(snippet.get("publishedAt"))
    return IncomingComment(
        external_id=str(comment.get("id", "")),
        # textFormat=plainText makes textDisplay the moderation text (README §4.1).
        text=str(snippet.get("textDisplay") or snippet.get("textOriginal") or ""),
        author_external_id=author_id,
        author_name=str(snippet.get("authorDisplayName", "")),
        author_handle=str(snippet.get("authorDisplayName", "")),
        parent_external_id=str(snippet.get("parentId", "")),
        thread_external_id=video_id,
        created_upstream=published,
        permalink=f"https://www.youtube.com/watch?v={video_id}&lc={comment.get('id', '')}" if video_id else "",
        raw=comment,
        is_own=author_id == account_id,
        # updatedAt is when the comment was last updated (README §4.1): it orders two copies.
        source_version_at=parse_time(snippet.get("updatedAt")) or published,
    )


class YouTubeClient(PlatformClient):
    platform = "youtube"
    base_setting = "YOUTUBE_API_BASE"

    def _classify(self, response, body) -> PlatformError:
        status = response.status_code
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        reasons = {str(e.get("reason", "")) for e in error.get("errors") or [] if isinstance(e, dict)}
        if isinstance(body, dict) and body.get("error") == "invalid_grant":
            reasons.add("invalid_grant")  # the OAuth token endpoint's shape
        label = ",".join(sorted(reasons)) or f"HTTP {status}"
        if "quotaExceeded" in reasons or "dailyLimitExceeded" in reasons:
            return RateLimited(f"youtube: daily quota exceeded ({label})", retry_after=seconds_until_quota_reset(), status=status, code="quotaExceeded")
        if reasons & {"rateLimitExceeded", "userRateLimitExceeded"} or status == 429:
            return RateLimited(f"youtube: rate limited ({label})", retry_after=SHORT_LIMIT_SECONDS, status=status)
        if status == 401 or "invalid_grant" in reasons or "authError" in reasons:
            return AuthExpired(f"youtube: access token expired or revoked ({label})", status=status)
        if status >= 500 or reasons & {"backendError", "internalError"}:
            return TransientError(f"youtube: temporary error ({label})", status=status)
        return PermanentError(f"youtube: refused ({label})", status=status, code=label)

    def can_refresh(self) -> bool:
        return bool(self.credentials.get("refresh_token"))

    def _app_secrets(self) -> list[str]:
        return [settings.GOOGLE_CLIENT_SECRET]

    def refresh_grant(self, credentials: dict) -> dict:
        """POST GOOGLE_TOKEN_URL grant_type=refresh_token with the OAuth app's client id and
        secret (settings: one Google Cloud project serves every channel). Google does not
        rotate refresh tokens, but one it sends back replaces ours."""
        body = self._token_post(settings.GOOGLE_TOKEN_URL, credentials=credentials, data={
            "grant_type": "refresh_token", "refresh_token": credentials.get("refresh_token", ""),
            "client_id": settings.GOOGLE_CLIENT_ID, "client_secret": settings.GOOGLE_CLIENT_SECRET})
        fresh = {"access_token": str(body["access_token"]), **self._expiry(body)}
        if body.get("refresh_token"):
            fresh["refresh_token"] = str(body["refresh_token"])
        return fresh

    def fetch_since(self, cursor: dict) -> FetchResult:
        """Cursor: {"watermark": ISO time, "threads": {thread id: totalReplyCount seen},
        "scanned_at": unix seconds} between rounds; mid-round also "page_token" and "pending"
        (the newest top-level time seen this round, which becomes the next watermark).

        There is no ``since`` (README §4.1): threads come newest first (order=time, by their
        top-level comment) and a round ends at the first thread older than the watermark, or
        on the last page. A new reply does not bring its thread back to the top, so replies
        are found by reply count instead: every thread read (new or old) whose
        ``totalReplyCount`` grew since we last saw it has its replies read, from the inline
        subset or, when that is short, ``comments.list?parentId=`` pages. The threads on the
        page where a round ends are checked on every poll at no extra cost; every
        REPLY_SCAN_SECONDS the poll also reads on, to REPLY_SCAN_PAGES pages deep, to check
        older threads. Every list page and reply page counts against MAX_PAGES_PER_POLL."""
        watermark = parse_time(cursor.get("watermark")) or dt.datetime.fromtimestamp(0, tz=dt.UTC)
        pending = parse_time(cursor.get("pending")) or watermark
        page_token = cursor.get("page_token")
        counts = {str(k): int(v) for k, v in (cursor.get("threads") or {}).items()}
        seen: list[str] = []  # threads read this poll, newest first: the ones worth remembering
        budget = [MAX_PAGES_PER_POLL]
        comments: list[IncomingComment] = []
        round_done = False
        while budget[0] > 0:
            page_used = page_token
            body = self._threads_page(page_token, budget)
            reached = cut = False
            for thread in body.get("items") or []:
                snippet = thread.get("snippet") or {}
                top = _incoming(snippet.get("topLevelComment") or {}, account_id=self.account_id)
                if top.created_upstream and top.created_upstream < watermark:
                    reached = True  # stored in an earlier round; its replies are checked below
                else:
                    comments.append(top)
                    if top.created_upstream:
                        pending = max(pending, top.created_upstream)
                replies, complete = self._new_replies(thread, top.external_id, counts, seen, budget)
                comments += replies
                cut = cut or not complete
            if cut:
                # Out of budget among this page's replies: the next poll reads this page
                # again; its threads already counted cost nothing more.
                page_token = page_used
                break
            page_token = body.get("nextPageToken")
            if reached or not page_token:
                round_done = True
                break
        scanned_at = cursor.get("scanned_at")
        if not round_done:
            return FetchResult(comments=comments, more=True, cursor={
                "watermark": watermark.isoformat(), "page_token": page_token, "pending": pending.isoformat(),
                "threads": self._remember(counts, seen), **({"scanned_at": scanned_at} if scanned_at else {})})
        now = time.time()
        if now - float(scanned_at or 0) >= REPLY_SCAN_SECONDS:
            # The scan: older threads, for replies only (their top-level comments are stored).
            depth, cut = 1, False
            while page_token and depth < REPLY_SCAN_PAGES and budget[0] > 0 and not cut:
                body = self._threads_page(page_token, budget)
                depth += 1
                for thread in body.get("items") or []:
                    top_id = str(((thread.get("snippet") or {}).get("topLevelComment") or {}).get("id") or thread.get("id", ""))
                    replies, complete = self._new_replies(thread, top_id, counts, seen, budget)
                    comments += replies
                    cut = cut or not complete
                page_token = body.get("nextPageToken")
            if not cut and (not page_token or depth >= REPLY_SCAN_PAGES):
                scanned_at = int(now)  # otherwise cut short by the budget: the next poll scans again
        return FetchResult(comments=comments, cursor={
            "watermark": pending.isoformat(), "threads": self._remember(counts, seen), "scanned_at": scanned_at})

    def _threads_page(self, page_token: str | None, budget: list[int]) -> dict:
        budget[0] -= 1
        params = {"part": "snippet,replies", "allThreadsRelatedToChannelId": self.account_id, "order": "time",
                  "textFormat": "plainText", "maxResults": THREADS_PAGE_SIZE}
        if page_token:
            params["pageToken"] = page_token
        return self._json(self.request("GET", "commentThreads", params=params))

    def _new_replies(self, thread: dict, top_id: str, counts: dict, seen: list,
                     budget: list[int]) -> tuple[list[IncomingComment], bool]:
        """The thread's replies when its reply count grew since we last saw it (or we never
        did), and False when the budget ran out first (its count is then not recorded, so
        the next poll asks again); ``counts`` is updated. Replies already stored come again
        and the idempotent upsert ignores them. A reply deleted as another arrives leaves
        the count unchanged and that reply unseen here; a platform without push for comments
        offers nothing better."""
        thread_id = str(thread.get("id") or top_id)
        total = int((thread.get("snippet") or {}).get("totalReplyCount") or 0)
        known = counts.get(thread_id)
        seen.append(thread_id)
        counts[thread_id] = total
        if total == 0 or (known is not None and total <= known):
            return [], True
        replies = (thread.get("replies") or {}).get("comments") or []
        if total > len(replies):  # the inline replies are only a subset (README §4.1)
            fetched, complete = self._all_replies(top_id, budget)
            replies = fetched or replies
            # A thread too long for one poll's budget is taken as read once REPLY_READ_ENOUGH
            # replies came in (so polls cannot livelock on it); its later replies come in
            # when its count grows again.
            if not complete and len(fetched) < REPLY_READ_ENOUGH:
                if known is None:
                    counts.pop(thread_id, None)
                else:
                    counts[thread_id] = known
                return [_incoming(reply, account_id=self.account_id) for reply in replies], False
        return [_incoming(reply, account_id=self.account_id) for reply in replies], True

    @staticmethod
    def _remember(counts: dict, seen: list) -> dict:
        """The reply counts of the THREAD_MEMORY most recently read threads (the cursor is
        written on every poll, so it stays bounded)."""
        order = list(dict.fromkeys(seen)) + [k for k in counts if k not in set(seen)]
        return {k: counts[k] for k in order[:THREAD_MEMORY] if k in counts}

    def _all_replies(self, parent_id: str, budget: list[int]) -> tuple[list[dict], bool]:
        """Every reply of a top-level comment, page by page: (replies, read to the end)."""
        out, token = [], None
        while budget[0] > 0:
            budget[0] -= 1
            params = {"part": "snippet", "parentId": parent_id, "maxResults": 100, "textFormat": "plainText"}
            if token:
                params["pageToken"] = token
            body = self._json(self.request("GET", "comments", params=params))
            out.extend(body.get("items") or [])
            token = body.get("nextPageToken")
            if not token:
                return out, True
        return out, False

    def apply(self, kind, *, comment_external_id, author_external_id="", thread_external_id="", payload=None):
        payload = payload or {}
        if kind in MODERATION_STATUS:
            params = {"id": comment_external_id, "moderationStatus": MODERATION_STATUS[kind]}
            if kind == "block":
                params["banAuthor"] = "true"
            response = self.request("POST", "comments/setModerationStatus", params=params)
            return {"status": response.status_code, "moderationStatus": MODERATION_STATUS[kind]}
        if kind == "reply":
            # Replies attach to the top-level comment; a reply's id is "<parent>.<suffix>".
            parent = comment_external_id.split(".", 1)[0]
            body = self._json(self.request("POST", "comments", params={"part": "snippet"},
                                           json_body={"snippet": {"parentId": parent, "textOriginal": payload.get("message", "")}}))
            return {"id": body.get("id", "")}
        raise NotSupported(f"youtube: unknown action {kind}")
