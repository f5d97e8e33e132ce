"""The policy admin pages (STYLE.md): full page, htmx partial, anonymous, each other role,
wrong method, unknown id; and what each mutation changes and audits."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from moderation.models import DryRun
from policy.models import RuleSetVersion
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db

OTHER_ROLES = ["officer", "duty_manager", "outsider"]
# (url name, kwargs builder, query, root id of the htmx partial)
GET_VIEWS = [
    ("policy:versions", lambda d: {}, "", "versions"),
    ("policy:version", lambda d: {"number": d.number}, "", "rules"),
    ("policy:terms", lambda d: {"number": d.number}, "", "term-lists"),
    ("policy:staff", lambda d: {"number": d.number}, "", "staff"),
    ("policy:links", lambda d: {"number": d.number}, "", "links"),
    ("policy:templates", lambda d: {"number": d.number}, "", "templates"),
    ("policy:hours", lambda d: {"number": d.number}, "", "hours"),
    ("policy:categories", lambda d: {"number": d.number}, "", "categories"),
    ("policy:examples", lambda d: {"number": d.number}, "", "examples"),
    ("policy:history", lambda d: {"number": d.number}, "", "history"),
    ("policy:rule_new", lambda d: {"number": d.number}, "", "rule-form"),
    (
        "policy:rule_edit",
        lambda d: {"number": d.number, "rule_id": "profanity-terms"},
        "",
        "rule-form",
    ),
    ("policy:try", lambda d: {}, "?text=hello&platform=facebook", "try-result"),
    ("moderation:rule_stats", lambda d: {}, "", "rule-stats"),
]
UNKNOWN = [
    ("policy:version", {"number": 999}),
    ("policy:terms", {"number": 999}),
    ("policy:staff", {"number": 999}),
    ("policy:history", {"number": 999}),
    ("policy:export", {"number": 999}),
    ("policy:rule_edit", {"number": 2, "rule_id": "no-such-rule"}),
    ("moderation:dryrun", {"pk": 999999}),
]
POST_ONLY = [
    "policy:draft_create",
    "policy:import",
    "policy:publish",
    "moderation:dryrun_start",
    "policy:rule_toggle",
    "policy:rule_delete",
]


def url_for(name, draft, kwargs=None):
    if kwargs is None:
        kwargs = {"number": draft.number}
        if name in ("policy:rule_toggle", "policy:rule_delete"):
            kwargs["rule_id"] = "profanity-terms"
        if name in ("policy:draft_create", "policy:import"):
            kwargs = {}
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("name,kwargs,query,root", GET_VIEWS)
def test_full_page_and_htmx_partial(client_for, policy_admin, draft, name, kwargs, query, root):
    client = client_for(policy_admin)
    url = reverse(name, kwargs=kwargs(draft)) + query
    page = client.get(url)
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert f'id="{root}"' in page.content.decode()
    assert page["Vary"].count("HX-Request") == 1
    partial = client.get(url, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    body = partial.content.decode()
    assert "<html" not in body
    assert f'id="{root}"' in body


@pytest.mark.parametrize("name,kwargs,query,root", GET_VIEWS)
def test_anonymous_is_sent_to_sign_in(client, draft, name, kwargs, query, root):
    url = reverse(name, kwargs=kwargs(draft))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.parametrize("role", OTHER_ROLES)
@pytest.mark.parametrize("name,kwargs,query,root", GET_VIEWS)
def test_other_roles_are_refused(request, client_for, draft, role, name, kwargs, query, root):
    user = request.getfixturevalue(role)
    assert client_for(user).get(reverse(name, kwargs=kwargs(draft))).status_code == 403


@pytest.mark.parametrize("role", OTHER_ROLES)
@pytest.mark.parametrize("name", POST_ONLY)
def test_other_roles_cannot_post(request, client_for, draft, role, name):
    user = request.getfixturevalue(role)
    before = list(
        RuleSetVersion.objects.order_by("number").values_list("number", "status", "document")
    )
    assert (
        client_for(user).post(url_for(name, draft), {"based_on": draft.number}).status_code == 403
    )
    assert (
        list(RuleSetVersion.objects.order_by("number").values_list("number", "status", "document"))
        == before
    )
    assert not DryRun.objects.exists()


@pytest.mark.parametrize(
    "name", [n for n in POST_ONLY if n not in ("policy:publish", "policy:rule_delete")]
)  # publish and delete answer GET with their confirmation page (test_confirmations.py)
def test_post_only_views_refuse_get(client_for, policy_admin, draft, name):
    assert client_for(policy_admin).get(url_for(name, draft)).status_code == 405


@pytest.mark.parametrize(
    "name",
    ["policy:versions", "policy:try", "moderation:rule_stats", "policy:history", "policy:export"],
)
def test_read_only_views_refuse_post(client_for, policy_admin, draft, name):
    kwargs = {"number": draft.number} if name in ("policy:history", "policy:export") else {}
    assert client_for(policy_admin).post(reverse(name, kwargs=kwargs)).status_code == 405


@pytest.mark.parametrize("name,kwargs", UNKNOWN)
def test_unknown_ids_are_404(client_for, policy_admin, draft, name, kwargs):
    assert client_for(policy_admin).get(reverse(name, kwargs=kwargs)).status_code == 404


def test_unknown_version_post_is_404(client_for, policy_admin, draft):
    assert client_for(policy_admin).post(reverse("policy:publish", args=[999])).status_code == 404


# -- editing ---------------------------------------------------------------------------------
def test_add_a_term_saves_and_audits_the_diff(client_for, policy_admin, draft):
    insults = draft.document["term_lists"]["insults"]
    response = client_for(policy_admin).post(
        reverse("policy:terms", args=[draft.number]),
        {"name": "insults", "terms": "\n".join([*insults, "shambles"])},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"ruleset-changed": {}}'
    assert "Saved the list “insults”." in response.content.decode()
    draft.refresh_from_db()
    assert draft.document["term_lists"]["insults"] == [*insults, "shambles"]
    event = AuditEvent.objects.get(verb="ruleset.changed")
    assert (event.actor, event.target, event.ruleset_version_id) == (
        policy_admin,
        "ruleset:2",
        draft.pk,
    )
    assert event.data["what"] == "term list insults"
    changed = [
        ln
        for ln in event.data["diff"].splitlines()
        if ln[:1] in "+-" and ln[:3] not in ("+++", "---")
    ]
    assert changed == ["+  - shambles"]


def test_staff_section_without_htmx_redirects(client_for, policy_admin, draft):
    response = client_for(policy_admin).post(
        reverse("policy:staff", args=[draft.number]),
        {"names": " Jane Smith\n\n", "handles": "@JaneSmithNHS"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("policy:staff", args=[draft.number])
    draft.refresh_from_db()
    assert draft.document["staff"] == {"names": ["Jane Smith"], "handles": ["@JaneSmithNHS"]}


def test_invalid_pattern_is_shown_next_to_the_field_and_nothing_is_saved(
    client_for, policy_admin, draft
):
    before = draft.document
    client = client_for(policy_admin)
    url = reverse("policy:rule_new", args=[draft.number])
    data = form_data(client.get(url).content.decode(), url)  # the whole form, as a browser sends it
    data.update(id="new-rule", category="abuse", clause="Section 9: abuse", trigger="pattern",
                pattern="you (idiot")
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="rule-form"' in body
    n = len(before["rules"])
    assert (
        f'id="id_pattern-errors"><li>rules[{n}].pattern: missing ), unterminated subpattern at position 4</li>'
        in body
    )
    draft.refresh_from_db()
    assert draft.document == before
    assert not AuditEvent.objects.filter(verb="ruleset.changed").exists()


def test_edit_a_rule(client_for, policy_admin, draft):
    client = client_for(policy_admin)
    url = reverse("policy:rule_edit", args=[draft.number, "profanity-terms"])
    data = form_data(client.get(url).content.decode(), url)  # the whole form, as a browser sends it
    del data["enabled"]  # untick
    data.update(clause="Section 9: swearing", action="delete", auto_apply="no", unless="", window="")
    response = client.post(url, data)
    assert response.status_code == 302
    draft.refresh_from_db()
    rule = next(r for r in draft.document["rules"] if r["id"] == "profanity-terms")
    assert rule == {
        "id": "profanity-terms",
        "category": "profanity",
        "clause": "Section 9: swearing",
        "enabled": False,
        "terms": ["profanity"],
        "action": "delete",
        "auto_apply": False,
    }


def test_toggle_a_rule_returns_the_rules_fragment(client_for, policy_admin, draft):
    response = client_for(policy_admin).post(
        reverse("policy:rule_toggle", args=[draft.number, "profanity-terms"]),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"ruleset-changed": {}}'
    assert 'id="rules"' in response.content.decode() and "<html" not in response.content.decode()
    draft.refresh_from_db()
    assert (
        next(r for r in draft.document["rules"] if r["id"] == "profanity-terms")["enabled"] is False
    )
    assert (
        AuditEvent.objects.get(verb="ruleset.changed").data["what"]
        == "rule profanity-terms disabled"
    )


@pytest.mark.parametrize(
    "name,data",
    [
        ("policy:staff", {"names": "X", "handles": ""}),
        ("policy:terms", {"name": "insults", "terms": "x"}),
        ("policy:rule_toggle", None),
    ],
)
def test_published_version_edits_are_refused_with_409(
    client_for, policy_admin, published, name, data
):
    before = published.document
    audited = AuditEvent.objects.count()  # the fixture's own: v1 created and published
    kwargs = {"number": published.number}
    if name == "policy:rule_toggle":
        kwargs["rule_id"] = "profanity-terms"
    response = client_for(policy_admin).post(reverse(name, kwargs=kwargs), data or {})
    assert response.status_code == 409
    published.refresh_from_db()
    assert published.document == before
    assert AuditEvent.objects.count() == audited


def test_hours_form_errors_rerender_with_200(client_for, policy_admin, draft):
    response = client_for(policy_admin).post(
        reverse("policy:hours", args=[draft.number]),
        {
            "start": "17:00",
            "end": "09:00",
            "weekdays": ["0"],
            "closures": "2026-13-01",
            "first_look_minutes": "60",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "The working day must end after it starts." in body
    assert "Line 1: &#x27;2026-13-01&#x27; is not a date like 2026-12-29." in body


# -- versions ---------------------------------------------------------------------------------
def test_new_draft_from_a_version(client_for, policy_admin, published):
    response = client_for(policy_admin).post(
        reverse("policy:draft_create"), {"based_on": published.number}
    )
    new = RuleSetVersion.objects.get(number=2)
    assert response.status_code == 302 and response["Location"] == reverse(
        "policy:version", args=[2]
    )
    assert (new.status, new.based_on_id, new.created_by, new.document) == (
        "draft",
        published.pk,
        policy_admin,
        published.document,
    )
    assert AuditEvent.objects.get(verb="ruleset.draft_created", actor=policy_admin).data == {
        "based_on": 1,
        "notes": "Draft from v1",
    }


def test_publish_then_roll_back(client_for, policy_admin, published, draft):
    client = client_for(policy_admin)
    response = client.post(
        reverse("policy:publish", args=[draft.number]),
        {"confirm": "1", "note": "v2"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and response["HX-Redirect"] == reverse(
        "policy:version", args=[2]
    )
    assert dict(RuleSetVersion.objects.values_list("number", "status")) == {
        1: "archived",
        2: "published",
    }
    event = AuditEvent.objects.get(verb="ruleset.published", actor=policy_admin)
    assert (event.actor, event.target, event.data["previous"], event.data["diff"]) == (
        policy_admin,
        "ruleset:2",
        1,
        "",
    )
    assert client.post(reverse("policy:publish", args=[2])).status_code == 409
    client.post(reverse("policy:publish", args=[1]), {"confirm": "1", "note": "back"})
    assert dict(RuleSetVersion.objects.values_list("number", "status")) == {
        1: "published",
        2: "archived",
    }
    assert AuditEvent.objects.get(verb="ruleset.rolled_back").data["previous"] == 2


def test_export_is_yaml_that_imports_back(client_for, policy_admin, published):
    client = client_for(policy_admin)
    response = client.get(reverse("policy:export", args=[1]))
    assert response["Content-Disposition"] == 'attachment; filename="ruleset-v1.yaml"'
    text = response.content.decode()
    assert text.startswith("schema: 1\nname: default\n")
    response = client.post(reverse("policy:import"), {"text": text, "notes": "round trip"})
    assert response.status_code == 302
    assert RuleSetVersion.objects.get(number=2).document == published.document
    assert AuditEvent.objects.get(verb="ruleset.imported").target == "ruleset:2"


def test_import_errors_are_shown_with_the_line(client_for, policy_admin, published):
    response = client_for(policy_admin).post(
        reverse("policy:import"),
        {
            "text": "schema: 1\nrules:\n  - id: Bad Id\n    category: abuse\n    clause: x\n    terms: [insults]\n"
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="import-form"' in body and "<html" not in body
    assert "line 3, rules[0].id: expected a lower-case id" in body
    assert RuleSetVersion.objects.count() == 1


# -- try a comment --------------------------------------------------------------------------
def test_try_shows_draft_and_published_side_by_side_with_escaped_highlights(
    client_for, policy_admin, draft
):
    doc = draft.document
    doc["term_lists"]["insults"].append("shambles")
    RuleSetVersion.objects.filter(pk=draft.pk).update(document=doc)
    text = "<b>you</b> are a shambles"
    response = client_for(policy_admin).get(
        reverse("policy:try"),
        {"text": text, "platform": "facebook", "version": draft.number},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert 'id="verdict-v2"' in body and 'id="verdict-v1"' in body
    draft_col = body.split('id="verdict-v2"')[1].split('id="verdict-v1"')[0]
    published_col = body.split('id="verdict-v1"')[1]
    assert '<span class="badge action-hide">hide</span>' in draft_col
    assert '<span class="badge action-allow">allow</span>' in published_col
    assert (
        '&lt;b&gt;you&lt;/b&gt; are a <mark title="abuse-directed-insult">shambles</mark>'
        in draft_col
    )
    assert "<b>you</b>" not in body
    assert "No rule fired." in published_col


# -- dry run and statistics -----------------------------------------------------------------
def test_dry_run_is_enqueued_after_commit(
    client_for, policy_admin, draft, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(policy_admin).post(
            reverse("moderation:dryrun_start", args=[draft.number]), {"days": "30"}
        )
    run = DryRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "moderation:dryrun", args=[run.pk]
    )
    assert (run.version_id, run.days, run.status, run.requested_by) == (
        draft.pk,
        30,
        "pending",
        policy_admin,
    )
    assert len(callbacks) == 1
    assert broker.messages() == [("moderation.tasks.dryrun_execute_task", {"dryrun_id": run.pk})]


def test_dry_run_invalid_days_is_not_started(client_for, policy_admin, draft):
    response = client_for(policy_admin).post(
        reverse("moderation:dryrun_start", args=[draft.number]), {"days": "0"}
    )
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    assert not DryRun.objects.exists()


def test_dry_run_page_polls_until_done(client_for, policy_admin, draft, published):
    from moderation.dryrun import dryrun_execute

    run = DryRun.objects.create(version=draft, baseline=published)
    client = client_for(policy_admin)
    body = client.get(
        reverse("moderation:dryrun", args=[run.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'hx-trigger="every 1s"' in body and "<progress" in body
    dryrun_execute(dryrun_id=run.pk)
    body = client.get(
        reverse("moderation:dryrun", args=[run.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "hx-trigger" not in body and "comments judged" in body


def test_near_rule_and_keys_the_form_does_not_know_survive_an_edit(client_for, policy_admin, draft):
    doc = draft.document
    doc["rules"].append(
        {
            "id": "near-rule",
            "category": "hate",
            "clause": "Section 9: hate",
            "near": ["identity_groups", "insults"],
            "within": 40,
        }
    )
    RuleSetVersion.objects.filter(pk=draft.pk).update(document=doc)
    client = client_for(policy_admin)
    page = client.get(
        reverse("policy:rule_edit", args=[draft.number, "near-rule"])
    ).content.decode()
    assert '<option value="identity_groups" selected>identity_groups</option>' in page
    assert 'name="within" value="40"' in page
    url = reverse("policy:rule_edit", args=[draft.number, "near-rule"])
    data = form_data(page, url)  # the whole form, as a browser sends it
    data.update(near_then="slurs", within="30")
    response = client.post(url, data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.document["rules"][-1] == {
        "id": "near-rule",
        "category": "hate",
        "clause": "Section 9: hate",
        "near": ["identity_groups", "slurs"],
        "within": 30,
    }


def test_category_defaults_save_only_what_changed(client_for, policy_admin, draft):
    from policy.forms import CategoriesForm

    data = {k: v for k, v in CategoriesForm.initial_for(draft.document).items() if v is not False}
    data["abuse__action"] = "delete"
    response = client_for(policy_admin).post(
        reverse("policy:categories", args=[draft.number]), data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'id="categories"' in response.content.decode()
    event = AuditEvent.objects.get(verb="ruleset.changed")
    changed = [
        ln
        for ln in event.data["diff"].splitlines()
        if ln[:1] in "+-" and ln[:3] not in ("+++", "---")
    ]
    assert changed == ["-    action: hide", "+    action: delete"]
    draft.refresh_from_db()
    assert draft.document["categories"]["abuse"]["action"] == "delete"


def test_delete_a_rule(client_for, policy_admin, draft):
    n = len(draft.document["rules"])
    response = client_for(policy_admin).post(
        reverse("policy:rule_delete", args=[draft.number, "profanity-terms"]), {"confirm": "1"}
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "policy:version", args=[draft.number]
    )
    draft.refresh_from_db()
    assert len(draft.document["rules"]) == n - 1
    assert "profanity-terms" not in [r["id"] for r in draft.document["rules"]]
    assert (
        AuditEvent.objects.get(verb="ruleset.changed").data["what"]
        == "rule profanity-terms deleted"
    )


def test_delete_a_rule_of_a_published_version_is_refused(client_for, policy_admin, published):
    before = published.document
    response = client_for(policy_admin).post(
        reverse("policy:rule_delete", args=[published.number, "profanity-terms"])
    )
    assert response.status_code == 409
    published.refresh_from_db()
    assert published.document == before
