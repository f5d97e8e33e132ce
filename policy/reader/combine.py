"""One verdict from two readers: the rules' Verdict and the model's Reading.

Safety rules (README "Model reader"), each tested in tests/policy/reader/test_combine.py:

1. **Escalations only go up.** An escalation found by either reader stands; the model never
   lowers one. A model category escalates as the rule set maps it (``categories`` in the
   document), through the same working calendar: threat, crisis and patient safety are
   ``urgent`` in working time and ``duty_manager`` outside it; safeguarding is
   ``safeguarding`` at any hour and outranks both.
2. **Signposts fill gaps.** The model's signpost is used where the rules have none; a model
   crisis signpost replaces any other (crisis comes first in SIGNPOST_PRIORITY).
   A section 9 head that passes its threshold while the flag head stays under the flag
   gate (``Finding.removes`` False) still escalates as its category does: an unbacked
   threat reaches a person now, but stays up.
3. **A removal the readers disagree on is disputed.** ``disputed`` is set, ``auto_apply`` is
   False and a person decides:
   - the model alone reads a section 9 category: the comment is hidden (reversible; the
     model never deletes or blocks) until a person looks;
   - the rules remove it and the model reads it as clearly fine (``Reading.clear``): the
     rules' action stays as the recommendation, except for the categories in
     ``MODEL_MAY_KEEP_UP`` (violent idioms, staff named in an ordinary request about care),
     where the model's reading keeps the comment up until a person looks.
4. **The model's word alone never applies itself**, unless the rule set enables automatic
   hiding for that category at or above a score (``reader.auto_hide``, default off).
5. **Negative opinion stays up**: the model's concern categories (complaint, reputation, ...)
   carry no action of their own, as in the rule set's mapping.
6. **Every model contribution is visible**: a hit ``model.<category>`` with a clause that
   gives its score, threshold and nearest example; ``Verdict.model`` holds the full reading.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from policy.engine import Matcher, RuleHit, Verdict
from policy.engine.verdict import ACTION_RANK, REMOVAL_CATEGORIES, SIGNPOST_PRIORITY

from .reader import Finding, Reading
from .settings import ReaderSettings

ESCALATION_RANK = {"none": 0, "urgent": 1, "duty_manager": 1, "safeguarding": 2}
# The only rules' removals the model may keep up while a person decides: the kinds where
# the rules fire on words whose meaning the model reads better (an idiom such as "kill off
# the waiting list"; a relative named in a request about their care). Swearing, slurs,
# links, phone numbers and spam stay down: there the rules are exact.
MODEL_MAY_KEEP_UP = frozenset({"violence", "threat", "personal_info", "staff_targeting", "mean_spirited", "abuse"})
_REMOVAL = frozenset(REMOVAL_CATEGORIES)


def _clause(f: Finding) -> str:
    if f.source == "example":
        why = f"a close 'what we mean' example of the rule set (similarity {f.similarity:.2f})"
    else:
        why = f"score {f.score:.2f} >= threshold {f.threshold:.2f}"
    text = f"Model reader: {f.category}, {why}"
    if not f.removes:
        text += " (the flag head does not back a removal: escalated only)"
    if f.example is not None:
        text += f"; nearest example: {f.example!r}"
        if f.source != "example" and f.similarity is not None:
            text += f" ({f.similarity:.2f})"
    return text


def combine(
    verdict: Verdict,
    reading: Reading | None,
    *,
    matcher: Matcher,
    settings: ReaderSettings | None = None,
    received_at: datetime | None = None,
) -> Verdict:
    """The combined verdict (see the module docstring). ``reading`` None: the rules' verdict,
    unchanged. ``received_at`` decides urgent vs duty_manager (None: now), as for the rules."""
    if reading is None:
        return verdict
    settings = settings or ReaderSettings()

    # A section 9 finding the flag head does not back (removes=False) still escalates as
    # its category does (a threat reaches a person now) but neither takes the comment down
    # nor counts as one of its categories.
    findings = tuple(
        f for f in reading.findings
        if f.removes or matcher.outcome(f.category).escalation != "none"
    )
    escalation = verdict.escalation
    signpost = verdict.signpost
    model_signposts = set()
    for f in findings:
        outcome = matcher.outcome(f.category)
        esc = matcher.escalation_at(outcome.escalation, received_at)
        if ESCALATION_RANK[esc] > ESCALATION_RANK[escalation]:
            escalation = esc
        if outcome.signpost != "none":
            model_signposts.add(outcome.signpost)
    if signpost == "none" and model_signposts:
        signpost = next(s for s in SIGNPOST_PRIORITY if s in model_signposts)
    elif "crisis" in model_signposts:
        signpost = "crisis"

    action, auto_apply, disputed = verdict.action, verdict.auto_apply, False
    reason = None
    removal = [f for f in findings if f.category in _REMOVAL and f.removes]
    if removal and action == "allow":
        disputed, action = True, "hide"
        auto_apply = any(
            f.source == "head" and f.score >= settings.auto_hide.get(f.category, 2.0)
            for f in removal
        )
        reason = "the model reads a removal category the rules did not find"
    elif action != "allow" and reading.clear:
        disputed, auto_apply = True, False
        reason = "the rules remove it; the model reads it as fine"
        rule_removals = {h.category for h in verdict.rules if h.category in _REMOVAL}
        if rule_removals and rule_removals <= MODEL_MAY_KEEP_UP:
            action = "allow"
            reason += "; kept up until a person decides"

    categories = list(verdict.categories)
    hits = list(verdict.rules)
    for f in findings:
        if f.category not in categories:
            categories.append(f.category)
        hits.append(RuleHit(f"model.{f.category}", f.category, _clause(f), ()))
    model = reading.as_dict()
    model["clear"] = reading.clear
    model["disputed_because"] = reason
    if signpost == verdict.signpost:
        template = verdict.reply_template
    else:
        template = matcher.reply_template(signpost)
    assert ACTION_RANK[action] <= max(ACTION_RANK[verdict.action], ACTION_RANK["hide"])
    return replace(
        verdict,
        action=action,
        escalation=escalation,
        signpost=signpost,
        categories=tuple(categories),
        rules=tuple(hits),
        auto_apply=auto_apply,
        reply_template=template,
        disputed=disputed,
        model=model,
    )
