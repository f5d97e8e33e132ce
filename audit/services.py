"""Writing the audit trail. Every service that changes something calls ``audit_record``
inside its own transaction, so the change and its record commit or roll back together."""

from __future__ import annotations

from audit.models import AuditEvent
from audit.text import storable_json


def audit_record(
    *,
    verb: str,
    actor=None,
    system_actor: str = "",
    comment=None,
    target: str = "",
    ruleset_version=None,
    data: dict | None = None,
) -> AuditEvent:
    assert actor is not None or system_actor, "every audit event names who or what acted"
    return AuditEvent.objects.create(
        verb=verb,
        actor=actor,
        system_actor=system_actor,
        comment=comment,
        target=target,
        ruleset_version=ruleset_version,
        data=storable_json(data or {}),
    )
