"""A section editor saves only a form that arrived whole (issue 11, defect 5).

An empty POST to /policy/v/<n>/links/ used to clear the link lists: every field of that
form is optional and a missing field read as "cleared". Now a POST without one of the
form's fields changes nothing and re-renders the form with the error (status 200, the
project's convention for form errors); a box the admin really emptied is still sent, as an
empty value, and still clears. Checked for every section editor.
"""

import copy

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from policy.services import ruleset_update_draft
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db

INCOMPLETE = "Nothing was saved: the form arrived without"


@pytest.fixture
def filled(draft, policy_admin):
    """The draft with something in every list an empty POST could wipe."""
    doc = copy.deepcopy(draft.document)
    doc["staff"] = {"names": ["Jane Smith"], "handles": ["@JaneSmithNHS"]}
    doc["working_hours"]["closures"] = ["2026-12-29"]
    doc["rules"][0]["note"] = "keep this note"
    version, _ = ruleset_update_draft(version=draft, document=doc, actor=policy_admin)
    return version


# (url name, extra kwargs, an optional field a browser always sends)
EDITORS = [
    ("policy:staff", {}, "handles"),
    ("policy:links", {}, "shorteners"),
    ("policy:templates", {}, "crisis"),
    ("policy:hours", {}, "closures"),
    ("policy:categories", {}, None),
    ("policy:examples", {}, "crisis__not_mean"),
    ("policy:terms", {}, "terms"),
    ("policy:rule_edit", {"rule_id": "first"}, "note"),
    ("policy:rule_new", {}, "note"),
]


def _url(name, version, extra):
    kwargs = {"number": version.number, **extra}
    if kwargs.get("rule_id") == "first":
        kwargs["rule_id"] = version.document["rules"][0]["id"]
    return reverse(name, kwargs=kwargs)


def _rendered(client, url, name, form_id=None):
    """What the browser would post for the editor's (first) form on its page."""
    html = client.get(url).content.decode()
    data = form_data(html, url, form_id)
    if name == "policy:rule_new":  # a new rule needs what the admin would type
        data.update(id=["new-rule"], category=["abuse"], clause=["Section 9: abuse"],
                    trigger=["pattern"], pattern=["you absolute muppet"])
    return data


def _unchanged(version, before):
    version.refresh_from_db()
    assert version.document == before
    assert not AuditEvent.objects.filter(verb="ruleset.changed").exists()


@pytest.mark.parametrize("name,extra,_field", EDITORS)
def test_an_empty_post_changes_nothing(client_for, policy_admin, filled, name, extra, _field):
    before = copy.deepcopy(filled.document)
    htmx = name != "policy:links"  # the page without htmx, the partial with it
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client_for(policy_admin).post(_url(name, filled, extra), {}, **headers)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="form-errors"' in body
    assert ("<html" in body) is not htmx
    _unchanged(filled, before)


@pytest.mark.parametrize("name,extra,field", [e for e in EDITORS if e[2]])
def test_a_post_missing_one_field_changes_nothing_and_says_which(client_for, policy_admin, filled, name, extra, field):
    client = client_for(policy_admin)
    url = _url(name, filled, extra)
    data = _rendered(client, url, name)
    assert field in data  # the browser sends it, even empty
    del data[field]
    before = copy.deepcopy(filled.document)
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert INCOMPLETE in body and field.replace("_", " ") in body.lower()
    _unchanged(filled, before)


def test_the_links_example_from_the_audit(client_for, policy_admin, filled):
    """Only the CSRF token: the allow list and the shorteners used to be cleared."""
    before = copy.deepcopy(filled.document)
    response = client_for(policy_admin).post(
        reverse("policy:links", args=[filled.number]), {"csrfmiddlewaretoken": "x"}
    )
    assert response.status_code == 200
    assert INCOMPLETE + " allow, deny, deny words, shorteners" in response.content.decode()
    _unchanged(filled, before)
    assert filled.document["links"]["allow"][:2] == ["nhs.uk", "nhs.net"]


@pytest.mark.parametrize("name,extra,_field", EDITORS)
def test_the_form_as_rendered_saves(client_for, policy_admin, filled, name, extra, _field):
    client = client_for(policy_admin)
    url = _url(name, filled, extra)
    response = client.post(url, _rendered(client, url, name))
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.mark.parametrize(
    "name,field,path",
    [
        ("policy:staff", "handles", ("staff", "handles")),
        ("policy:links", "shorteners", ("links", "shorteners")),
        ("policy:hours", "closures", ("working_hours", "closures")),
        ("policy:terms", "terms", ("term_lists", "insults")),
    ],
)
def test_an_emptied_box_is_a_real_clear(client_for, policy_admin, filled, name, field, path):
    client = client_for(policy_admin)
    url = reverse(name, args=[filled.number])
    data = _rendered(client, url, name, "term-list-insults" if name == "policy:terms" else None)
    data[field] = [""]
    assert client.post(url, data).status_code == 302
    filled.refresh_from_db()
    assert filled.document[path[0]][path[1]] == []


def test_an_emptied_template_is_a_real_clear(client_for, policy_admin, filled):
    client = client_for(policy_admin)
    url = reverse("policy:templates", args=[filled.number])
    data = _rendered(client, url, "policy:templates")
    data["legal"] = [""]
    assert client.post(url, data).status_code == 302
    filled.refresh_from_db()
    assert "legal" not in filled.document["reply_templates"]
    assert filled.document["reply_templates"]["crisis"].startswith("We're sorry you're going through this.")
