"""The duty manager's view: open and recent out-of-hours escalations with their timeline."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from accounts import roles
from accounts.access import role_required
from accounts.htmx import page_or_partial
from moderation import access, selectors
from moderation.decisions import notify

# "Recent" on the duty manager's page: a week covers a bank-holiday weekend's handover.
RECENT = dt.timedelta(days=7)


@require_GET
@role_required(roles.HANDLE_ESCALATIONS)
@vary_on_headers("HX-Request")
def escalations(request):
    open_items, recent = selectors.escalations_for_duty_manager(since=timezone.now() - RECENT)
    context = {
        "open_items": open_items,
        "recent": recent,
        "on_call": notify.shift_on_call(timezone.now()),
    }
    return page_or_partial(request, "moderation/escalations.html", "escalation-lists", context)


@require_POST
@role_required(roles.HANDLE_ESCALATIONS)
def acknowledge(request, pk: int):
    item = access.get_queue_item_for_user(request, pk)
    error = ""
    try:
        item = notify.escalation_acknowledge(item=item, user=request.user)
    except notify.AlreadyAcknowledged as exc:
        error = str(exc)
    if not request.htmx:
        (messages.error if error else messages.success)(request, error or "Acknowledged: it is yours.")
        return redirect(reverse("moderation:escalations"))
    item = selectors.queue_item_for_comment(item.comment_id)
    item.timeline = selectors.comment_timeline(item.comment)
    response = render(request, "moderation/escalations.html#escalation-card", {"item": item, "error": error})
    trigger_client_event(response, "escalations-changed")
    return response
