"""The dry run judges with the combined verdict (rules and model reader), each version under
its own examples, and falls back to the rules when the reader is unavailable (issue 13)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from moderation import dryrun
from moderation.models import DryRun
from policy.models import RuleSetVersion
from policy.reader import reader as reader_module
from tests.factories import CommentFactory

pytestmark = pytest.mark.django_db

CRISIS = "been putting a tablet aside from every prescription, nearly enough now"


@pytest.fixture
def taught(draft):
    """Draft v2 says, by example, that the crisis post is not what we mean (a silly edit, but
    one whose effect is certain: the comment itself as a "not what we mean" example)."""
    doc = draft.document
    doc["examples"]["crisis"]["not_mean"].append(CRISIS)
    RuleSetVersion.objects.filter(pk=draft.pk).update(document=doc)
    now = timezone.now()
    CommentFactory(text=CRISIS, received_at=now - dt.timedelta(days=1))
    CommentFactory(text="Great to see the new clinic open.", received_at=now - dt.timedelta(days=2))
    return draft


def _run(draft, published):
    run = DryRun.objects.create(version=draft, baseline=published, days=None)
    return dryrun.dryrun_execute(dryrun_id=run.pk)


def test_an_example_edit_shows_up_as_a_changed_verdict(taught, published, client_for, policy_admin):
    run = _run(taught, published)
    assert run.status == "done"
    assert run.totals["reader"]["used"] is True
    assert run.totals["escalation_changed"] == 1
    (example,) = run.examples["escalation_changed"]
    assert example["text"] == CRISIS
    assert example["before"]["escalation"] != "none"
    assert "model.crisis" in example["before"]["rules"]
    assert example["after"]["escalation"] == "none"
    assert "model.crisis" not in example["after"]["rules"]
    assert run.totals["rules"]["model.crisis"]["escalation_changed"] == 1
    body = client_for(policy_admin).get(reverse("moderation:dryrun", args=[run.pk])).content.decode()
    assert "Combined verdicts: the rules and the model reader" in body
    assert "model.crisis <small>(the model reader)</small>" in body


def test_without_the_reader_it_compares_the_rules_and_says_so(
    taught, published, client_for, policy_admin, tmp_path, monkeypatch
):
    monkeypatch.setenv("READER_ARTEFACTS_DIR", str(tmp_path))
    monkeypatch.setattr(reader_module, "_readers", {})
    run = _run(taught, published)
    assert run.status == "done"
    assert run.totals["reader"]["used"] is False
    assert run.totals["reader"]["why"]
    assert run.totals["escalation_changed"] == 0
    assert not any(rid.startswith("model.") for rid in run.totals["rules"])
    body = client_for(policy_admin).get(reverse("moderation:dryrun", args=[run.pk])).content.decode()
    assert "The model reader was unavailable" in body
    assert "compares the rules&#x27; verdicts only" in body or "compares the rules' verdicts only" in body
