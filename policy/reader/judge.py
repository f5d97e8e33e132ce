"""Rules and model together over a batch: the one path the commands and the bench take.

``CombinedJudge(matcher, reader, settings).verdicts(items)`` takes ``(text, platform,
received_at, author)`` tuples, evaluates each with the rules, reads all texts in one batch
with the model, and returns the combined verdicts in order. ``reader`` None gives the rules'
verdicts unchanged (``--rules-only``, or a model that could not load).
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

from policy.engine import AuthorHistory, Matcher, Verdict

from .combine import combine
from .reader import Reader
from .settings import ReaderSettings

Item = tuple[str, str, "datetime | None", "AuthorHistory | None"]


class CombinedJudge:
    def __init__(self, matcher: Matcher, reader: Reader | None, settings: ReaderSettings | None = None):
        self.matcher = matcher
        self.reader = reader
        self.settings = settings or ReaderSettings()

    def verdicts(self, items: Sequence[Item]) -> list[Verdict]:
        rules = [
            self.matcher.evaluate(text, platform=platform, received_at=at, author=author)
            for text, platform, at, author in items
        ]
        if self.reader is None or not items:
            return rules
        readings = self.reader.read([text for text, *_ in items], settings=self.settings)
        return [
            combine(v, r, matcher=self.matcher, settings=self.settings, received_at=item[2])
            for v, r, item in zip(rules, readings, items, strict=True)
        ]

    def verdicts_for_rows(self, rows: Iterable[dict], *, batch: int = 256) -> list[Verdict]:
        """Eval rows (``policy.engine.evaluation`` format), in batches."""
        from policy.engine.evaluation import author_from, parse_time

        rows = list(rows)
        out: list[Verdict] = []
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            out += self.verdicts(
                [
                    (
                        r["text"],
                        r.get("platform") or "facebook",
                        parse_time(r.get("received_at")),
                        author_from(r.get("author")),
                    )
                    for r in chunk
                ]
            )
        return out
