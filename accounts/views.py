"""The on-call rota: who is duty manager when, with a backup. Editable with manage_rota."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from accounts import roles
from accounts.access import role_required
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


def _audit(verb: str, user, shift: OnCallShift, **data):
    from moderation.services import audit_record

    audit_record(verb=verb, actor=user, target=f"shift:{shift.pk}", data={
        "user": shift.user.username, "backup": shift.backup.username if shift.backup else None,
        "starts_at": shift.starts_at.isoformat(), "ends_at": shift.ends_at.isoformat(), **data,
    })


def _rota_context(form=None):
    return {"form": form or ShiftForm(), "shifts": _shifts(), "now": timezone.now()}


@require_GET
@role_required(roles.MANAGE_ROTA)
@vary_on_headers("HX-Request")
def rota(request):
    template = "accounts/rota.html#rota-body" if request.htmx and not request.htmx.boosted else "accounts/rota.html"
    return render(request, template, _rota_context())


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
    with transaction.atomic():
        shift = form.save(commit=False)
        shift.created_by = request.user
        shift.save()
        _audit("rota.shift_added", request.user, shift)
    return _rota_changed(request, "Shift added.")


@require_http_methods(["GET", "POST"])
@role_required(roles.MANAGE_ROTA)
@vary_on_headers("HX-Request")
def shift_edit(request, pk: int):
    shift = _shift(pk)
    form = ShiftForm(request.POST or None, instance=shift)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            shift = form.save()
            _audit("rota.shift_changed", request.user, shift)
        messages.success(request, "Shift changed.")
        return redirect(reverse("accounts:rota"))
    template = "accounts/shift_edit.html#shift-form" if request.htmx and not request.htmx.boosted else "accounts/shift_edit.html"
    return render(request, template, {"form": form, "shift": shift})


@require_POST
@role_required(roles.MANAGE_ROTA)
def shift_delete(request, pk: int):
    shift = _shift(pk)
    with transaction.atomic():
        _audit("rota.shift_removed", request.user, shift)
        shift.delete()
    return _rota_changed(request, "Shift removed.")
