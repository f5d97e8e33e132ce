from accounts import roles as role_names


def roles(request):
    """Navigation flags: each role sees only what it may use (the views check again)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "queue": user.has_perm(role_names.WORK_QUEUE),
            "escalations": user.has_perm(role_names.HANDLE_ESCALATIONS),
            "policy": user.has_perm(role_names.MANAGE_POLICY),
            "rota": user.has_perm(role_names.MANAGE_ROTA),
            "audit": user.has_perm(role_names.VIEW_AUDIT),
        }
    }
