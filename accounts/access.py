"""Role checks for views: anonymous users are sent to sign in by LoginRequiredMiddleware;
a signed-in user without the permission gets 403 (never a redirect loop)."""

from django.contrib.auth.decorators import permission_required


def role_required(perm: str):
    return permission_required(perm, raise_exception=True)
