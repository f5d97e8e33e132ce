"""One normalisation pass: fold a comment to lower-case ASCII-ish text, keeping a map back.

The folding table is built once at import and applied with ``str.translate`` (C speed):

* compatibility forms (fullwidth ``ｆｕｃｋ``, mathematical bold, circled letters) and accents
  fold through NFKD to their base letter; small capitals (``ᴄᴜɴᴛꜱ``) fold by their Unicode
  name; a short table folds Cyrillic/Greek look-alikes (``сunt`` with a Cyrillic ``с``);
* zero-width and other format characters, combining marks and NUL are deleted;
* every other character maps to exactly one character, so offsets only move where
  characters were deleted.

Leetspeak, masked letters and repeated letters are *not* folded here: the term matcher
handles them in its patterns, because folding ``1`` to ``i`` would break phone numbers.

Spaced-out words (``F U C K``, ``f.u.c.k``) are joined in a second step, only when the cheap
spaced-letter pattern matches.

``normalize(text)`` returns ``Normalized(text, offsets)``; ``offsets`` is ``None`` when the
folded text lines up with the original character for character, otherwise a list with one
original index per folded character plus a final entry for the end.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from typing import NamedTuple

_CONFUSABLES = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ԁ": "d",
    "һ": "h",
    "ԛ": "q",
    "ԝ": "w",
    "ү": "y",
    "ɡ": "g",
    # Greek
    "α": "a",
    "β": "b",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "γ": "y",
    "ω": "w",
    # Latin look-alikes that NFKD leaves alone
    "ı": "i",
    "ł": "l",
    "ø": "o",
    "đ": "d",
    "ħ": "h",
    "ŧ": "t",
    "ƒ": "f",
    "ß": "s",
    "ɑ": "a",
    "ɛ": "e",
    "ɪ": "i",
    "ʏ": "y",
    "ʀ": "r",
    "ɴ": "n",
    "ʜ": "h",
    "ʟ": "l",
    "ɢ": "g",
    "ʙ": "b",
    # punctuation people use in place of ASCII
    "\u2018": "'",
    "\u2019": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u02bc": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
}

_SMALL_CAPITAL = re.compile(r"LATIN LETTER SMALL CAPITAL ([A-Z])$")

# Ranges worth folding: everything in the BMP plus the mathematical alphanumerics and the
# enclosed alphanumerics supplement (𝐟𝐮𝐜𝐤, 🅵🆄🅲🅺). Other astral characters (emoji) pass through.
_RANGES = ((0x80, 0x10000), (0x1D400, 0x1D800), (0x1F100, 0x1F200))


def _build_table() -> dict[int, int | None]:
    table: dict[int, int | None] = {0: None}
    for lo, hi in _RANGES:
        for cp in range(lo, hi):
            if 0xD800 <= cp < 0xE000:  # surrogates and private use: leave alone
                continue
            ch = chr(cp)
            cat = unicodedata.category(ch)
            if cat == "Cf" or cat == "Mn" or cat == "Me":
                table[cp] = None  # zero-width, bidi controls, combining marks
                continue
            folded = _CONFUSABLES.get(ch) or _CONFUSABLES.get(ch.lower())
            if folded is None:
                name = unicodedata.name(ch, "")
                m = _SMALL_CAPITAL.search(name)
                if m:
                    folded = m.group(1).lower()
                else:
                    decomposed = "".join(
                        c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
                    ).lower()
                    if len(decomposed) == 1:
                        folded = _CONFUSABLES.get(decomposed, decomposed)
                    elif cat.startswith("Z"):
                        folded = " "
                    else:
                        low = ch.lower()
                        folded = low if len(low) == 1 else None
            if cat.startswith("Z") or ch in "\u2028\u2029\x85":
                folded = " "
            if folded is not None and folded != ch:
                table[cp] = ord(folded)
    return table


_TABLE = _build_table()
# ASCII upper-case letters are handled by str.lower() on the fast path; add them for the slow one.
for _cp in range(ord("A"), ord("Z") + 1):
    _TABLE[_cp] = _cp + 32
_DELETED = frozenset(cp for cp, v in _TABLE.items() if v is None)


def _class_of(cps) -> str:
    """A regex character class of exactly these code points (as ranges)."""
    parts = []
    run_start = prev = None
    for cp in sorted(cps):
        if prev is not None and cp == prev + 1:
            prev = cp
            continue
        if run_start is not None:
            parts.append((run_start, prev))
        run_start = prev = cp
    if run_start is not None:
        parts.append((run_start, prev))
    return "[" + "".join(
        f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in parts
    ) + "]"


# The deleted characters as one class: their positions come from one C-level scan instead
# of a Python loop over every character of the comment.
_DELETED_RE = re.compile(_class_of(_DELETED))

# Three or more single letters separated by the same kind of gap: "f u c k", "f.u.c.k".
_SPACED = re.compile(r"(?<![a-z0-9])[a-z*](?:[ .\-_]{1,2}[a-z*]){2,}(?![a-z0-9])")
_GAPS = re.compile(r"[ .\-_]")
# A necessary condition for _SPACED, several times cheaper to search for: the second
# single letter of a spaced run has a gap before it, and a gap then a single letter after.
# (The regex starts with a plain class, so the engine skips straight to gap characters.)
_SPACED_HINT = re.compile(r"[ .\-_][a-z*][ .\-_]{1,2}[a-z*](?![a-z0-9])")


class Normalized(NamedTuple):
    text: str
    offsets: list[int] | None  # None: identity mapping

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the folded text back to the original text."""
        if self.offsets is None:
            return start, end
        offs = self.offsets
        if end <= start:
            return offs[start], offs[start]
        return offs[start], offs[end - 1] + 1


