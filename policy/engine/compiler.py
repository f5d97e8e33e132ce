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
from .anchors import leading_terms
from .errors import RuleSetError
from .gates import literal_gate
from .normalize import normalize
from .schema import check_regex, compiled, validate, word_start_pattern
from .terms import TermMatcher, handle_term, skeleton
from .verdict import (
    ACTION_RANK,
    CATEGORIES,
    SIGNPOST_PRIORITY,
    AuthorHistory,
    RuleHit,
    Verdict,
    reply_template_key,
)
from .working_calendar import WorkingCalendar

# Scanning is linear, but a 5 ms budget per verdict (measured on a loaded 2-core VM at
# ~1 us per character for dense text) only covers a few thousand characters. Comments
# longer than this are judged on their head and marked ``truncated`` for a person to read.
DEFAULT_MAX_SCAN_CHARS = 2_000
# At most this many anchored match attempts per rule and comment.
MAX_ANCHORS = 40
_NEVER_AUTO_DELETE = frozenset({"safeguarding", "crisis"})
# One cheap test before any built-in detector: digits, an @, a dot before letters or a
# defanged link. A comment with none of these has no number, address, e-mail or link.
# (Digits that only belong to an HTML entity such as &#8220; do not count.) It is made of
# three cheap parts: a memchr for "@", substring searches then a class scan for digits, and
# the rest (test_fast_paths checks it against the same test written as one regex).
_HINT_DIGIT = re.compile(r"[0-9](?<![&#0-9][0-9])")
_HINT_REST = re.compile(r"\.[a-z]|hxxp| dot |\[\.\]|\(\.\)|\(dot\)|\[dot\]")


def _detector_hint(norm: str) -> bool:
    return (
        "@" in norm
        or det.has_digit(norm) and _HINT_DIGIT.search(norm) is not None
        or _HINT_REST.search(norm) is not None
    )
_ESCALATION_RANK = {"none": 0, "urgent": 1, "safeguarding": 2}


@dataclass(frozen=True, slots=True)
class CategoryOutcome:
    """A category's default outcome in a rule set (its ``categories`` entry)."""

    action: str = "allow"
    escalation: str = "none"  # none | safeguarding | urgent (resolved by escalation_at)
    signpost: str = "none"
    auto_apply: bool = False


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: rules key dicts on the hot path
class _Rule:
    id: str
    category: str
    clause: str
    trigger: str  # "terms" | "pattern" | "detector"
    lists: frozenset[str]  # tags of the term lists a "terms" rule fires on
    gates: frozenset[str]  # tags that must be present for the rule to be tried (empty: always)
    anchor: str | None  # pattern tried only where a term with this tag starts
    near: tuple[str, str, int] | None  # (first tag, then tag, within chars)
    regex: re.Pattern | None
    detector: str | None
    kinds: frozenset[str]
    context: re.Pattern | None
    unless: re.Pattern | None
    # literal gates (see .gates): necessary conditions, checked before the full regex runs
    pattern_gate: re.Pattern | None
    context_gate: re.Pattern | None
    unless_gate: re.Pattern | None
    window: int | None
    requires: frozenset[str]
    platforms: frozenset[str]
    action: str
    escalation: str
    signpost: str
    auto_apply: bool
    action_rank: int = 0
    escalation_rank: int = 0


def _list_tag(name: str) -> str:
    return "L:" + name



def _span_start(span) -> int:
    return span[0]


def _by_rule_id(item) -> str:
    return item[0].id

