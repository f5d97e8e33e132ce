"""X API v2 (README §5): poll /users/:id/mentions with since_id; Account Activity webhooks
(CRC + base64 signature); hide/unhide replies and reply. X cannot delete others' posts, and
blocking needs an Enterprise plan, so "block" mutes the author (and "unblock" unmutes).
User access tokens live 2 h and are refreshed with single-use, rotating refresh tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

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
    WebhookEvent,
    parse_time,
)

TWEET_FIELDS = "author_id,conversation_id,created_at,in_reply_to_user_id,referenced_tweets,note_tweet"
PAGE_SIZE = 100  # max_results ceiling
# 429 without a reset header: X's windows are 15 minutes.
DEFAULT_WINDOW_SECONDS = 15 * 60


def _reset_in(headers) -> float | None:
    try:
        return max(1.0, float(headers["x-rate-limit-reset"]) - time.time())
    except (KeyError, ValueError, TypeError):
        return None


def _incoming(tweet: dict, users: dict, *, account_id: str) -> IncomingComment:
    author_id = str(tweet.get("author_id", ""))
    user = users.get(author_id, {})
    parent = next((str(r.get("id")) for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"), "")
    username = str(user.get("username", ""))
    return IncomingComment(
        external_id=str(tweet.get("id", "")),
        # Long posts carry their full text only in note_tweet (README §5.1).
        text=str((tweet.get("note_tweet") or {}).get("text") or tweet.get("text", "")),
        author_external_id=author_id,
        author_handle=username,
        author_name=str(user.get("name", "")),
        parent_external_id=parent,
        thread_external_id=str(tweet.get("conversation_id", "")),
        created_upstream=parse_time(tweet.get("created_at")),
        permalink=f"https://x.com/{username}/status/{tweet.get('id')}" if username else "",
        raw=tweet,
        is_own=author_id == account_id,
        # An edited post gets a new id (edit_history_tweet_ids), so a post's text never
        # changes under its id: every copy has the version of its creation.
        source_version_at=parse_time(tweet.get("created_at")),
    )


class XClient(PlatformClient):
    platform = "x"
    base_setting = "X_API_BASE"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.usage_backoff = 0.0

    def _check_usage(self, response) -> None:
        if response.status_code < 400 and response.headers.get("x-rate-limit-remaining") == "0":
            self.usage_backoff = _reset_in(response.headers) or DEFAULT_WINDOW_SECONDS

    def _classify(self, response, body) -> PlatformError:
        status = response.status_code
        title = str(body.get("title") or body.get("detail") or "") if isinstance(body, dict) else ""
        label = f"HTTP {status}" + (f" {title}" if title else "")
        if status == 429:
            return RateLimited(f"x: rate limited ({label})", retry_after=_reset_in(response.headers) or DEFAULT_WINDOW_SECONDS, status=status)
        if status == 401:
            return AuthExpired(f"x: access token expired or revoked ({label})", status=status)
        if status >= 500:
            return TransientError(f"x: temporary error ({label})", status=status)
        return PermanentError(f"x: refused ({label})", status=status)

    def can_refresh(self) -> bool:
        return bool(self.credentials.get("refresh_token"))

    def _app_secrets(self) -> list[str]:
        return [settings.X_CLIENT_SECRET]

    def refresh_grant(self, credentials: dict) -> dict:
        """POST X_TOKEN_URL grant_type=refresh_token (README §5.5). A confidential client
        authenticates with HTTP Basic (client id, secret); a public one sends its client id.
        X rotates refresh tokens: the one we send is spent whatever happens next, so the new
        pair must be stored before anything else (moderation/tokens.py does, under a lock)."""
        auth = (settings.X_CLIENT_ID, settings.X_CLIENT_SECRET) if settings.X_CLIENT_SECRET else None
        body = self._token_post(settings.X_TOKEN_URL, credentials=credentials, auth=auth, data={
            "grant_type": "refresh_token", "refresh_token": credentials.get("refresh_token", ""),
            "client_id": settings.X_CLIENT_ID})
        # No new refresh token (offline.access withdrawn): the spent one must not be kept.
        return {"access_token": str(body["access_token"]), "refresh_token": str(body.get("refresh_token") or ""),
                **self._expiry(body)}

    def fetch_since(self, cursor: dict) -> FetchResult:
        """Cursor: {"since_id"} between rounds; mid-round also "pagination_token" and
        "pending_newest" (the round's meta.newest_id, the next since_id) (README §5.1)."""
        since_id = cursor.get("since_id")
        token = cursor.get("pagination_token")
        newest = cursor.get("pending_newest")
        comments: list[IncomingComment] = []
        for _ in range(MAX_PAGES_PER_POLL):
            params = {"max_results": PAGE_SIZE, "tweet.fields": TWEET_FIELDS, "expansions": "author_id",
                      "user.fields": "username,name"}
            if since_id:
                params["since_id"] = since_id
            if token:
                params["pagination_token"] = token
            body = self._json(self.request("GET", f"users/{self.account_id}/mentions", params=params))
            users = {str(u.get("id")): u for u in (body.get("includes") or {}).get("users") or []}
            comments.extend(_incoming(t, users, account_id=self.account_id) for t in body.get("data") or [])
            meta = body.get("meta") or {}
            if newest is None and meta.get("newest_id"):
                newest = meta["newest_id"]
            token = meta.get("next_token")
            if not token:
                return FetchResult(comments=comments, cursor={"since_id": newest or since_id} if (newest or since_id) else {},
                                   backoff_seconds=self.usage_backoff)
            if self.usage_backoff:
                break
        cursor = {"pagination_token": token, "pending_newest": newest}
        if since_id:
            cursor["since_id"] = since_id
        return FetchResult(comments=comments, cursor=cursor, more=not self.usage_backoff, backoff_seconds=self.usage_backoff)

    def apply(self, kind, *, comment_external_id, author_external_id="", thread_external_id="", payload=None):
        payload = payload or {}
        if kind in ("hide", "unhide"):
            return self._json(self.request("PUT", f"tweets/{comment_external_id}/hidden", json_body={"hidden": kind == "hide"}))
        if kind == "reply":
            return self._json(self.request("POST", "tweets", json_body={
                "text": payload.get("message", ""), "reply": {"in_reply_to_tweet_id": comment_external_id}}))
        if kind in ("block", "unblock"):
            # POST /2/users/:id/blocking is Enterprise-only (README §5.3); muting is what an
            # ordinary plan may do, and capabilities.py tells officers that is what happens.
            if not author_external_id:
                raise NotSupported("x: the post has no author id to mute")
            if kind == "block":
                return self._json(self.request("POST", f"users/{self.account_id}/muting",
                                               json_body={"target_user_id": author_external_id}))
            return self._json(self.request("DELETE", f"users/{self.account_id}/muting/{author_external_id}"))
        raise NotSupported(f"x: the API cannot {kind} on an ordinary plan")


def _sign(message: bytes) -> str:
    digest = hmac.new(settings.X_CONSUMER_SECRET.encode(), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def crc_response(crc_token: str) -> dict:
    """{"response_token": "sha256=" + base64 HMAC-SHA256(consumer secret, crc_token)}."""
    return {"response_token": _sign(crc_token.encode())}


def verify_x_signature(body: bytes, header: str) -> bool:
    if not settings.X_CONSUMER_SECRET or not header:
        return False
    return hmac.compare_digest(_sign(body).encode(), header.strip().encode())


def parse_x_webhook(payload: dict) -> list[WebhookEvent]:
    """Account Activity: ``for_user_id`` with v1.1 ``tweet_create_events`` /
    ``tweet_delete_events`` (README §5.2)."""
    account_id = str(payload.get("for_user_id", ""))
    events = []
    for tweet in payload.get("tweet_create_events") or []:
        user = tweet.get("user") or {}
        author_id = str(user.get("id_str", ""))
        text = (tweet.get("extended_tweet") or {}).get("full_text") or tweet.get("text", "")
        screen = str(user.get("screen_name", ""))
        events.append(WebhookEvent("x", account_id, "upsert", comment=IncomingComment(
            external_id=str(tweet.get("id_str", "")),
            text=str(text),
            author_external_id=author_id,
            author_handle=screen,
            author_name=str(user.get("name", "")),
            parent_external_id=str(tweet.get("in_reply_to_status_id_str") or ""),
            thread_external_id=str(tweet.get("in_reply_to_status_id_str") or tweet.get("id_str", "")),
            created_upstream=parse_time(tweet.get("created_at")),
            permalink=f"https://x.com/{screen}/status/{tweet.get('id_str')}" if screen else "",
            raw=tweet,
            is_own=author_id == account_id,
            source_version_at=parse_time(tweet.get("created_at")),
        )))
    for deleted in payload.get("tweet_delete_events") or []:
        status = deleted.get("status") or {}
        if status.get("id"):
            events.append(WebhookEvent("x", account_id, "delete", external_id=str(status["id"])))
    return [e for e in events if e.kind == "delete" or e.comment.external_id]
