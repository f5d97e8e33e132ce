"""Reads for the policy app, and the per-process cache of the compiled published rule set."""

from __future__ import annotations

import threading
import time

from policy.models import RuleSetVersion

# Workers pick up a newly published version without a restart: the compiled matcher is kept
# per process and the published version id is re-read at most this often (seconds).
MATCHER_RECHECK_SECONDS = 5.0

_lock = threading.Lock()
_cache: dict = {"version_id": None, "matcher": None, "checked_at": 0.0}


def get_published_version() -> RuleSetVersion:
    """The published version; LookupError when none has been published yet."""
    version = RuleSetVersion.objects.filter(status=RuleSetVersion.Status.PUBLISHED).first()
    if version is None:
        raise LookupError("No rule set has been published yet (run `manage.py load_default_ruleset`).")
    return version


def get_published_document() -> dict:
    return get_published_version().document


def get_published_matcher():
    """(version, compiled matcher) for the published rule set, compiled once per version."""
    from policy.engine import compile_ruleset

    now = time.monotonic()
    with _lock:
        if _cache["matcher"] is not None and now - _cache["checked_at"] < MATCHER_RECHECK_SECONDS:
            return _cache["version"], _cache["matcher"]
    version = get_published_version()
    with _lock:
        if _cache["version_id"] != version.pk:
            _cache["matcher"] = compile_ruleset(version.document)
            _cache["version_id"] = version.pk
        _cache["version"] = version
        _cache["checked_at"] = now
        return version, _cache["matcher"]


def forget_published_matcher() -> None:
    """Drop the cached matcher (after publishing in this process, and between tests)."""
    with _lock:
        _cache.update(version_id=None, matcher=None, checked_at=0.0)
