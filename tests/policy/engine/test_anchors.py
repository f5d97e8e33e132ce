"""Anchored rules are tried wherever their pattern can start, whatever words were declared."""

import pytest

from policy.engine import compile_ruleset, load_default_document
from policy.engine.anchors import leading_terms


@pytest.mark.parametrize(
    "pattern, terms, lists",
    [
        ("(?:want|wish) to complain|complain(?:ing)? about", {"want", "wish", "complain", "complaining"}, set()),
        ("lock(?:s|ed|ing)? (?:them|her)", {"lock", "locks", "locked", "locking"}, set()),
        ("suicid\\w*|end it all", {"suicid*", "end"}, set()),
        ("(?:fallen|fell|falls|fall) (?:out|over)", {"fallen", "fell", "falls", "fall"}, set()),
        ("\\b(?:i|we)(?:'ll| will|) hurt", {"i", "i'll", "we", "we'll"}, set()),
        ("{identity_groups} are|{slurs} like", set(), {"identity_groups", "slurs"}),
        ("(?:the )?worst", {"the", "worst"}, set()),
        ("(?:(?<=\\bi )|(?<=\\bwe ))know where", {"know"}, set()),  # a lookbehind is not the start
    ],
)
def test_leading_terms_are_read_from_the_pattern(pattern, terms, lists):
    assert leading_terms(pattern) == (terms, lists)


@pytest.mark.parametrize(
    "pattern",
    ["[0-9]{1,2} patients", "\\w+ is dead", "(?=x)abc", " leading space", "a?", "(?:no)?"],
)
def test_a_start_that_is_not_words_cannot_anchor(pattern):
    assert leading_terms(pattern) is None


def _doc(pattern: str, anchor: str = "triggers") -> dict:
    doc = load_default_document()
    doc["rules"] = [
        {
            "id": "t-rule",
            "category": "complaint",
            "clause": "test",
            "anchor": anchor,
            "triggers": ["complaint"],
            "pattern": pattern,
        }
    ]
    return doc


def test_a_branch_starting_with_an_undeclared_word_still_fires():
    matcher = compile_ruleset(_doc("(?:want|wish) to complain|formal complaint"))
    for text in ("I want to complain about my care", "I'd like to make a formal complaint"):
        verdict = matcher.evaluate(text)
        assert [hit.id for hit in verdict.rules] == ["t-rule"], text
    assert matcher.evaluate("the complaint form was easy").rules == ()


def test_an_unreadable_start_falls_back_to_trying_wherever_the_triggers_are():
    matcher = compile_ruleset(_doc("[0-9]+ days waiting for a complaint reply"))
    assert [h.id for h in matcher.evaluate("40 days waiting for a complaint reply").rules] == ["t-rule"]
    assert matcher.evaluate("40 days waiting for a reply").rules == ()  # no trigger, not tried


def test_every_default_anchored_rule_is_anchored_where_it_can_start():
    doc = load_default_document()
    matcher = compile_ruleset(doc)
    declared = {r["id"] for r in doc["rules"] if r.get("anchor") and r.get("enabled", True)}
    rules = {r.id: r for r in matcher._rules}
    for rule_id in declared:
        rule = rules[rule_id]
        if rule.anchor is None:  # unreadable start: must then be gated by its declared anchor
            assert rule.gates, rule_id
        else:
            assert rule.gates == {rule.anchor}, rule_id
