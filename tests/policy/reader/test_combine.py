"""The safety rules of the combined verdict (policy/reader/combine.py), one test each.

Readings are built as values here (what the model would report), so each rule is tested on
exactly the case it is about."""

import json
from datetime import datetime, timezone

import pytest

from policy.engine import RuleHit, Verdict
from policy.reader import Finding, Reading, ReaderSettings, combine

WEDNESDAY_11 = datetime(2026, 3, 4, 11, 0, tzinfo=timezone.utc)
SATURDAY_NIGHT = datetime(2026, 3, 7, 22, 30, tzinfo=timezone.utc)


def reading(*findings, flag_score=0.1, clear_below=0.0):
    return Reading(
        embedder="test",
        scores={f.category: f.score for f in findings},
        findings=tuple(findings),
        flag_score=flag_score,
        flag_threshold=0.4,
        clear_below=clear_below,
    )


def found(category, score=0.9, *, source="head", example=None, similarity=None):
    return Finding(category, score, 0.6, source, example, similarity)


def test_model_crisis_escalates_by_the_working_calendar(matcher):
    rules = matcher.evaluate("Can't see the point any more", received_at=WEDNESDAY_11)
    assert rules.escalation == "none"
    r = reading(found("crisis"))
    day = combine(rules, r, matcher=matcher, received_at=WEDNESDAY_11)
    night = combine(rules, r, matcher=matcher, received_at=SATURDAY_NIGHT)
    assert (day.escalation, night.escalation) == ("urgent", "duty_manager")
    assert day.signpost == "crisis" and day.reply_template == matcher.reply_template("crisis")
    assert day.action == "allow" and not day.disputed


@pytest.mark.parametrize("category", ["threat", "patient_safety"])
def test_model_threat_and_patient_safety_escalate_like_the_rules(matcher, category):
    v = combine(Verdict(), reading(found(category)), matcher=matcher, received_at=SATURDAY_NIGHT)
    assert v.escalation == "duty_manager"


def test_model_never_lowers_an_escalation(matcher):
    rules = Verdict(escalation="safeguarding", categories=("safeguarding",))
    v = combine(rules, reading(found("crisis")), matcher=matcher, received_at=WEDNESDAY_11)
    assert v.escalation == "safeguarding"  # outranks urgent
    rules = Verdict(escalation="duty_manager", categories=("threat",), action="hide")
    v = combine(rules, reading(), matcher=matcher, received_at=WEDNESDAY_11)
    assert v.escalation == "duty_manager"  # the model found nothing: the rules' stands


def test_signposts_fill_gaps_and_crisis_wins(matcher):
    rules = Verdict(signpost="complaints", categories=("complaint",))
    v = combine(rules, reading(found("clinical_question")), matcher=matcher, received_at=WEDNESDAY_11)
    assert v.signpost == "complaints"  # the rules had one
    v = combine(Verdict(), reading(found("clinical_question")), matcher=matcher, received_at=WEDNESDAY_11)
    assert v.signpost == "clinical" and v.reply_template == matcher.reply_template("clinical")
    v = combine(rules, reading(found("crisis")), matcher=matcher, received_at=WEDNESDAY_11)
    assert v.signpost == "crisis"


def test_a_removal_only_the_model_reads_is_disputed_hidden_and_not_applied(matcher):
    v = combine(Verdict(), reading(found("threat", 0.97)), matcher=matcher, received_at=WEDNESDAY_11)
    assert v.action == "hide" and v.disputed and v.auto_apply is False
    assert v.model["disputed_because"].startswith("the model reads")


def test_the_model_alone_never_deletes_or_blocks(matcher):
    v = combine(Verdict(), reading(found("hate", 0.99), found("threat", 0.99)), matcher=matcher)
    assert v.action == "hide"


