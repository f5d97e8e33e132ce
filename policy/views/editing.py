"""Editing a draft: rules, term lists, staff, links, reply templates, working hours, and the
model reader's examples ("teach by example") and auto-hide scores.

Every save goes through policy.services.ruleset_change_draft (compiles the whole document;
RuleSetError's path lands next to the field) and is audited with a YAML diff. Published and
archived versions render the same pages read-only; a POST to them gets 409.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from accounts import roles
from accounts.access import role_required
from accounts.htmx import page_or_partial
from policy import selectors, services
from policy.engine import RuleSetError
from policy.forms import SECTION_FORMS, RuleForm, TermListForm
from policy.views.common import confirm_page, confirmed, editable, frozen_response, version_or_404

SECTION_TITLES = {
    "rules": "Rules",
    "categories": "Categories",
    "terms": "Term lists",
    "staff": "Staff",
    "links": "Links",
    "templates": "Reply templates",
    "hours": "Working hours",
    "examples": "Examples",
    "history": "Changes",
}


def version_context(version, section: str, **extra) -> dict:
    published = selectors.versions_all().filter(status="published").first()
    return {
        "recent_runs": selectors.dryruns_for_version(version),
        "version": version,
        "section": section,
        "editable": editable(version),
        "published": published,
        "sections": SECTION_TITLES,
        **extra,
    }


def _save(request, version, form, what: str) -> bool:
    """Apply a valid form to the draft and audit the diff; False with errors on the form."""
    try:
        services.ruleset_change_draft(
            version=version, change=form.document_with, actor=request.user, what=what
        )
    except RuleSetError as err:
        form.add_ruleset_error(err)
        return False
    return True


def rule_rows(doc: dict) -> list[dict]:
    defaults = doc.get("categories") or {}
    rows = []
    for i, rule in enumerate(doc.get("rules") or []):
        cat = defaults.get(rule["category"]) or {}
        if "terms" in rule:
            matches = "terms: " + ", ".join(rule["terms"])
        elif "pattern" in rule:
            matches = "pattern: " + rule["pattern"]
        elif "detector" in rule:
            matches = (
                "detector: "
                + rule["detector"]
                + (f" ({', '.join(rule['kinds'])})" if rule.get("kinds") else "")
            )
        elif "near" in rule:
            matches = (
                f"near: {rule['near'][0]} then {rule['near'][1]} within {rule.get('within', 60)}"
            )
        else:  # a trigger this page does not know yet (newer schema): say so, do not fail
            matches = (
                "(" + ", ".join(sorted(set(rule) - {"id", "category", "clause", "enabled"})) + ")"
            )
        rows.append(
            {
                "index": i,
                "id": rule["id"],
                "category": rule["category"],
                "matches": matches,
                "enabled": rule.get("enabled", True),
                "clause": rule["clause"],
                "action": rule.get("action", cat.get("action", "allow")),
                "escalation": rule.get("escalation", cat.get("escalation", "none")),
                "signpost": rule.get("signpost", cat.get("signpost", "none")),
                "auto_apply": rule.get("auto_apply", cat.get("auto_apply", False)),
            }
        )
    return rows


def _rule_index(version, rule_id: str) -> int:
    for i, rule in enumerate(version.document.get("rules") or []):
        if rule.get("id") == rule_id:
            return i
    raise Http404(f"No rule {rule_id!r} in v{version.number}")


@require_http_methods(["GET"])
@role_required(roles.MANAGE_POLICY)
@vary_on_headers("HX-Request")
def version_rules(request, number: int):
    version = version_or_404(number)
    context = version_context(version, "rules", rules=rule_rows(version.document))
    return page_or_partial(request, "policy/version.html", "rules", context)


@require_POST
@role_required(roles.MANAGE_POLICY)
def rule_toggle(request, number: int, rule_id: str):
    version = version_or_404(number)
    index = _rule_index(version, rule_id)
    if not editable(version):
        return frozen_response(request, version)
    enabled = not version.document["rules"][index].get("enabled", True)

    def change(doc: dict) -> dict:
        # By id, on the locked document: another admin's edit meanwhile is kept.
        rules = []
        for rule in doc["rules"]:
            if rule.get("id") == rule_id:
                rule = {k: v for k, v in rule.items() if k != "enabled"}
                if not enabled:
                    rule["enabled"] = False
            rules.append(rule)
        return {**doc, "rules": rules}

    version, _ = services.ruleset_change_draft(
        version=version,
        change=change,
        actor=request.user,
        what=f"rule {rule_id} {'enabled' if enabled else 'disabled'}",
    )
    if not request.htmx:
        return redirect(reverse("policy:version", args=[number]))
    context = version_context(version, "rules", rules=rule_rows(version.document))
    response = page_or_partial(request, "policy/version.html", "rules", context)
    return trigger_client_event(response, "ruleset-changed")


def _rule_form_view(request, version, index: int | None):
    if request.method == "POST":
        if not editable(version):
            return frozen_response(request, version)
        form = RuleForm(request.POST, document=version.document, index=index)
        if form.is_valid() and _save(request, version, form, f"rule {form.cleaned_data['id']}"):
            url = reverse("policy:version", args=[version.number])
            if request.htmx:
                from django_htmx.http import HttpResponseClientRedirect

                return HttpResponseClientRedirect(url)
            return redirect(url)
    else:
        form = RuleForm(document=version.document, index=index)
    context = version_context(
        version,
        "rules",
        form=form,
        index=index,
        rule_id=None if index is None else version.document["rules"][index]["id"],
    )
    return page_or_partial(request, "policy/rule.html", "rule-form", context)


@require_http_methods(["GET", "POST"])
@role_required(roles.MANAGE_POLICY)
@vary_on_headers("HX-Request")
def rule_new(request, number: int):
    return _rule_form_view(request, version_or_404(number), None)


@require_http_methods(["GET", "POST"])
@role_required(roles.MANAGE_POLICY)
@vary_on_headers("HX-Request")
def rule_edit(request, number: int, rule_id: str):
    version = version_or_404(number)
    return _rule_form_view(request, version, _rule_index(version, rule_id))


@require_http_methods(["GET", "POST"])
@role_required(roles.MANAGE_POLICY)
@vary_on_headers("HX-Request")
def version_terms(request, number: int):
    version = version_or_404(number)
    bound = None
    saved = None
    if request.method == "POST":
        if not editable(version):
            return frozen_response(request, version)
        bound = TermListForm(request.POST)
        if bound.is_valid() and _save(
            request, version, bound, f"term list {bound.cleaned_data['name']}"
        ):
            saved = bound.cleaned_data["name"]
            bound = None
            if not request.htmx:
                return redirect(reverse("policy:terms", args=[number]))
    lists = version.document.get("term_lists") or {}
    forms = []
    for name in sorted(lists):
        if bound is not None and bound.data.get("name") == name:
            forms.append((name, bound))
        else:
            forms.append(
                (name, TermListForm(initial={"name": name, "terms": "\n".join(lists[name])}))
            )
    new_form = (
        bound if bound is not None and bound.data.get("name") not in lists else TermListForm()
    )
    context = version_context(version, "terms", term_forms=forms, new_form=new_form, saved=saved)
    response = page_or_partial(request, "policy/version.html", "term-lists", context)
    return trigger_client_event(response, "ruleset-changed") if saved else response


@require_http_methods(["GET", "POST"])
@role_required(roles.MANAGE_POLICY)
@vary_on_headers("HX-Request")
def version_section(request, number: int, section: str):
    version = version_or_404(number)
    form_class = SECTION_FORMS[section]
    saved = False
    if request.method == "POST":
        if not editable(version):
            return frozen_response(request, version)
        form = form_class(request.POST)
        if form.is_valid() and _save(request, version, form, SECTION_TITLES[section].lower()):
            saved = True
            if not request.htmx:
                return redirect(reverse(f"policy:{section}", args=[number]))
            form = form_class(initial=form_class.initial_for(version.document))
    else:
        form = form_class(initial=form_class.initial_for(version.document))
    context = version_context(version, section, form=form, saved=saved)
    response = page_or_partial(request, "policy/version.html", section, context)
    return trigger_client_event(response, "ruleset-changed") if saved else response


@require_http_methods(["GET", "POST"])
@role_required(roles.MANAGE_POLICY)
def rule_delete(request, number: int, rule_id: str):
    """GET, or a POST without confirm=1 (the form without JavaScript), asks first; with
    JavaScript htmx has asked (hx-confirm) and posts confirm=1."""
    version = version_or_404(number)
    _rule_index(version, rule_id)  # 404 for an unknown rule
    if not editable(version):
        return frozen_response(request, version)
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"Delete the rule {rule_id} from v{number}?",
            message=f"It stops judging comments when v{number} is published. Until then you can add it back by hand.",
            action=reverse("policy:rule_delete", args=[number, rule_id]),
            button="Delete the rule",
            danger=True,
            cancel_url=reverse("policy:rule_edit", args=[number, rule_id]),
        )

    def change(doc: dict) -> dict:
        return {**doc, "rules": [r for r in doc["rules"] if r.get("id") != rule_id]}

    try:
        services.ruleset_change_draft(
            version=version, change=change, actor=request.user, what=f"rule {rule_id} deleted"
        )
    except (
        RuleSetError
    ) as err:  # e.g. another rule "requires" only this one's category: still valid today
        from django.contrib import messages

        messages.error(request, f"Rule {rule_id} was not deleted: {err}")
        url = reverse("policy:rule_edit", args=[number, rule_id])
    else:
        url = reverse("policy:version", args=[number])
    from django_htmx.http import HttpResponseClientRedirect

    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
