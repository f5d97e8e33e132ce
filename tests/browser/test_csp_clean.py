"""No CSP violation and no failed request while working the console (issue 11, defect 10).

The audit saw a CSP violation logged on htmx swaps and a 404 for /favicon.ico on every page.
htmx must not inject its indicator <style> (our CSP has style-src 'self' and no inline
styles: the base template's htmx-config turns the indicator styles off and console.css
styles .htmx-indicator), and the console serves an icon.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from accounts import roles
from moderation.models import QueueItem
from policy.engine import load_default_document
from policy.services import ruleset_create_draft, ruleset_publish
from tests.factories import ChannelFactory, CommentFactory, QueueItemFactory, UserFactory, VerdictFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Registered before any page script runs: every violation is kept on the window.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    import importlib

    from django.apps import apps

    importlib.import_module("accounts.migrations.0002_roles").create_roles(apps, None)


def test_htmx_swaps_raise_no_csp_violation_and_nothing_fails_to_load(transactional_db, page, sign_in, live_server):
    user = UserFactory(username="csp.person")
    for role in (roles.OFFICER, roles.POLICY_ADMIN):
        user.groups.add(Group.objects.get(name=role))
    published = ruleset_publish(version=ruleset_create_draft(document=load_default_document(), system_actor="tests"),
                                system_actor="tests")
    ruleset_create_draft(document=published.document, based_on=published, system_actor="tests")
    due = timezone.now() + dt.timedelta(hours=1)
    first = QueueItemFactory(verdict=VerdictFactory(comment=CommentFactory(
        channel=ChannelFactory(platform="youtube"), text="You lot are clowns")), first_look_due=due)
    second = QueueItemFactory(verdict=VerdictFactory(comment=CommentFactory(
        channel=ChannelFactory(platform="facebook"), text="Absolute muppets")), first_look_due=due)

    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.add_init_script(WATCH)
    sign_in("csp.person")

    def swapped(action, target):
        with page.expect_event("requestfinished"):
            action()
        expect(target).to_be_visible()
        page.wait_for_function("!document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")

    # The queue: a claim swaps the row, a filter swaps the results.
    page.goto(f"{live_server.url}/queue/")
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    swapped(lambda: page.locator(f"#item-{first.comment_id} button[data-key=c]").click(), page.locator(f"#item-{first.comment_id}"))
    swapped(lambda: page.locator(f"#item-{second.comment_id} button[data-key=h]").click(),
            page.locator(f"#item-{second.comment_id}.qrow-done"))
    # The comment page: a decision swaps the panel.
    page.goto(f"{live_server.url}/comments/{first.comment_id}/")
    swapped(lambda: page.locator("#decision-panel button[data-key=h]").click(), page.locator("#decision-panel .ok"))
    # The policy pages: a rule toggled, a section saved.
    page.goto(f"{live_server.url}/policy/v/2/")
    swapped(lambda: page.locator("#rules button.toggle").first.click(), page.locator("#rules"))
    page.goto(f"{live_server.url}/policy/v/2/staff/")
    swapped(lambda: page.click("#staff button[type=submit]"), page.locator("#staff .saved"))

    assert page.evaluate("window.__violations") == []
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    assert problems == []
    assert QueueItem.objects.get(pk=second.pk).status == "decided"


def test_the_console_serves_an_icon(page, live_server):
    icon = page.request.get(f"{live_server.url}/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert icon.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page.goto(f"{live_server.url}/accounts/sign-in/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(f"{live_server.url}{href}").status == 200
