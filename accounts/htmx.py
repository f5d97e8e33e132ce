"""The page-or-partial response every app's views share (STYLE.md, "htmx").

Here, in the lowest of the three apps, because every app's views already import accounts
(roles, access) and a helper with callers in all three needs one home.
"""

from __future__ import annotations

from django.shortcuts import render


def is_partial(request) -> bool:
    """An htmx request for a fragment: not boosted (a boosted link wants the whole page)."""
    return bool(request.htmx and not request.htmx.boosted)


def page_or_partial(request, template: str, partial: str, context: dict, status: int = 200):
    """The named partial for an htmx request (not boosted), the full page otherwise."""
    if is_partial(request):
        return render(request, f"{template}#{partial}", context, status=status)
    return render(request, template, context, status=status)
