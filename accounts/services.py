"""Writes for the accounts app: the on-call rota. Each change and its audit event commit
together, in the service's own transaction."""

from __future__ import annotations

from django.db import transaction

from accounts.models import OnCallShift
from audit.services import audit_record


def _shift_audit(verb: str, *, actor, shift: OnCallShift) -> None:
    audit_record(verb=verb, actor=actor, target=f"shift:{shift.pk}", data={
        "user": shift.user.username, "backup": shift.backup.username if shift.backup else None,
        "starts_at": shift.starts_at.isoformat(), "ends_at": shift.ends_at.isoformat(),
    })


def shift_add(*, shift: OnCallShift, actor) -> OnCallShift:
    """Store a new, validated (ShiftForm) shift created by ``actor``."""
    assert shift.pk is None
    with transaction.atomic():
        shift.created_by = actor
        shift.save()
        _shift_audit("rota.shift_added", actor=actor, shift=shift)
    return shift


def shift_change(*, shift: OnCallShift, actor) -> OnCallShift:
    """Save a validated change to an existing shift."""
    assert shift.pk is not None
    with transaction.atomic():
        shift.save()
        _shift_audit("rota.shift_changed", actor=actor, shift=shift)
    return shift


def shift_remove(*, shift: OnCallShift, actor) -> None:
    """Remove a shift; the audit event keeps what it was."""
    with transaction.atomic():
        _shift_audit("rota.shift_removed", actor=actor, shift=shift)
        shift.delete()
