from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.access import role_required
from moderation import selectors


@require_GET
@role_required(roles.WORK_QUEUE)
def queue(request):
    items = selectors.queue_items_open()[:100]
    return render(request, "moderation/queue.html", {"items": items})


@require_GET
@role_required(roles.HANDLE_ESCALATIONS)
def escalations(request):
    items = selectors.escalations_recent()[:100]
    return render(request, "moderation/escalations.html", {"items": items})


@require_GET
@role_required(roles.VIEW_AUDIT)
def audit(request):
    events = selectors.audit_events_recent()[:200]
    return render(request, "moderation/audit.html", {"events": events})
