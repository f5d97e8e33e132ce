"""Rules applied automatically: an "apply automatically" rule's verdict becomes a decision
with no person (DESIGN.md: hide is reversible and may be automatic; irreversible actions
need a rule an admin marked so; safeguarding and crisis posts are never deleted)."""

from __future__ import annotations

from django.db.models import Case, F, Value, When
from django.utils import timezone

from audit.models import AuditEvent
from audit.text import storable_json
from moderation import doorbells
from moderation.decisions.services import PLATFORM_KINDS, Kind, is_evidence
from moderation.models import Author, Decision, PlatformAction, QueueItem, Verdict
from moderation.platforms.capabilities import capability


def _automatic_reason(verdict: Verdict) -> str:
    return "Applied automatically: " + ", ".join(r["id"] for r in verdict.rules)


def _automatic_plan(verdict: Verdict, item: QueueItem) -> tuple[Kind, tuple[str, ...], bool] | None:
    """(decision kind, platform actions, item stays open) for an automatic verdict, or None
    when nothing can be applied. Pure Python, no queries."""
    if not verdict.auto_apply or verdict.action == Verdict.Action.ALLOW:
        return None
    kind = Kind(verdict.action)
    if is_evidence(item) and kind in (Kind.DELETE, Kind.BLOCK):
        kind = Kind.HIDE
    platform = item.comment.platform
    if kind in (Kind.DELETE, Kind.BLOCK) and not capability(platform, kind.value).supported:
        kind = Kind.HIDE
    wanted = tuple(k for k in PLATFORM_KINDS[kind] if capability(platform, k).supported)
    if not wanted:
        return None
    stays_open = item.needs_reply or verdict.escalation != Verdict.Escalation.NONE or kind.value != verdict.action
    return kind, wanted, stays_open


def apply_automatic(pairs: list[tuple[Verdict, QueueItem]]) -> list[Decision]:
    """Apply verdicts automatically where their rule says so, in a constant number of
    statements: Decision, PlatformAction (rung after commit), author strikes / block, the
    queue item closed when nothing is left for a person, AuditEvent.

    - Only verdicts with ``auto_apply`` and a removal action.
    - Safeguarding and crisis posts are never deleted or blocked automatically: at most they
      are hidden, and the item stays in the queue for a person.
    - Where the platform cannot do the action, the nearest reversible one (hide) is used;
      where it cannot hide either, nothing happens and a person decides.
    - Escalations and replies still need a person: the item stays open; otherwise it closes.

    Only for verdicts created in the caller's transaction with their queue items
    (triage/classify.py): no automatic decision can exist for them yet (each verdict is
    judged and applied once). Returns the decisions made.
    """
    planned = []
    for verdict, item in pairs:
        plan = _automatic_plan(verdict, item)
        if plan is not None:
            planned.append((verdict, item, *plan))
    if not planned:
        return []
    now = timezone.now()
    decisions = Decision.objects.bulk_create([
        Decision(comment=item.comment, kind=kind, automatic=True, verdict=verdict,
                 ruleset_version=verdict.ruleset_version, reason=_automatic_reason(verdict),
                 # Its item was open (new, or re-opened by an edit) and this closes it,
                 # unless it stays open: undo puts it back open.
                 item_status_before="" if stays_open else QueueItem.Status.OPEN)
        for verdict, item, kind, _, stays_open in planned
    ])
    actions = PlatformAction.objects.bulk_create([
        PlatformAction(comment=item.comment, decision=decision, kind=k, payload={})
        for decision, (_, item, _, wanted, _) in zip(decisions, planned, strict=True) for k in wanted
    ])
    doorbells.platformactions_apply([a.pk for a in actions])
    # Author effects (as a person's decision has them): one UPDATE adds each author's strikes.
    strikes: dict[int, int] = {}
    blocked: set[int] = set()
    for _, item, kind, _, _ in planned:
        author_id = item.comment.author_id
        if author_id is None:
            continue
        if kind in (Kind.HIDE, Kind.DELETE, Kind.BLOCK):
            strikes[author_id] = strikes.get(author_id, 0) + 1
        if kind == Kind.BLOCK:
            blocked.add(author_id)
    if strikes:
        added = Case(*[When(pk=a, then=Value(n)) for a, n in strikes.items()], default=Value(0))
        Author.objects.filter(pk__in=list(strikes)).update(strikes=F("strikes") + added)
    if blocked:
        Author.objects.filter(pk__in=blocked, blocked=False).update(blocked=True, blocked_at=now)
    closed = [item.pk for _, item, _, _, stays_open in planned if not stays_open]
    if closed:
        QueueItem.objects.filter(pk__in=closed).exclude(status=QueueItem.Status.DECIDED).update(
            status=QueueItem.Status.DECIDED, decided_at=now
        )
    AuditEvent.objects.bulk_create([
        AuditEvent(verb=f"decision.{kind}", system_actor="rule:auto_apply", comment=item.comment,
                   target=f"queueitem:{item.pk}", ruleset_version=verdict.ruleset_version,
                   data=storable_json({"decision": decision.pk, "automatic": True, "actions": list(wanted),
                                       "item_open": stays_open}))
        for decision, (verdict, item, kind, wanted, stays_open) in zip(decisions, planned, strict=True)
    ])
    return decisions
