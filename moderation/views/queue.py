"""The officers' queue: what needs a person, breached first."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from accounts import roles
from accounts.access import role_required
from accounts.htmx import page_or_partial
from moderation import selectors
from moderation.decisions import services as decisions
from moderation.queue import sla
from moderation.forms import BulkDecisionForm, QueueFilterForm
from moderation.models import Channel, QueueItem


def _querystring(data, **changes) -> str:
    params = {k: v for k, v in data.items() if v not in ("", None, False) and k != "after"}
    for k, v in changes.items():
        if v in ("", None, False):
            params.pop(k, None)
        else:
            params[k] = v
    from urllib.parse import urlencode

    return urlencode({k: ("1" if v is True else v) for k, v in params.items()})


def _facets(form: QueueFilterForm, counts: dict) -> list[dict]:
    """Filter links with counts; each link toggles one filter and keeps the others."""
    data = form.cleaned_data
    channels = {c.pk: c for c in Channel.objects.order_by("platform", "name")}
    groups = [
        ("sla", "Service level", form.fields["sla"].choices[1:]),
        ("escalation", "Escalation", [c for c in form.fields["escalation"].choices[1:] if c[0] != "none"]),
        ("action", "Suggested action", form.fields["action"].choices[1:]),
        ("platform", "Platform", form.fields["platform"].choices[1:]),
        ("channel", "Channel", [(pk, c.name) for pk, c in channels.items()]),
        ("status", "Status", form.fields["status"].choices[1:]),
        ("category", "Category", [c for c in form.fields["category"].choices[1:] if counts["category"].get(c[0])]),
    ]
    out = []
    for key, label, choices in groups:
        current = data.get(key)
        options = []
        for value, text in choices:
            active = str(current) == str(value) if current not in ("", None) else False
            options.append({
                "label": text,
                "value": value,
                "count": counts[key].get(value, 0),
                "active": active,
                "qs": _querystring(data, **{key: "" if active else value}),
            })
        out.append({"key": key, "label": label, "options": options,
                    "clear_qs": _querystring(data, **{key: ""}) if current not in ("", None) else None})
    return out


@require_GET
@role_required(roles.WORK_QUEUE)
@vary_on_headers("HX-Request")
def queue(request):
    form = QueueFilterForm(request.GET)
    if not form.is_valid():
        form = QueueFilterForm({})
        form.is_valid()
    clock = sla.Clock.current()
    filters = form.filters()
    search_ids = selectors.queue_search_ids(filters.q) if filters.q else None
    page = selectors.queue_page(
        filters=filters, user=request.user, now=clock.now, cutoff=clock.cutoff, cursor=form.cursor(),
        search_ids=search_ids,
    )
    counts = selectors.queue_counts(
        filters=filters, user=request.user, now=clock.now, cutoff=clock.cutoff, search_ids=search_ids
    )
    for item in page.items:
        item.sla_state = clock.state(item.due)
        item.sla_label = sla.STATE_LABELS[item.sla_state]
        # An escalated row's Approve opens the reason form on the comment page instead.
        item.approve_needs_reason = decisions.approve_needs_reason(item)
    context = {
        "form": form,
        "page": page,
        "counts": counts,
        "facets": _facets(form, counts),
        "querystring": _querystring(form.cleaned_data),
        "mine_qs": _querystring(form.cleaned_data, mine=not form.cleaned_data["mine"]),
        "next_qs": _querystring(form.cleaned_data, after=page.next_cursor) if page.next_cursor else "",
        "first_page": not form.cleaned_data.get("after"),
        "now": clock.now,
        # Called by the template only when it renders the header (the full page, not a poll).
        "model_health": selectors.model_reader_health,
    }
    return page_or_partial(request, "moderation/queue.html", "queue-results", context)


@require_POST
@role_required(roles.WORK_QUEUE)
def bulk(request):
    form = BulkDecisionForm({"kind": request.POST.get("kind"), "items": request.POST.getlist("items"),
                             "reason": request.POST.get("reason", "")})
    if not form.is_valid():
        result, error = None, "; ".join(e for errs in form.errors.values() for e in errs)
    else:
        items = list(
            QueueItem.objects.select_related("comment", "verdict", "verdict__ruleset_version")
            .filter(comment_id__in=form.cleaned_data["items"])
        )
        result = decisions.decisions_bulk(
            items=items, user=request.user, kind=form.cleaned_data["kind"], reason=form.cleaned_data["reason"]
        )
        error = ""
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"{len(result.done)} done, {len(result.refused)} refused.")
            for reason in sorted(set(result.refused.values())):
                messages.warning(request, reason)
        return redirect(reverse("moderation:queue"))
    response = render(request, "moderation/queue.html#bulk-result", {"result": result, "error": error})
    if result and result.done:
        trigger_client_event(response, "queue-changed")
        # Bulk changes many rows: the list re-renders (a single row's decision swaps only
        # that row, so its Undo stays on screen).
        trigger_client_event(response, "queue-bulk-changed")
    return response
