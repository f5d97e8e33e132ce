"""The rule-set document: a plain JSON-serialisable dict (stored as YAML in ``policy/data``).

Schema (every key optional unless marked *required*)::

    schema: 1                         # required; this module validates version 1
    name: "default"                   # free text, shown to admins
    limits:
      max_scan_chars: 2000            # only this many leading characters are scanned (100..100000,
                                      # default 2000); a longer comment is judged on its head and
                                      # marked ``truncated`` so a person reads the rest. Keeps
                                      # every verdict within the 5 ms budget (bench/engine.py).
    history:
      block_threshold: 3              # AuthorHistory.recent_violations >= this and the current
                                      # comment is a removal -> action "block" (recommended)
      repeat_threshold: 2             # this many identical recent_texts -> repeated-post spam
    working_hours:
      start: "09:00"   end: "17:00"   weekdays: [0,1,2,3,4]   (Monday=0)
      tz: "Europe/London"   subdivision: "ENG"   closures: ["2026-12-29", ...]
      first_look_minutes: 60          # used by the queue for first-look due times
    categories:                       # defaults per category (DESIGN.md vocabulary)
      <category>: {action: allow|hide|delete|block,
                   escalation: none|safeguarding|urgent,   # "urgent" becomes "duty_manager"
                                                           # outside working time
                   signpost: none|complaints|clinical|individual_care|crisis|media|legal,
                   auto_apply: bool}
    term_lists:                       # named lists of terms (syntax: policy.engine.terms)
      <name>: ["word", "prefix*", "two words", ...]
    staff:
      names: ["Jane Smith", ...]      # added to the term list "staff_names"
      handles: ["@JaneSmithNHS", ...] # added to the term list "staff_handles"
    links:
      allow: ["nhs.uk", ...]          # domain suffixes never treated as inappropriate
      deny: ["example-casino.com"]    # domain suffixes always inappropriate
      deny_words: ["porn", ...]       # a domain containing one of these is inappropriate
      shorteners: ["bit.ly", ...]
      platform: ["t.co", ...]         # link wrappers of the platforms (treated as allowed)
    own_contacts:                     # the organisation's published contact details
      phones: ["01522 309317", ...]   # (policy section 10): never personal information
      emails: ["licb.safeguarding1@nhs.net", ...]
    reply_templates:
      <signpost>: "text"              # suggested reply for that signpost
      safeguarding: "text"            # for any safeguarding concern, whatever its signpost:
                                      # a private route, nothing that repeats their words
    rules:                            # required, a list
      - id: "profanity-terms"         # required, unique, [a-z0-9_-]
        category: "profanity"         # required, from the vocabulary
        clause: "Section 9: ..."      # required: the policy clause the rule enforces
        enabled: true
        # exactly one trigger:
        terms: ["profanity"]          #   names of term lists, or
        pattern: "regex"              #   a Python regex over the folded (lower-case) text,
                                      #   tried at word starts; ``{list}`` expands a term
                                      #   list; no backreferences or named groups, or
        detector: "phone"             #   a built-in detector (policy.engine.detectors):
                                      #   nhs_number, phone, email, postcode, street_address,
                                      #   date_of_birth, patient_condition, link, repeated_post
        kinds: ["denied"]             #   optionally only some of its kinds (link: allowed,
                                      #   denied, shortener, defanged, unknown), or
        near: ["groups", "slander"]   #   a term of the first list followed, within ``within``
        within: 60                    #   characters and no line break, by one of the second
        context: "regex"              # also required within ``window`` chars of the hit
        unless: "regex"               # suppresses the hit when found within ``window``
        window: 80                    # chars either side for context/unless (default: all)
        triggers: ["word", "@list"]   # speed gate: the rule is only tried when one of these
                                      # terms (or a term of @list) occurs; omit to always try
        anchor: "@list"              # speed: try the pattern only where a term of this list
                                      # starts (the pattern should begin with {list});
                                      # "triggers": only where one of its trigger words starts
        requires: ["abuse"]           # fires only if one of these categories also fired
        platforms: ["youtube"]        # only on these platforms (default: all)
        action / escalation / signpost / auto_apply   # override the category defaults
    examples:                         # "teach by example" for the model reader (policy.reader)
      <category>:                     # any category of the vocabulary
        threshold: 0.7                # cosine similarity that counts as close (0.5..0.99,
                                      # default 0.7, measured: policy/reader/examples.py)
        mean: ["what we mean", ...]   # a close one adds the category
        not_mean: ["what we do not mean", ...]   # a close one silences the model's head
                                      # at most 30 per category, 400 in all, 500 chars each
    reader:
      auto_hide: {advertising: 0.97}  # the model's word alone hides automatically only for
                                      # these removal categories at this score (default: never)

``validate(doc)`` raises :class:`RuleSetError` with the path of the first problem.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Any

from .detectors import DETECTOR_KINDS
from .splice import compile_expanded
from .errors import RuleSetError
from .terms import handle_term, parse_term
from .verdict import ACTIONS, CATEGORIES, ESCALATIONS, REMOVAL_CATEGORIES, REPLY_TEMPLATE_KEYS, SIGNPOSTS

# A document asks for "urgent"; the engine makes it "duty_manager" outside working time.
DOC_ESCALATIONS = tuple(e for e in ESCALATIONS if e != "duty_manager")
# The bounds of the examples section: each example is embedded once per rule-set version and
# compared with every comment (one matrix product), and an admin must be able to read them all.
EXAMPLES_MAX_PER_CATEGORY = 30
EXAMPLES_MAX_TOTAL = 400
EXAMPLE_MAX_CHARS = 500
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,79}$")
_LIST_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
# The document's top-level keys and a rule's keys, in the order export and the audit diffs
# write them (policy/selectors.py): the one list validation, the rule form
# (policy/forms.py) and export are derived from. The last four were added after export's
# order was fixed and have always been written last, in this order.
DOCUMENT_KEYS = (
    "schema",
    "name",
    "limits",
    "history",
    "working_hours",
    "categories",
    "term_lists",
    "staff",
    "links",
    "own_contacts",
    "reply_templates",
    "rules",
    # the model reader's sections (policy.reader), written after the rules, as export has
    "examples",
    "reader",
)
RULE_KEYS = (
    "id",
    "enabled",
    "category",
    "clause",
    "terms",
    "pattern",
    "detector",
    "kinds",
    "context",
    "unless",
    "window",
    "requires",
    "platforms",
    "action",
    "escalation",
    "signpost",
    "auto_apply",
    "note",
    "anchor",
    "near",
    "triggers",
    "within",
)
# Speed hints (gates and anchors) an admin does not edit in the rule form: an edit keeps them.
RULE_SPEED_KEYS = ("triggers", "anchor")
PLATFORMS = ("facebook", "instagram", "youtube", "twitter", "x")


def _fail(path: str, message: str):
    raise RuleSetError(path, message)


def _mapping(doc: Any, path: str) -> dict:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        _fail(path, f"expected a mapping, got {type(doc).__name__}")
    return doc


def _str_list(value: Any, path: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        _fail(path, f"expected a list, got {type(value).__name__}")
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            _fail(f"{path}[{i}]", "expected a non-empty string")
    return value


def _choice(value: Any, allowed: tuple[str, ...], path: str) -> None:
    if value not in allowed:
        _fail(path, f"{value!r} is not one of {', '.join(allowed)}")


WORD_START = r"(?<![a-z0-9])(?:"


def _identity(s: str) -> str:
    return s


def compiled(final: str) -> re.Pattern:
    """The compiled form of a pattern check_regex has already compiled (or compiles it)."""
    return compile_expanded(final, {}, _identity)


def word_start_pattern(expanded: str) -> str:
    """The form a rule pattern is compiled in: tried only at word starts."""
    return WORD_START + expanded + ")"


@functools.lru_cache(maxsize=128)
def _alternation(terms: tuple[str, ...]) -> str:
    from .terms import term_alternation

    return term_alternation([parse_term(t) for t in terms])


def check_regex(
    pattern: Any, path: str, lists: dict[str, list[str]] | None = None, *, word_start: bool = False
) -> str:
    """Compile-check an admin regex; returns it with ``{list}`` placeholders expanded.

    With ``word_start`` the compiled form is the one the engine uses, so compiling the rule
    set afterwards finds it in the ``re`` module's cache instead of compiling it twice.
    """
    if not isinstance(pattern, str) or not pattern:
        _fail(path, "expected a non-empty regular expression")
    if re.search(r"\\[1-9]|\(\?P=|\(\?P<", pattern):
        _fail(path, "backreferences and named groups are not allowed")
    if lists is not None:

        def expand(m: re.Match) -> str:
            name = m.group(1)
            if name not in lists:
                _fail(path, f"unknown term list {{{name}}}")
            return _alternation(tuple(lists[name]))

        expanded = _PLACEHOLDER.sub(expand, pattern)
        expansions = {
            name: _alternation(tuple(lists[name])) for name in _PLACEHOLDER.findall(pattern)
        }
    else:
        expanded = pattern
        expansions = {}
    try:
        # the same Pattern as re.compile(final form), each {list} expansion parsed once
        compile_expanded(
            pattern if expansions else expanded,
            expansions,
            word_start_pattern if word_start else _identity,
        )
    except re.error:
        try:
            re.compile(expanded)
        except re.error as exc:
            pos = f" at position {exc.pos}" if exc.pos is not None and expanded == pattern else ""
            _fail(path, f"{exc.msg}{pos}")
        raise
    return expanded


def validate(doc: Any) -> dict:
    """Check the whole document; returns it unchanged. Raises RuleSetError(path, message)."""
    doc = _mapping(doc, "")
    if doc.get("schema") != 1:
        _fail("schema", "expected 1")
    limits = _mapping(doc.get("limits"), "limits")
    if "max_scan_chars" in limits:
        v = limits["max_scan_chars"]
        if not isinstance(v, int) or not 100 <= v <= 100_000:
            _fail("limits.max_scan_chars", "expected an integer between 100 and 100000")
    history = _mapping(doc.get("history"), "history")
    for key in ("block_threshold", "repeat_threshold"):
        if key in history and (not isinstance(history[key], int) or history[key] < 1):
            _fail(f"history.{key}", "expected a positive integer")

    wh = _mapping(doc.get("working_hours"), "working_hours")
    for key in ("start", "end"):
        if key in wh and not (isinstance(wh[key], str) and _HHMM.match(wh[key])):
            _fail(f"working_hours.{key}", "expected HH:MM")
    if "start" in wh and "end" in wh and wh["start"] >= wh["end"]:
        _fail("working_hours.end", "must be after start")
    if "weekdays" in wh:
        wd = wh["weekdays"]
        if (
            not isinstance(wd, list)
            or not wd
            or any(not isinstance(d, int) or not 0 <= d <= 6 for d in wd)
        ):
            _fail("working_hours.weekdays", "expected a non-empty list of 0..6 (Monday=0)")
    for i, d in enumerate(wh.get("closures") or []):
        if isinstance(d, date):
            continue
        try:
            date.fromisoformat(str(d))
        except ValueError:
            _fail(f"working_hours.closures[{i}]", f"{d!r} is not a YYYY-MM-DD date")
    if "tz" in wh:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(str(wh["tz"]))
        except Exception:
            _fail("working_hours.tz", f"unknown time zone {wh['tz']!r}")

    cats = _mapping(doc.get("categories"), "categories")
    for cat, spec in cats.items():
        path = f"categories.{cat}"
        _choice(cat, CATEGORIES, path)
        spec = _mapping(spec, path)
        _check_outcome(spec, path)

    lists = _mapping(doc.get("term_lists"), "term_lists")
    for name, terms in lists.items():
        if not isinstance(name, str) or not _LIST_NAME.match(name):
            _fail(f"term_lists.{name}", "list names are lower-case identifiers")
        for i, t in enumerate(_str_list(terms, f"term_lists.{name}")):
            try:
                parse_term(t)
            except ValueError as exc:
                _fail(f"term_lists.{name}[{i}]", str(exc))
    staff = _mapping(doc.get("staff"), "staff")
    for key in ("names", "handles"):
        for i, item in enumerate(_str_list(staff.get(key), f"staff.{key}")):
            try:
                parse_term(handle_term(item) if key == "handles" else item)
            except ValueError as exc:
                _fail(f"staff.{key}[{i}]", str(exc))
    links = _mapping(doc.get("links"), "links")
    for key in ("allow", "deny", "deny_words", "shorteners", "platform"):
        _str_list(links.get(key), f"links.{key}")
    own = _mapping(doc.get("own_contacts"), "own_contacts")
    _str_list(own.get("phones"), "own_contacts.phones")
    _str_list(own.get("emails"), "own_contacts.emails")
    templates = _mapping(doc.get("reply_templates"), "reply_templates")
    for key, text in templates.items():
        _choice(key, REPLY_TEMPLATE_KEYS, f"reply_templates.{key}")
        if not isinstance(text, str):
            _fail(f"reply_templates.{key}", "expected text")

    all_lists = dict(lists)
    all_lists["staff_names"] = staff.get("names") or []
    all_lists["staff_handles"] = [handle_term(h) for h in staff.get("handles") or []]

    rules = doc.get("rules")
    if not isinstance(rules, list):
        _fail("rules", "expected a list of rules")
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        path = f"rules[{i}]"
        rule = _mapping(rule, path)
        unknown = set(rule) - set(RULE_KEYS)
        if unknown:
            _fail(f"{path}.{sorted(unknown)[0]}", "unknown key")
        rid = rule.get("id")
        if not isinstance(rid, str) or not _RULE_ID.match(rid):
            _fail(f"{path}.id", "expected a lower-case id ([a-z0-9_-], up to 80 chars)")
        if rid in seen:
            _fail(f"{path}.id", f"duplicate rule id {rid!r}")
        seen.add(rid)
        _choice(rule.get("category"), CATEGORIES, f"{path}.category")
        if not isinstance(rule.get("clause"), str) or not rule["clause"].strip():
            _fail(f"{path}.clause", "every rule names the policy clause it enforces")
        if "enabled" in rule and not isinstance(rule["enabled"], bool):
            _fail(f"{path}.enabled", "expected true or false")
        triggers = [k for k in ("terms", "pattern", "detector", "near") if k in rule]
        if len(triggers) != 1:
            _fail(path, "needs exactly one of terms, pattern, detector, near")
        if "near" in rule:
            near = rule["near"]
            if not isinstance(near, list) or len(near) != 2:
                _fail(f"{path}.near", "expected two term list names: [first, then]")
            for j, name in enumerate(near):
                if name not in all_lists:
                    _fail(f"{path}.near[{j}]", f"unknown term list {name!r}")
            w = rule.get("within", 60)
            if not isinstance(w, int) or not 1 <= w <= 500:
                _fail(f"{path}.within", "expected an integer between 1 and 500")
        elif "within" in rule:
            _fail(f"{path}.within", "only valid with near")
        if "terms" in rule:
            for j, name in enumerate(_str_list(rule["terms"], f"{path}.terms")):
                if name not in all_lists:
                    _fail(f"{path}.terms[{j}]", f"unknown term list {name!r}")
        if "pattern" in rule:
            check_regex(rule["pattern"], f"{path}.pattern", all_lists, word_start=True)
        if "detector" in rule:
            _choice(
                rule["detector"], tuple(DETECTOR_KINDS) + ("repeated_post",), f"{path}.detector"
            )
            kinds = DETECTOR_KINDS.get(rule["detector"], ("repeated_post",))
            for j, k in enumerate(_str_list(rule.get("kinds"), f"{path}.kinds")):
                _choice(k, kinds, f"{path}.kinds[{j}]")
        elif "kinds" in rule:
            _fail(f"{path}.kinds", "only valid with a detector")
        for key in ("context", "unless"):
            if key in rule:
                check_regex(rule[key], f"{path}.{key}", all_lists)
        if "window" in rule and (not isinstance(rule["window"], int) or rule["window"] < 1):
            _fail(f"{path}.window", "expected a positive integer")
        for j, word in enumerate(_str_list(rule.get("triggers"), f"{path}.triggers")):
            if word.startswith("@"):
                if word[1:] not in all_lists:
                    _fail(f"{path}.triggers[{j}]", f"unknown term list {word[1:]!r}")
            else:
                try:
                    parse_term(word)
                except ValueError as exc:
                    _fail(f"{path}.triggers[{j}]", str(exc))
        if "anchor" in rule:
            if "pattern" not in rule:
                _fail(f"{path}.anchor", "only valid with a pattern")
            if rule["anchor"] == "triggers":
                if not any(not w.startswith("@") for w in rule.get("triggers") or ()):
                    _fail(f"{path}.anchor", "anchor: triggers needs trigger words")
            elif not isinstance(rule["anchor"], str) or rule["anchor"].lstrip("@") not in all_lists:
                _fail(f"{path}.anchor", f"unknown term list {rule['anchor']!r}")
        for j, c in enumerate(_str_list(rule.get("requires"), f"{path}.requires")):
            _choice(c, CATEGORIES, f"{path}.requires[{j}]")
        for j, p in enumerate(_str_list(rule.get("platforms"), f"{path}.platforms")):
            _choice(p, PLATFORMS, f"{path}.platforms[{j}]")
        _check_outcome(rule, path)
    _check_examples(doc.get("examples"))
    _check_reader(doc.get("reader"))
    return doc


def _check_examples(section: Any) -> None:
    section = _mapping(section, "examples")
    total = 0
    for cat, spec in section.items():
        path = f"examples.{cat}"
        _choice(cat, CATEGORIES, path)
        spec = _mapping(spec, path)
        unknown = set(spec) - {"threshold", "mean", "not_mean"}
        if unknown:
            _fail(f"{path}.{sorted(unknown)[0]}", "unknown key (threshold, mean, not_mean)")
        if "threshold" in spec:
            t = spec["threshold"]
            if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.5 <= t <= 0.99:
                _fail(f"{path}.threshold", "expected a number between 0.5 and 0.99")
        count = 0
        for key in ("mean", "not_mean"):
            texts = _str_list(spec.get(key), f"{path}.{key}")
            for i, text in enumerate(texts):
                if len(text) > EXAMPLE_MAX_CHARS:
                    _fail(f"{path}.{key}[{i}]", f"longer than {EXAMPLE_MAX_CHARS} characters")
            count += len(texts)
        if not count:
            _fail(path, "expected at least one example in mean or not_mean")
        if count > EXAMPLES_MAX_PER_CATEGORY:
            _fail(path, f"{count} examples; at most {EXAMPLES_MAX_PER_CATEGORY} per category")
        total += count
    if total > EXAMPLES_MAX_TOTAL:
        _fail("examples", f"{total} examples; at most {EXAMPLES_MAX_TOTAL} in all")


def _check_reader(section: Any) -> None:
    section = _mapping(section, "reader")
    unknown = set(section) - {"auto_hide"}
    if unknown:
        _fail(f"reader.{sorted(unknown)[0]}", "unknown key (auto_hide)")
    for cat, t in _mapping(section.get("auto_hide"), "reader.auto_hide").items():
        path = f"reader.auto_hide.{cat}"
        _choice(cat, REMOVAL_CATEGORIES, path)
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.5 <= t <= 1:
            _fail(path, "expected a score between 0.5 and 1")


def _check_outcome(spec: dict, path: str) -> None:
    if "action" in spec:
        _choice(spec["action"], ACTIONS, f"{path}.action")
    if "escalation" in spec:
        _choice(spec["escalation"], DOC_ESCALATIONS, f"{path}.escalation")
    if "signpost" in spec:
        _choice(spec["signpost"], SIGNPOSTS, f"{path}.signpost")
    if "auto_apply" in spec and not isinstance(spec["auto_apply"], bool):
        _fail(f"{path}.auto_apply", "expected true or false")
