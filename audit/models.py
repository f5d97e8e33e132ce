"""The audit trail: who or what did what, when, under which rule set version, and why.

The bottom of the stack (README, Architecture): accounts, policy and moderation all write
here, through ``audit.services.audit_record``, and this app imports none of them (its
foreign keys name their models by string). The table is ``moderation_auditevent``, where
the trail began: migration moderation/0002's trigger on it refuses UPDATE and DELETE, and
the move to this app (audit/0001, moderation/0009) changed Django's state, not the table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class AuditEvent(models.Model):
    """Append-only record of every step: who or what, when, which rule set version, why.

    A database trigger (migration moderation/0002) rejects UPDATE and DELETE, so the trail
    cannot be edited from the application.
    """

    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # "engine", "sweeper", "platform:facebook", ... when no person acted.
    system_actor = models.CharField(max_length=64, blank=True)
    verb = models.CharField(max_length=64)
    comment = models.ForeignKey(
        "moderation.Comment", on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    target = models.CharField(max_length=200, blank=True)  # e.g. "ruleset:7", "channel:3"
    ruleset_version = models.ForeignKey(
        "policy.RuleSetVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "moderation_auditevent"
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(actor__isnull=False) | ~Q(system_actor=""), name="audit_has_actor"
            ),
        ]
        indexes = [
            # Comment timeline: WHERE comment_id = ? ORDER BY at.
            models.Index(fields=["comment", "at"], name="audit_comment_idx"),
            # Audit page, newest first, filtered by verb.
            models.Index(fields=["verb", "-at"], name="audit_verb_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.verb}"
