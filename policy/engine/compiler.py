"""Compile a rule-set document into an immutable :class:`Matcher`.

Hot path of ``Matcher.evaluate`` (no ORM, no I/O):

1. cut the text to ``limits.max_scan_chars`` and fold it once (:mod:`.normalize`);
2. one pass of the term trie regex (all term lists together);
3. one pass of the combined rule-pattern regex (every pattern rule as a lookahead group,
   tried only at word starts);
4. only the built-in detectors some enabled rule uses, each behind a cheap prefilter;
5. context/unless checks for the few rules that hit, then ``requires`` rules, then the
   verdict (strongest action, escalation resolved against the working calendar).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from types import MappingProxyType

from . import detectors as det
from .errors import RuleSetError
from .normalize import normalize
from .schema import check_regex, validate
from .terms import build_term_regex, parse_term
from .verdict import (
    ACTION_RANK,
    SIGNPOST_PRIORITY,
    AuthorHistory,
    RuleHit,
    Verdict,
)
from .working_calendar import WorkingCalendar

DEFAULT_MAX_SCAN_CHARS = 10_000
_NEVER_AUTO_DELETE = frozenset({"safeguarding", "crisis"})
_ESCALATION_RANK = {"none": 0, "urgent": 1, "safeguarding": 2}


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    category: str
    clause: str
    trigger: str  # "terms" | "pattern" | "detector"
    lists: frozenset[str]
    regex: re.Pattern | None
    detector: str | None
    kinds: frozenset[str]
    context: re.Pattern | None
    unless: re.Pattern | None
    window: int | None
    requires: frozenset[str]
    platforms: frozenset[str]
    action: str
    escalation: str
    signpost: str
    auto_apply: bool


class Matcher:
    """A compiled rule set. Immutable and safe to share between threads."""

    __slots__ = (
        "name", "calendar", "max_scan_chars", "block_threshold", "repeat_threshold",
        "_rules", "_term_regex", "_term_lists", "_pattern_regex", "_pattern_rules",
        "_detector_rules", "_term_rules", "_requires_rules", "_detector_lists",
        "_templates", "_first_look_minutes",
    )

    def __init__(self, doc: dict):
        validate(doc)
        self.name = str(doc.get("name", ""))
        limits = doc.get("limits") or {}
        self.max_scan_chars = int(limits.get("max_scan_chars", DEFAULT_MAX_SCAN_CHARS))
        history = doc.get("history") or {}
        self.block_threshold = int(history.get("block_threshold", 3))
        self.repeat_threshold = int(history.get("repeat_threshold", 2))
        wh = doc.get("working_hours") or {}
        self.calendar = WorkingCalendar(
            start=wh.get("start", "09:00"),
            end=wh.get("end", "17:00"),
            weekdays=tuple(wh.get("weekdays", (0, 1, 2, 3, 4))),
            closures=tuple(wh.get("closures") or ()),
            tz=wh.get("tz", "Europe/London"),
            subdivision=wh.get("subdivision", "ENG"),
        )
        self._first_look_minutes = int(wh.get("first_look_minutes", 60))
        self._templates = MappingProxyType(dict(doc.get("reply_templates") or {}))

        staff = doc.get("staff") or {}
        lists: dict[str, list[str]] = {k: list(v) for k, v in (doc.get("term_lists") or {}).items()}
        lists["staff_names"] = list(staff.get("names") or [])
        lists["staff_handles"] = [h.lstrip("@") for h in staff.get("handles") or []]

        links = doc.get("links") or {}
        own = doc.get("own_contacts") or {}
        self._detector_lists = det.DetectorLists(
            own_numbers=frozenset(det.own_number_key(p) for p in own.get("phones") or []),
            own_emails=frozenset(e.lower() for e in own.get("emails") or []),
            allow_domains=tuple(d.lower() for d in links.get("allow") or []),
            deny_domains=tuple(d.lower() for d in links.get("deny") or []),
            deny_domain_words=tuple(d.lower() for d in links.get("deny_words") or []),
            shorteners=tuple(d.lower() for d in links.get("shorteners") or []),
            platform_domains=tuple(d.lower() for d in links.get("platform") or []),
        )

        categories = doc.get("categories") or {}
        rules: list[_Rule] = []
        used_lists: set[str] = set()
        for i, raw in enumerate(doc["rules"]):
            if not raw.get("enabled", True):
                continue
            path = f"rules[{i}]"
            cat = raw["category"]
            defaults = categories.get(cat) or {}
            trigger = next(k for k in ("terms", "pattern", "detector") if k in raw)
            regex = None
            if trigger == "pattern":
                regex = re.compile(
                    r"(?<![a-z0-9])(?:" + check_regex(raw["pattern"], f"{path}.pattern", lists) + ")"
                )
            if trigger == "terms":
                used_lists.update(raw["terms"])
            rules.append(
                _Rule(
                    id=raw["id"],
                    category=cat,
                    clause=raw["clause"].strip(),
                    trigger=trigger,
                    lists=frozenset(raw.get("terms") or ()),
                    regex=regex,
                    detector=raw.get("detector"),
                    kinds=frozenset(raw.get("kinds") or ()),
                    context=_opt_regex(raw, "context", path, lists),
                    unless=_opt_regex(raw, "unless", path, lists),
                    window=raw.get("window"),
                    requires=frozenset(raw.get("requires") or ()),
                    platforms=frozenset(raw.get("platforms") or ()),
                    action=raw.get("action", defaults.get("action", "allow")),
                    escalation=raw.get("escalation", defaults.get("escalation", "none")),
                    signpost=raw.get("signpost", defaults.get("signpost", "none")),
                    auto_apply=bool(raw.get("auto_apply", defaults.get("auto_apply", False))),
                )
            )
        self._rules = tuple(rules)

        # One trie over every term of every list a rule uses; a term in several lists is
        # one alternative whose group maps to all of them.
        term_groups: dict = {}
        group_lists: dict[str, set[str]] = {}
        for name in sorted(used_lists):
            for raw_term in lists.get(name, ()):
                spec = parse_term(raw_term)
                group = term_groups.setdefault(spec, f"t{len(term_groups)}")
                group_lists.setdefault(group, set()).add(name)
        self._term_regex = build_term_regex(term_groups)
        self._term_lists = MappingProxyType({g: frozenset(v) for g, v in group_lists.items()})

        first_pass = [r for r in rules if not r.requires]
        self._requires_rules = tuple(r for r in rules if r.requires)
        pattern_rules = [r for r in rules if r.trigger == "pattern"]
        self._pattern_rules = MappingProxyType({f"r{n}": r for n, r in enumerate(pattern_rules)})
        if pattern_rules:
            body = "|".join(
                f"(?=(?P<r{n}>{r.regex.pattern[len('(?<![a-z0-9])'):]}))"
                for n, r in enumerate(pattern_rules)
            )
            self._pattern_regex = re.compile(r"(?<![a-z0-9])(?:" + body + ")")
        else:
            self._pattern_regex = None
        self._term_rules = tuple(r for r in first_pass if r.trigger == "terms")
        self._detector_rules = tuple(r for r in rules if r.trigger == "detector")

    # ------------------------------------------------------------------------------------
    @property
    def first_look_minutes(self) -> int:
        return self._first_look_minutes

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self._rules)

    def evaluate(
        self,
        text: str,
        *,
        platform: str = "facebook",
        received_at: datetime | None = None,
        author: AuthorHistory | None = None,
    ) -> Verdict:
        if not isinstance(text, str):
            raise TypeError("text must be a str")
        truncated = len(text) > self.max_scan_chars
        scanned = text[: self.max_scan_chars] if truncated else text
        folded = normalize(scanned)
        norm = folded.text
        platform = (platform or "").lower()
        if platform == "x":
            platform = "twitter"

        # raw hits: rule -> list of (start, end) in folded text
        raw: dict[_Rule, list[tuple[int, int]]] = {}

        if self._term_regex is not None:
            term_hits = [
                (self._term_lists[m.lastgroup], m.start(), m.end())
                for m in self._term_regex.finditer(norm)
            ]
            if term_hits:
                for rule in self._term_rules + tuple(r for r in self._requires_rules if r.trigger == "terms"):
                    spans = [(s, e) for lists, s, e in term_hits if lists & rule.lists]
                    if spans:
                        raw[rule] = spans

        if self._pattern_regex is not None:
            positions = []
            for m in self._pattern_regex.finditer(norm):
                rule = self._pattern_rules[m.lastgroup]
                raw.setdefault(rule, []).append(m.span(m.lastgroup))
                positions.append(m.start())
            if positions:
                # A rule whose match starts where an earlier alternative already matched is
                # hidden by the combined regex: try every other pattern rule at those places.
                for rule in self._pattern_rules.values():
                    if rule in raw:
                        continue
                    for p in positions:
                        mm = rule.regex.match(norm, p)
                        if mm:
                            raw.setdefault(rule, []).append(mm.span())

        if self._detector_rules:
            ctx = det.Context(norm, scanned if folded.offsets is None else scanned, self._detector_lists)
            cache: dict[str, list[det.Finding]] = {}
            for rule in self._detector_rules:
                name = rule.detector
                if name == "repeated_post":
                    spans = self._repeated(norm, author)
                else:
                    if name not in cache:
                        cache[name] = det.DETECTORS[name](ctx)
                    spans = [
                        (f.start, f.end) for f in cache[name] if not rule.kinds or f.kind in rule.kinds
                    ]
                if spans:
                    raw[rule] = spans

        fired: dict[_Rule, list[tuple[int, int]]] = {}
        for rule, spans in raw.items():
            if rule.requires:
                continue
            kept = self._check(rule, spans, norm, platform)
            if kept:
                fired[rule] = kept
        if self._requires_rules and fired:
            cats = {r.category for r in fired}
            for rule in self._requires_rules:
                if rule in raw and rule.requires & cats:
                    kept = self._check(rule, raw[rule], norm, platform)
                    if kept:
                        fired[rule] = kept

        return self._verdict(fired, folded, scanned, received_at, author, truncated)

    # ------------------------------------------------------------------------------------
    def _repeated(self, norm: str, author: AuthorHistory | None) -> list[tuple[int, int]]:
        if author is None or not author.recent_texts or not norm.strip():
            return []
        key = " ".join(norm.split())
        same = 0
        for t in author.recent_texts[:200]:
            if " ".join(normalize(t[: self.max_scan_chars]).text.split()) == key:
                same += 1
        return [(0, len(norm))] if same >= self.repeat_threshold else []

    @staticmethod
    def _check(rule: _Rule, spans, norm: str, platform: str):
        if rule.platforms and platform not in rule.platforms:
            return []
        if rule.context is None and rule.unless is None:
            return spans
        kept = []
        for s, e in spans:
            if rule.window is None:
                lo, hi = 0, len(norm)
            else:
                lo, hi = max(0, s - rule.window), min(len(norm), e + rule.window)
            if rule.context is not None and rule.context.search(norm, lo, hi) is None:
                continue
            if rule.unless is not None and rule.unless.search(norm, lo, hi) is not None:
                continue
            kept.append((s, e))
        return kept

    def _verdict(self, fired, folded, original, received_at, author, truncated) -> Verdict:
        if not fired:
            return Verdict(truncated=truncated)
        hits = []
        categories: list[str] = []
        action = "allow"
        escalation = "none"
        signposts = set()
        for rule, spans in fired.items():
            mapped = []
            for s, e in sorted(set(spans)):
                os_, oe = folded.span(s, e)
                mapped.append((os_, oe, original[os_:oe]))
            hits.append(RuleHit(rule.id, rule.category, rule.clause, tuple(mapped)))
            if rule.category not in categories:
                categories.append(rule.category)
            if ACTION_RANK[rule.action] > ACTION_RANK[action]:
                action = rule.action
            if _ESCALATION_RANK[rule.escalation] > _ESCALATION_RANK[escalation]:
                escalation = rule.escalation
            if rule.signpost != "none":
                signposts.add(rule.signpost)
        auto_apply = any(r.auto_apply and r.action == action for r in fired) and action != "allow"
        if (
            author is not None
            and action != "allow"
            and author.recent_violations >= self.block_threshold
        ):
            action = "block"
            auto_apply = False  # a block is irreversible: a person decides
        if action in ("delete", "block") and _NEVER_AUTO_DELETE & set(categories):
            auto_apply = False
        if escalation == "urgent":
            when = received_at or datetime.now(timezone.utc)
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            if not self.calendar.is_working_time(when):
                escalation = "duty_manager"
        signpost = next((s for s in SIGNPOST_PRIORITY if s in signposts), "none")
        return Verdict(
            action=action,
            escalation=escalation,
            signpost=signpost,
            categories=tuple(categories),
            rules=tuple(hits),
            auto_apply=auto_apply,
            reply_template=self._templates.get(signpost) if signpost != "none" else None,
            truncated=truncated,
        )


def _opt_regex(raw: dict, key: str, path: str, lists) -> re.Pattern | None:
    if key not in raw:
        return None
    return re.compile(check_regex(raw[key], f"{path}.{key}", lists))


def compile_ruleset(doc: dict) -> Matcher:
    """Validate and compile a rule-set document. Raises RuleSetError(path, message)."""
    if not isinstance(doc, dict):
        raise RuleSetError("", "a rule set document is a mapping")
    return Matcher(doc)
