"""Helpers shared by the policy admin views."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.template.response import TemplateResponse

from policy import selectors
from policy.models import RuleSetVersion


def version_or_404(number: int) -> RuleSetVersion:
    try:
        return selectors.get_version(number)
    except RuleSetVersion.DoesNotExist:
        raise Http404(f"No rule set version {number}") from None


def highlight_segments(text: str, hits) -> list[dict]:
    """Split ``text`` into plain and marked pieces from the verdict's rule spans.

    Returns [{"text": str, "rules": [rule ids] or []}]; the template prints each piece with
    auto-escaping (comment text is untrusted, never marked safe), wrapping marked ones.
    """
    spans = [(s, e, h.id) for h in hits for s, e, _ in h.spans if 0 <= s < e <= len(text)]
    bounds = sorted({0, len(text), *[s for s, _, _ in spans], *[e for _, e, _ in spans]})
    out = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        rules = sorted({rid for s, e, rid in spans if s <= a and b <= e})
        if out and out[-1]["rules"] == rules:
            out[-1]["text"] += text[a:b]
        else:
            out.append({"text": text[a:b], "rules": rules})
    return out


def editable(version: RuleSetVersion) -> bool:
    return version.status == RuleSetVersion.Status.DRAFT


def frozen_response(request, version: RuleSetVersion):
    """409: the version is published or archived (the service and the database refuse too)."""
    return TemplateResponse(request, "policy/frozen.html", {"version": version}, status=409)


def confirm_page(request, *, title: str, message: str, action: str, button: str, cancel_url: str,
                 danger: bool = False, form=None):
    """The no-JavaScript confirmation step of a dangerous action: a page whose form posts
    ``confirm=1`` to ``action`` (htmx posts it itself after hx-confirm). Changes nothing."""
    return render(request, "policy/confirm.html", {
        "title": title, "message": message, "action": action, "button": button,
        "button_class": "danger" if danger else "", "cancel_url": cancel_url, "form": form,
    })


def confirmed(request) -> bool:
    return request.method == "POST" and request.POST.get("confirm") == "1"