class Matcher:
    """A compiled rule set. Immutable and safe to share between threads."""

    __slots__ = (
        "name",
        "calendar",
        "max_scan_chars",
        "block_threshold",
        "repeat_threshold",
        "_rules",
        "_terms",
        "_always",
        "_always_no_author",
        "_gated",
        "_by_tag",
        "_always_detectors",
        "_rules_for_tags",
        "_requires_rules",
        "_detector_lists",
        "_templates",
        "_first_look_minutes",
        "_outcomes",
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
        this_year = datetime.now(timezone.utc).year
        self.calendar.warm(range(this_year - 1, this_year + 3))
        self._first_look_minutes = int(wh.get("first_look_minutes", 60))
        self._templates = MappingProxyType(dict(doc.get("reply_templates") or {}))

        staff = doc.get("staff") or {}
        lists: dict[str, list[str]] = {k: list(v) for k, v in (doc.get("term_lists") or {}).items()}
        lists["staff_names"] = list(staff.get("names") or [])
        lists["staff_handles"] = [handle_term(h) for h in staff.get("handles") or []]

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
        self._outcomes = MappingProxyType(
            {
                cat: CategoryOutcome(
                    action=spec.get("action", "allow"),
                    escalation=spec.get("escalation", "none"),
                    signpost=spec.get("signpost", "none"),
                    auto_apply=bool(spec.get("auto_apply", False)),
                )
                for cat, spec in ((c, categories.get(c) or {}) for c in CATEGORIES)
            }
        )
        rules: list[_Rule] = []
        # tag -> terms: every term list a rule fires on or is gated by, plus each rule's own
        # literal trigger words. All of them go into ONE trie pass over the comment.
        tagged_terms: dict[str, list[str]] = {}
        for i, raw in enumerate(doc["rules"]):
            if not raw.get("enabled", True):
                continue
            path = f"rules[{i}]"
            cat = raw["category"]
            defaults = categories.get(cat) or {}
            trigger = next(k for k in ("terms", "pattern", "detector", "near") if k in raw)
            regex = None
            if trigger == "pattern":
                regex = compiled(
                    word_start_pattern(
                        check_regex(raw["pattern"], f"{path}.pattern", lists, word_start=True)
                    )
                )
            list_tags = set()
            near = None
            if trigger == "near":
                first, then = (_list_tag(n) for n in raw["near"])
                near = (first, then, int(raw.get("within", 60)))
                for n in raw["near"]:
                    tagged_terms.setdefault(_list_tag(n), lists[n])
            for name in raw.get("terms") or ():
                tagged_terms.setdefault(_list_tag(name), lists[name])
                list_tags.add(_list_tag(name))
            gates = set()
            own_words = []
            for word in raw.get("triggers") or ():
                if word.startswith("@"):
                    tagged_terms.setdefault(_list_tag(word[1:]), lists[word[1:]])
                    gates.add(_list_tag(word[1:]))
                else:
                    own_words.append(word)
            if own_words:
                tagged_terms["T:" + raw["id"]] = own_words
                gates.add("T:" + raw["id"])
            anchor = None
            if raw.get("anchor") == "triggers":
                anchor = "T:" + raw["id"]
                gates = {anchor}
            elif raw.get("anchor"):
                anchor = _list_tag(raw["anchor"].lstrip("@"))
                tagged_terms.setdefault(anchor, lists[raw["anchor"].lstrip("@")])
                gates = {anchor}
            if anchor is not None and trigger == "pattern":
                # anchored where the pattern can start, read from the pattern itself (see
                # .anchors): a branch starting with another word than the declared anchors
                # would otherwise never be tried. Not readable: tried wherever the declared
                # anchors occur, unanchored.
                lead = leading_terms(raw["pattern"])
                if lead is None:
                    anchor = None
                elif lead != (set(), {raw["anchor"].lstrip("@")}):
                    terms, leading_lists = lead
                    anchor = "A:" + raw["id"]
                    tagged_terms[anchor] = sorted(terms) + [
                        t for name in sorted(leading_lists) for t in lists[name]
                    ]
                    gates = {anchor}
                if raw.get("anchor") == "triggers" and "T:" + raw["id"] not in gates:
                    tagged_terms.pop("T:" + raw["id"], None)  # its words no longer anchor it
            if near is not None:
                gates = gates | {near[0]}
            rules.append(
                _Rule(
                    near=near,
                    id=raw["id"],
                    category=cat,
                    clause=raw["clause"].strip(),
                    trigger=trigger,
                    lists=frozenset(list_tags),
                    gates=frozenset(gates),
                    anchor=anchor,
                    regex=regex,
                    detector=raw.get("detector"),
                    kinds=frozenset(raw.get("kinds") or ()),
                    context=_opt_regex(raw, "context", path, lists),
                    unless=_opt_regex(raw, "unless", path, lists),
                    pattern_gate=literal_gate(raw["pattern"]) if "pattern" in raw else None,
                    context_gate=literal_gate(raw["context"]) if "context" in raw else None,
                    unless_gate=literal_gate(raw["unless"]) if "unless" in raw else None,
                    window=raw.get("window"),
                    requires=frozenset(raw.get("requires") or ()),
                    platforms=frozenset(raw.get("platforms") or ()),
                    action=raw.get("action", defaults.get("action", "allow")),
                    escalation=raw.get("escalation", defaults.get("escalation", "none")),
                    signpost=raw.get("signpost", defaults.get("signpost", "none")),
                    auto_apply=bool(raw.get("auto_apply", defaults.get("auto_apply", False))),
                )
            )
            r = rules[-1]
            object.__setattr__(r, "action_rank", ACTION_RANK[r.action])
            object.__setattr__(r, "escalation_rank", _ESCALATION_RANK[r.escalation])
        self._rules = tuple(rules)
        self._requires_rules = tuple(r for r in rules if r.requires)

        # One trie over every tagged term; a term under several tags is one alternative whose
        # group maps to all of them.
        self._terms = TermMatcher(tagged_terms, {t for t in tagged_terms if t.startswith("L:")})
        # Rules with no gate are tried on every comment; gated ones only when a tag is seen.
        self._always = tuple(
            r
            for r in rules
            if not r.gates
            and r.trigger != "terms"
            and not r.requires
            and not (r.trigger == "detector" and r.detector != "repeated_post")
        )
        self._always_no_author = tuple(r for r in self._always if r.detector != "repeated_post")
        always_detectors: dict[str, list[_Rule]] = {}
        for r in rules:
            if (
                r.trigger == "detector"
                and r.detector != "repeated_post"
                and not r.gates
                and not r.requires
            ):
                always_detectors.setdefault(r.detector or "", []).append(r)
        # grouped by prefilter: detectors sharing one (NHS number and phone both need a group
        # of three digits) have it checked once per comment
        by_prefilter: dict = {}
        for name, rs in always_detectors.items():
            by_prefilter.setdefault(det.PREFILTERS.get(name), []).append((name, tuple(rs)))
        self._always_detectors = tuple(
            (prefilter, tuple(named)) for prefilter, named in by_prefilter.items()
        )
        self._gated = tuple(r for r in rules if r.gates or r.trigger == "terms")
        by_tag: dict[str, list[_Rule]] = {}
        for r in self._gated:
            if r.requires:
                continue
            for tag in (r.gates | r.lists) if r.trigger == "terms" else r.gates:
                by_tag.setdefault(tag, []).append(r)
        self._by_tag = MappingProxyType({t: tuple(v) for t, v in by_tag.items()})
        # tag set of a term -> rules it opens; a memo of a pure function of the rule set,
        # filled on first use (dict writes are atomic under the GIL)
        self._rules_for_tags: dict = {}

    # ------------------------------------------------------------------------------------
    @property
    def first_look_minutes(self) -> int:
        return self._first_look_minutes

    def outcome(self, category: str) -> "CategoryOutcome":
        """What the rule set does with a category by default (its ``categories`` mapping)."""
        return self._outcomes[category]

    def reply_template(self, signpost: str) -> str | None:
        return self._templates.get(signpost) if signpost != "none" else None

    def escalation_at(self, escalation: str, received_at: datetime | None) -> str:
        """A document escalation as the verdict states it: ``urgent`` becomes
        ``duty_manager`` outside working time (``received_at`` None: now)."""
        if escalation != "urgent":
            return escalation
        when = received_at or datetime.now(timezone.utc)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return escalation if self.calendar.is_working_time(when) else "duty_manager"

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

        # 1. one trie pass: which tags (term lists, rule triggers) occur, and where
        # group hits by their tag set first: a comment has few distinct hit words
        by_tags = self._terms.find(skeleton(norm), norm)
        tag_spans: dict[str, list[tuple[int, int]]] = {}
        merged = None  # tags whose spans came from several tag sets: sorted below
        for tags, spans in by_tags.items():
            for tag in tags:
                have = tag_spans.get(tag)
                if have is None:
                    tag_spans[tag] = spans if len(tags) == 1 else list(spans)
                else:
                    have.extend(spans)  # (by_tags' own lists are not read after this)
                    if merged is None:
                        merged = {tag}
                    else:
                        merged.add(tag)
        if merged is not None:
            # anchors are tried in text order (a match's end skips the anchors inside it)
            for tag in merged:
                tag_spans[tag].sort(key=_span_start)

        # 2. candidate rules: ungated ones, and gated ones whose tag was seen. Rules that
        #    require another category are only tried once something else has fired.
        state = _State(norm, scanned if folded.offsets is None else "", self._detector_lists)
        candidates = list(self._always if author is not None else self._always_no_author)
        if self._always_detectors and _detector_hint(norm):
            for prefilter, named in self._always_detectors:
                # each always-on detector runs once, behind its own prefilter (checked here
                # first, so that no detector context is built for a comment that cannot match)
                if prefilter is not None and not prefilter(norm):
                    continue
                for name, rules in named:
                    if state.findings(name):
                        candidates.extend(rules)
        if by_tags:
            cache = self._rules_for_tags
            gated: dict = {}
            for tags in by_tags:
                rules = cache.get(tags)
                if rules is None:  # tag sets are fixed at compile time; this fills once
                    rules = cache[tags] = tuple(
                        dict.fromkeys(r for tag in tags for r in self._by_tag.get(tag, ()))
                    )
                for r in rules:
                    gated[r] = None
            candidates.extend(gated)
        fired: dict[_Rule, list[tuple[int, int]]] = {}
        for rule in candidates:
            if rule.anchor is not None:
                # anchored patterns are most of the tries: inlined here (same steps as
                # in _try) to save a call per rule
                if rule.platforms and platform not in rule.platforms:
                    continue
                anchors = tag_spans.get(rule.anchor)
                if not anchors:
                    continue
                if len(anchors) > MAX_ANCHORS:
                    anchors = anchors[:MAX_ANCHORS]
                match = rule.regex.match  # type: ignore[union-attr]  # anchored: has a regex
                matched: list[tuple[int, int]] | None = None
                last = -1
                for start, _ in anchors:
                    if start <= last:
                        continue
                    m = match(norm, start)
                    if m is not None:
                        if matched is None:
                            matched = [m.span()]
                        else:
                            matched.append(m.span())
                        last = m.end()
                if matched is None:
                    continue
                kept = self._check(rule, matched, norm)
            else:
                kept = self._try(rule, tag_spans, state, platform, author)
            if kept:
                fired[rule] = kept
        if fired:
            cats = {r.category for r in fired}
            for rule in self._requires_rules:
                if not rule.requires.isdisjoint(cats) and (
                    not rule.gates and rule.trigger != "terms" or self._gate_open(rule, tag_spans)
                ):
                    kept = self._try(rule, tag_spans, state, platform, author)
                    if kept:
                        fired[rule] = kept

        return self._verdict(fired, folded, scanned, received_at, author, truncated)

    @staticmethod
    def _gate_open(rule: _Rule, tag_spans) -> bool:
        if rule.trigger == "terms" and not rule.lists.isdisjoint(tag_spans):
            return True
        return not rule.gates.isdisjoint(tag_spans)

    def _try(self, rule: _Rule, tag_spans, state: "_State", platform: str, author) -> list:
        if rule.platforms and platform not in rule.platforms:
            return []
        norm = state.norm
        if rule.trigger == "terms":
            spans = [sp for tag in rule.lists for sp in tag_spans.get(tag, ())]
        elif rule.near is not None:
            first, then, within = rule.near
            seconds = tag_spans.get(then)
            if not seconds:
                return []
            spans = []
            for s1, e1 in tag_spans.get(first, ())[:MAX_ANCHORS]:
                for s2, e2 in seconds:
                    if e1 <= s2 <= e1 + within and "\n" not in norm[e1:s2]:
                        spans.append((s1, e2))
                        break
        elif rule.anchor is not None:
            match = rule.regex.match  # type: ignore[union-attr]
            spans = []
            last = -1
            # Bounded: a giant comment repeating a trigger word must not cost more than
            # MAX_ANCHORS match attempts per rule (it is flagged truncated/for review anyway).
            for start, _ in tag_spans.get(rule.anchor, ())[:MAX_ANCHORS]:
                if start <= last:
                    continue
                m = match(norm, start)
                if m is not None:
                    spans.append(m.span())
                    last = m.end()
        elif rule.trigger == "pattern":
            gate = rule.pattern_gate
            if gate is not None and gate.search(norm) is None:
                return []
            spans = [m.span() for m in rule.regex.finditer(norm)]  # type: ignore[union-attr]
        elif rule.detector == "repeated_post":
            spans = self._repeated(norm, author)
        else:
            prefilter = det.PREFILTERS.get(rule.detector or "")
            if prefilter is not None and not prefilter(norm):
                return []  # the detector's own first check, without building its context
            findings = state.findings(rule.detector or "")
            if not findings:
                return []
            spans = [(f.start, f.end) for f in findings if not rule.kinds or f.kind in rule.kinds]
        if not spans:
            return []
        return self._check(rule, spans, norm)

    # ------------------------------------------------------------------------------------
    def _repeated(self, norm: str, author: AuthorHistory | None) -> list[tuple[int, int]]:
        """Spam by repetition: the same text (after folding) among the author's recent posts.

        Only the 20 most recent texts of a similar length are folded and compared, so a long
        history cannot slow a verdict down.
        """
        if author is None or not author.recent_texts or not norm.strip():
            return []
        key = " ".join(norm.split())
        size = len(norm)
        same = 0
        for t in author.recent_texts[:20]:
            if abs(len(t) - size) > size // 4 + 8:
                continue
            if " ".join(normalize(t[: self.max_scan_chars]).text.split()) == key:
                same += 1
        return [(0, len(norm))] if same >= self.repeat_threshold else []

    @staticmethod
    def _check(rule: _Rule, spans, norm: str):
        spans = spans[:MAX_ANCHORS]  # evidence enough; bounds the context/unless searches
        if rule.context is None and rule.unless is None:
            return spans
        kept = []
        context, context_gate = rule.context, rule.context_gate
        unless, unless_gate = rule.unless, rule.unless_gate
        window = rule.window
        size = len(norm)
        for s, e in spans:
            if window is None:
                lo, hi = 0, size
            else:
                lo = s - window
                if lo < 0:
                    lo = 0
                hi = e + window
                if hi > size:
                    hi = size
            # a gate that finds none of its literals proves the full regex cannot match
            if context is not None and (
                context_gate is not None
                and context_gate.search(norm, lo, hi) is None
                or context.search(norm, lo, hi) is None
            ):
                continue
            if (
                unless is not None
                and (unless_gate is None or unless_gate.search(norm, lo, hi) is not None)
                and unless.search(norm, lo, hi) is not None
            ):
                continue
            kept.append((s, e))
        return kept

    def _verdict(self, fired, folded, original, received_at, author, truncated) -> Verdict:
        if not fired:
            # Verdict is immutable: every clean comment can share one instance
            return _ALLOW_TRUNCATED if truncated else _ALLOW
        hits = []
        categories: list[str] = []
        action = "allow"
        action_rank = 0
        escalation = "none"
        escalation_rank = 0
        signposts = set()
        auto_actions = set()
        identity = folded.offsets is None
        span = folded.span
        # Rule ids order the evidence: the matchers fill ``fired`` in an order that depends on
        # string hashing, and the same comment must read the same in every process.
        for rule, spans in sorted(fired.items(), key=_by_rule_id):
            ordered = sorted(set(spans)) if len(spans) > 1 else spans
            if identity:
                mapped = tuple([(s, e, original[s:e]) for s, e in ordered])
            else:
                mapped = tuple(
                    [(os_, oe, original[os_:oe]) for os_, oe in (span(s, e) for s, e in ordered)]
                )
            hits.append(RuleHit(rule.id, rule.category, rule.clause, mapped))
            if rule.category not in categories:
                categories.append(rule.category)
            if rule.action_rank > action_rank:
                action, action_rank = rule.action, rule.action_rank
            if rule.escalation_rank > escalation_rank:
                escalation, escalation_rank = rule.escalation, rule.escalation_rank
            if rule.signpost != "none":
                signposts.add(rule.signpost)
            if rule.auto_apply:
                auto_actions.add(rule.action)
        auto_apply = action != "allow" and action in auto_actions
        if (
            author is not None
            and action != "allow"
            and author.recent_violations >= self.block_threshold
        ):
            action = "block"
            auto_apply = False  # a block is irreversible: a person decides
        if action in ("delete", "block") and not _NEVER_AUTO_DELETE.isdisjoint(categories):
            auto_apply = False
        if escalation == "urgent":
            escalation = self.escalation_at(escalation, received_at)
        if signposts:
            signpost = next((s for s in SIGNPOST_PRIORITY if s in signposts), "none")
        else:
            signpost = "none"
        template = reply_template_key(signpost, escalation, categories)
        return Verdict(
            action=action,
            escalation=escalation,
            signpost=signpost,
            categories=tuple(categories),
            rules=tuple(hits),
            auto_apply=auto_apply,
            reply_template=self._templates.get(template) if template is not None else None,
            truncated=truncated,
        )


_ALLOW = Verdict()
_ALLOW_TRUNCATED = Verdict(truncated=True)


class _State:
    """Per-evaluation scratch: detector findings computed at most once each (the detector
    context is only built when a detector actually runs)."""

    __slots__ = ("norm", "original", "lists", "_ctx", "cache")

    def __init__(self, norm: str, original: str, lists):
        self.norm = norm
        self.original = original
        self.lists = lists
        self._ctx: det.Context | None = None
        self.cache: dict[str, list] = {}

    def findings(self, name: str) -> list:
        found = self.cache.get(name)
        if found is None:
            ctx = self._ctx
            if ctx is None:
                ctx = self._ctx = det.Context(self.norm, self.original, self.lists)
            found = self.cache[name] = det.DETECTORS[name](ctx)
        return found


def _opt_regex(raw: dict, key: str, path: str, lists) -> re.Pattern | None:
    if key not in raw:
        return None
    return compiled(check_regex(raw[key], f"{path}.{key}", lists))


def compile_ruleset(doc: dict) -> Matcher:
    """Validate and compile a rule-set document. Raises RuleSetError(path, message)."""
    if not isinstance(doc, dict):
        raise RuleSetError("", "a rule set document is a mapping")
    return Matcher(doc)