def normalize(text: str) -> Normalized:
    if text.isascii():
        folded = text.lower()
        offsets = None
        if "\x00" in folded:
            folded, offsets = _slow(text)
    else:
        folded = text.translate(_TABLE)
        offsets = None
        if len(folded) != len(text):
            folded, offsets = _slow(text)
    if _SPACED_HINT.search(folded) is not None and _SPACED.search(folded) is not None:
        folded, offsets = _join_spaced(folded, offsets)
    return Normalized(folded, offsets)


def _slow(text: str) -> tuple[str, list[int]]:
    """Fold with deletions, recording the original index of every kept character."""
    folded = text.translate(_TABLE)
    if (len(text) - len(folded)) * 8 > len(text):  # dense deletions: one pass per character
        offsets = [i for i, ch in enumerate(text) if ord(ch) not in _DELETED]
    else:  # a few deleted characters (a BOM, a zero-width space): copy the runs between them
        offsets = []
        prev = 0
        for m in _DELETED_RE.finditer(text):
            pos = m.start()
            offsets.extend(range(prev, pos))
            prev = pos + 1
        offsets.extend(range(prev, len(text)))
    assert len(folded) == len(offsets)
    offsets.append(len(text))
    return folded, offsets


def _join_spaced(folded: str, offsets: list[int] | None) -> tuple[str, list[int]]:
    if offsets is None:
        offsets = list(range(len(folded) + 1))
    out: list[str] = []
    new_offsets: list[int] = []
    pos = 0
    for m in _SPACED.finditer(folded):
        out.append(folded[pos : m.start()])
        new_offsets.extend(offsets[pos : m.start()])
        for i in range(m.start(), m.end()):
            if folded[i] not in " .-_":
                out.append(folded[i])
                new_offsets.append(offsets[i])
        pos = m.end()
    out.append(folded[pos:])
    new_offsets.extend(offsets[pos:])
    return "".join(out), new_offsets


if __name__ == "__main__":  # pragma: no cover - manual check
    print(normalize(" ".join(sys.argv[1:])))
