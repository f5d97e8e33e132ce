"""The on-call rota: who is duty manager when, with a backup. Editable with manage_rota."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from accounts import roles, services
from accounts.access import role_required
from accounts.htmx import page_or_partial
from accounts.forms import ShiftForm
from accounts.models import OnCallShift

# The rota page shows shifts that ended up to a week ago (handover) and everything after.
PAST = dt.timedelta(days=7)


def _shift(pk: int) -> OnCallShift:
    shift = OnCallShift.objects.select_related("user", "backup").filter(pk=pk).first()
    if shift is None:
        raise Http404("No such shift.")
    return shift


def _shifts():
    since = timezone.now() - PAST
    return OnCallShift.objects.select_related("user", "backup").filter(ends_at__gte=since).order_by("starts_at")


def _rota_context(form=None):
    return {"form": form or ShiftForm(), "shifts": _shifts(), "now": timezone.now()}


@require_GET
@role_required(roles.MANAGE_ROTA)
@vary_on_headers("HX-Request")
def rota(request):
    return page_or_partial(request, "accounts/rota.html", "rota-body", _rota_context())


def _rota_changed(request, message: str):
    """After a change: the page again without htmx, else the rota body and a
    ``rota-changed`` event for the parts of the page that show the rota."""
    if not request.htmx:
        messages.success(request, message)
        return redirect(reverse("accounts:rota"))
    response = render(request, "accounts/rota.html#rota-body", _rota_context())
    trigger_client_event(response, "rota-changed")
    return response


@require_POST
@role_required(roles.MANAGE_ROTA)
def shift_add(request):
    """Add a shift. Errors re-render the form (200); without htmx the page is re-rendered."""
    form = ShiftForm(request.POST)
    if not form.is_valid():
        template = "accounts/rota.html#rota-body" if request.htmx else "accounts/rota.html"
        return render(request, template, _rota_context(form))
    services.shift_add(shift=form.save(commit=False), actor=request.user)
    return _rota_changed(request, "Shift added.")


@require_http_methods(["GET", "POST"])
@role_required(roles.MANAGE_ROTA)
@vary_on_headers("HX-Request")
def shift_edit(request, pk: int):
    shift = _shift(pk)
    form = ShiftForm(request.POST or None, instance=shift)
    if request.method == "POST" and form.is_valid():
        shift = services.shift_change(shift=form.save(commit=False), actor=request.user)
        messages.success(request, "Shift changed.")
        return redirect(reverse("accounts:rota"))
    return page_or_partial(request, "accounts/shift_edit.html", "shift-form", {"form": form, "shift": shift})


@require_POST
@role_required(roles.MANAGE_ROTA)
def shift_delete(request, pk: int):
    shift = _shift(pk)
    services.shift_remove(shift=shift, actor=request.user)
    return _rota_changed(request, "Shift removed.")
