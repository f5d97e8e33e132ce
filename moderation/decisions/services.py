"""People's decisions on queue items: writes, atomic, keyword-only, explicit actor.

Every decision records who, when, why and under which rule set version (Decision row), asks
the platform for the matching change (``platform_action_request``; the apply task is the
platform clients' job) and writes an AuditEvent.

Concurrency (STYLE.md: no check-then-act): the decision that closes an item is a conditional
UPDATE ``... WHERE status <> 'decided' AND (unclaimed OR claimed by me)``. Exactly one of two
officers deciding the same item updates a row; the other gets ``AlreadyDecided`` naming who
won, and nothing of theirs is written or queued.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts import roles
from audit.services import audit_record
from moderation import doorbells
from moderation.decisions import notify
from moderation.decisions.actions import ActionNotSupported, platform_action_request
from moderation.models import Author, Decision, PlatformAction, QueueItem, Verdict
from moderation.platforms.capabilities import capability
from moderation.queue.items import queue_item_escalate

log = logging.getLogger(__name__)

Kind = Decision.Kind

# Decisions that take an item out of the queue.
CLOSING = {Kind.APPROVE, Kind.HIDE, Kind.DELETE, Kind.BLOCK, Kind.REPLY}
# What each decision asks the platform to do, in order. Block = hide the comment and block
# the author (DESIGN.md); where the platform cannot hide, only the block is requested.
PLATFORM_KINDS = {
    Kind.HIDE: ("hide",),
    Kind.UNHIDE: ("unhide",),
    Kind.DELETE: ("delete",),
    Kind.BLOCK: ("hide", "block"),
    Kind.REPLY: ("reply",),
}
# Decisions that can be undone, and what undoing asks of the platform.
REVERSIBLE = {Kind.HIDE: ("unhide",), Kind.APPROVE: ()}
BULK_KINDS = (Kind.APPROVE, Kind.HIDE, Kind.DELETE, Kind.BLOCK)
ESCALATE_TO = (Verdict.Escalation.DUTY_MANAGER, Verdict.Escalation.SAFEGUARDING)
# Safeguarding and crisis posts are evidence (DESIGN.md): never deleted automatically, and
# once referred to safeguarding never deleted at all (hide keeps them on the platform).
EVIDENCE_CATEGORIES = {"safeguarding", "crisis"}


class DecisionError(Exception):
    """A decision that cannot be made; the message is fit to show an officer."""


class AlreadyDecided(DecisionError):
    pass


class NotReversible(DecisionError):
    pass


class UndoRefused(DecisionError):
    """This person may not undo that decision: it is a colleague's and they are not a duty
    manager. The views answer 403."""


# How a person may undo a decision (``undo_right``): their own (or an automatic rule's), or
# as a duty manager overriding a colleague's, which needs a recorded reason.
UNDO_OWN = "own"
UNDO_OVERRIDE = "override"


def _closed_message(item: QueueItem) -> str:
    item.refresh_from_db()
    last = (
        Decision.objects.filter(comment_id=item.comment_id)
        .exclude(kind__in=[Kind.NOTE])
        .select_related("decided_by")
        .order_by("-created_at", "-id")
        .first()
    )
    if item.status == QueueItem.Status.CLAIMED:
        return f"Already claimed by {item.claimed_by.label if item.claimed_by else 'someone else'}."
    if last is None:
        return "Already decided."
    who = last.decided_by.label if last.decided_by else "an automatic rule"
    return f"Already decided: {last.get_kind_display().lower()} by {who} at {timezone.localtime(last.created_at):%H:%M}."


def _check_supported(item: QueueItem, *, required: tuple[str, ...]) -> None:
    for k in required:
        cap = capability(item.comment.platform, k)
        if not cap.supported:
            raise ActionNotSupported(cap.note)


def is_evidence(item: QueueItem) -> bool:
    verdict = item.verdict
    return (
        item.safeguarding_referred_at is not None
        or verdict.escalation == Verdict.Escalation.SAFEGUARDING
        or verdict.signpost == Verdict.Signpost.CRISIS
        or bool(EVIDENCE_CATEGORIES & set(verdict.categories))
    )


def approve_needs_reason(item: QueueItem) -> bool:
    """Approving closes the item and leaves the comment up. For an escalated one
    (safeguarding, crisis, urgent, duty manager: by the engine or by an officer) that is a
    judgement somebody must be able to read later, so it needs a reason."""
    return (
        item.escalation != Verdict.Escalation.NONE
        or item.verdict.escalation != Verdict.Escalation.NONE
        or is_evidence(item)
    )


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    item: QueueItem
    actions: list[PlatformAction]


def decision_make(
    *,
    item: QueueItem,
    user,
    kind: str,
    reason: str = "",
    reply_text: str = "",
    escalate_to: str = "",
) -> Outcome:
    """Record one person's decision on a queue item and request its platform actions.

    Closing kinds (approve, hide, delete, block, reply) win or lose the conditional UPDATE;
    a loser gets AlreadyDecided and nothing is written. Unhide, note and escalate do not
    close the item. Raises ActionNotSupported (platform cannot) and DecisionError (bad input)
    before writing anything.
    """
    assert user is not None and user.is_authenticated, "a person decides"
    kind = Kind(kind)
    if kind == Kind.UNDO:
        raise DecisionError("Use undo on the decision to undo.")
    if kind == Kind.REPLY and not reply_text.strip():
        raise DecisionError("Write the reply first.")
    if kind == Kind.ESCALATE and escalate_to not in ESCALATE_TO:
        raise DecisionError("Choose whom to escalate to: the duty manager or safeguarding.")
    if kind == Kind.NOTE and not reason.strip():
        raise DecisionError("Write the note first.")
    if kind == Kind.APPROVE and not reason.strip() and approve_needs_reason(item):
        raise DecisionError(
            "This is an escalated item (safeguarding, crisis or urgent): approving it needs a reason, which is recorded."
        )
    platform_kinds = PLATFORM_KINDS.get(kind, ())
    if kind == Kind.BLOCK:
        _check_supported(item, required=("block",))
        platform_kinds = tuple(k for k in platform_kinds if capability(item.comment.platform, k).supported)
    else:
        _check_supported(item, required=platform_kinds)
    if kind == Kind.DELETE and item.safeguarding_referred_at is not None:
        raise DecisionError("Referred to safeguarding: it is evidence. Hide it instead of deleting it.")

    now = timezone.now()
    with transaction.atomic():
        status_before = ""
        if kind in CLOSING:
            status_before = _item_close(item=item, user=user, now=now)
        decision = Decision.objects.create(
            comment=item.comment,
            kind=kind,
            decided_by=user,
            reason=reason.strip(),
            reply_text=reply_text.strip() if kind == Kind.REPLY else "",
            escalate_to=escalate_to if kind == Kind.ESCALATE else "",
            verdict=item.verdict,
            ruleset_version=item.verdict.ruleset_version,
            item_status_before=status_before,
        )
        payload = {"message": decision.reply_text} if kind == Kind.REPLY else None
        actions = [
            platform_action_request(comment=item.comment, kind=k, decision=decision, payload=payload if k == "reply" else None)
            for k in platform_kinds
        ]
        _author_effects(item, kind, now)
        if kind == Kind.ESCALATE:
            _escalate(item=item, user=user, to=escalate_to, reason=decision.reason)
        audit_record(
            verb=f"decision.{kind}",
            actor=user,
            comment=item.comment,
            target=f"queueitem:{item.pk}",
            ruleset_version=item.verdict.ruleset_version,
            data={"decision": decision.pk, "reason": decision.reason, "escalate_to": decision.escalate_to,
                  "actions": [a.kind for a in actions]},
        )
    item.refresh_from_db()
    return Outcome(decision=decision, item=item, actions=actions)


def _item_close(*, item: QueueItem, user, now) -> str:
    """Close the item for ``user``'s decision: a conditional UPDATE that one officer wins
    (AlreadyDecided for the other). Returns the status it had, open or claimed (by ``user``),
    for undo to put back. Closing an open item claims it for the decider as well."""
    if QueueItem.objects.filter(pk=item.pk, status=QueueItem.Status.OPEN, claimed_by__isnull=True).update(
        status=QueueItem.Status.DECIDED, decided_at=now, claimed_by=user, claimed_at=now,
    ):
        return QueueItem.Status.OPEN
    if QueueItem.objects.filter(pk=item.pk, status=QueueItem.Status.CLAIMED, claimed_by=user).update(
        status=QueueItem.Status.DECIDED, decided_at=now,
    ):
        return QueueItem.Status.CLAIMED
    raise AlreadyDecided(_closed_message(item))


def _author_effects(item: QueueItem, kind: str, now) -> None:
    author_id = item.comment.author_id
    if author_id is None:
        return
    if kind in (Kind.HIDE, Kind.DELETE, Kind.BLOCK):
        Author.objects.filter(pk=author_id).update(strikes=F("strikes") + 1)
    if kind == Kind.BLOCK:
        Author.objects.filter(pk=author_id, blocked=False).update(blocked=True, blocked_at=now)


def _escalate(*, item: QueueItem, user, to: str, reason: str) -> None:
    if to == Verdict.Escalation.DUTY_MANAGER:
        queue_item_escalate(item=item, escalation=to)
        doorbells.queueitem_page(item.pk)
    elif notify.safeguarding_refer(item=item, user=user, reason=reason):
        queue_item_escalate(item=item, escalation=to)
    else:
        raise DecisionError("Already referred to safeguarding.")


def item_claim(*, item: QueueItem, user) -> QueueItem:
    """Claim an open item (or keep your own claim). Conditional UPDATE: one owner wins."""
    now = timezone.now()
    with transaction.atomic():
        won = QueueItem.objects.filter(pk=item.pk).filter(
            Q(status=QueueItem.Status.OPEN) | Q(status=QueueItem.Status.CLAIMED, claimed_by=user)
        ).update(status=QueueItem.Status.CLAIMED, claimed_by=user, claimed_at=now)
        if not won:
            raise AlreadyDecided(_closed_message(item))
        audit_record(verb="queue.claimed", actor=user, comment=item.comment, target=f"queueitem:{item.pk}")
    item.refresh_from_db()
    return item


def item_release(*, item: QueueItem, user) -> QueueItem:
    with transaction.atomic():
        won = QueueItem.objects.filter(pk=item.pk, status=QueueItem.Status.CLAIMED, claimed_by=user).update(
            status=QueueItem.Status.OPEN, claimed_by=None, claimed_at=None
        )
        if not won:
            raise DecisionError("You have not claimed this item.")
        audit_record(verb="queue.released", actor=user, comment=item.comment, target=f"queueitem:{item.pk}")
    item.refresh_from_db()
    return item


def undo_right(*, decision: Decision, user) -> str | None:
    """How ``user`` may undo ``decision``: UNDO_OWN, UNDO_OVERRIDE or None (not at all).

    An officer undoes only their own decisions: undoing a colleague's silently reverses
    their judgement and leaves the item claimed by the wrong person. An automatic rule's
    decision is nobody's, so any officer may undo it (reviewing those is triage). A duty
    manager may override a colleague's decision, with a reason (decision_undo enforces it).
    """
    if decision.automatic or decision.decided_by_id == user.pk:
        return UNDO_OWN
    if user.has_perm(roles.HANDLE_ESCALATIONS):
        return UNDO_OVERRIDE
    return None


def undo_refusal(decision: Decision) -> str:
    who = decision.decided_by.label if decision.decided_by else "the person"
    return f"Only {who}, who made it, or a duty manager can undo it."


def decision_undo(*, item: QueueItem, decision: Decision, user, reason: str = "") -> Outcome:
    """Undo a reversible decision (hide -> unhide, approve) and put the item back in the queue.

    Only the latest closing decision on the item can be undone, once (Decision.undoes is
    one-to-one: a second undo loses on the unique constraint), and only by whoever may
    (``undo_right``): UndoRefused otherwise, and a duty manager's override without a
    reason is a DecisionError; either way nothing is written.
    """
    if decision.kind not in REVERSIBLE or decision.comment_id != item.comment_id:
        raise NotReversible("Only hide and approve can be undone.")
    right = undo_right(decision=decision, user=user)
    if right is None:
        raise UndoRefused(undo_refusal(decision))
    reason = reason.strip()
    overridden = decision.decided_by if right == UNDO_OVERRIDE else None
    if overridden is not None and not reason:
        raise DecisionError(f"Say why you are overriding {overridden.label}'s decision: the reason is recorded.")
    latest = (
        Decision.objects.filter(comment_id=item.comment_id, kind__in=list(CLOSING) + [Kind.UNDO])
        .order_by("-created_at", "-id")
        .first()
    )
    if latest is None or latest.pk != decision.pk:
        raise NotReversible("A later decision has been made; undo that first.")
    platform_kinds = REVERSIBLE[decision.kind]
    _check_supported(item, required=platform_kinds)
    with transaction.atomic():
        try:
            with transaction.atomic():
                undo = Decision.objects.create(
                    comment=item.comment, kind=Kind.UNDO, decided_by=user, undoes=decision,
                    reason=reason or f"Undo {decision.get_kind_display().lower()}", verdict=item.verdict,
                    ruleset_version=item.verdict.ruleset_version,
                )
        except IntegrityError:
            raise NotReversible("Already undone.") from None
        _item_reopen(item=item, decision=decision, user=user)
        actions = [platform_action_request(comment=item.comment, kind=k, decision=undo) for k in platform_kinds]
        if decision.kind == Kind.HIDE and item.comment.author_id:
            Author.objects.filter(pk=item.comment.author_id, strikes__gt=0).update(strikes=F("strikes") - 1)
        data = {"undoes": decision.pk, "decision": undo.pk, "override": overridden is not None}
        if overridden is not None:
            data.update(overridden=overridden.username, reason=reason)
        audit_record(
            verb="decision.undo_override" if overridden is not None else "decision.undo",
            actor=user, comment=item.comment, target=f"queueitem:{item.pk}",
            ruleset_version=item.verdict.ruleset_version, data=data,
        )
    item.refresh_from_db()
    return Outcome(decision=undo, item=item, actions=actions)


def _item_reopen(*, item: QueueItem, decision: Decision, user) -> None:
    """Put the item back as ``decision`` found it: open (unclaimed), or claimed by the same
    person since the same time (the decided row keeps the claim). Its escalation and due
    times were never changed by closing it, so it is due exactly as before. A decision
    recorded before the status was kept reopens claimed by the person undoing it."""
    decided = QueueItem.objects.filter(pk=item.pk, status=QueueItem.Status.DECIDED)
    if decision.item_status_before == QueueItem.Status.OPEN:
        decided.update(status=QueueItem.Status.OPEN, claimed_by=None, claimed_at=None, decided_at=None)
    elif decision.item_status_before == QueueItem.Status.CLAIMED:
        decided.update(status=QueueItem.Status.CLAIMED, decided_at=None)
    else:
        decided.update(status=QueueItem.Status.CLAIMED, claimed_by=user, claimed_at=timezone.now(), decided_at=None)


@dataclass
class BulkResult:
    done: list[int]
    refused: dict[int, str]


def decisions_bulk(*, items: list[QueueItem], user, kind: str, reason: str = "") -> BulkResult:
    """The same decision on several items; each in its own transaction, so one conflict or
    unsupported platform refuses that item only."""
    if kind not in BULK_KINDS:
        raise DecisionError("Bulk decisions are approve, hide, delete or block.")
    result = BulkResult(done=[], refused={})
    for item in items:
        try:
            decision_make(item=item, user=user, kind=kind, reason=reason)
            result.done.append(item.pk)
        except (DecisionError, ActionNotSupported) as exc:
            result.refused[item.pk] = str(exc)
    return result
