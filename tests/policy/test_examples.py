"""Teach by example (issue 13): the examples editor, the model's part of "Try a comment",
and the YAML round trip of the examples and reader sections."""

import copy

import pytest
import yaml
from django.urls import reverse

from audit.models import AuditEvent
from policy.models import RuleSetVersion
from policy.reader import reader as reader_module
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db

CRISIS = "been putting a tablet aside from every prescription, nearly enough now"


def _form(client, version):
    url = reverse("policy:examples", args=[version.number])
    return url, form_data(client.get(url).content.decode(), url)


def test_the_page_shows_every_category_with_the_documents_examples(client_for, policy_admin, draft):
    body = client_for(policy_admin).get(reverse("policy:examples", args=[draft.number])).content.decode()
    assert 'id="examples-crisis"' in body and 'id="examples-hate"' in body
    assert "Travellers are rats, smoke them out of the lay-by" in body
    # auto-hide only for the removal categories: the model never hides a crisis post alone
    assert 'name="hate__auto_hide"' in body and 'name="crisis__auto_hide"' not in body


def test_edit_the_examples_saves_and_audits_the_diff(client_for, policy_admin, draft):
    client = client_for(policy_admin)
    url, data = _form(client, draft)
    data["crisis__mean"] = [data["crisis__mean"][0] + "\nsaving my pills up for the weekend"]
    data["crisis__threshold"] = ["0.8"]
    data["advertising__auto_hide"] = ["0.97"]
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="examples"' in body and "Saved." in body
    assert response["HX-Trigger"] == '{"ruleset-changed": {}}'
    draft.refresh_from_db()
    crisis = draft.document["examples"]["crisis"]
    assert crisis["mean"][-1] == "saving my pills up for the weekend"
    assert crisis["threshold"] == 0.8
    assert draft.document["reader"]["auto_hide"] == {"advertising": 0.97}
    event = AuditEvent.objects.get(verb="ruleset.changed")
    assert (event.actor, event.target, event.data["what"]) == (policy_admin, "ruleset:2", "examples")
    changed = sorted(
        ln[0] + ln[1:].strip()
        for ln in event.data["diff"].splitlines()
        if ln[:1] in "+-" and ln[:3] not in ("+++", "---")
    )
    assert changed == sorted(
        [
            "+- saving my pills up for the weekend",
            "+threshold: 0.8",
            "-auto_hide: {}",
            "+auto_hide:",
            "+advertising: 0.97",
        ]
    )


def test_without_javascript_a_save_redirects_to_the_page(client_for, policy_admin, draft):
    client = client_for(policy_admin)
    url, data = _form(client, draft)
    data["advertising__mean"] = ["win a free iPhone, click my profile"]
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == url
    draft.refresh_from_db()
    assert draft.document["examples"]["advertising"]["mean"] == ["win a free iPhone, click my profile"]


def test_emptying_a_category_removes_it(client_for, policy_admin, draft):
    client = client_for(policy_admin)
    url, data = _form(client, draft)
    data["hate__mean"] = [""]
    data["hate__not_mean"] = [""]
    assert client.post(url, data).status_code == 302
    draft.refresh_from_db()
    assert "hate" not in draft.document["examples"]
    assert "profanity" in draft.document["examples"]


@pytest.mark.parametrize(
    "changes,field,error",
    [
        # schema.validate: a threshold needs an example to compare with
        (
            {"media__mean": "", "media__not_mean": "", "media__threshold": "0.8"},
            "media__mean",
            "examples.media: expected at least one example in mean or not_mean",
        ),
        ({"media__mean": "x" * 501}, "media__mean", "examples.media.mean[0]: longer than 500 characters"),
        ({"hate__threshold": "0.3"}, "hate__threshold", "Ensure this value is greater than or equal to 0.5."),
        ({"hate__auto_hide": "1.5"}, "hate__auto_hide", "Ensure this value is less than or equal to 1."),
    ],
)
def test_a_validation_error_is_shown_on_the_field_and_nothing_is_saved(
    client_for, policy_admin, draft, changes, field, error
):
    before = copy.deepcopy(draft.document)
    client = client_for(policy_admin)
    url, data = _form(client, draft)
    data.update({k: [v] for k, v in changes.items()})
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="id_{field}-errors"><li>{error}</li>' in body
    draft.refresh_from_db()
    assert draft.document == before
    assert not AuditEvent.objects.filter(verb="ruleset.changed").exists()


