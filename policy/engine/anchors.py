"""The words an anchored pattern can start with, read from the pattern itself.

An anchored rule (``anchor: triggers`` or ``anchor: "@list"``) is tried only where one of
its anchor words starts. A pattern branch that starts with some other word ("want to
complain" anchored on "complain") would never be tried at all, so the compiler adds every
word the pattern can start with to the rule's anchors. When the start cannot be read as
words (a character class such as ``[0-9]``, ``\\w+``, a lookahead), the rule is not
anchored: it is tried wherever its triggers occur, as an unanchored pattern.
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
# Each {list} placeholder becomes one private-use character while the pattern is parsed (one
# character each, all different, so the parser cannot factor them out of alternatives).
_MARK_BASE = 0xE000
_WORD = re.compile(r"[a-z0-9']")
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT}
if hasattr(_c, "POSSESSIVE_REPEAT"):
    _REPEATS.add(_c.POSSESSIVE_REPEAT)
MAX_WORDS = 400


class _Unknown(Exception):
    pass


def leading_terms(pattern: str) -> tuple[set[str], set[str]] | None:
    """(terms, lists): every match of ``pattern`` starts with one of ``terms`` (term syntax:
    a whole word, or ``word*`` for a word that may go on) or with a term of one of the
    ``lists`` placeholders. None when some match can start otherwise."""
    names: list[str] = []

    def mark(m: re.Match) -> str:
        names.append(m.group(1))
        return chr(_MARK_BASE + len(names) - 1)

    try:
        parsed = _p.parse(_PLACEHOLDER.sub(mark, pattern))
        firsts = _walk(list(parsed.data), "")
    except (_Unknown, re.error, RecursionError, ValueError):
        return None
    terms: set[str] = set()
    lists: set[str] = set()
    for first in firsts:
        if ord(first[0]) >= _MARK_BASE:
            lists.add(names[ord(first[0]) - _MARK_BASE])
            continue
        word = first.rstrip("*")
        if word.startswith("'") or (first.endswith("*") and len(word) < 3):
            return None  # not a term the matcher can find (a short prefix matches too much)
        terms.add(first)
    if len(terms) > MAX_WORDS:
        return None
    return terms, lists


def _walk(items: list, prefix: str) -> set[str]:
    """The first words of the sequence ``items`` once ``prefix`` has been read; a word that
    may continue in a way not spelled out ends in "*"."""
    if not items:
        if not prefix:
            raise _Unknown  # could match empty
        return {prefix}
    op, av = items[0]
    rest = items[1:]
    if op is _c.LITERAL:
        ch = chr(av)
        if av >= _MARK_BASE:  # a placeholder: its terms start the match
            if prefix:
                return {prefix + "*"}
            return {ch}
        if _WORD.match(ch):
            return _walk(rest, prefix + ch)
        if prefix:
            return {prefix}  # the word ends here
        raise _Unknown  # starts with punctuation or a space
    if op is _c.SUBPATTERN:
        return _walk(list(av[-1].data) + rest, prefix)
    if op is _c.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            out |= _walk(list(alt.data) + rest, prefix)
            if len(out) > MAX_WORDS:
                raise _Unknown
        return out
    if op is _c.IN and all(sop is _c.LITERAL for sop, _sav in av):
        out = set()
        for _sop, sav in av:
            out |= _walk([(_c.LITERAL, sav)] + rest, prefix)
        return out
    if op in _REPEATS:
        lo, hi, sub = av
        if lo == 0 and hi == 1:  # optional
            return _walk(rest, prefix) | _walk(list(sub.data) + rest, prefix)
        if prefix:
            return {prefix + "*"}
        out = _walk(list(sub.data) + rest, prefix)
        if lo == 0:
            out |= _walk(rest, prefix)
        return out
    if op is _c.AT or (op in (_c.ASSERT, _c.ASSERT_NOT) and av[0] == -1):
        return _walk(rest, prefix)  # \b, a lookbehind: no characters of the match
    if prefix:
        return {prefix + "*"}  # a class, \w, a lookaround after part of a word
    raise _Unknown  # a class, \w, a lookaround at the start: no word to anchor on
