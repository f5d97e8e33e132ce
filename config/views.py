from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

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


@require_GET
@login_not_required
def favicon(request):
    """Browsers and tools ask for /favicon.ico whatever the page links: send them to the
    static icon (a temporary redirect, because the static name carries the file's hash)."""
    return redirect(static("favicon.ico"))
