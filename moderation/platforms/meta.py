"""What Facebook Pages and Instagram share: the Graph API's errors, usage headers, webhooks.

Contract: ../shared/platforms/README.md §1 (errors §1.4, throttling §1.3, webhooks §1.2).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from django.conf import settings

from moderation.platforms.base import (
    AuthExpired,
    PermanentError,
    PlatformClient,
    PlatformError,
    RateLimited,
    TransientError,
)

# Graph throttle codes: 4 app, 17 user, 32 Page, 613 custom; 80001-80014 Business Use Case.
THROTTLE_CODES = {4, 17, 32, 613} | set(range(80001, 80015))
# 190 token invalid/expired (subcodes 458-467), 102 session invalid: a person must reconnect.
AUTH_CODES = {190, 102}
# 1 unknown / 2 service temporarily unavailable: Meta says retry.
TRANSIENT_CODES = {1, 2}
# Without an "estimated_time_to_regain_access", wait this long after a throttle error. Graph
# windows are an hour (Platform) or 24 h (BUC); five minutes is a polite first step that the
# usage headers refine.
DEFAULT_THROTTLE_SECONDS = 300
# Usage headers are percentages of the limit; above this we stop paging and back off rather
# than wait for the error (Meta recommends slowing down before 100%).
USAGE_BACKOFF_PERCENT = 95

Entry = TypeVar("Entry")  # a queue entry of the older-posts sweep, as the platform keeps it


def usage_backoff_seconds(headers) -> float:
    """Seconds to back off according to X-App-Usage / X-Business-Use-Case-Usage, or 0."""
    worst, regain_minutes = 0.0, 0.0
    for name in ("X-App-Usage", "X-Page-Usage", "X-Ad-Account-Usage"):
        raw = headers.get(name)
        if raw:
            try:
                usage = json.loads(raw)
                worst = max([worst, *(float(v) for v in usage.values() if isinstance(v, int | float))])
            except (ValueError, AttributeError, TypeError):
                pass
    raw = headers.get("X-Business-Use-Case-Usage")
    if raw:
        try:
            for entries in json.loads(raw).values():
                for entry in entries:
                    worst = max([worst, *(float(entry.get(k, 0) or 0) for k in ("call_count", "total_cputime", "total_time"))])
                    regain_minutes = max(regain_minutes, float(entry.get("estimated_time_to_regain_access", 0) or 0))
        except (ValueError, AttributeError, TypeError):
            pass
    if regain_minutes > 0:
        return regain_minutes * 60  # documented in minutes (README §1.3, ⚠️ unit unverified)
    if worst >= USAGE_BACKOFF_PERCENT:
        return DEFAULT_THROTTLE_SECONDS
    return 0.0


def hand_over_marks(older: dict, marks: dict[str, int], recent_ids: list[str], *,
                    now: int) -> tuple[dict, dict[str, int]]:
    """Passes the marks of posts (or media) no longer among the recent ones to the sweep's
    ``marks`` as [mark, now], the older mark winning when it holds one already: (the sweep's
    state, the recent ones' marks). An empty recent list hands nothing over."""
    recent = set(recent_ids)
    handed = {k: v for k, v in marks.items() if k not in recent}
    if not (handed and recent_ids):
        return older, marks
    older_marks = dict(older.get("marks") or {})
    for key, mark in handed.items():
        previous = older_marks.get(key)
        older_marks[key] = [min(mark, int(previous[0])) if previous else mark, now]
    return {**older, "marks": older_marks}, {k: v for k, v in marks.items() if k in recent}


class GraphClient(PlatformClient):
    """Graph API plumbing for Facebook and Instagram clients."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.usage_backoff = 0.0

    def _send(self, method, path, *, params=None, data=None, json_body=None):
        params = dict(params or {})
        if settings.META_APP_SECRET and self.token:
            # Hardening Meta recommends: proves the caller holds the app secret (README §1.1).
            # Computed per call: a refreshed token needs a new proof.
            params["appsecret_proof"] = hmac.new(
                settings.META_APP_SECRET.encode(), self.token.encode(), hashlib.sha256
            ).hexdigest()
        return super()._send(method, path, params=params, data=data, json_body=json_body)

    def _check_usage(self, response: requests.Response) -> None:
        self.usage_backoff = max(self.usage_backoff, usage_backoff_seconds(response.headers))

    def _body_is_error(self, response: requests.Response) -> bool:
        # Graph errors are 4xx/5xx, but a 200 with an "error" object is treated the same.
        return response.headers.get("Content-Type", "").startswith("application/json") and b'"error"' in response.content[:20]

    def _classify(self, response: requests.Response, body) -> PlatformError:
        status = response.status_code
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            if status >= 500 or status == 429:
                return TransientError(f"{self.platform}: server error (HTTP {status})", status=status)
            return super()._classify(response, body)
        code = error.get("code")
        subcode = error.get("error_subcode")
        message = str(error.get("message", ""))[:200]
        label = f"code {code}" + (f", subcode {subcode}" if subcode else "")
        if code in THROTTLE_CODES:
            retry_after = usage_backoff_seconds(response.headers) or DEFAULT_THROTTLE_SECONDS
            return RateLimited(f"{self.platform}: rate limited ({label})", retry_after=retry_after, status=status, code=code)
        if code in AUTH_CODES:
            return AuthExpired(f"{self.platform}: access token expired or revoked ({label}): {message}", status=status, code=code)
        if code in TRANSIENT_CODES or status >= 500:
            return TransientError(f"{self.platform}: temporary error ({label}): {message}", status=status, code=code)
        return PermanentError(f"{self.platform}: refused ({label}): {message}", status=status, code=code)

    def pages(self, path: str, params: dict, *, budget: list[int]):
        """Yield each page's ``data`` following ``paging.cursors.after`` while ``paging.next``
        exists. ``budget`` is a one-item list of pages left for this poll, shared by callers.

        We pass ``after`` to our own base URL rather than following ``paging.next``, so a
        response can never send us (and our token) to another host."""
        params = dict(params)
        while budget[0] > 0:
            budget[0] -= 1
            body = self._json(self.request("GET", path, params=params))
            data = body.get("data") or []
            after = ((body.get("paging") or {}).get("cursors") or {}).get("after")
            has_next = bool((body.get("paging") or {}).get("next"))
            yield data, (after if has_next and after else None)
            if not (has_next and after):
                return
            params["after"] = after

    def sweep_older(self, older: dict, recent_after: str | None, budget: list[int], *, now: int, path: str,
                    fields: str, page_size: int, max_depth: int, entry: Callable[[dict], Entry],
                    entry_id: Callable[[Entry], str], progress: str,
                    read: Callable[[Entry, int, Any, list[int]], tuple[list, Any]],
                    keep_empty_queue: bool = False) -> tuple[dict, list]:
        """Comments on the posts or media older than the recent ones, a bounded step per poll:
        the laps and pages of the sweep, which Facebook and Instagram share; ``read`` reads
        one of them. Returns (the new ``older`` cursor, the comments read).

        State in ``older`` (kept in Channel.poll_cursor, so its keys are a stored format):
        ``since`` (comments from then on are wanted: the start of the previous lap, or of the
        first poll: history before connecting is not read for old posts), ``lap`` (when this
        lap began), ``after`` (``path``'s cursor of the next page; none = the page after the
        recent ones, ``recent_after``), ``queue`` (this page's entries still to read, each
        ``entry(item)`` of a page item), ``progress`` (the key under which ``read`` keeps its
        place in the first of them when a poll ran out mid-way), ``depth`` (entries done this
        lap), ``end`` (no page follows), ``marks`` (ids that left the recent ones: [their own
        mark, when handed over]; one is read from the older of its mark and ``since``, and
        its entry dropped once read). A lap ends at the end of the list or after
        ``max_depth`` entries; the next one asks for comments since this one began, so none
        created during it is missed.

        ``read(entry, since, place, budget)`` returns (comments, the place to go on from
        next poll, or None once the entry is read). ``keep_empty_queue``: Facebook's cursors
        have always kept an empty ``queue``, Instagram's drop it; both stay as stored."""
        if "since" not in older:
            older = {**older, "since": now, "lap": now}
        marks = dict(older.get("marks") or {})
        comments: list = []
        while budget[0] > 0 and not self.usage_backoff:
            queue = older.get("queue") or []
            if not queue:
                after = older.get("after") or (None if older.get("end") else recent_after)
                if after is None or int(older.get("depth", 0)) >= max_depth:
                    # Lap over; the next starts next poll. A mark handed over during this lap
                    # may be of a post the lap had already passed: the next lap reads it.
                    # Older ones were passed by this whole lap (or lie beyond its depth, or
                    # were deleted), so the marks stay bounded by two laps' new posts.
                    kept = {k: v for k, v in marks.items() if int(v[1]) >= int(older["lap"])}
                    return {"since": older["lap"], "lap": now, **({"marks": kept} if kept else {})}, comments
                budget[0] -= 1
                page = self._json(self.request("GET", path, params={"fields": fields, "limit": page_size, "after": after}))
                paging = page.get("paging") or {}
                has_next = bool(paging.get("next") and (paging.get("cursors") or {}).get("after"))
                older.update(queue=[entry(item) for item in page.get("data") or []],
                             after=(paging.get("cursors") or {}).get("after") if has_next else None, end=not has_next)
                if not older["queue"]:
                    older["after"], older["end"] = None, True
                continue
            key = entry_id(queue[0])
            since = int(older["since"])
            if key in marks:
                since = min(since, int(marks[key][0]))
            done, place = read(queue[0], since, older.get(progress), budget)
            comments += done
            if place is not None:
                older[progress] = place
                break
            marks.pop(key, None)
            older.update({"queue": queue[1:], progress: None, "depth": int(older.get("depth", 0)) + 1})
        older["marks"] = marks
        empty: tuple = (None, {}) if keep_empty_queue else (None, [], {})
        return {k: v for k, v in older.items() if v not in empty}, comments


def verify_meta_signature(body: bytes, header: str) -> bool:
    """X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256(app secret, raw body); constant time."""
    secret = settings.META_APP_SECRET
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len("sha256="):].strip().lower().encode())
