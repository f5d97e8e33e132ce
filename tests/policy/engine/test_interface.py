"""The public interface other apps code against: names, shapes, JSON-native output."""

import copy
import json
from datetime import datetime, timezone

import pytest

from policy.engine import (
    AuthorHistory,
    RuleSetError,
    Verdict,
    WorkingCalendar,
    compile_ruleset,
    load_default_document,
)

TUESDAY_MORNING = datetime(2026, 3, 3, 10, 15, tzinfo=timezone.utc)
TUESDAY_NIGHT = datetime(2026, 3, 3, 22, 40, tzinfo=timezone.utc)


def test_default_document_is_json_native_and_fresh():
    doc = load_default_document()
    assert json.loads(json.dumps(doc)) == doc
    doc["rules"].clear()
    assert load_default_document()["rules"], "callers get a copy, not the cached original"


def test_clean_comment_is_allowed(matcher):
    v = matcher.evaluate("Great to see the new clinic open!", platform="facebook")
    assert isinstance(v, Verdict)
    assert (v.action, v.escalation, v.signpost, v.categories, v.rules) == (
        "allow",
        "none",
        "none",
        (),
        (),
    )
    assert v.auto_apply is False and v.reply_template is None


def test_spans_point_into_the_original_text(matcher):
    text = "Total ｃ\u200b*ｎｔｓ, the lot of them"
    v = matcher.evaluate(text, platform="youtube")
    assert v.action == "hide"
    hit = next(h for h in v.rules if h.category == "profanity")
    ((start, end, matched),) = hit.spans
    assert text[start:end] == matched == "ｃ\u200b*ｎｔｓ"
    assert hit.clause.startswith("Section 9")


def test_as_dict_is_json_native(matcher):
    v = matcher.evaluate("i'll stab you, sh1t", received_at=TUESDAY_MORNING)
    d = json.loads(json.dumps(v.as_dict()))
    assert d["action"] == "hide" and d["escalation"] == "urgent"
    assert {"threat", "profanity"} <= set(d["categories"])
    assert all({"id", "clause", "spans", "category"} <= set(r) for r in d["rules"])


def test_urgent_becomes_duty_manager_out_of_hours(matcher):
    text = "I know where she lives"
    assert matcher.evaluate(text, received_at=TUESDAY_MORNING).escalation == "urgent"
    assert matcher.evaluate(text, received_at=TUESDAY_NIGHT).escalation == "duty_manager"
    saturday = datetime(2026, 3, 7, 13, 5, tzinfo=timezone.utc)
    assert matcher.evaluate(text, received_at=saturday).escalation == "duty_manager"


def test_matcher_calendar_comes_from_document():
    doc = load_default_document()
    doc["working_hours"]["start"] = "08:00"
    m = compile_ruleset(doc)
    assert isinstance(m.calendar, WorkingCalendar)
    assert m.calendar.is_working_time(datetime(2026, 3, 3, 8, 30, tzinfo=timezone.utc))


def test_repeat_offender_gets_block_recommendation(matcher):
    bad = "you absolute sh1t"
    assert matcher.evaluate(bad, author=AuthorHistory(recent_violations=2)).action == "hide"
    v = matcher.evaluate(bad, author=AuthorHistory(recent_violations=3))
    assert v.action == "block" and v.auto_apply is False
    # history alone never removes a clean comment
    assert (
        matcher.evaluate("thanks for the info", author=AuthorHistory(recent_violations=9)).action
        == "allow"
    )


def test_repeated_identical_posts_are_spam(matcher):
    text = "Great video everyone"
    assert matcher.evaluate(text, author=AuthorHistory(recent_texts=(text,))).action == "allow"
    v = matcher.evaluate(
        text, author=AuthorHistory(recent_texts=(text, "GREAT  video everyone", "other"))
    )
    assert v.action == "hide" and "advertising" in v.categories


def test_auto_apply_follows_rule_flag(matcher):
    assert matcher.evaluate("absolute sh1t service").auto_apply is True
    assert (
        matcher.evaluate("I know where she lives", received_at=TUESDAY_MORNING).auto_apply is False
    )


def test_safeguarding_and_crisis_never_auto_deleted():
    doc = load_default_document()
    for rule in doc["rules"]:
        if rule["category"] in ("crisis", "safeguarding"):
            rule["action"] = "delete"
            rule["auto_apply"] = True
    m = compile_ruleset(doc)
    v = m.evaluate("I just want to end it all tonight", received_at=TUESDAY_NIGHT)
    assert v.action == "delete" and v.auto_apply is False
    assert v.escalation == "duty_manager" and v.signpost == "crisis"


