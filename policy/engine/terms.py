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
from operator import itemgetter

_START = itemgetter(0)  # a span's start

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
MASKS = "*#%?!"

# The term matcher runs over a "skeleton" of the folded text in which leetspeak characters
# are replaced by the letter they stand for (1:1, so offsets are unchanged). Each letter slot
# of the trie is then a literal, which the regex engine skips over much faster than a class.
# "1" stands for both i and l: it becomes "i", and an "l" slot also accepts "i". "!" is
# treated as a mask (sh!t) rather than an "i", because it far more often ends a word; "@"
# stays itself so that @handles survive.
_SKELETON_MAP = {
    "4": "a",
    "3": "e",
    "1": "i",
    "0": "o",
    "5": "s",
    "$": "s",
    "7": "t",
    "8": "b",
    "9": "g",
}
SKELETON_TABLE = str.maketrans(_SKELETON_MAP)
# The same mapping for ASCII text as a bytes table: bytes.translate is a plain table lookup
# per byte, several times faster than str.translate with a dict (1.6 -> 0.3 us a comment).
_SKELETON_BYTES = bytes.maketrans(
    "".join(_SKELETON_MAP).encode("ascii"), "".join(_SKELETON_MAP.values()).encode("ascii")
)


def skeleton(folded: str) -> str:
    """``folded.translate(SKELETON_TABLE)``, fast for ASCII text."""
    if folded.isascii():
        return folded.encode("ascii").translate(_SKELETON_BYTES).decode("ascii")
    return folded.translate(SKELETON_TABLE)
_LEET_LETTERS = "".join(sorted(set(_SKELETON_MAP.values()))) + "'*#%?!"
_SLOT_EXTRA = {"l": "i"}
_VALID_TERM = re.compile(r"^[a-z0-9'][a-z0-9' \-]*\*?$")


@dataclass(frozen=True, slots=True)
class TermSpec:
    text: str  # canonical letters (lower-case), spaces between phrase words
    prefix: bool


def handle_term(handle: str) -> str:
    """A social media handle as a phrase term: "@Jane_Doe.NHS" -> "jane doe nhs"."""
    return " ".join(re.split(r"[_.]+", str(handle).strip().lstrip("@")))


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


# The mask alternative of a letter slot. Exactly one mask needs no quantifier: "[..]{1,1}+"
# and "[..]" match the same, but the plain class is a smaller regex to parse and compile
# (the list expansions are compiled into many rule patterns; this is most of compile time).
_MASK_CLASS = "[" + MASKS.replace("%", "").replace("!", "") + "%!]"  # "[*#?%!]", no escapes


def _mask_regex(n: int) -> str:
    return _MASK_CLASS if n == 1 else f"{_MASK_CLASS}{{1,{n}}}+"


def _class(chars: str) -> str:
    """A character class, or the bare (escaped) character when there is only one."""
    if len(chars) == 1:
        return re.escape(chars)
    return "[" + chars.replace("\\", "\\\\").replace("]", "\\]").replace("^", "\\^").replace("-", "\\-").replace("[", "\\[") + "]"


def _slot_regex(slot: str, first: bool, skeleton: bool = False) -> str:
    ch = slot[0]
    if ch == " ":
        return r"[^a-z0-9]{1,3}+"
    if ch in "-'":
        return r"[\-' ]?+"
    n = len(slot)
    if skeleton:
        extra = _SLOT_EXTRA.get(ch)
        lit = re.escape(ch)
        letters = f"{lit}++" if n == 1 else f"{lit}{{{n},}}+"
        if extra:  # a single leet stand-in ("1" for l), never possessive over real letters
            letters = f"(?:{letters}|{extra}{{{n}}})"
        if first:
            return letters
        return f"(?:{letters}|{_mask_regex(n)})"
    cls = _class(ch + LEET.get(ch, ""))
    letters = f"{cls}++" if n == 1 else f"{cls}{{{n},}}+"
    if first:
        return letters
    return f"(?:{letters}|{_mask_regex(n)})"


class _Node:
    __slots__ = ("children", "leaves", "maskable")

    def __init__(self):
        self.maskable = False  # some term through this slot may be written with masks
        self.children: dict[str, _Node] = {}
        self.leaves: list[tuple[bool, str]] = []  # (prefix, group name)


