"""JSON Lines in, JSON Lines out: the logic behind ``manage.py moderate`` (no Django)."""

from __future__ import annotations

import json
from typing import Iterable, Iterator

from .evaluation import parse_time, author_from


def moderate_lines(lines: Iterable[str], matcher, *, judge=None, batch: int = 1) -> Iterator[dict]:
    """One output dict per non-blank input line; a bad line gives ``{"line", "error"}``.

    ``judge``: an object whose ``verdicts(items)`` turns ``(text, platform, received_at,
    author)`` tuples into verdicts (``policy.reader.CombinedJudge``: rules and model);
    None: the rules alone. Lines are judged ``batch`` at a time (the model reads a batch
    far faster than one comment at a time) and written in input order.
    """
    pending: list = []  # (line number, row, item) or (line number, row, error)
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        pending.append(_parse(n, line))
        if len(pending) >= batch:
            yield from _judge(pending, matcher, judge)
            pending = []
    if pending:
        yield from _judge(pending, matcher, judge)


def _parse(n: int, line: str):
    try:
        row = json.loads(line)
    except ValueError as exc:
        return n, None, {"line": n, "error": f"invalid JSON: {exc}"}
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
    except ValueError as exc:
        return n, row, {
            "line": n,
            "id": row.get("id") if isinstance(row, dict) else None,
            "error": str(exc),
        }
    return n, row, (text, platform, received_at, author)


def _judge(pending, matcher, judge) -> Iterator[dict]:
    items = [p[2] for p in pending if isinstance(p[2], tuple)]
    if judge is not None:
        verdicts = iter(judge.verdicts(items))
    else:
        verdicts = iter(
            [
                matcher.evaluate(text, platform=platform, received_at=at, author=author)
                for text, platform, at, author in items
            ]
        )
    for _n, row, item in pending:
        if not isinstance(item, tuple):
            yield item
            continue
        v = next(verdicts)
        out = {
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
        if v.model is not None:
            out["disputed"] = v.disputed
            out["model"] = v.model
        yield out
