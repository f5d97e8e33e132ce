"""Scoring the engine against labelled comments (``../shared/eval``), without Django.

``score(rows, matcher)`` takes rows ``{"id", "text", "platform"?, "received_at"?, "expect":
{"flag", "categories", "escalation"?, "signpost"?}}``; ``flag`` means the comment should leave
public view, so "flagged" is action in {hide, delete, block}. ``None`` expectations are
skipped. The management command ``evaluate`` only formats what this returns.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .verdict import AuthorHistory

FLAG_ACTIONS = frozenset({"hide", "delete", "block"})


@dataclass
class PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, expected: bool, predicted: bool) -> None:
        if expected and predicted:
            self.tp += 1
        elif expected:
            self.fn += 1
        elif predicted:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def balanced_accuracy(self) -> float:
        pos, neg = self.tp + self.fn, self.tn + self.fp
        tpr = self.tp / pos if pos else 0.0
        tnr = self.tn / neg if neg else 0.0
        return (tpr + tnr) / 2 if pos and neg else (tpr or tnr)

    def as_dict(self) -> dict:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "balanced_accuracy": round(self.balanced_accuracy, 4),
        }


@dataclass
class Score:
    flag: PRF = field(default_factory=PRF)
    categories: dict[str, PRF] = field(default_factory=dict)
    escalation_total: int = 0
    escalation_correct: int = 0
    signpost_total: int = 0
    signpost_correct: int = 0
    false_removals: list[dict] = field(default_factory=list)
    missed: list[dict] = field(default_factory=list)
    wrong_routes: list[dict] = field(default_factory=list)
    rows: int = 0

    @property
    def escalation_accuracy(self) -> float | None:
        return self.escalation_correct / self.escalation_total if self.escalation_total else None

    @property
    def signpost_accuracy(self) -> float | None:
        return self.signpost_correct / self.signpost_total if self.signpost_total else None

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "flag": self.flag.as_dict(),
            "categories": {k: v.as_dict() for k, v in sorted(self.categories.items())},
            "escalation_accuracy": self.escalation_accuracy,
            "escalation_cases": self.escalation_total,
            "signpost_accuracy": self.signpost_accuracy,
            "signpost_cases": self.signpost_total,
            "false_removals": self.false_removals,
        }


def parse_time(value) -> datetime | None:
    """A row's ``received_at`` (ISO 8601, ``Z`` allowed) as a datetime, or None."""
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def author_from(value) -> AuthorHistory | None:
    if not value:
        return None
    if not isinstance(value, dict):
        raise ValueError("author must be an object")
    texts = value.get("recent_texts") or ()
    if not isinstance(texts, (list, tuple)) or not all(isinstance(t, str) for t in texts):
        raise ValueError("author.recent_texts must be a list of strings")
    violations = value.get("recent_violations", 0)
    if not isinstance(violations, int) or isinstance(violations, bool) or violations < 0:
        raise ValueError("author.recent_violations must be a non-negative integer")
    return AuthorHistory(recent_violations=violations, recent_texts=tuple(texts))


def row_verdict(row: dict, matcher):
    """The rules' verdict for one eval row."""
    return matcher.evaluate(
        row["text"],
        platform=row.get("platform") or "facebook",
        received_at=parse_time(row.get("received_at")),
        author=author_from(row.get("author")),
    )


def score(rows, matcher) -> Score:
    rows = list(rows)
    return score_verdicts(rows, [row_verdict(row, matcher) for row in rows])


def score_verdicts(rows, verdicts) -> Score:
    """Score verdicts already made for ``rows`` (the same order): the rules' own, or the
    rules and the model reader combined (``policy.reader``)."""
    result = Score()
    for row, v in zip(rows, verdicts, strict=True):
        expect = row.get("expect") or {}
        result.rows += 1
        flagged = v.action in FLAG_ACTIONS
        if expect.get("flag") is not None:
            result.flag.add(bool(expect["flag"]), flagged)
            if expect["flag"] is False and flagged:
                result.false_removals.append(
                    {
                        "id": row.get("id"),
                        "text": row["text"],
                        "action": v.action,
                        "rules": [h.id for h in v.rules],
                    }
                )
            if expect["flag"] and not flagged:
                result.missed.append(
                    {"id": row.get("id"), "text": row["text"], "categories": list(v.categories)}
                )
        expected_cats = expect.get("categories")
        if expected_cats is not None:
            for cat in set(expected_cats) | set(v.categories):
                result.categories.setdefault(cat, PRF()).add(
                    cat in expected_cats, cat in v.categories
                )
        route_ok = True
        if expect.get("escalation") is not None:
            result.escalation_total += 1
            ok = v.escalation == expect["escalation"]
            result.escalation_correct += ok
            route_ok &= ok
        if expect.get("signpost") is not None:
            result.signpost_total += 1
            ok = v.signpost == expect["signpost"]
            result.signpost_correct += ok
            route_ok &= ok
        if not route_ok:
            result.wrong_routes.append(
                {
                    "id": row.get("id"),
                    "text": row["text"],
                    "escalation": v.escalation,
                    "signpost": v.signpost,
                    "expected": [expect.get("escalation"), expect.get("signpost")],
                }
            )
    return result


def default_eval_dir(repo_root: Path | None = None) -> Path:
    env = os.environ.get("EVAL_DIR")
    if env:
        return Path(env)
    root = repo_root or Path(__file__).resolve().parents[2]
    return (root / ".." / "shared" / "eval").resolve()


def load_rows(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def eval_sets(directory: Path) -> dict[str, Path]:
    """Every *.jsonl under ``directory`` (the NHS set first, then public/ sets by name)."""
    files = sorted(directory.glob("*.jsonl")) + sorted(directory.glob("public/*.jsonl"))
    return {p.stem: p for p in files}


def format_report(name: str, s: Score, *, verbose: bool = True) -> str:
    f = s.flag
    lines = [
        f"== {name}: {s.rows} rows",
        f"flag  P={f.precision:.3f} R={f.recall:.3f} F1={f.f1:.3f} BA={f.balanced_accuracy:.3f}"
        f"  (tp={f.tp} fp={f.fp} fn={f.fn} tn={f.tn})",
    ]
    if s.escalation_total:
        lines.append(
            f"escalation accuracy {s.escalation_accuracy:.3f} ({s.escalation_correct}/{s.escalation_total})"
        )
    if s.signpost_total:
        lines.append(
            f"signpost accuracy   {s.signpost_accuracy:.3f} ({s.signpost_correct}/{s.signpost_total})"
        )
    for cat, prf in sorted(s.categories.items()):
        lines.append(
            f"  {cat:<18} P={prf.precision:.3f} R={prf.recall:.3f} F1={prf.f1:.3f}"
            f" (tp={prf.tp} fp={prf.fp} fn={prf.fn})"
        )
    lines.append(f"false removals: {len(s.false_removals)}")
    if verbose:
        for fr in s.false_removals[:50]:
            lines.append(f"  - {fr['id']}: {fr['rules']} {fr['text'][:120]!r}")
    return "\n".join(lines)
