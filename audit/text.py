"""Making untrusted platform text storable without losing it.

PostgreSQL ``text`` and ``jsonb`` reject NUL (U+0000), and UTF-8 cannot encode lone
surrogates (which a JSON body may legally contain as ``\\ud800``). Either would make the
upsert fail and the comment be lost. We replace each with U+FFFD, the Unicode replacement
character, and the caller records that the text was altered; the original bytes of a webhook
delivery are kept verbatim in ``WebhookDelivery.body`` (bytea), so nothing is lost.
"""

from __future__ import annotations

import json
import re

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: str) -> tuple[str, bool]:
    """(text safe for PostgreSQL, whether anything was replaced)."""
    cleaned, count = _UNSTORABLE.subn(REPLACEMENT, value)
    return cleaned, bool(count)


def storable_json(value):
    """The same replacement applied to every string (keys too) inside a JSON-native value."""
    if isinstance(value, str):
        return storable_text(value)[0]
    if isinstance(value, dict):
        return {storable_json(k): storable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(v) for v in value]
    return value


def storable_json_text(value) -> str:
    """``storable_json(value)`` dumped as a JSONField dumps it, for writers that bypass the
    ORM (the COPY in moderation/ingest.py). Most platform JSON has nothing to replace, and
    walking every string cost more than the dump itself, so dump first and walk only when
    the text shows a NUL (always escaped by ``json.dumps``) or a lone surrogate."""
    dumped = json.dumps(value, ensure_ascii=False)
    if "\\u0000" in dumped or _UNSTORABLE.search(dumped):
        dumped = json.dumps(storable_json(value), ensure_ascii=False)
    return dumped
