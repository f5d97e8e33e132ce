"""The functional hate-speech cases of the engine's tests (HateCheck-like: derogation,
threats, negated hate, counter-speech, neutral identity mentions, homonyms), judged by the
rules and the model together: the model must not undo what the rules get right there
(target on the held-out suite: balanced accuracy >= 0.85)."""

from policy.reader import CombinedJudge, ReaderSettings
from tests.policy.engine.test_hate_functional import HATEFUL, NOT_HATEFUL


def test_combined_verdict_keeps_functional_balanced_accuracy(matcher, reader, document):
    judge = CombinedJudge(matcher, reader, ReaderSettings.from_document(document))
    hateful = [t for texts in HATEFUL.values() for t in texts]
    fine = [t for texts in NOT_HATEFUL.values() for t in texts]
    verdicts = judge.verdicts([(t, "facebook", None, None) for t in hateful + fine])
    caught = sum(v.action != "allow" for v in verdicts[: len(hateful)])
    kept = sum(v.action == "allow" for v in verdicts[len(hateful) :])
    balanced = (caught / len(hateful) + kept / len(fine)) / 2
    print(f"caught {caught}/{len(hateful)}, kept up {kept}/{len(fine)}, balanced {balanced:.3f}")
    assert balanced >= 0.85
    assert all(v.action not in ("delete", "block") for v in verdicts[len(hateful) :])
