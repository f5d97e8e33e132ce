"""The small interface every platform module implements, and the errors it raises.

    client = client_for(channel)                       # decrypts credentials, picks the module
    comments, cursor = client.fetch_since(cursor)      # polling: one bounded batch of pages
    events = parse_webhook(platform, payload)          # push: normalised upserts / deletions
    response = client.apply(kind, comment_external_id=..., author_external_id=..., payload=...)

Errors are classified once, here, so tasks decide what to do from the class alone:
- ``TransientError``: outage, 5xx, timeout, connection reset -> retry with backoff.
- ``RateLimited(retry_after=seconds)``: the platform said "slow down" -> do nothing until then.
- ``AuthExpired``: token expired or revoked -> the channel needs re-authorisation; never retried.
- ``PermanentError``: the platform refused (bad id, not allowed) -> fail with its message.

Access tokens travel only in the ``Authorization`` header (never in a URL, so never in an
exception that prints one) and every error message passes through ``redact`` first.

OAuth refresh (YouTube, X, Instagram with Instagram Login): a client whose platform can
refresh (``refresh_grant``) does so when a call answers 401/190 (``AuthExpired``) or
before the first call when the stored ``expires_at`` has passed (``refresh_due``), then
retries the call ONCE; a second ``AuthExpired``, or a refresh the platform refuses, is
raised as ``AuthExpired`` (the channel needs a person). The client never stores tokens:
``token_store`` (platforms/tokens.py for a Channel) persists the new pair, encrypted,
under the channel's row lock, so two workers never spend one rotating refresh token.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field

import requests
from django.conf import settings

log = logging.getLogger(__name__)

# A poll reads at most this many pages before saving its cursor and handing back: one task
# stays well inside the Celery soft time limit even at PLATFORM_HTTP_TIMEOUT per page.
MAX_PAGES_PER_POLL = 10
# Errors stored on a row or shown to an officer are cut to this (PlatformAction.last_error is
# unbounded text, Channel.state_reason is 500 characters).
MAX_ERROR_CHARS = 400
# Refresh this long before the stored expiry rather than spend a call on a certain 401: a
# poll takes seconds, and clocks (ours, the platform's) disagree by a few.
REFRESH_MARGIN_SECONDS = 60


class PlatformError(Exception):
    """Base: ``str(error)`` is safe to store and show (no token, bounded length)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | int | None = None):
        super().__init__(message[:MAX_ERROR_CHARS])
        self.status = status
        self.code = code


class TransientError(PlatformError):
    """Worth retrying later: an outage or a transient platform error."""


class PermanentError(PlatformError):
    """The platform refused; retrying will not help."""


class RateLimited(PlatformError):
    def __init__(self, message: str, *, retry_after: float, status: int | None = None, code=None):
        super().__init__(message, status=status, code=code)
        self.retry_after = max(1.0, float(retry_after))


class AuthExpired(PlatformError):
    """The token expired or was revoked: a person must reconnect the account."""


class NotSupported(PermanentError):
    """The platform has no API for this (see capabilities.py)."""


@dataclass(frozen=True)
class IncomingComment:
    """A platform comment, normalised: what every client's ``fetch_since`` and
    ``parse_webhook`` return, and what moderation/ingest stores.

    ``source_version_at`` is the platform's own time for this copy's text, so copies can be
    ordered whatever order they arrive in: when the text was written or last edited as far
    as the copy says (Facebook: ``created_time`` for an ``add`` or a polled copy, the
    change's time for ``edited``; Instagram: ``timestamp``, or the webhook entry's ``time``;
    YouTube: ``updatedAt``; X: ``created_at``, as a post's text never changes under its
    id). None when the copy does not say."""

    external_id: str
    text: str
    author_external_id: str = ""
    author_handle: str = ""
    author_name: str = ""
    parent_external_id: str = ""
    thread_external_id: str = ""
    created_upstream: dt.datetime | None = None
    permalink: str = ""
    raw: dict | None = None
    is_own: bool = False
    source_version_at: dt.datetime | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """One normalised change from a push delivery.

    ``kind`` is "upsert" (``comment`` set), or "delete", "hide" or "unhide" (``external_id``
    set). ``account_id`` is the connected account the platform delivered it for: it finds
    the Channel.
    """

    platform: str
    account_id: str
    kind: str
    comment: IncomingComment | None = None
    external_id: str = ""


