from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.access import role_required
from moderation import selectors


@require_GET
@role_required(roles.VIEW_AUDIT)
def audit(request):
    events = selectors.audit_events_recent()[:200]
    return render(request, "moderation/audit.html", {"events": events})
