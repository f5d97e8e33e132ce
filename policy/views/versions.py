"""The rule set versions: list, new draft, import, export, publish / roll back, history."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from accounts import roles
from accounts.access import role_required
from accounts.htmx import page_or_partial
from policy import selectors, services
from policy.engine import RuleSetError
from policy.forms import ImportForm, NewDraftForm, PublishForm
from policy.models import RuleSetVersion
from policy.views.common import confirm_page, confirmed, version_or_404


def _versions_context(import_form=None) -> dict:
    return {
        "versions": selectors.versions_all(),
        "import_form": import_form or ImportForm(),
        "latest_draft": selectors.latest_draft(),
    }


@require_GET
@role_required(roles.MANAGE_POLICY)
@vary_on_headers("HX-Request")
def versions(request):
    return page_or_partial(request, "policy/versions.html", "versions", _versions_context())


@require_POST
@role_required(roles.MANAGE_POLICY)
def draft_create(request):
    form = NewDraftForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose the version to start from.", status=400)
    source = version_or_404(form.cleaned_data["based_on"])
    draft = services.ruleset_create_draft(
        document=source.document,
        actor=request.user,
        based_on=source,
        notes=form.cleaned_data["notes"] or f"Draft from v{source.number}",
    )
    messages.success(
        request,
        f"Draft v{draft.number} created from v{source.number}. Edit it, try it, dry-run it, then publish.",
    )
    url = reverse("policy:version", args=[draft.number])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@role_required(roles.MANAGE_POLICY)
def ruleset_import(request):
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            draft = services.ruleset_import_yaml(
                text=form.cleaned_data["yaml"],
                actor=request.user,
                notes=form.cleaned_data["notes"],
            )
        except RuleSetError as err:
            form.add_error(None, f"{err.path}: {err.message}" if err.path else err.message)
        else:
            messages.success(request, f"Imported as draft v{draft.number}.")
            url = reverse("policy:version", args=[draft.number])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return page_or_partial(request, "policy/versions.html", "import-form", _versions_context(form))


@require_GET
@role_required(roles.MANAGE_POLICY)
def version_export(request, number: int):
    version = version_or_404(number)
    response = HttpResponse(
        selectors.ruleset_dump_yaml(version.document),
        content_type="application/yaml; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="ruleset-v{version.number}.yaml"'
    return response


@require_http_methods(["GET", "POST"])
@role_required(roles.MANAGE_POLICY)
def version_publish(request, number: int):
    """Publish a draft, or roll back to an archived version, with a change note.

    GET, or a POST without confirm=1 (the form without JavaScript), shows the confirmation
    page (the note typed so far kept); with JavaScript htmx has asked (hx-confirm) and posts
    confirm=1. A confirmed POST without a note is refused and nothing changes.
    """
    version = version_or_404(number)
    if version.status == RuleSetVersion.Status.PUBLISHED:
        return HttpResponse(f"v{version.number} is already the published version.", status=409)
    rollback = version.status == RuleSetVersion.Status.ARCHIVED
    previous = RuleSetVersion.objects.filter(status=RuleSetVersion.Status.PUBLISHED).first()
    url = reverse("policy:publish", args=[version.number])
    if confirmed(request):
        form = PublishForm(request.POST)
        if not form.is_valid() and request.htmx:
            # Only a crafted request gets here (the page's note is required): ask again.
            messages.error(request, form.errors["note"][0])
            return HttpResponseClientRedirect(url)
    else:
        form = PublishForm(initial={"note": request.POST.get("note", "")})
    if not form.is_bound or not form.is_valid():
        if rollback:
            title = f"Roll back to v{version.number}?"
            message = (f"It replaces {f'v{previous.number}' if previous else 'the published version'} for every "
                       "new comment from now on. Say why in the change note.")
        else:
            title = f"Publish v{version.number}?"
            message = ("It judges every new comment from now on and can never be edited again. "
                       "Say what changes and why in the change note.")
        return confirm_page(
            request, title=title, message=message, action=url, form=form, danger=rollback,
            button=f"Roll back to v{version.number}" if rollback else f"Publish v{version.number}",
            cancel_url=reverse("policy:version", args=[version.number]),
        )
    note = form.cleaned_data["note"]
    try:
        services.ruleset_publish(version=version, actor=request.user, note=note)
    except RuleSetError as err:
        messages.error(request, f"v{version.number} cannot be published: {err}")
    else:
        verb = "Rolled back to" if rollback else "Published"
        messages.success(
            request, f"{verb} v{version.number}. Workers use it for new comments within seconds."
        )
    # The whole page changes (the draft becomes read-only): a full load, not a fragment.
    url = reverse("policy:version", args=[version.number])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_GET
@role_required(roles.MANAGE_POLICY)
@vary_on_headers("HX-Request")
def version_history(request, number: int):
    version = version_or_404(number)
    context = {"version": version, "section": "history", "events": selectors.ruleset_history(version.number)}
    return page_or_partial(request, "policy/version.html", "history", context)
