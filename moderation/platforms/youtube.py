"""YouTube Data API v3 (README §4): poll commentThreads (no push exists for comments);
"hide" is heldForReview, "delete" is rejected, "block" is rejected + banAuthor. Access
tokens last about an hour: refreshed at Google's token endpoint with the stored refresh
token (README §4.4); ``invalid_grant`` there means revoked, and the channel needs a person."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

from moderation.platforms.base import (
    MAX_PAGES_PER_POLL,
    AuthExpired,
    FetchResult,
    NotSupported,
    PermanentError,
    PlatformClient,
    PlatformError,
    RateLimited,
    TransientError,
    parse_time,
)
from moderation.services import IncomingComment

THREADS_PAGE_SIZE = 100  # maxResults ceiling
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
        """Cursor: {"watermark": ISO time} between rounds; mid-round also "page_token" and
        "pending" (the newest time seen this round, which becomes the next watermark).

        There is no ``since`` (README §4.1): threads come newest first (order=time) and a
        round ends at the first thread older than the watermark, or on the last page."""
        watermark = parse_time(cursor.get("watermark")) or dt.datetime.fromtimestamp(0, tz=dt.UTC)
        pending = parse_time(cursor.get("pending")) or watermark
        page_token = cursor.get("page_token")
        comments: list[IncomingComment] = []
        for _ in range(MAX_PAGES_PER_POLL):
            params = {"part": "snippet,replies", "allThreadsRelatedToChannelId": self.account_id, "order": "time",
                      "textFormat": "plainText", "maxResults": THREADS_PAGE_SIZE}
            if page_token:
                params["pageToken"] = page_token
            body = self._json(self.request("GET", "commentThreads", params=params))
            reached = False
            for thread in body.get("items") or []:
                snippet = thread.get("snippet") or {}
                top = _incoming(snippet.get("topLevelComment") or {}, account_id=self.account_id)
                if top.created_upstream and top.created_upstream < watermark:
                    reached = True
                else:
                    comments.append(top)
                    if top.created_upstream:
                        pending = max(pending, top.created_upstream)
                replies = (thread.get("replies") or {}).get("comments") or []
                if int(snippet.get("totalReplyCount") or 0) > len(replies) and not reached:
                    replies = self._all_replies(top.external_id)
                for reply in replies:
                    r = _incoming(reply, account_id=self.account_id)
                    if r.created_upstream is None or r.created_upstream >= watermark:
                        comments.append(r)
                        if r.created_upstream:
                            pending = max(pending, r.created_upstream)
            page_token = body.get("nextPageToken")
            if reached or not page_token:
                return FetchResult(comments=comments, cursor={"watermark": pending.isoformat()})
        return FetchResult(
            comments=comments,
            cursor={"watermark": watermark.isoformat(), "page_token": page_token, "pending": pending.isoformat()},
            more=True,
        )

    def _all_replies(self, parent_id: str) -> list[dict]:
        out, token = [], None
        for _ in range(MAX_PAGES_PER_POLL):
            params = {"part": "snippet", "parentId": parent_id, "maxResults": 100, "textFormat": "plainText"}
            if token:
                params["pageToken"] = token
            body = self._json(self.request("GET", "comments", params=params))
            out.extend(body.get("items") or [])
            token = body.get("nextPageToken")
            if not token:
                break
        return out

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
