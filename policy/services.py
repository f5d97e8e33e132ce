"""Writes for the policy app: creating, editing, publishing and rolling back rule set
versions. Each writes its audit event (verb ``ruleset.<what>``, target ``ruleset:<number>``)
in its own transaction. ``actor`` is the person acting; ``system_actor`` names what acted
when no person did (a management command, a test)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.services import audit_record
from policy.engine import compile_ruleset
from policy.models import RuleSetVersion
from policy.selectors import forget_published_matcher, ruleset_document_diff, ruleset_parse_yaml


def _audit(verb: str, version: RuleSetVersion, *, actor, system_actor: str, **data) -> None:
    audit_record(
        verb=f"ruleset.{verb}",
        actor=actor,
        system_actor="" if actor is not None else system_actor,
        target=f"ruleset:{version.number}",
        ruleset_version=version,
        data=data,
    )


def _draft_create(*, document: dict, actor, notes: str, based_on: RuleSetVersion | None) -> RuleSetVersion:
    compile_ruleset(document)
    # Lock the table's top row so two admins creating drafts get distinct numbers.
    RuleSetVersion.objects.select_for_update().order_by("-number").first()
    number = (RuleSetVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    return RuleSetVersion.objects.create(
        number=number, document=document, notes=notes, created_by=actor, based_on=based_on
    )


def ruleset_create_draft(
    *, document: dict, actor=None, system_actor: str = "", notes: str = "",
    based_on: RuleSetVersion | None = None,
) -> RuleSetVersion:
    """A new draft holding ``document``, validated by compiling it (RuleSetError if invalid)."""
    with transaction.atomic():
        draft = _draft_create(document=document, actor=actor, notes=notes, based_on=based_on)
        _audit("draft_created", draft, actor=actor, system_actor=system_actor,
               based_on=based_on.number if based_on else None, notes=draft.notes)
    return draft


def ruleset_publish(*, version: RuleSetVersion, actor=None, system_actor: str = "", note: str | None = None) -> RuleSetVersion:
    """Make ``version`` the one that judges comments; the previous one is archived.

    A published or archived version is never edited again: publishing an archived version
    is how roll back works (the document is the same frozen one). The audit event says
    which (``published`` / ``rolled_back``) and holds the admin's change ``note`` (the
    pages ask for one) and the diff from the previous version.
    """
    compile_ruleset(version.document)
    rollback = version.status == RuleSetVersion.Status.ARCHIVED
    with transaction.atomic():
        previous = RuleSetVersion.objects.select_for_update().filter(
            status=RuleSetVersion.Status.PUBLISHED
        ).exclude(pk=version.pk).first()
        RuleSetVersion.objects.filter(
            status=RuleSetVersion.Status.PUBLISHED
        ).exclude(pk=version.pk).update(status=RuleSetVersion.Status.ARCHIVED)
        version.status = RuleSetVersion.Status.PUBLISHED
        version.published_at = timezone.now()
        version.published_by = actor
        version.save(update_fields=["status", "published_at", "published_by"])
        noted = {} if note is None else {"note": note}
        _audit(
            "rolled_back" if rollback else "published", version, actor=actor, system_actor=system_actor,
            previous=previous.number if previous else None, **noted,
            diff=ruleset_document_diff(previous.document, version.document) if previous else "",
        )
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
    never overwritten. Records no audit event (the admin pages edit through
    ``ruleset_change_draft``, which does).
    """
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
    *, version: RuleSetVersion, change, actor=None, system_actor: str = "", what: str = ""
) -> tuple[RuleSetVersion, str]:
    """Apply ``change(document) -> new document`` to a draft under its row lock.

    Two admins saving different parts of the same draft at once both keep their change:
    each applies its edit to the document as it is after the other's commit, never to the
    copy it read when the page was rendered. Same contract as ruleset_update_draft
    (RuleSetError / RuleSetNotDraft, nothing saved); the compile (~150 ms) holds the lock.
    A change to the document is audited as ``ruleset.changed`` with ``what`` and the diff.
    """
    with transaction.atomic():
        locked = RuleSetVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != RuleSetVersion.Status.DRAFT:
            raise RuleSetNotDraft(locked)
        document = change(locked.document)
        compile_ruleset(document)
        diff = ruleset_document_diff(locked.document, document)
        locked.document = document
        locked.save(update_fields=["document"])
        if diff:
            _audit("changed", locked, actor=actor, system_actor=system_actor, what=what, diff=diff)
    version.document = document
    return version, diff


def ruleset_import_yaml(*, text: str, actor=None, system_actor: str = "", notes: str = "") -> RuleSetVersion:
    """A new draft from an admin's YAML; RuleSetError with a line number when it is invalid."""
    document = ruleset_parse_yaml(text)
    with transaction.atomic():
        draft = _draft_create(document=document, actor=actor, notes=notes or "Imported from YAML", based_on=None)
        _audit("imported", draft, actor=actor, system_actor=system_actor, notes=draft.notes)
    return draft