@pytest.mark.parametrize("role", ["officer", "duty_manager", "outsider"])
def test_other_roles_cannot_edit_the_examples(request, client_for, policy_admin, draft, role):
    url, data = _form(client_for(policy_admin), draft)
    before = copy.deepcopy(draft.document)
    client = client_for(request.getfixturevalue(role))
    assert client.get(url).status_code == 403
    data["advertising__mean"] = ["buy followers"]
    assert client.post(url, data).status_code == 403
    draft.refresh_from_db()
    assert draft.document == before


def test_a_published_version_is_read_only(client_for, policy_admin, published):
    client = client_for(policy_admin)
    url, data = _form(client, published)
    assert client.post(url, data).status_code == 409


# -- YAML export / import ----------------------------------------------------------------------
def test_yaml_round_trips_the_examples_and_reader_sections(client_for, policy_admin, draft):
    doc = copy.deepcopy(draft.document)
    doc["examples"]["crisis"]["threshold"] = 0.82
    doc["examples"]["crisis"]["not_mean"] = ["my gran's tablets are in a weekly pill box"]
    doc["reader"] = {"auto_hide": {"advertising": 0.97, "mean_spirited": 0.99}}
    RuleSetVersion.objects.filter(pk=draft.pk).update(document=doc)
    client = client_for(policy_admin)
    text = client.get(reverse("policy:export", args=[draft.number])).content.decode()
    exported = yaml.safe_load(text)
    assert exported["examples"] == doc["examples"]
    assert exported["reader"] == {"auto_hide": {"advertising": 0.97, "mean_spirited": 0.99}}
    assert client.post(reverse("policy:import"), {"text": text, "notes": "round trip"}).status_code == 302
    imported = RuleSetVersion.objects.order_by("-number").first()
    assert imported.number == 3
    assert imported.document["examples"] == doc["examples"]
    assert imported.document["reader"] == doc["reader"]


# -- try a comment -------------------------------------------------------------------------------
def test_try_shows_the_models_findings(client_for, policy_admin, draft):
    response = client_for(policy_admin).get(
        reverse("policy:try"),
        {"text": CRISIS, "platform": "facebook", "version": draft.number},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    column = body.split('id="verdict-v2"')[1].split('id="verdict-v1"')[0]
    assert "The model reader" in column
    assert 'class="finding-crisis"' in column
    assert "model.crisis" in column  # in the hits table, without a link to a rule page
    # the rules alone let it pass (the published column); the model escalates it
    summary = column.split('class="verdict-summary"')[1].split("</div>")[0]
    assert 'class="badge urgent"' in summary or 'class="badge duty_manager"' in summary
    assert "reader-unavailable" not in body


def test_try_falls_back_to_the_rules_when_the_reader_is_unavailable(
    client_for, policy_admin, draft, tmp_path, monkeypatch
):
    monkeypatch.setenv("READER_ARTEFACTS_DIR", str(tmp_path))
    monkeypatch.setattr(reader_module, "_readers", {})
    response = client_for(policy_admin).get(
        reverse("policy:try"),
        {"text": CRISIS, "platform": "facebook", "version": draft.number},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="notice reader-unavailable"' in body
    assert "verdicts only; the examples are not applied" in body
    assert 'id="verdict-v2"' in body and 'id="verdict-v1"' in body
    assert "The model reader</h3>" not in body and "model.crisis" not in body


def test_try_shows_disputed_and_why_and_what_an_example_silences(client_for, policy_admin, draft):
    """The model reads hate in a butcher's order no rule matches: disputed (a person
    decides). A "what we do not mean" example in the draft silences it there."""
    text = "Bought faggots from the butcher for tea, proper Black Country"
    doc = copy.deepcopy(draft.document)
    doc["examples"]["hate"]["not_mean"].append(text)
    RuleSetVersion.objects.filter(pk=draft.pk).update(document=doc)
    body = client_for(policy_admin).get(
        reverse("policy:try"), {"text": text, "platform": "facebook", "version": draft.number}
    ).content.decode()
    draft_col = body.split('id="verdict-v2"')[1].split('id="verdict-v1"')[0]
    published_col = body.split('id="verdict-v1"')[1]
    assert '<span class="badge disputed">disputed</span>' in published_col
    assert "the model reads a removal category the rules did not find: a person decides." in published_col
    assert 'class="finding-hate"' in published_col
    assert "disputed" not in draft_col and 'class="finding-hate"' not in draft_col
    assert "Silenced by a “what we do not mean” example:" in draft_col
    assert "<li>hate (score" in draft_col
