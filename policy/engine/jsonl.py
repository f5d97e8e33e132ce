"""JSON Lines in, JSON Lines out: the logic behind ``manage.py moderate`` (no Django)."""

from __future__ import annotations

import json
from typing import Iterable, Iterator

from .evaluation import parse_time, author_from


def moderate_lines(lines: Iterable[str], matcher) -> Iterator[dict]:
    """One output dict per non-blank input line; a bad line gives ``{"line", "error"}``."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            yield {"line": n, "error": f"invalid JSON: {exc}"}
            continue
        try:
            if not isinstance(row, dict):
                raise ValueError("expected a JSON object")
            if "id" not in row:
                raise ValueError('missing "id"')
            text = row.get("text")
            if not isinstance(text, str):
                raise ValueError('"text" must be a string')
            platform = row.get("platform") or "facebook"
            if not isinstance(platform, str):
                raise ValueError('"platform" must be a string')
            try:
                received_at = parse_time(row.get("received_at"))
            except (TypeError, ValueError):
                raise ValueError('"received_at" must be an ISO 8601 date-time') from None
            if received_at is not None and received_at.tzinfo is None:
                raise ValueError('"received_at" needs a time zone (e.g. +00:00)')
            author = author_from(row.get("author"))
            v = matcher.evaluate(text, platform=platform, received_at=received_at, author=author)
        except ValueError as exc:
            yield {
                "line": n,
                "id": row.get("id") if isinstance(row, dict) else None,
                "error": str(exc),
            }
            continue
        yield {
            "id": row["id"],
            "action": v.action,
            "escalation": v.escalation,
            "signpost": v.signpost,
            "categories": list(v.categories),
            "rules": [
                {"id": h.id, "clause": h.clause, "spans": [list(s) for s in h.spans]}
                for h in v.rules
            ],
            "auto_apply": v.auto_apply,
            "truncated": v.truncated,
        }