def build_term_regex(terms: dict[TermSpec, str], maskable=None) -> re.Pattern | None:
    """Compile {TermSpec: group name} into one regex over the *skeleton* text
    (``folded.translate(SKELETON_TABLE)``); ``m.lastgroup`` names the term.

    Only terms in ``maskable`` (default: all) accept masked letters: a speed-gate word like
    "cant" must not claim "c*nts" before the profanity list sees it.
    """
    if not terms:
        return None
    root = _Node()
    for spec, group in terms.items():
        node = root
        masks = maskable is None or spec in maskable
        for slot in _slots(spec.text.translate(SKELETON_TABLE)):
            node = node.children.setdefault(slot, _Node())
            node.maskable |= masks
        node.leaves.append((spec.prefix, group))

    def gen(node: _Node, first: bool) -> str:
        alts = []
        for slot, child in sorted(node.children.items()):
            alts.append(
                _slot_regex(slot, first or not child.maskable, skeleton=True) + gen(child, False)
            )
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
    """A regex for ``{list}`` placeholders in patterns: the same obfuscation-proof trie as
    the term matcher (leetspeak, masks, repeats), without capturing groups."""
    root = _Node()
    for spec in specs:
        node = root
        for slot in _slots(spec.text):
            node = node.children.setdefault(slot, _Node())
        node.leaves.append((spec.prefix, ""))

    def gen(node: _Node, first: bool) -> str:
        alts = [
            _slot_regex(slot, first) + gen(child, False)
            for slot, child in sorted(node.children.items())
        ]
        kinds = {prefix for prefix, _ in node.leaves}
        if True in kinds:
            alts.append(r"[a-z]*+")
        if False in kinds:
            alts.append(r"(?:e?s)?(?![a-z0-9])")
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return "(?<![a-z0-9])" + gen(root, True)


# -- the fast path: tokens and set lookups -------------------------------------------------
# Tokens of the skeleton text: letters/digits with masks and apostrophes inside.
# (The inner run backtracks only to drop trailing apostrophes/question marks: linear.)
_TOKEN = re.compile(r"[a-z0-9](?:[a-z0-9'*#%?!]*[a-z0-9*])?")
_RUN = re.compile(r"([a-z])\1+")
_RUN3 = re.compile(r"([a-z])\1\1")
# Starts with the rare symbol so the regex engine can skip to candidates quickly.
_HAS_MASK = re.compile(r"[*#%](?<=[a-z][*#%])|[?!](?<=[a-z][?!])(?=[a-z])")


def _first_group(m: re.Match) -> str:
    return m.group(1)


def _collapse(word: str) -> str:
    # a function replacement: Python 3.11 expands a "\1" template in Python code on every
    # call, which made this 2.5x slower
    return _RUN.sub(_first_group, word)


def _short_word_regex(word: str) -> re.Pattern:
    """A one- or two-letter word as a whole word. The word comes first and the word-start
    check after it (a lookbehind over the word and the character before), so the regex
    engine can scan for the literal instead of trying the pattern at every position
    (2.4x faster than the same test written lookbehind first)."""
    w = re.escape(word)
    return re.compile(w + r"(?![a-z0-9])(?<![a-z0-9]" + w + ")")