def test_reply_template_follows_signpost(matcher):
    v = matcher.evaluate("Can I take ibuprofen after my booster?")
    assert v.signpost == "clinical"
    assert v.reply_template == load_default_document()["reply_templates"]["clinical"]


@pytest.mark.parametrize(
    "mutate, path",
    [
        (lambda d: d["rules"][3].__setitem__("pattern", "abc(def"), "rules[3].pattern"),
        (lambda d: d["rules"][0].__setitem__("category", "rude"), "rules[0].category"),
        (lambda d: d["rules"][1].__setitem__("id", d["rules"][0]["id"]), "rules[1].id"),
        (lambda d: d["rules"][0].pop("clause"), "rules[0].clause"),
        (lambda d: d["term_lists"]["profanity"].append("bad term!"), "term_lists.profanity["),
        (lambda d: d["working_hours"].__setitem__("start", "9am"), "working_hours.start"),
        (lambda d: d["categories"]["hate"].__setitem__("action", "nuke"), "categories.hate.action"),
        (lambda d: d["rules"][0].__setitem__("terms", ["nope"]), "rules[0].terms[0]"),
        (lambda d: d["rules"][0].__setitem__("pattern", "x"), "rules[0]"),
    ],
)
def test_invalid_documents_name_the_path(mutate, path):
    doc = copy.deepcopy(load_default_document())
    doc["rules"][3].pop("terms", None)
    doc["rules"][3].pop("detector", None)
    doc["rules"][3].setdefault("pattern", "ok")
    mutate(doc)
    with pytest.raises(RuleSetError) as err:
        compile_ruleset(doc)
    assert str(err.value).startswith(path)
    assert err.value.path.startswith(path.rstrip("["))


def test_unbalanced_parenthesis_reports_position():
    doc = load_default_document()
    doc["rules"][3] = {"id": "x", "category": "abuse", "clause": "c", "pattern": "abc)def"}
    with pytest.raises(RuleSetError) as err:
        compile_ruleset(doc)
    assert str(err.value) == "rules[3].pattern: unbalanced parenthesis at position 3"


def test_disabled_rule_does_not_fire():
    doc = load_default_document()
    for rule in doc["rules"]:
        if rule["id"] == "profanity-terms":
            rule["enabled"] = False
    assert compile_ruleset(doc).evaluate("absolute sh1t service").action == "allow"


def _doc_with_rule(rule):
    doc = load_default_document()
    doc["rules"].append({"id": "extra", "category": "hate", "clause": "Section 9", **rule})
    return doc


def test_near_rule_and_its_validation():
    doc = _doc_with_rule({"near": ["identity_groups", "group_slander"], "within": 20})
    m = compile_ruleset(doc)
    assert "extra" in [h.id for h in m.evaluate("immigrants, frankly, vermin").rules]
    # too far apart, or on another line: no hit from this rule
    assert "extra" not in [
        h.id for h in m.evaluate("immigrants arrived today and later we saw some vermin").rules
    ]
    assert "extra" not in [h.id for h in m.evaluate("immigrants\nvermin").rules]
    with pytest.raises(RuleSetError) as err:
        compile_ruleset(_doc_with_rule({"near": ["identity_groups", "nope"]}))
    assert err.value.path == f"rules[{len(doc['rules']) - 1}].near[1]"


def test_anchor_and_triggers_validation():
    with pytest.raises(RuleSetError) as err:
        compile_ruleset(_doc_with_rule({"pattern": "x", "anchor": "triggers"}))
    assert err.value.path.endswith(".anchor")
    with pytest.raises(RuleSetError) as err:
        compile_ruleset(_doc_with_rule({"pattern": "x", "triggers": ["ok", "bad term!"]}))
    assert err.value.path.endswith(".triggers[1]")
    m = compile_ruleset(
        _doc_with_rule({"pattern": "zebra crossing", "triggers": ["zebra"], "anchor": "triggers"})
    )
    assert [h.id for h in m.evaluate("the zebra crossing outside").rules] == ["extra"]
    assert m.evaluate("a crossing for zebras").rules == ()


def test_verdicts_read_the_same_in_every_process():
    """Rule and category order must not depend on Python's per-process string hashing."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import json; from policy.engine import compile_ruleset, load_default_document;"
        "m = compile_ruleset(load_default_document());"
        "texts = ['Karen from the Spalding practice lives at 14 Acacia Road PE11 2AB, f*cking liar, go tell her',"
        " 'Total c*nts, I will smash your windows tonight, call me on 07700 900123'];"
        "print(json.dumps([m.evaluate(t, platform='facebook').as_dict() for t in texts]))"
    )
    root = Path(__file__).resolve().parents[3]
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    assert len(json.loads(outputs.pop())[0]["rules"]) >= 2
