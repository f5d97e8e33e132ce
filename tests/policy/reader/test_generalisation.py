"""Comments written for this test before the reader was tuned (generalisation.jsonl: the
ideas the rules miss, in wording found in no training or eval set), judged by the rules and
the model together. Minimums are a little under what was measured (README "Model reader"),
and the combined verdict must beat the rules alone."""

from pathlib import Path

import pytest

from policy.engine.evaluation import load_rows, score_verdicts
from policy.reader import CombinedJudge, ReaderSettings

ROWS = load_rows(Path(__file__).with_name("generalisation.jsonl"))
# measured with the committed heads: balanced accuracy 0.816, escalation 0.958, signpost
# 0.901, no false removal (rules alone: 0.737, 0.819, 0.901, none)
MIN_BALANCED_ACCURACY = 0.80
MIN_ESCALATION = 0.90
MIN_SIGNPOST = 0.85
MAX_FALSE_REMOVALS = 1


@pytest.fixture(scope="module")
def scores(matcher, reader, document):
    settings = ReaderSettings.from_document(document)
    combined = CombinedJudge(matcher, reader, settings).verdicts_for_rows(ROWS)
    rules = CombinedJudge(matcher, None).verdicts_for_rows(ROWS)
    return score_verdicts(ROWS, combined), score_verdicts(ROWS, rules)


def test_the_written_comments_cover_every_idea():
    assert len(ROWS) >= 70
    cats = {c for r in ROWS for c in r["expect"]["categories"]}
    assert {"crisis", "threat", "safeguarding", "patient_safety", "clinical_question",
            "complaint", "individual_care", "media", "legal", "hate", "advertising"} <= cats


def test_combined_verdict_generalises(scores):
    combined, rules = scores
    print("combined", combined.as_dict(), "\nrules", rules.as_dict())
    assert combined.flag.balanced_accuracy >= MIN_BALANCED_ACCURACY
    assert combined.escalation_accuracy >= MIN_ESCALATION
    assert combined.signpost_accuracy >= MIN_SIGNPOST
    assert len(combined.false_removals) <= MAX_FALSE_REMOVALS
    assert combined.flag.f1 > rules.flag.f1
    assert combined.escalation_accuracy > rules.escalation_accuracy