class TermMatcher:
    """All term lists at once, in (almost) constant time per word.

    Whole words (with their plurals) are looked up in a dict after one C-level tokenisation;
    words with repeated letters are looked up again with every run collapsed ("fuuuck");
    prefix terms and phrases go through two small literal regexes; only a comment that
    contains masked letters (``f*ck``) pays for the full obfuscation-aware trie.
    ``find(skeleton)`` returns ``{tags: [(start, end), ...]}``, each list in text order.
    """

    __slots__ = (
        "_exact",
        "_collapsed",
        "_prefix_index",
        "_phrase_index",
        "_trie",
        "_group_tags",
        "_exact_keys",
        "_phrase_keys",
        "_short_regex",
        "_leet_exact",
    )

    def __init__(self, tagged: dict[str, list[str]], maskable_tags: set[str]):
        exact: dict[str, set[str]] = {}
        collapsed: dict[str, set[str]] = {}
        prefixes: dict[str, set[str]] = {}
        phrases: dict[str, set[str]] = {}
        trie_terms: dict[TermSpec, str] = {}
        group_tags: dict[str, set[str]] = {}
        for tag, terms in tagged.items():
            for raw in terms:
                spec = parse_term(raw)
                skel = spec.text.translate(SKELETON_TABLE)
                if tag in maskable_tags:  # only list terms may be written with masks
                    group = trie_terms.setdefault(spec, f"t{len(trie_terms)}")
                    group_tags.setdefault(group, set()).add(tag)
                if " " in skel or "-" in skel:
                    phrases.setdefault(skel, set()).add(tag)
                elif spec.prefix:
                    prefixes.setdefault(skel, set()).add(tag)
                else:
                    for form in (skel, skel + "s", skel + "es", skel + "'s"):
                        exact.setdefault(form, set()).add(tag)
                        collapsed.setdefault(_collapse(form), set()).add(tag)
                    if len(skel) >= 3:
                        # one letter doubled ("fuuck", "shiit") is a plain lookup; longer
                        # runs ("fuuuuck") go through the collapsed table below
                        for i in range(len(skel)):
                            if skel[i].isalpha():
                                form = skel[: i + 1] + skel[i:]
                                exact.setdefault(form, set()).add(tag)
                                exact.setdefault(form + "s", set()).add(tag)
        self._exact = {k: frozenset(v) for k, v in exact.items()}
        self._collapsed = {k: frozenset(v) for k, v in collapsed.items()}
        # prefix terms indexed by their first three letters: only tokens with such a head
        # are checked with startswith
        prefix_index: dict[str, list[tuple[str, frozenset]]] = {}
        for word, tags in prefixes.items():
            heads = {word[:3]}
            heads.update((word[: i + 1] + word[i:])[:3] for i in range(min(3, len(word))))
            for head in heads:  # "fuu" for "fuuck": a doubled letter in the head
                prefix_index.setdefault(head, []).append((word, frozenset(tags)))
        self._prefix_index = prefix_index
        # phrases indexed by their longest word: a phrase's own regex runs only when that
        # word is among the comment's tokens
        phrase_index: dict[str, list[tuple[frozenset, re.Pattern, frozenset]]] = {}
        for phrase, tags in phrases.items():
            words = [w for w in re.split(r"[ \-]", phrase) if w]
            key = max(words, key=len)
            regex, _ = _literal_regex({phrase: tags}, prefix=False)
            # the regex runs only when every word of the phrase is among the tokens
            phrase_index.setdefault(key, []).append((frozenset(words), regex, frozenset(tags)))
        self._phrase_index = phrase_index
        # set & set walks the smaller operand; set & dict would walk the whole dict
        self._exact_keys = frozenset(self._exact)
        # exact keys made wholly of leet stand-ins ("bet" may be "837"): checked per comment
        self._leet_exact = frozenset(k for k in self._exact if not k.strip(_LEET_LETTERS))
        self._phrase_keys = frozenset(phrase_index)
        self._short_regex = {w: _short_word_regex(w) for w in self._exact if len(w) <= 2}
        self._trie = build_term_regex(trie_terms)
        self._group_tags = {g: frozenset(v) for g, v in group_tags.items()}

    def find(self, skel: str, norm: str | None = None) -> dict[frozenset, list[tuple[int, int]]]:
        """Hits in ``skel`` as ``{tags: [(start, end), ...]}``, each list in text order; with
        ``norm`` (the folded text it came from), tokens that are only digits and symbols
        there are dropped."""
        letters = norm
        tokens = _TOKEN.findall(skel)
        if not tokens:
            return {}
        token_set = set(tokens)
        exact = self._exact
        exact_hits = token_set & self._exact_keys
        hit: dict[str, frozenset] = {tok: exact[tok] for tok in exact_hits}
        # words with repeated letters, looked up with the runs collapsed ("fuuuck")
        collapsed_of: dict[str, str] = {}
        if _RUN3.search(skel) is not None:
            for tok in token_set - self._exact_keys:
                if _RUN3.search(tok) is not None:
                    c = collapsed_of[tok] = _collapse(tok)
                    tags = self._collapsed.get(c)
                    if tags is not None:
                        hit[tok] = tags
        # prefix terms: only tokens whose first three letters start some prefix term
        index = self._prefix_index
        if index:
            # every token is checked against the prefix terms by its first three letters
            # (the filter runs as one comprehension; the loop body only for the few heads
            # that start a prefix term, or for words with collapsed runs; set order is kept)
            if collapsed_of:
                heads = [t for t in token_set if t[:3] in index or t in collapsed_of]
            else:
                heads = [t for t in token_set if t[:3] in index]
            for tok in heads:
                entries = index.get(tok[:3])
                form = tok
                if entries is None and tok in collapsed_of:
                    form = collapsed_of[tok]
                    entries = index.get(form[:3])
                if entries is not None:
                    collapsed_form = None
                    for word, tags in entries:
                        if form.startswith(word):
                            matched = True
                        else:
                            if collapsed_form is None:  # once per token, not per entry
                                collapsed_form = _collapse(form)
                            matched = collapsed_form.startswith(word)
                        if matched:
                            hit[tok] = hit[tok] | tags if tok in hit else tags
        # hits grouped by their tag set (a comment has few distinct hit words, and the
        # engine looks rules up per tag set): {tags: [(start, end), ...] in text order}
        groups: dict[frozenset, list[tuple[int, int]]] = {}
        mixed = False  # some tag set got spans from more than one word: sort it at the end
        if hit:
            if letters is not None:
                if len(hit) == len(exact_hits):  # only exact hits: precomputed leet test
                    suspects: set[str] | list[str] = exact_hits & self._leet_exact
                else:
                    suspects = [t for t in hit if not t.strip(_LEET_LETTERS)]
                for tok in suspects:
                    # only a token made wholly of leet stand-ins can be a number in disguise
                    pos = skel.find(tok)
                    if not _HAS_LETTER.search(letters, pos, pos + len(tok)):
                        del hit[tok]
            short = self._short_regex
            size = len(skel)
            for tok, tags in hit.items():
                spans = groups.get(tags)
                if spans is None:
                    spans = groups[tags] = []
                elif spans:
                    mixed = True
                if len(tok) <= 2:
                    # a one- or two-letter word occurs inside many words: use its own regex
                    regex = short.get(tok)
                    if regex is None:
                        regex = _short_word_regex(tok)
                    found = 0
                    for m in regex.finditer(skel):
                        spans.append(m.span())
                        found += 1
                        if found >= MAX_OCCURRENCES:
                            break
                else:
                    # whole-token occurrences (at most MAX_OCCURRENCES), inlined
                    n = len(tok)
                    pos = skel.find(tok)
                    found = 0
                    while pos >= 0:
                        end = pos + n
                        if (pos == 0 or skel[pos - 1] not in _WORD_CHARS) and (
                            end >= size or skel[end] not in _WORD_CHARS
                        ):
                            spans.append((pos, end))
                            found += 1
                            if found >= MAX_OCCURRENCES:
                                break
                        pos = skel.find(tok, end)
        keys = token_set & self._phrase_keys
        for key in keys:
            for words, regex, tags in self._phrase_index[key]:
                if words <= token_set:
                    for m in regex.finditer(skel):
                        mixed = _add_span(groups, tags, m.span()) or mixed
        if (
            self._trie is not None
            # a masked letter needs one of the mask characters: five memchr scans first
            and ("*" in skel or "?" in skel or "!" in skel or "#" in skel or "%" in skel)
            and _HAS_MASK.search(skel) is not None
        ):
            seen = {span for spans in groups.values() for span in spans}
            for m in self._trie.finditer(skel):
                if (
                    m.span() not in seen
                    and _HAS_MASK.search(m.group())
                    and (norm is None or _HAS_LETTER.search(norm, m.start(), m.end()))
                ):
                    tags = self._group_tags[m.lastgroup or ""]
                    mixed = _add_span(groups, tags, m.span()) or mixed
        if mixed:
            for spans in groups.values():
                if len(spans) > 1:
                    spans.sort(key=_START)
        return {tags: spans for tags, spans in groups.items() if spans}


def _add_span(groups: dict, tags: frozenset, span: tuple[int, int]) -> bool:
    """Append ``span`` to ``groups[tags]``; True when that list already held spans (from
    another word: the list then needs sorting into text order)."""
    spans = groups.get(tags)
    if spans is None:
        groups[tags] = [span]
        return False
    spans.append(span)
    return True


# Evidence, not a census: a giant comment repeating one word yields at most this many spans
# per word (keeps a pathological comment's verdict within the time budget).
MAX_OCCURRENCES = 20
_HAS_LETTER = re.compile("[a-z]")


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _literal_regex(words: dict[str, set[str]], *, prefix: bool):
    """One alternation of skeleton words (repeats allowed, no masks); group -> tags."""
    if not words:
        return None, {}
    alts, tags = [], {}
    for n, (word, word_tags) in enumerate(sorted(words.items(), key=lambda kv: -len(kv[0]))):
        body = "".join(_slot_regex(slot, True, skeleton=True) for slot in _slots(word))
        tail = r"[a-z0-9'*#%]*+" if prefix else r"(?:e?s)?(?![a-z0-9])"
        alts.append(f"{body}{tail}(?P<g{n}>)")
        tags[f"g{n}"] = frozenset(word_tags)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alts) + ")"), tags
