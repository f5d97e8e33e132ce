"""Rule set services: drafts are the only editable versions, publish and roll back, the
audit diff, YAML import with line numbers."""

import pytest
from django.db import DatabaseError, transaction

from policy import selectors
from policy.engine import RuleSetError
from policy.models import RuleSetVersion
from policy.services import (
    RuleSetNotDraft,
    ruleset_import_yaml,
    ruleset_publish,
    ruleset_update_draft,
)

pytestmark = pytest.mark.django_db


def with_term(doc, term="shambles"):
    new = {
        **doc,
        "term_lists": {**doc["term_lists"], "insults": [*doc["term_lists"]["insults"], term]},
    }
    return new


def test_update_draft_saves_and_returns_a_readable_diff(draft):
    version, diff = ruleset_update_draft(version=draft, document=with_term(draft.document))
    draft.refresh_from_db()
    assert draft.document["term_lists"]["insults"][-1] == "shambles"
    assert "\n+  - shambles" in diff
    assert [
        line
        for line in diff.splitlines()
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ] == ["+  - shambles"]


def test_update_published_version_is_refused_and_nothing_changes(published):
    before = published.document
    with pytest.raises(RuleSetNotDraft, match="v1 is published"):
        ruleset_update_draft(version=published, document=with_term(before))
    published.refresh_from_db()
    assert published.document == before


def test_database_rejects_document_change_on_frozen_version(published):
    with pytest.raises(DatabaseError, match="frozen"):
        with transaction.atomic():
            RuleSetVersion.objects.filter(pk=published.pk).update(
                document={"schema": 1, "rules": []}
            )
    published.refresh_from_db()
    assert published.document["rules"]


def test_database_allows_status_change_of_frozen_version(published, draft):
    ruleset_publish(version=draft, system_actor="tests")
    published.refresh_from_db()
    assert published.status == "archived"


def test_invalid_pattern_is_refused_with_its_path(draft):
    doc = {
        **draft.document,
        "rules": [
            *draft.document["rules"],
            {"id": "bad", "category": "abuse", "clause": "Section 9", "pattern": "(unclosed"},
        ],
    }
    n = len(doc["rules"]) - 1
    with pytest.raises(RuleSetError) as exc:
        ruleset_update_draft(version=draft, document=doc)
    assert exc.value.path == f"rules[{n}].pattern"
    assert "missing ), unterminated subpattern" in exc.value.message
    draft.refresh_from_db()
    assert len(draft.document["rules"]) == n


def test_publish_archives_previous_and_rollback_republishes_frozen_version(published, draft):
    ruleset_update_draft(version=draft, document=with_term(draft.document))
    ruleset_publish(version=draft, system_actor="tests")
    assert selectors.get_published_matcher()[0].pk == draft.pk
    assert selectors.get_published_matcher()[1].evaluate("you lot are a shambles").action == "hide"
    ruleset_publish(version=RuleSetVersion.objects.get(pk=published.pk), system_actor="tests")  # roll back
    assert dict(RuleSetVersion.objects.values_list("number", "status")) == {
        1: "published",
        2: "archived",
    }
    version, matcher = selectors.get_published_matcher()
    assert version.number == 1
    assert matcher.evaluate("you lot are a shambles").action == "allow"


def test_import_yaml_creates_a_draft(published):
    text = selectors.ruleset_dump_yaml(with_term(published.document, "numptyish"))
    version = ruleset_import_yaml(text=text, notes="from file", system_actor="tests")
    assert (version.status, version.notes) == ("draft", "from file")
    assert version.document["term_lists"]["insults"][-1] == "numptyish"


def test_import_yaml_syntax_error_names_the_line():
    with pytest.raises(RuleSetError) as exc:
        ruleset_import_yaml(text="schema: 1\nrules:\n  - id: [unclosed\n", system_actor="tests")
    assert exc.value.path.startswith("line 4, column 1")
    assert exc.value.message.startswith("not valid YAML")


def test_import_yaml_invalid_rule_names_line_and_path():
    text = (
        "schema: 1\n"
        "rules:\n"
        "  - id: ok\n"
        "    category: abuse\n"
        "    clause: Section 9\n"
        "    pattern: 'fine'\n"
        "  - id: broken\n"
        "    category: abuse\n"
        "    clause: Section 9\n"
        "    pattern: '(oops'\n"
    )
    with pytest.raises(RuleSetError) as exc:
        ruleset_import_yaml(text=text, system_actor="tests")
    assert exc.value.path == "line 10, rules[1].pattern"
    assert "missing )" in exc.value.message
    assert not RuleSetVersion.objects.exists()


def test_import_yaml_that_is_not_a_mapping():
    with pytest.raises(RuleSetError, match="a rule set document is a YAML mapping"):
        ruleset_import_yaml(text="- just\n- a list\n", system_actor="tests")


def test_change_draft_applies_to_the_current_document_not_a_stale_copy(draft):
    from policy.services import ruleset_change_draft

    stale = RuleSetVersion.objects.get(pk=draft.pk)  # the page another admin has open
    staffed = {**draft.document, "staff": {"names": ["Jane Smith"], "handles": []}}
    ruleset_update_draft(version=draft, document=staffed)  # someone saves the staff list first
    _, diff = ruleset_change_draft(version=stale, change=with_term, system_actor="tests")
    stored = RuleSetVersion.objects.get(pk=draft.pk).document
    assert stored["staff"]["names"] == ["Jane Smith"]
    assert stored["term_lists"]["insults"][-1] == "shambles"
    assert "Jane Smith" not in diff


def test_change_draft_refuses_a_version_published_meanwhile(draft):
    from policy.services import ruleset_change_draft

    stale = RuleSetVersion.objects.get(pk=draft.pk)
    ruleset_publish(version=draft, system_actor="tests")
    with pytest.raises(RuleSetNotDraft):
        ruleset_change_draft(version=stale, change=with_term, system_actor="tests")
    assert (
        "shambles" not in RuleSetVersion.objects.get(pk=draft.pk).document["term_lists"]["insults"]
    )


def test_load_default_ruleset_force_publishes_with_audit_events(published):
    # Every publish is audited by the service itself, so the command's is too (it used to
    # publish with no audit event: only the admin pages wrote one).
    import io

    from django.core.management import call_command

    from audit.models import AuditEvent

    call_command("load_default_ruleset", "--force", stdout=io.StringIO())
    version = RuleSetVersion.objects.get(status=RuleSetVersion.Status.PUBLISHED)
    events = AuditEvent.objects.filter(target=f"ruleset:{version.number}").order_by("id")
    assert [(e.verb, e.system_actor, e.actor) for e in events] == [
        ("ruleset.draft_created", "command:load_default_ruleset", None),
        ("ruleset.published", "command:load_default_ruleset", None),
    ]
    assert events[1].data == {"previous": published.number, "diff": ""}


def test_export_writes_every_rule_key_in_the_schemas_order():
    # One list of rule keys (policy/engine/schema.py) orders export and the audit diffs.
    from policy.engine.schema import RULE_KEYS

    rule = {key: "x" for key in reversed(RULE_KEYS)}
    lines = selectors.ruleset_dump_yaml({"rules": [rule], "schema": 1}).splitlines()
    assert lines[:2] == ["schema: 1", "rules:"]
    assert [line.strip().removeprefix("- ").split(":")[0] for line in lines[2:]] == list(RULE_KEYS)
