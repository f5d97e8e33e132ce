"""Writes for the policy app: creating, publishing and rolling back rule set versions."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from policy.models import RuleSetVersion
from policy.selectors import forget_published_matcher


def ruleset_create_draft(*, document: dict, actor=None, notes: str = "", based_on: RuleSetVersion | None = None) -> RuleSetVersion:
    """A new draft holding ``document``, validated by compiling it (RuleSetError if invalid)."""
    from policy.engine import compile_ruleset

    compile_ruleset(document)
    with transaction.atomic():
        # Lock the table's top row so two admins creating drafts get distinct numbers.
        RuleSetVersion.objects.select_for_update().order_by("-number").first()
        number = (RuleSetVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        return RuleSetVersion.objects.create(
            number=number, document=document, notes=notes, created_by=actor, based_on=based_on
        )


def ruleset_publish(*, version: RuleSetVersion, actor=None) -> RuleSetVersion:
    """Make ``version`` the one that judges comments; the previous one is archived.

    A published or archived version is never edited again: publishing an archived version
    is how roll back works (the document is the same frozen one).
    """
    from policy.engine import compile_ruleset

    compile_ruleset(version.document)
    with transaction.atomic():
        RuleSetVersion.objects.select_for_update().filter(
            status=RuleSetVersion.Status.PUBLISHED
        ).exclude(pk=version.pk).update(status=RuleSetVersion.Status.ARCHIVED)
        version.status = RuleSetVersion.Status.PUBLISHED
        version.published_at = timezone.now()
        version.published_by = actor
        version.save(update_fields=["status", "published_at", "published_by"])
    forget_published_matcher()
    return version
