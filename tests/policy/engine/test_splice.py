"""Splicing parsed {list} expansions must produce exactly the program re.compile would."""

import re

from policy.engine import compile_ruleset, load_default_document
from policy.engine.schema import _alternation, word_start_pattern
from policy.engine.splice import compile_expanded, same_program
from policy.engine.terms import handle_term


def _lists(doc):
    lists = dict(doc["term_lists"])
    lists["staff_names"] = doc["staff"]["names"]
    lists["staff_handles"] = [handle_term(h) for h in doc["staff"]["handles"]]
    return lists


def test_default_rule_patterns_compile_to_the_same_program():
    doc = load_default_document()
    lists = _lists(doc)
    checked = 0
    for rule in doc["rules"]:
        for key in ("pattern", "context", "unless"):
            names = set(re.findall(r"\{([a-z][a-z0-9_]*)\}", rule.get(key, "")))
            if not names:
                continue
            expansions = {n: _alternation(tuple(lists[n])) for n in names}
            wrap = word_start_pattern if key == "pattern" else (lambda s: s)
            assert same_program(rule[key], expansions, wrap), (rule["id"], key)
            checked += 1
    assert checked >= 10


def test_spliced_pattern_matches_like_the_string():
    exp = {"animals": _alternation(("cat", "dog*", "guinea pig"))}
    spliced = compile_expanded("(?:my|your) {animals} (?:is|are) \\w+", exp)
    plain = re.compile("(?:my|your) " + exp["animals"] + " (?:is|are) \\w+")
    assert spliced.pattern == plain.pattern
    for text in ("my cat is lovely", "your d0gs are loud", "my guinea  pig is", "my scat is"):
        a, b = spliced.search(text), plain.search(text)
        assert (a and a.span()) == (b and b.span()), text


def test_placeholder_in_lookbehind_falls_back_to_re_compile():
    doc = load_default_document()
    doc["rules"][0] = dict(doc["rules"][0], pattern="(?<={profanity})x")
    doc["rules"][0].pop("terms", None)
    try:
        compile_ruleset(doc)
    except Exception as exc:  # RuleSetError: variable-width lookbehind
        assert "look-behind" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a variable-width lookbehind must be rejected")
