"""The engine's fast paths give exactly the answers of the plain regexes they replace.

Each fast path (substring searches before a regex, a literal-first regex instead of a
lookbehind-first one, a function replacement instead of a template) is checked against the
straightforward form on hand-picked edge cases and on random strings over an alphabet dense
in the characters that matter.
"""

import random
import re

import pytest

from policy.engine import compiler, terms
from policy.engine import detectors as det

LINK_HINT = re.compile(
    r"\.(?:com|net|org|uk|co|io|ly|gl|me|info|biz|tv|xyz|ru|example|online|site|shop|app|gg|us|"
    r"be|to|nhs|gov|edu|html|club|live|link|store|top|vip|win|bet|porn|xxx|sex|cam)(?![a-z0-9])"
    r"|hxxp|https?:|www\.| dot (?:com|net|org|co)|\[\.\]|\(\.\)|\(dot\)|\[dot\]"
)

EDGE_CASES = [
    "",
    "see www.example.com",
    "http://x",
    "https:",
    "http without colon",
    "hxxp[:]//bad",
    "go to bad dot com now",
    "a dot connected",
    "dot com",
    "example[.]org",
    "example(.)org",
    "example(dot)org",
    "example[dot]org",
    "the end.com",
    "end.comma",
    "nhs.uk",
    "u.s. army",
    "he he he",
    "the the he",
    "he",
    "he!",
    "she",
    "hehe he",
    "u r",
    "uu u",
    "fuuuuck",
    "aaa",
    "no digits here",
    "call 01522",
    "&#8220;quoted&#8221;",
]


def _random_strings(alphabet: str, n: int = 3000, seed: int = 11) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 40))) for _ in range(n)]


def test_link_hint_agrees_with_the_plain_regex():
    for text in EDGE_CASES + _random_strings("htpswx.:/[]()dotcmuk 0e"):
        assert det._link_hint(text) == (LINK_HINT.search(text) is not None), text


DETECTOR_HINT = re.compile(
    r"[0-9](?<![&#0-9][0-9])|@|\.[a-z]|hxxp| dot |\[\.\]|\(\.\)|\(dot\)|\[dot\]"
)


def test_detector_hint_agrees_with_the_plain_regex():
    for text in EDGE_CASES + _random_strings("0123456789&#@.a[]()dot hxp"):
        assert compiler._detector_hint(text) == (DETECTOR_HINT.search(text) is not None), text


def test_digit_checks_agree_with_the_plain_regexes():
    for text in EDGE_CASES + _random_strings("0123456789a &#"):
        assert det.has_digit(text) == (re.search(r"[0-9]", text) is not None), text
        assert det._digit_group(text) == (det._DIGIT_GROUP.search(text) is not None), text


@pytest.mark.parametrize("word", ["he", "u", "ur", "a", "i"])
def test_short_word_regex_finds_the_same_spans_as_a_lookbehind(word):
    plain = re.compile(r"(?<![a-z0-9])" + re.escape(word) + r"(?![a-z0-9])")
    fast = terms._short_word_regex(word)
    for text in EDGE_CASES + _random_strings("heurai 0!", n=2000):
        assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)], text


def test_collapse_squeezes_every_run_of_a_letter():
    for text in ["fuuuuck", "shiiit", "aabbcc", "", "abc", "zzz top", "b00bs"] + _random_strings("ab0 ", 500):
        assert terms._collapse(text) == re.sub(r"([a-z])\1+", r"\1", text)
