from django.shortcuts import redirect, render
from django.urls import reverse

from accounts import roles


def home(request):
    """Send each role to the screen it works in."""
    user = request.user
    if user.has_perm(roles.WORK_QUEUE):
        return redirect(reverse("moderation:queue"))
    if user.has_perm(roles.MANAGE_POLICY):
        return redirect(reverse("policy:versions"))
    if user.has_perm(roles.HANDLE_ESCALATIONS):
        return redirect(reverse("moderation:escalations"))
    return render(request, "no_role.html", status=403)