@dataclass
class FetchResult:
    comments: list[IncomingComment] = field(default_factory=list)
    cursor: dict = field(default_factory=dict)
    more: bool = False  # pages remain: poll again straight away
    # Seconds to wait before the next call: usage headers said we are near the limit, so the
    # batch read so far is kept and the channel backs off before the platform refuses us.
    backoff_seconds: float = 0.0

    def __iter__(self):  # comments, cursor = client.fetch_since(cursor)
        return iter((self.comments, self.cursor))


def redact(text: str, secrets) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def parse_time(value) -> dt.datetime | None:
    """Every timestamp shape in the contracts: unix int, ISO with Z/.000Z/+0000, RFC-822-ish."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    text = str(value).strip()
    try:
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
            text = text[:-2] + ":" + text[-2:]
        parsed = dt.datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    except ValueError:
        pass
    try:
        return dt.datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")  # X v1.1: "Sat Mar 14 09:21:07 +0000 2026"
    except ValueError:
        return None


class PlatformClient:
    """One connected account on one platform. Subclasses set ``platform`` and implement
    ``fetch_since``, ``apply`` and the error classification ``_classify``."""

    platform = ""
    base_setting = ""

    def __init__(self, *, account_id: str, credentials: dict, base_url: str | None = None,
                 timeout: float | None = None, session: requests.Session | None = None, token_store=None):
        self.account_id = account_id
        self.credentials = credentials
        self.base_url = (base_url or getattr(settings, self.base_setting)).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.PLATFORM_HTTP_TIMEOUT
        self.session = session or requests.Session()
        # Persists refreshed credentials (platforms/tokens.py); None: kept in memory only.
        self.token_store = token_store
        self.refreshed = False  # at most one refresh per client (one poll, one action)

    def __repr__(self) -> str:  # never the credentials
        return f"<{type(self).__name__} account={self.account_id}>"

    @property
    def token(self) -> str:
        return str(self.credentials.get("access_token", ""))

    def _secrets(self):
        return [str(v) for v in self.credentials.values() if isinstance(v, str)] + self._app_secrets()

    def _app_secrets(self) -> list[str]:
        """The OAuth app's client secret(s), redacted from errors like the tokens."""
        return []

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    # OAuth refresh (module docstring) -----------------------------------------------------
    def can_refresh(self) -> bool:
        """Whether these credentials can be refreshed without a person (a refresh token...)."""
        return False

    def refresh_due(self, now: float) -> bool:
        """Refresh before calling: the stored expiry has passed (or is within the margin)."""
        try:
            expires_at = float(self.credentials["expires_at"])
        except (KeyError, TypeError, ValueError):
            return False
        return now >= expires_at - REFRESH_MARGIN_SECONDS

    def refresh_grant(self, credentials: dict) -> dict:
        """Call the platform's token endpoint with ``credentials``; return the fields to store
        (``access_token``, ``expires_at``, a rotated ``refresh_token``). Raises AuthExpired
        when the platform refuses (revoked, spent), TransientError/RateLimited otherwise."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Refresh once, through the token store when there is one (it serialises refreshers
        and may hand back a token another worker already obtained)."""
        self.refreshed = True
        if self.token_store is not None:
            self.credentials = self.token_store.refresh(self)
        else:
            self.credentials = {**self.credentials, **self.refresh_grant(dict(self.credentials))}

    def _token_endpoint_error(self, response: requests.Response, secrets) -> PlatformError:
        """Classify an OAuth token endpoint's refusal (RFC 6749 §5.2 ``error`` codes)."""
        body = self._json(response)
        body = body if isinstance(body, dict) else {}
        error = body.get("error")
        if isinstance(error, dict):  # a Graph error object (Instagram's refresh endpoint)
            code, detail = f"code {error.get('code')}", str(error.get("message") or "")[:200]
        else:
            code = str(error or f"HTTP {response.status_code}")[:60]
            detail = str(body.get("error_description") or "")[:200]
        message = redact(f"{self.platform}: token refresh refused ({code})" + (f": {detail}" if detail else ""), secrets)
        status = response.status_code
        if status == 429:
            return RateLimited(message, retry_after=60, status=status, code=code)
        if status >= 500:
            return TransientError(redact(f"{self.platform}: token endpoint error (HTTP {status})", secrets), status=status)
        # invalid_grant (Google: expired or revoked), invalid_request (X: a spent rotating
        # refresh token), invalid_client/unauthorized_client (our app's id or secret):
        # retrying cannot help; a person must reconnect the account or fix the settings.
        return AuthExpired(message, status=status, code=code)

    def _token_post(self, url: str, *, data: dict, credentials: dict, auth=None, headers=None,
                    method: str = "POST") -> dict:
        """One call to a token endpoint: errors classified and redacted like any other (with
        the credentials being refreshed, which may be newer than ``self.credentials``)."""
        secrets = self._secrets() + [str(v) for v in credentials.values() if isinstance(v, str)]
        try:
            response = self.session.request(method, url, data=data if method == "POST" else None,
                                            params=data if method != "POST" else None, auth=auth,
                                            headers={"Accept": "application/json", **(headers or {})},
                                            timeout=self.timeout)
        except requests.Timeout:
            raise TransientError(f"{self.platform}: token endpoint timed out after {self.timeout:g}s") from None
        except requests.RequestException as exc:
            raise TransientError(f"{self.platform}: token endpoint unreachable ({type(exc).__name__})") from None
        if response.status_code >= 400:
            raise self._token_endpoint_error(response, secrets)
        body = self._json(response)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise TransientError(f"{self.platform}: token endpoint answered without an access token")
        return body

    @staticmethod
    def _expiry(body: dict, now: float | None = None) -> dict:
        try:
            return {"expires_at": int((now or time.time()) + float(body["expires_in"]))}
        except (KeyError, TypeError, ValueError):
            return {}

    # HTTP --------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, params=None, data=None, json_body=None) -> requests.Response:
        if not self.refreshed and self.can_refresh() and self.refresh_due(time.time()):
            self.refresh()
        try:
            return self._send(method, path, params=params, data=data, json_body=json_body)
        except AuthExpired:
            if self.refreshed or not self.can_refresh():
                raise
            self.refresh()
            # Once: a second AuthExpired means the new token is refused too.
            return self._send(method, path, params=params, data=data, json_body=json_body)

    def _send(self, method: str, path: str, *, params=None, data=None, json_body=None) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"
        try:
            response = self.session.request(
                method, url, params=params, data=data, json=json_body, headers=self._headers(), timeout=self.timeout
            )
        except requests.Timeout:
            raise TransientError(f"{self.platform}: timed out after {self.timeout:g}s") from None
        except requests.RequestException as exc:
            # The exception text can contain the URL; ours never carries a token, but redact anyway.
            raise TransientError(redact(f"{self.platform}: connection failed ({type(exc).__name__})", self._secrets())) from None
        self._check_usage(response)
        if response.status_code >= 400 or self._body_is_error(response):
            error = self._classify(response, self._json(response))
            raise type(error)(redact(str(error), self._secrets()), **self._error_kwargs(error))
        return response

    @staticmethod
    def _error_kwargs(error: PlatformError) -> dict:
        kwargs = {"status": error.status, "code": error.code}
        if isinstance(error, RateLimited):
            kwargs["retry_after"] = error.retry_after
        return kwargs

    @staticmethod
    def _json(response: requests.Response):
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            return {}

    def _body_is_error(self, response: requests.Response) -> bool:
        return False

    def _check_usage(self, response: requests.Response) -> None:
        """Hook for usage headers that signal throttling before an error does."""

    def _classify(self, response: requests.Response, body) -> PlatformError:
        status = response.status_code
        if status == 401:
            return AuthExpired(f"{self.platform}: unauthorised (HTTP 401)", status=status)
        if status == 429:
            return RateLimited(f"{self.platform}: rate limited (HTTP 429)", retry_after=60, status=status)
        if status >= 500:
            return TransientError(f"{self.platform}: server error (HTTP {status})", status=status)
        return PermanentError(f"{self.platform}: refused (HTTP {status})", status=status)

    # The interface -------------------------------------------------------------------------
    def fetch_since(self, cursor: dict) -> FetchResult:
        raise NotImplementedError

    def apply(self, kind: str, *, comment_external_id: str, author_external_id: str = "",
              thread_external_id: str = "", payload: dict | None = None) -> dict:
        raise NotImplementedError


def json_or_empty(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
