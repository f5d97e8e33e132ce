"""The demo shows a crisis post only the model reader catches (issue 13)."""

import io

import pytest
from django.core.management import call_command

from moderation.management.commands.seed_demo import DEMO_COMMENTS
from moderation.models import Comment
from moderation.simulator.texts import MODEL_ONLY_CRISIS
from policy.engine import compile_ruleset, load_default_document
from policy.reader import CombinedJudge, ReaderSettings, get_reader


def test_the_model_only_crisis_post_is_caught_by_the_model_alone():
    doc = load_default_document()
    matcher = compile_ruleset(doc)
    rules = matcher.evaluate(MODEL_ONLY_CRISIS, platform="instagram")
    assert (rules.action, rules.escalation, rules.categories) == ("allow", "none", ())
    (combined,) = CombinedJudge(matcher, get_reader(), ReaderSettings.from_document(doc)).verdicts(
        [(MODEL_ONLY_CRISIS, "instagram", None, None)]
    )
    assert combined.escalation != "none"
    assert combined.signpost == "crisis"
    assert [h.id for h in combined.rules] == ["model.crisis"]
    assert combined.model["findings"][0]["category"] == "crisis"


@pytest.mark.django_db
def test_the_demo_seed_contains_it():
    assert ("instagram", MODEL_ONLY_CRISIS) in DEMO_COMMENTS
    call_command("seed_demo", stdout=io.StringIO())
    comment = Comment.objects.get(text=MODEL_ONLY_CRISIS)
    assert comment.channel.platform == "instagram"