def test_auto_hide_only_when_the_rule_set_enables_it_above_its_threshold(matcher):
    settings = ReaderSettings.from_document({"reader": {"auto_hide": {"advertising": 0.9}}})
    high = combine(Verdict(), reading(found("advertising", 0.95)), matcher=matcher, settings=settings)
    low = combine(Verdict(), reading(found("advertising", 0.85)), matcher=matcher, settings=settings)
    other = combine(Verdict(), reading(found("abuse", 0.99)), matcher=matcher, settings=settings)
    by_example = combine(
        Verdict(), reading(found("advertising", 0.2, source="example", example="x", similarity=0.9)),
        matcher=matcher, settings=settings,
    )
    off = combine(Verdict(), reading(found("advertising", 0.99)), matcher=matcher)
    assert high.auto_apply is True and high.action == "hide"
    assert [low.auto_apply, other.auto_apply, by_example.auto_apply, off.auto_apply] == [False] * 4


def test_readers_agreeing_on_a_removal_keep_the_rules_verdict(matcher):
    rules = matcher.evaluate("what a load of sh1te", received_at=WEDNESDAY_11)
    assert rules.action == "hide" and rules.auto_apply
    v = combine(rules, reading(found("profanity")), matcher=matcher, received_at=WEDNESDAY_11)
    assert (v.action, v.auto_apply, v.disputed) == ("hide", True, False)


def test_a_rules_removal_the_model_reads_as_fine_is_disputed(matcher):
    clear = reading(flag_score=0.01, clear_below=0.05)
    assert clear.clear
    swearing = matcher.evaluate("what a load of sh1te", received_at=WEDNESDAY_11)
    v = combine(swearing, clear, matcher=matcher, received_at=WEDNESDAY_11)
    # swearing is exact: it stays hidden, but a person decides
    assert (v.action, v.auto_apply, v.disputed) == ("hide", False, True)
    violent = Verdict(action="hide", categories=("violence",), auto_apply=True,
                      rules=(RuleHit("violent-words", "violence", "Section 9", ((0, 4, "kill"),)),))
    v = combine(violent, clear, matcher=matcher, received_at=WEDNESDAY_11)
    assert (v.action, v.auto_apply, v.disputed) == ("allow", False, True)
    assert "kept up" in v.model["disputed_because"]
    unsure = reading(flag_score=0.2, clear_below=0.05)
    assert not combine(violent, unsure, matcher=matcher).disputed


def test_concerns_carry_no_removal_negative_opinion_stays_up(matcher):
    v = combine(Verdict(), reading(found("complaint"), found("reputation")), matcher=matcher,
                received_at=WEDNESDAY_11)
    assert v.action == "allow" and not v.disputed
    assert v.escalation == "urgent"  # reputation escalates as the rule set maps it


def test_every_model_contribution_is_explained(matcher):
    f = found("threat", 0.91, example="If my son dies in there, that doctor won't see next week", similarity=0.83)
    v = combine(Verdict(), reading(f), matcher=matcher, received_at=WEDNESDAY_11)
    (hit,) = [h for h in v.rules if h.id == "model.threat"]
    assert hit.category == "threat" and hit.spans == ()
    assert "0.91" in hit.clause and "0.60" in hit.clause and "If my son dies" in hit.clause
    d = json.loads(json.dumps(v.as_dict()))
    assert d["disputed"] is True and "threat" in d["categories"]
    assert d["model"]["findings"][0] == {
        "category": "threat", "score": 0.91, "threshold": 0.6, "source": "head",
        "example": "If my son dies in there, that doctor won't see next week", "similarity": 0.83,
        "removes": True,
    }


def test_rules_only_verdicts_read_as_before(matcher):
    d = matcher.evaluate("hello").as_dict()
    assert d["disputed"] is False and d["model"] is None
    assert combine(Verdict(action="hide"), None, matcher=matcher) == Verdict(action="hide")


def test_a_threat_the_flag_head_does_not_back_escalates_but_stays_up(matcher):
    unbacked = Finding("threat", 0.8, 0.6, "head", removes=False)
    v = combine(Verdict(), reading(unbacked), matcher=matcher, received_at=SATURDAY_NIGHT)
    assert (v.action, v.escalation, v.disputed) == ("allow", "duty_manager", False)
    assert "escalated only" in next(h.clause for h in v.rules if h.id == "model.threat")
    # an unbacked category without an escalation contributes nothing but the record
    v = combine(Verdict(), reading(Finding("hate", 0.8, 0.6, "head", removes=False)), matcher=matcher)
    assert (v.action, v.categories, v.rules) == ("allow", (), ())
    assert v.model["findings"][0]["removes"] is False
