"""The console in a real browser: keyboard triage, hostile text, the duty manager's page."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from accounts import roles
from moderation.models import PlatformAction, QueueItem
from tests.factories import ChannelFactory, CommentFactory, QueueItemFactory, UserFactory, VerdictFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    # A transactional test flushes the tables between tests, and with them the groups the
    # data migration made; put them back the same way.
    import importlib

    from django.apps import apps

    importlib.import_module("accounts.migrations.0002_roles").create_roles(apps, None)


def _person(username, role):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


def _item(text, platform="facebook", **verdict):
    comment = CommentFactory(channel=ChannelFactory(platform=platform), text=text)
    return QueueItemFactory(verdict=VerdictFactory(comment=comment, **verdict),
                            first_look_due=timezone.now() + dt.timedelta(hours=1))


def test_officer_filters_the_queue_and_hides_with_the_keyboard(transactional_db, sign_in, live_server):
    _person("kb.officer", roles.OFFICER)
    target = _item("You are all a bunch of clowns", platform="youtube")
    _item("Facebook comment that must be filtered out", platform="facebook")
    page = sign_in("kb.officer")
    page.goto(f"{live_server.url}/queue/")
    expect(page.locator("#queue-table tr.qrow")).to_have_count(2)

    page.click('a[data-filter="platform=youtube"]')
    expect(page.locator("#queue-table tr.qrow")).to_have_count(1)
    expect(page.locator("#queue-table")).not_to_contain_text("must be filtered out")

    row = page.locator(f"#item-{target.comment_id}")
    page.keyboard.press("j")
    expect(row).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("h")
    expect(page.locator(f"#item-{target.comment_id}.qrow-done")).to_contain_text("Hide")
    expect(page.locator("#queue-table tr.qrow")).to_have_count(0)

    assert QueueItem.objects.get(pk=target.pk).status == "decided"
    assert list(PlatformAction.objects.values_list("kind", flat=True)) == ["hide"]
    page.reload()
    expect(page.locator("#queue-table")).not_to_contain_text("bunch of clowns")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()


HOSTILE = '<script>alert("xss")</script> <img src=x onerror=alert(1)> you idiots'


def test_hostile_comment_renders_as_text_and_runs_nothing(transactional_db, sign_in, live_server):
    _person("xss.officer", roles.OFFICER)
    item = _item(HOSTILE, rules=[{"id": "abuse.insult", "category": "abuse", "clause": "9", "spans": [[66, 72, "idiots"]]}])
    page = sign_in("xss.officer")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server.url}/queue/")
    expect(page.locator(f"#item-{item.comment_id} .excerpt")).to_contain_text('<script>alert("xss")</script>')
    page.goto(f"{live_server.url}/comments/{item.comment_id}/")
    text = page.locator("#comment-text")
    expect(text).to_have_text(HOSTILE)
    expect(text.locator("mark")).to_have_text("idiots")
    assert page.locator("#comment-text script, #comment-text img").count() == 0
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert dialogs == []


def test_duty_manager_acknowledges_an_out_of_hours_escalation(transactional_db, sign_in, live_server):
    _person("night.duty", roles.DUTY_MANAGER)
    item = _item("Ward 4 has had no nurse for hours and a patient has fallen", action="allow",
                 escalation="duty_manager", categories=["patient_safety"])
    QueueItem.objects.filter(pk=item.pk).update(notified_at=timezone.now(), priority=10)
    page = sign_in("night.duty")
    page.goto(f"{live_server.url}/escalations/")
    card = page.locator(f"#escalation-{item.comment_id}")
    expect(card).to_contain_text("a patient has fallen")
    card.get_by_role("button", name="Acknowledge").click()
    expect(card).to_contain_text("Acknowledged by Test")
    item.refresh_from_db()
    assert item.acknowledged_at is not None
    assert item.acknowledged_by.username == "night.duty"
