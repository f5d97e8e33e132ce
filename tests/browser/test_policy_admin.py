"""Issue 6 end to end in a real browser: an admin adds a term, tries it on a comment,
dry-runs it over history, reads the difference, publishes, sees a new comment judged by the
new version, and rolls back.

The dry run's Celery doorbell is replaced, for this test only, by running the service in
the web request that asked for it (no global always-eager); everything else is real.
Set POLICY_SCREENSHOTS=/some/dir to keep a screenshot of each page.
"""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts import roles
from moderation.models import Decision, Verdict
from moderation.triage.classify import comments_classify
from policy.engine import load_default_document
from policy.models import RuleSetVersion
from policy.services import ruleset_create_draft, ruleset_publish
from tests.factories import CommentFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_page(page, live_server):
    """The shared Chromium page (tests/browser/conftest.py), with room for the dry run."""
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def shot(tmp_path):
    folder = Path(os.environ.get("POLICY_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def world(transactional_db, monkeypatch):
    import importlib

    from django.apps import apps

    from django.db import transaction

    from moderation import doorbells, dryrun

    # A transactional test flushes the groups the data migration made; put them back.
    importlib.import_module("accounts.migrations.0002_roles").create_roles(apps, None)
    admin = UserFactory(username="pat.policy", first_name="Pat", last_name="Policy")
    admin.groups.add(Group.objects.get(name=roles.POLICY_ADMIN))
    officer = UserFactory(username="olu.officer")
    officer.groups.add(Group.objects.get(name=roles.OFFICER))
    ruleset_publish(
        version=ruleset_create_draft(document=load_default_document(), notes="Bundled default", system_actor="tests"),
        system_actor="tests"
    )
    shambles = CommentFactory(text="You lot are a shambles")
    CommentFactory(text="What a shambles this is")
    praise = CommentFactory(text="Great to see the new clinic open.")
    Decision.objects.create(comment=shambles, kind="hide", decided_by=officer)
    Decision.objects.create(comment=praise, kind="approve", decided_by=officer)
    # No worker in this test: the dry run's doorbell runs it here, after the commit.
    monkeypatch.setattr(
        doorbells, "dryrun_execute",
        lambda dryrun_id, **_: transaction.on_commit(lambda: dryrun.dryrun_execute(dryrun_id=dryrun_id)),
    )
    return admin


def test_admin_changes_tries_dry_runs_publishes_and_rolls_back(
    world, admin_page, live_server, shot
):
    page = admin_page
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm on publish / roll back
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.fill("#id_username", "pat.policy")
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Rule sets")
    shot(page, "01-versions")

    # A new draft from the published version.
    page.click("text=New draft from v1")
    expect(page.locator("h1")).to_contain_text("Rule set v2")
    expect(page.locator("#version-head .badge")).to_have_text("Draft")
    shot(page, "02-draft-rules")

    # Add a term to the insults list (htmx swaps the section in place).
    page.click("nav.tabs >> text=Term lists")
    box = page.locator("#term-list-insults textarea")
    box.fill(box.input_value() + "\nshambles")
    page.click("#term-list-insults button[type=submit]")
    expect(page.locator("#term-lists .saved")).to_have_text("Saved the list “insults”.")
    assert RuleSetVersion.objects.get(number=2).document["term_lists"]["insults"][-1] == "shambles"
    shot(page, "03-term-added")

    # A bad pattern is refused next to the field, and says where and why.
    page.goto(f"{live_server.url}/policy/v/2/rules/new/")
    page.fill("#id_id", "shambles-pattern")
    page.select_option("#id_category", "abuse")
    page.fill("#id_clause", "Section 9: abuse")
    page.check("input[name=trigger][value=pattern]")
    page.fill("#id_pattern", "you (shambles")
    page.click("#rule-form button[type=submit]")
    expect(page.locator("#id_pattern-errors")).to_contain_text(
        "pattern: missing ), unterminated subpattern at position 4"
    )
    shot(page, "04-rule-error")

    # Try it: the draft flags the comment, the published version does not.
    page.goto(f"{live_server.url}/policy/try/?version=2")
    page.fill("#id_text", "You lot are a <b>shambles</b>")
    page.click("text=Try it")
    expect(page.locator("#verdict-v2 .verdict-summary")).to_contain_text("hide")
    expect(page.locator("#verdict-v1 .verdict-summary")).to_contain_text("allow")
    expect(page.locator("#verdict-v2 mark").first).to_have_text("shambles")
    expect(page.locator("#verdict-v2 .highlighted")).to_contain_text(
        "<b>"
    )  # shown as text, not markup
    shot(page, "05-try")

    # Dry run over the stored history and read the difference.
    page.goto(f"{live_server.url}/policy/v/2/")
    page.click("text=Start dry run")
    expect(page.locator("#dryrun .totals")).to_contain_text("3 comments judged")
    expect(page.locator("#diff-newly_flagged h2")).to_have_text(
        "Newly flagged (allowed before, removed now): 2"
    )
    expect(page.locator("#dryrun .agreement")).to_contain_text("v2 would agree on 2 (100%)")
    expect(page.locator("#diff-newly_flagged")).to_contain_text("You lot are a shambles")
    page.click("text=Examples for abuse-directed-insult")
    expect(page.locator("tr.rule-examples li").first).to_be_visible()
    shot(page, "06-dry-run")

    # Publish from the dry-run page, with a change note.
    page.fill(".publish-after input[name=note]", "Adds shambles to the insults list")
    page.click("text=Publish v2")
    expect(page.locator("#version-head .badge")).to_have_text("Published")
    assert dict(RuleSetVersion.objects.values_list("number", "status")) == {
        1: "archived",
        2: "published",
    }
    shot(page, "07-published")

    # A new comment is judged by v2 (what a worker does on arrival), and the audit trail shows it.
    new = CommentFactory(text="Honestly you are a shambles")
    comments_classify(comment_ids=[new.pk])
    verdict = Verdict.objects.get(comment=new)
    assert (verdict.ruleset_version.number, verdict.action) == (2, "hide")
    page.goto(f"{live_server.url}/audit/")
    row = page.locator("#audit-table tr", has_text="comment.classified").first
    expect(row).to_contain_text("v2")
    expect(page.locator("#audit-table")).to_contain_text("ruleset.published")

    # The change history of v2 shows who added the term, as a diff.
    page.goto(f"{live_server.url}/policy/v/2/history/")
    expect(page.locator("#history .diff .add").first).to_have_text("+  - shambles")
    shot(page, "08-history")

    # Roll back to v1.
    page.goto(f"{live_server.url}/policy/v/1/")
    page.fill("#version-head input[name=note]", "Back to the default while we review")
    page.click("text=Roll back to v1")
    expect(page.locator("#version-head .badge")).to_have_text("Published")
    assert dict(RuleSetVersion.objects.values_list("number", "status")) == {
        1: "published",
        2: "archived",
    }
    later = CommentFactory(text="Still a shambles, you lot")
    comments_classify(comment_ids=[later.pk])
    assert Verdict.objects.get(comment=later).ruleset_version.number == 1
    assert Verdict.objects.get(comment=later).action == "allow"
    shot(page, "09-rolled-back")
