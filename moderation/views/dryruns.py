"""The policy admin's pages over stored comments: dry runs of a rule set version, and
per-rule statistics from officers' decisions.

Both read stored comments, so they are driven from where the comments live (DESIGN.md):
their pages sit beside the policy pages (under /policy/), and use policy's forms and
version page, but are moderation's views (moderation -> policy, never the other way).
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from accounts import roles
from accounts.access import role_required
from accounts.htmx import page_or_partial
from moderation.dryrun import dryrun_get, dryrun_request, rule_decision_stats
from moderation.models import DryRun
from policy.forms import DryRunForm
from policy.views.common import version_or_404
from policy.views.editing import rule_rows, version_context

DIFF_TITLES = {
    "newly_flagged": "Newly flagged (allowed before, removed now)",
    "no_longer_flagged": "No longer flagged (removed before, allowed now)",
    "action_changed": "Different action (hide / delete / block)",
    "escalation_changed": "Different escalation",
}


@require_POST
@role_required(roles.MANAGE_POLICY)
def dryrun_start(request, number: int):
    version = version_or_404(number)
    form = DryRunForm(request.POST)
    if not form.is_valid():
        context = version_context(
            version, "rules", rules=rule_rows(version.document), dryrun_form=form
        )
        return render(request, "policy/version.html", context)
    run = dryrun_request(version=version, actor=request.user, days=form.cleaned_data["days"])
    url = reverse("moderation:dryrun", args=[run.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


@require_GET
@role_required(roles.MANAGE_POLICY)
@vary_on_headers("HX-Request")
def dryrun_detail(request, pk: int):
    try:
        run = dryrun_get(pk)
    except DryRun.DoesNotExist:
        raise Http404(f"No dry run {pk}") from None
    t = run.totals or {}
    by_rule = (run.examples or {}).get("by_rule", {})
    rule_rows = sorted(
        (
            {
                "id": rid,
                **c,
                "examples": [
                    {**ex, "label": ex["kind"].replace("_", " ")} for ex in by_rule.get(rid, [])
                ],
            }
            for rid, c in (t.get("rules") or {}).items()
            if any(c.get(k) for k in DIFF_TITLES)
        ),
        key=lambda r: (-sum(r.get(k, 0) for k in DIFF_TITLES), r["id"]),
    )
    context = {
        "run": run,
        "finished": run.status in (DryRun.Status.DONE, DryRun.Status.FAILED),
        "percent": _percent(run.progress, run.total) if run.total else 0,
        "diff_titles": DIFF_TITLES,
        "sections": [
            (k, DIFF_TITLES[k], t.get(k, 0), (run.examples or {}).get(k, [])) for k in DIFF_TITLES
        ],
        "rule_rows": rule_rows,
        "agree_before_pct": _percent(t.get("agree_before", 0), t.get("decided", 0)),
        "agree_after_pct": _percent(t.get("agree_after", 0), t.get("decided", 0)),
    }
    return page_or_partial(request, "moderation/dryrun.html", "dryrun", context)


@require_GET
@role_required(roles.MANAGE_POLICY)
@vary_on_headers("HX-Request")
def rule_stats(request):
    form = DryRunForm(request.GET or None)
    days = form.cleaned_data["days"] if form.is_valid() else None
    context = {"form": form, "days": days, "stats": rule_decision_stats(days=days)}
    return page_or_partial(request, "moderation/rule_stats.html", "rule-stats", context)
