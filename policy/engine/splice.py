"""Compile rule patterns without re-parsing the same ``{list}`` expansion for every rule.

A ``{list}`` placeholder expands to a large obfuscation-aware alternation (``{identity_groups}``
is ~25 KB of regex and is used by 17 default rules). ``re.compile`` parses the whole
expanded string each time, and parsing is about half of compile time. Here the admin's
pattern is parsed with a one-character marker per placeholder, each list's expansion is
parsed once, and the parsed expansion is spliced in where the marker was; code generation
then runs as ``re.compile`` would. The result is checked to be the same program: the
spliced tree must generate exactly the code the string would (``verify=True``, used by the
tests), and anything unusual (lookbehinds, inline flags, a marker inside a class, any
error) falls back to plain ``re.compile`` of the expanded string.

Uses the standard library's regex parser and compiler modules (CPython internals); on an
interpreter where they differ the fallback is taken.
"""

from __future__ import annotations

import re
import threading

try:
    import _sre
    from re import _compiler as _rc
    from re import _constants as _c
    from re import _parser as _p

    _AVAILABLE = hasattr(_rc, "_code") and hasattr(_p, "parse")
except ImportError:  # pragma: no cover
    _AVAILABLE = False

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_MARK_BASE = 0xF0000  # supplementary private use: never in an admin's pattern
_UNSAFE = re.compile(r"\(\?<[=!]|\(\?[aiLmsux]|\(\?-|[\U000F0000-\U000FFFFF]")
_lock = threading.Lock()
_parsed_expansions: dict[str, object] = {}
_compiled: dict[str, re.Pattern] = {}


def compile_expanded(pattern: str, expansions: dict[str, str], wrap=lambda s: s) -> re.Pattern:
    """``re.compile(wrap(pattern with each {name} replaced by expansions[name]))``."""
    if expansions:
        final = wrap(_PLACEHOLDER.sub(lambda m: expansions[m.group(1)], pattern))
    else:
        final = wrap(pattern)
    hit = _compiled.get(final)
    if hit is not None:
        return hit
    compiled = None
    if expansions and _AVAILABLE and not _UNSAFE.search(pattern):
        try:
            compiled = _splice_compile(pattern, expansions, wrap, final)
        except Exception:  # noqa: BLE001 - any surprise: the plain path decides
            compiled = None
    if compiled is None:
        compiled = re.compile(final)
    with _lock:
        if len(_compiled) > 2048:
            _compiled.clear()
        _compiled[final] = compiled
    return compiled


def _expansion_tree(text: str):
    tree = _parsed_expansions.get(text)
    if tree is None:
        tree = _p.parse(text, 0)
        with _lock:
            if len(_parsed_expansions) > 64:  # bounded: admins edit lists over time
                _parsed_expansions.clear()
            _parsed_expansions[text] = tree
    return tree


def _splice_tree(pattern: str, expansions: dict[str, str], wrap):
    names: list[str] = []

    def mark(m: re.Match) -> str:
        names.append(m.group(1))
        return "(?:" + chr(_MARK_BASE + len(names) - 1) + ")"

    marked = wrap(_PLACEHOLDER.sub(mark, pattern))
    tree = _p.parse(marked, 0)
    if tree.state.flags & ~(re.UNICODE):
        return None
    trees = [_expansion_tree(expansions[n]) for n in names]
    replaced = [0]

    def walk(sub, behind: bool = False) -> None:
        sub.width = None  # widths were computed with the one-character markers
        data = sub.data
        for i, (op, av) in enumerate(data):
            if op is _c.LITERAL and av >= _MARK_BASE:
                if behind:  # a lookbehind must be fixed-width: let re.compile judge
                    raise ValueError("placeholder in a lookbehind")
                data[i] = (_c.SUBPATTERN, (None, 0, 0, trees[av - _MARK_BASE]))
                replaced[0] += 1
            elif op is _c.SUBPATTERN:
                walk(av[3], behind)
            elif op is _c.BRANCH:
                for alt in av[1]:
                    walk(alt, behind)
            elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) or op is getattr(
                _c, "POSSESSIVE_REPEAT", None
            ):
                walk(av[2], behind)
            elif op in (_c.ASSERT, _c.ASSERT_NOT):
                walk(av[1], behind or av[0] < 0)
            elif op is getattr(_c, "ATOMIC_GROUP", None):
                walk(av, behind)
            elif op is _c.GROUPREF_EXISTS:
                raise ValueError("conditional")

    walk(tree)
    if replaced[0] != len(names):
        return None  # a marker sat somewhere unexpected (a class): not this path
    return tree


def _splice_compile(pattern: str, expansions: dict[str, str], wrap, final: str):
    tree = _splice_tree(pattern, expansions, wrap)
    if tree is None:
        return None
    code = _rc._code(tree, 0)
    state = tree.state
    groupindex = state.groupdict
    indexgroup = [None] * state.groups
    for k, i in groupindex.items():
        indexgroup[i] = k
    return _sre.compile(
        final, state.flags, code, state.groups - 1, groupindex, tuple(indexgroup)
    )


def same_program(pattern: str, expansions: dict[str, str], wrap=lambda s: s) -> bool:
    """True when splicing generates exactly the code of compiling the expanded string (or
    when the splice path is not taken for this pattern)."""
    if not (_AVAILABLE and _PLACEHOLDER.search(pattern) and not _UNSAFE.search(pattern)):
        return True
    tree = _splice_tree(pattern, expansions, wrap)
    if tree is None:
        return True
    final = wrap(_PLACEHOLDER.sub(lambda m: expansions[m.group(1)], pattern))
    reference = _p.parse(final, 0)
    return _rc._code(tree, 0) == _rc._code(reference, 0) and (
        tree.state.flags == reference.state.flags
    )
