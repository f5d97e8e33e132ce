"""Writes for the policy app: creating, publishing and rolling back rule set versions."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from policy.models import RuleSetVersion
from policy.selectors import forget_published_matcher


def ruleset_create_draft(
    *, document: dict, actor=None, notes: str = "", based_on: RuleSetVersion | None = None
) -> RuleSetVersion:
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


class RuleSetNotDraft(Exception):
    """Only a draft is ever edited: published and archived versions are frozen evidence of
    what judged which comment (the database trigger in migration 0002 says the same)."""

    def __init__(self, version: RuleSetVersion):
        self.version = version
        super().__init__(
            f"v{version.number} is {version.status}: it can no longer be edited; create a draft from it"
        )


def ruleset_update_draft(
    *, version: RuleSetVersion, document: dict, actor=None
) -> tuple[RuleSetVersion, str]:
    """Replace a draft's document; returns (version, readable YAML diff of the change).

    Validates by compiling (RuleSetError(path, message) if invalid, nothing saved). The row
    is locked and re-read so a version published meanwhile is refused (RuleSetNotDraft),
    never overwritten. The caller records the audit event (moderation owns the trail).
    """
    from policy.engine import compile_ruleset
    from policy.selectors import ruleset_document_diff

    compile_ruleset(document)
    with transaction.atomic():
        locked = RuleSetVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != RuleSetVersion.Status.DRAFT:
            raise RuleSetNotDraft(locked)
        diff = ruleset_document_diff(locked.document, document)
        locked.document = document
        locked.save(update_fields=["document"])
    version.document = document
    return version, diff


def ruleset_change_draft(
    *, version: RuleSetVersion, change, actor=None
) -> tuple[RuleSetVersion, str]:
    """Apply ``change(document) -> new document`` to a draft under its row lock.

    Two admins saving different parts of the same draft at once both keep their change:
    each applies its edit to the document as it is after the other's commit, never to the
    copy it read when the page was rendered. Same contract as ruleset_update_draft
    (RuleSetError / RuleSetNotDraft, nothing saved); the compile (~150 ms) holds the lock.
    """
    from policy.engine import compile_ruleset
    from policy.selectors import ruleset_document_diff

    with transaction.atomic():
        locked = RuleSetVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != RuleSetVersion.Status.DRAFT:
            raise RuleSetNotDraft(locked)
        document = change(locked.document)
        compile_ruleset(document)
        diff = ruleset_document_diff(locked.document, document)
        locked.document = document
        locked.save(update_fields=["document"])
    version.document = document
    return version, diff


def ruleset_import_yaml(*, text: str, actor=None, notes: str = "") -> RuleSetVersion:
    """A new draft from an admin's YAML; RuleSetError with a line number when it is invalid."""
    from policy.selectors import ruleset_parse_yaml

    document = ruleset_parse_yaml(text)
    return ruleset_create_draft(document=document, actor=actor, notes=notes or "Imported from YAML")
