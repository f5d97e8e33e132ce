"""Hate speech by function, in the manner of HateCheck (Röttger et al., 2021): the same idea
said many ways about many groups, next to the hard negatives that share its words.

The held-out functional suite the issue names is not in ../shared/eval, so these sentences
are written here, none of them quoted by a rule. flag=True must leave public view; False
must stay up. The set must score balanced accuracy >= 0.9 (the target is 0.85) with every
function present.
"""

from __future__ import annotations

import pytest

HATEFUL = {
    "derogation": [
        "Honestly immigrants sicken me",
        "I loathe lesbians, always have",
        "Nothing on earth is worse than a Muslim",
        "I absolutely despise the disabled",
    ],
    "dehumanisation": [
        "refugees are cockroaches, the lot of them",
        "Those travellers are vermin and everyone knows it",
    ],
    "implicit derogation": [
        "I would rather die than marry a black person",
        "This country would be so much better without Jews",
        "gays belong in a zoo",
        "trans women are men in dresses, keep them off our wards",
    ],
    "threats": [
        "all the Pakistanis round here should be shot",
        "I will hurt the next trans person who walks past me",
    ],
    "reference in a later clause": [
        "I've worked with loads of Polish people and I hate every one of them",
        "Women always think they know best. I can't stand them",
    ],
    "negated positive": [
        "black lives don't matter and never will",
        "Disabled people are not human, they are a drain",
        "I do not respect muslims at all",
    ],
    "questions": [
        "why are all asians so greedy?",
        "Why do immigrants always stink of curry",
    ],
    "opinion": [
        "In my view gay people are an abomination",
    ],
    "profanity": [
        "fuck all the refugees",
    ],
    "obfuscated": [
        "I h8te Jews",
        "muslims are p4rasites",
        "i d3spise women",
    ],
}

NOT_HATEFUL = {
    "negated hate": [
        "I don't hate immigrants, I married one",
        "No refugee deserves to be treated like that",
        "Muslims are not terrorists, stop saying it",
    ],
    "counter speech": [
        "People who say black people are animals are vile",
        "I can't believe you think women are inferior, that's sexist",
        "Comments like 'gays are disgusting' have no place on an NHS page",
        "saying trans women are men is transphobic and wrong",
    ],
    "neutral identity mentions": [
        "My wife and I are both deaf people and the clinic was great with us",
        "Is there a prayer room for Muslim patients?",
        "The trans person on reception was so kind to my mum",
        "We are a family of Polish people living in Lincoln",
    ],
    "positive": [
        "Immigrants keep the NHS running, thank you all",
        "Proud of the Jewish volunteers at our food bank",
        "trans women are women",
    ],
    "abuse at objects and non-protected groups": [
        "I can't stand this new parking system",
        "Estate agents are parasites",
        "Politicians are the worst",
    ],
    "homonyms": [
        "Faggots and peas for tea tonight, lovely",
        "Our bitch had puppies on Sunday, all healthy",
        "I had a queer feeling something was wrong with dad",
    ],
}


def _cases():
    for function, texts in HATEFUL.items():
        for text in texts:
            yield function, text, True
    for function, texts in NOT_HATEFUL.items():
        for text in texts:
            yield function, text, False


def test_functional_balanced_accuracy(matcher):
    got = {True: [0, 0], False: [0, 0]}  # expected -> [right, total]
    wrong = []
    for function, text, hateful in _cases():
        flagged = matcher.evaluate(text).flagged
        got[hateful][1] += 1
        if flagged == hateful:
            got[hateful][0] += 1
        else:
            wrong.append(f"{function}: {text!r} flagged={flagged}")
    recall = got[True][0] / got[True][1]
    specificity = got[False][0] / got[False][1]
    balanced = (recall + specificity) / 2
    assert balanced >= 0.9, f"balanced accuracy {balanced:.3f}; wrong:\n" + "\n".join(wrong)


@pytest.mark.parametrize("text", [t for texts in NOT_HATEFUL.values() for t in texts])
def test_hard_negatives_are_never_deleted_or_blocked(matcher, text):
    assert matcher.evaluate(text).action in ("allow", "hide")
