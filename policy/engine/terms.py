"""Term matching that survives obfuscation, compiled into one trie-shaped regex.

Term syntax (in the document's ``term_lists``):

* ``word``     whole word, plural ``s``/``es`` allowed (``cunt`` matches ``cunts`` but
  ``dick`` never matches ``Dickens`` and ``cock`` never ``cocktail`` / ``Cockermouth``);
* ``word*``    prefix (``fuck*`` matches ``fucking``, ``fucker``);
* ``two words`` phrase: any run of 1-3 non-alphanumerics between the words.

Every letter slot also accepts its leetspeak digits/symbols (``sh1t``, ``$hit``, ``pr1ck``),
any number of repeats (``fuuuuck``), and, except the first letter, one masking character
per letter (``f*ck``, ``c*nts``, ``sh#t``). Case, fullwidth, small capitals, confusables and
zero-width characters were already folded by :mod:`policy.engine.normalize`, and spaced
letters (``F U C K``) joined.

Matching happens only at a word start and must end at a word end, so a term never fires
inside an innocent word (Scunthorpe, Penistone, Essex, Sussex, Shitterton). Quantifiers are
possessive and the masks count exactly one letter each, so there is no backtracking blow-up
on long runs of one character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEET = {
    "a": "4@",
    "b": "8",
    "c": "(",
    "e": "3",
    "g": "9",
    "i": "1!|",
    "l": "1|",
    "o": "0",
    "s": "5$",
    "t": "7+",
    "z": "2",
}
MASKS = "*#%?"
_VALID_TERM = re.compile(r"^[a-z0-9'][a-z0-9' \-]*\*?$")


@dataclass(frozen=True, slots=True)
class TermSpec:
    text: str  # canonical letters (lower-case), spaces between phrase words
    prefix: bool


def parse_term(raw: str) -> TermSpec:
    term = " ".join(str(raw).strip().lower().split())
    if not term or not _VALID_TERM.match(term):
        raise ValueError(
            f"invalid term {raw!r}: use letters, digits, apostrophes, hyphens and spaces, "
            "optionally ending in * for a prefix"
        )
    prefix = term.endswith("*")
    return TermSpec(term.rstrip("*").strip(), prefix)


def _slots(text: str) -> list[str]:
    """Split a term into runs of the same character: "ass" -> ["a", "ss"]."""
    out: list[str] = []
    for ch in text:
        if out and out[-1][0] == ch and ch != " ":
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _slot_regex(slot: str, first: bool) -> str:
    ch = slot[0]
    if ch == " ":
        return r"[^a-z0-9]{1,3}+"
    if ch in "-'":
        return r"[\-' ]?+"
    cls = re.escape(ch + LEET.get(ch, ""))
    n = len(slot)
    letters = f"[{cls}]++" if n == 1 else f"[{cls}]{{{n},}}+"
    if first:
        return letters
    return f"(?:{letters}|[{re.escape(MASKS)}]{{1,{n}}}+)"


class _Node:
    __slots__ = ("children", "leaves")

    def __init__(self):
        self.children: dict[str, _Node] = {}
        self.leaves: list[tuple[bool, str]] = []  # (prefix, group name)


def build_term_regex(terms: dict[TermSpec, str]) -> re.Pattern | None:
    """Compile {TermSpec: group name} into one regex; ``m.lastgroup`` names the term."""
    if not terms:
        return None
    root = _Node()
    for spec, group in terms.items():
        node = root
        for slot in _slots(spec.text):
            node = node.children.setdefault(slot, _Node())
        node.leaves.append((spec.prefix, group))

    def gen(node: _Node, first: bool) -> str:
        alts = []
        for slot, child in sorted(node.children.items()):
            alts.append(_slot_regex(slot, first) + gen(child, False))
        for prefix, group in node.leaves:
            if prefix:
                alts.append(f"[a-z]*+(?P<{group}>)")
            else:
                alts.append(f"(?:e?s)?(?![a-z0-9])(?P<{group}>)")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    return re.compile(r"(?<![a-z0-9])" + gen(root, True))


def term_alternation(specs: list[TermSpec]) -> str:
    """A plain (no leetspeak) regex alternation for ``{list}`` placeholders in patterns."""
    parts = []
    for spec in sorted(specs, key=lambda s: -len(s.text)):
        body = r"[^a-z0-9]{1,3}".join(re.escape(w) for w in spec.text.split(" "))
        parts.append(body + (r"[a-z]*" if spec.prefix else r"(?:e?s)?(?![a-z0-9])"))
    return "(?:" + "|".join(parts) + ")"
