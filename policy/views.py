from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.access import role_required
from policy.models import RuleSetVersion


@require_GET
@role_required(roles.MANAGE_POLICY)
def versions(request):
    return render(request, "policy/versions.html", {"versions": RuleSetVersion.objects.all()})
