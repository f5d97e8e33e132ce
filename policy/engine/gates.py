"""Literal gates: a cheap necessary condition for an admin regex, derived at compile time.

Python's ``re`` cannot skip ahead in a pattern such as ``\\bnot (?:a )?swear word|\\bdick ...``
(every branch starts with ``\\b``), so it tries every branch at every position of the text.
``literal_gate(pattern)`` finds literal strings of which every match must contain at least
one (``not ``, ``dick ``, ...) and compiles them into one alternation of plain literals,
which the regex engine scans for very quickly. When ``gate.search(text, lo, hi)`` finds
nothing the pattern cannot match in ``text[lo:hi]`` either, so it is skipped; when it finds
something the pattern runs as before. The gate never changes a result, only how often the
full pattern runs.

The analysis is conservative: anything it does not understand (case-insensitive flags,
lookarounds, classes of many characters, optional items) contributes no requirement, and
a pattern without a usable requirement gets no gate (``None``).
"""

from __future__ import annotations

import re

try:  # Python 3.11+
    from re import _constants as _c
    from re import _parser as _p
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT}
if hasattr(_c, "POSSESSIVE_REPEAT"):
    _REPEATS.add(_c.POSSESSIVE_REPEAT)
_ZERO_WIDTH = {_c.AT}
# A requirement is a frozenset of literals (the match contains at least one of them).
_MAX_LITERALS = 64


class _Unsupported(Exception):
    pass


def _rare(s: str) -> bool:
    """A literal worth a gate on its own: two or more characters, or one symbol (a single
    letter, digit or space occurs in nearly every text)."""
    return len(s) >= 2 or not (s.isalnum() or s.isspace())


def _score(req: frozenset | None) -> tuple:
    if not req:
        return (0, 0, 0)
    # one literal (the regex engine scans for it like memchr) beats an alternation
    single = len(req) == 1 and _rare(next(iter(req)))
    return (single, min(len(s) for s in req), -len(req))


def _better(a, b):
    return a if _score(a) >= _score(b) else b


def _seq(items) -> frozenset | None:
    """Requirement of a sequence: the best single requirement among its items and its
    runs of consecutive literal characters."""
    best: frozenset | None = None
    run: list[str] = []

    def flush():
        nonlocal best, run
        if run:
            best = _better(best, frozenset(["".join(run)]))
        run = []

    for op, av in items:
        if op is _c.LITERAL:
            run.append(chr(av))
            continue
        if op in _ZERO_WIDTH:
            continue  # \b, ^, $: no characters consumed; the literal run stays contiguous
        flush()
        best = _better(best, _item(op, av))
    flush()
    return best


def _item(op, av) -> frozenset | None:
    if op is _c.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags & re.IGNORECASE or del_flags & re.IGNORECASE:
            raise _Unsupported
        return _seq(sub.data)
    if op is _c.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            req = _seq(alt.data)
            if not req:
                return None  # one branch without a requirement: the whole has none
            out |= req
        if len(out) > _MAX_LITERALS:
            return None
        return frozenset(out)
    if op in _REPEATS:
        lo, _hi, sub = av
        if lo >= 1:
            return _seq(sub.data)
        return None
    if hasattr(_c, "ATOMIC_GROUP") and op is _c.ATOMIC_GROUP:
        return _seq(av.data)
    if op is _c.IN:
        chars = []
        for sop, sav in av:
            if sop is not _c.LITERAL:
                return None
            chars.append(chr(sav))
        if 0 < len(chars) <= 3:
            return frozenset(chars)
        return None
    return None  # ANY, NOT_LITERAL, lookarounds, categories...: no requirement


def requirement(pattern: str) -> frozenset | None:
    """Literals of which every match of ``pattern`` contains one (``{list}`` placeholders
    count as 'anything'), or None."""
    # A {list} expansion is a term alternation: treat it as one arbitrary character, which
    # breaks a literal run and adds no requirement of its own.
    plain = _PLACEHOLDER.sub("(?:.)", pattern)
    try:
        parsed = _p.parse(plain)
        if parsed.state.flags & re.IGNORECASE:
            return None
        return _seq(parsed.data)
    except (_Unsupported, re.error, RecursionError):
        return None


def literal_gate(pattern: str, *, min_len: int = 2) -> re.Pattern | None:
    """A compiled alternation of the pattern's required literals, or None when there is no
    requirement worth checking (shorter than ``min_len`` or too many alternatives)."""
    req = requirement(pattern)
    if not req or len(req) > _MAX_LITERALS:
        return None
    if min(len(s) for s in req) < min_len and not (len(req) == 1 and _rare(next(iter(req)))):
        return None
    return re.compile(_trie(sorted(req)))


def _trie(words: list[str]) -> str:
    """A prefix-factored alternation ("ab|ac" -> "a[bc]"): at each text position the regex
    engine then tries one branch per first character instead of every literal. A literal
    that is a prefix of another makes the longer one redundant for a yes/no search."""
    words = [w for w in words if not any(o != w and w.startswith(o) for o in words)]
    groups: dict[str, list[str]] = {}
    for w in words:
        groups.setdefault(w[0], []).append(w[1:])
    alts = []
    singles = []
    for first, rests in sorted(groups.items()):
        if rests == [""]:
            singles.append(first)
        elif len(rests) == 1:
            alts.append(re.escape(first + rests[0]))
        else:
            alts.append(re.escape(first) + "(?:" + _trie(rests) + ")")
    if singles:
        cls = "".join(re.escape(c) for c in singles)
        alts.append(cls if len(singles) == 1 else f"[{cls}]")
    return "|".join(alts)
