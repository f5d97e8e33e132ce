"""Dangerous actions ask first, in a real browser (issue 11, defect 8).

"Delete this rule" and Publish now put up the confirmation dialog (htmx's hx-confirm, which
needs hx-post to fire) and do nothing when it is dismissed; Approve on an escalated queue row
opens the reason form instead of deciding.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from accounts import roles
from audit.models import AuditEvent
from moderation.models import QueueItem
from policy.engine import load_default_document
from policy.models import RuleSetVersion
from policy.services import ruleset_create_draft, ruleset_publish
from tests.factories import ChannelFactory, CommentFactory, QueueItemFactory, UserFactory, VerdictFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    # A transactional test flushes the groups the data migration made; put them back.
    import importlib

    from django.apps import apps

    importlib.import_module("accounts.migrations.0002_roles").create_roles(apps, None)


def _person(username, role):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def versions(transactional_db):
    published = ruleset_publish(version=ruleset_create_draft(document=load_default_document(), system_actor="tests"),
                                system_actor="tests")
    return published, ruleset_create_draft(document=published.document, based_on=published, system_actor="tests")


class Dialogs:
    """Records every dialog's message and answers it as told."""

    def __init__(self, page):
        self.messages: list[str] = []
        self.accept = False
        page.on("dialog", self._answer)

    def _answer(self, dialog):
        self.messages.append(dialog.message)
        dialog.accept() if self.accept else dialog.dismiss()


def _rule_ids(number):
    return [r["id"] for r in RuleSetVersion.objects.get(number=number).document["rules"]]


def test_delete_this_rule_asks_first(versions, sign_in, live_server):
    _person("del.admin", roles.POLICY_ADMIN)
    page = sign_in("del.admin")
    dialogs = Dialogs(page)
    page.goto(f"{live_server.url}/policy/v/2/rules/profanity-terms/")

    page.click("text=Delete this rule")  # dismissed: nothing happens
    assert dialogs.messages == ["Delete the rule profanity-terms from v2? It stops judging comments when v2 is published."]
    expect(page).to_have_url(f"{live_server.url}/policy/v/2/rules/profanity-terms/")
    assert "profanity-terms" in _rule_ids(2)

    dialogs.accept = True
    page.click("text=Delete this rule")
    expect(page).to_have_url(f"{live_server.url}/policy/v/2/")
    assert len(dialogs.messages) == 2
    assert "profanity-terms" not in _rule_ids(2)


def test_publish_asks_first_and_records_the_change_note(versions, sign_in, live_server):
    _person("pub.admin", roles.POLICY_ADMIN)
    page = sign_in("pub.admin")
    dialogs = Dialogs(page)
    page.goto(f"{live_server.url}/policy/v/2/")

    page.fill("#version-head input[name=note]", "Tighter insults list")
    page.click("#version-head >> text=Publish v2")  # dismissed
    assert dialogs.messages == ["Publish v2? It judges every new comment from now on and can never be edited again."]
    expect(page.locator("#version-head .badge")).to_have_text("Draft")
    assert RuleSetVersion.objects.get(number=2).status == "draft"

    dialogs.accept = True
    page.click("#version-head >> text=Publish v2")
    expect(page.locator("#version-head .badge")).to_have_text("Published")
    assert AuditEvent.objects.get(verb="ruleset.published", system_actor="").data["note"] == "Tighter insults list"


def test_approve_on_an_escalated_row_opens_the_reason_form(transactional_db, sign_in, live_server):
    _person("esc.officer", roles.OFFICER)
    comment = CommentFactory(channel=ChannelFactory(platform="facebook"), text="I can't cope any more")
    item = QueueItemFactory(
        verdict=VerdictFactory(comment=comment, action="allow", escalation="urgent", signpost="crisis", categories=["crisis"]),
        first_look_due=timezone.now() + dt.timedelta(minutes=10),
    )
    page = sign_in("esc.officer")
    page.goto(f"{live_server.url}/queue/")
    page.keyboard.press("j")
    page.keyboard.press("a")  # opens the comment's reason form; decides nothing
    expect(page).to_have_url(f"{live_server.url}/comments/{comment.pk}/#approve")
    reason = page.locator("#approve-form textarea[name=reason]")
    expect(reason).to_be_focused()
    assert QueueItem.objects.get(pk=item.pk).status == "open"

    page.keyboard.type("Supporter sharing the helpline, not a crisis")
    page.click("#approve-form button[type=submit]")
    expect(page.locator("#decision-panel .ok")).to_contain_text("Approve (no action): recorded")
    item.refresh_from_db()
    assert item.status == "decided"
