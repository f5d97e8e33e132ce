"""Dangerous policy actions ask first (issue 11, defect 8), with and without JavaScript.

"Delete this rule" deleted at once (its hx-confirm had no hx-post, so htmx never asked), and
Publish / Roll back were one click with no confirmation or change note. Now a GET, or a POST
without confirm=1 (the form submitted without JavaScript), shows a confirmation page and
changes nothing; with JavaScript, htmx asks (hx-confirm) and posts confirm=1 itself. Publish
and roll back need a change note, kept in the audit event.
"""

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from policy.models import RuleSetVersion

pytestmark = pytest.mark.django_db


def _statuses():
    return dict(RuleSetVersion.objects.values_list("number", "status"))


def _rule_ids(version):
    version.refresh_from_db()
    return [r["id"] for r in version.document["rules"]]


# -- delete a rule ----------------------------------------------------------------------------

def test_the_rule_form_asks_htmx_to_confirm_and_post(client_for, policy_admin, draft):
    page = client_for(policy_admin).get(reverse("policy:rule_edit", args=[draft.number, "profanity-terms"])).content.decode()
    form = re.search(r'<form[^>]*class="delete-rule"[^>]*>', page).group(0)
    url = reverse("policy:rule_delete", args=[draft.number, "profanity-terms"])
    assert f'hx-post="{url}"' in form
    assert 'hx-confirm="Delete the rule profanity-terms from v2?' in form
    assert "{#" not in page and "{%" not in page
    assert """hx-vals='{"confirm": "1"}'""" in form


@pytest.mark.parametrize("method", ["get", "post"])
def test_without_confirmation_a_rule_is_not_deleted_and_the_page_asks(client_for, policy_admin, draft, method):
    before = _rule_ids(draft)
    url = reverse("policy:rule_delete", args=[draft.number, "profanity-terms"])
    response = getattr(client_for(policy_admin), method)(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Delete the rule profanity-terms from v2?" in body
    assert f'action="{url}"' in body and 'name="confirm" value="1"' in body
    assert "{#" not in body and "{%" not in body  # template comments never reach the page
    assert _rule_ids(draft) == before
    assert not AuditEvent.objects.filter(actor=policy_admin).exclude(verb="ruleset.draft_created").exists()


def test_a_confirmed_delete_deletes(client_for, policy_admin, draft):
    url = reverse("policy:rule_delete", args=[draft.number, "profanity-terms"])
    response = client_for(policy_admin).post(url, {"confirm": "1"})
    assert (response.status_code, response["Location"]) == (302, reverse("policy:version", args=[draft.number]))
    assert "profanity-terms" not in _rule_ids(draft)
    response = client_for(policy_admin).post(
        reverse("policy:rule_delete", args=[draft.number, "hate-slur"]), {"confirm": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == reverse("policy:version", args=[draft.number])
    assert "hate-slur" not in _rule_ids(draft)


# -- publish and roll back ----------------------------------------------------------------------

def test_the_publish_form_asks_for_a_note_and_htmx_confirms(client_for, policy_admin, draft):
    page = client_for(policy_admin).get(reverse("policy:version", args=[draft.number])).content.decode()
    head = page.split('id="version-head"')[1].split("</form>")[0]
    url = reverse("policy:publish", args=[draft.number])
    assert f'hx-post="{url}"' in head and 'hx-confirm="Publish v2?' in head
    assert "{#" not in page and "{%" not in page
    assert """hx-vals='{"confirm": "1"}'""" in head
    assert 'name="note"' in head and "required" in head.split('name="note"')[1].split(">")[0]


@pytest.mark.parametrize("method,data", [("get", None), ("post", {"note": "Adds shambles"})])
def test_without_confirmation_nothing_is_published_and_the_page_asks(client_for, policy_admin, draft, method, data):
    url = reverse("policy:publish", args=[draft.number])
    client = client_for(policy_admin)
    response = client.get(url) if method == "get" else client.post(url, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Publish v2?" in body and 'name="confirm" value="1"' in body
    if data:
        assert 'value="Adds shambles"' in body  # the note typed on the page is kept
    assert _statuses() == {1: "published", 2: "draft"}
    assert not AuditEvent.objects.filter(actor=policy_admin).exclude(verb="ruleset.draft_created").exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_publishing_without_a_change_note_is_refused(client_for, policy_admin, draft, htmx):
    url = reverse("policy:publish", args=[draft.number])
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client_for(policy_admin).post(url, {"confirm": "1", "note": "   "}, **headers)
    if htmx:  # only a crafted request: the form's note is required in the browser
        assert response["HX-Redirect"] == url
    else:
        assert response.status_code == 200
        assert "Write a change note" in response.content.decode()
    assert _statuses() == {1: "published", 2: "draft"}
    assert not AuditEvent.objects.filter(actor=policy_admin).exclude(verb="ruleset.draft_created").exists()


def test_publish_and_roll_back_record_the_change_note(client_for, policy_admin, draft):
    client = client_for(policy_admin)
    response = client.post(reverse("policy:publish", args=[2]), {"confirm": "1", "note": "Adds 'shambles' to insults"},
                           HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("policy:version", args=[2])
    assert _statuses() == {1: "archived", 2: "published"}
    assert AuditEvent.objects.get(verb="ruleset.published", actor=policy_admin).data["note"] == "Adds 'shambles' to insults"

    roll_back = client.get(reverse("policy:publish", args=[1])).content.decode()
    assert "Roll back to v1?" in roll_back and "It replaces v2" in roll_back
    client.post(reverse("policy:publish", args=[1]), {"confirm": "1", "note": "Too many false removals"})
    assert _statuses() == {1: "published", 2: "archived"}
    assert AuditEvent.objects.get(verb="ruleset.rolled_back").data["note"] == "Too many false removals"
    history = client.get(reverse("policy:history", args=[1])).content.decode()
    assert "Too many false removals" in history
