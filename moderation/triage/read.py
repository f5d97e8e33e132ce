"""The model reader in the pipeline: the second reading of every comment, after the rules'
fast path (DESIGN.md data flow: "on commit -> model task, its own Celery queue, batched").

``comments_read`` claims a batch of current verdicts still waiting for the model
(``model_state`` pending, or unavailable from an earlier try) with ``SELECT ... FOR UPDATE
SKIP LOCKED``, so two workers never read the same rows, reads their texts with the
process-wide reader (``policy.reader.get_reader``), combines each reading with the rules'
verdict stored in the row (``policy.reader.combine``: escalations only go up, a removal the
readers disagree on is ``disputed`` and never applied automatically) and, in the same
transaction, per row:

- updates the verdict: ``model_state`` read, ``disputed``, ``model`` (the reading), the
  combined action / escalation / signpost / categories / rules, and ``rules_only`` (what
  the rules alone said, so a person sees both readers);
- puts the comment in front of a person when the combined verdict needs one (or is
  disputed): a new queue item, or the existing one raised to the new escalation through
  ``queue_item_sla`` (its due times) and re-opened if it had been closed; an out-of-hours
  escalation pages the duty manager after commit, like any other;
- writes one ``verdict.model_read`` audit event saying what changed.

When the reader cannot run (``ReaderUnavailable``, an error or the task's soft time limit
while reading) the rules' verdict stands: pending rows become ``unavailable`` ("not yet read
by the model"), each comment is put in the queue for a person if it was not there, and one
``verdict.model_unavailable`` event is written per row. The sweeper rings the task again
for rows left pending or unavailable (moderation/sweeps.py).

Idempotent: a row already read is never claimed again, and an unavailable row changes
nothing on a second failed try.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from moderation import doorbells
from moderation.decisions.automatic import apply_automatic
from moderation.decisions.notify import pages_duty_manager
from moderation.models import ModelState, QueueItem, Verdict
from moderation.queue.items import needs_person, queue_item_fields, queue_item_sla
from policy.engine import RuleHit, load_default_document
from policy.engine import Verdict as EngineVerdict
from policy.reader import ReaderSettings, combine, get_reader
from policy.selectors import published_matcher

log = logging.getLogger(__name__)

# Verdicts per task: the reader runs ~300 comments/s on one worker (README "Model reader"),
# so a batch holds its row locks for well under a second.
READ_BATCH = 64
UNREAD = (ModelState.PENDING, ModelState.UNAVAILABLE)
ESCALATION_RANK = {"none": 0, "urgent": 1, "duty_manager": 1, "safeguarding": 2}
# What a verdict row says, as the audit trail and ``rules_only`` record it.
SUMMARY = ("action", "escalation", "signpost", "categories", "auto_apply")


def _summary(v) -> dict:
    return {"action": v.action, "escalation": v.escalation, "signpost": v.signpost,
            "categories": list(v.categories), "auto_apply": v.auto_apply}


def _rules_verdict(row: Verdict) -> EngineVerdict:
    """The rules' verdict as the engine gave it, rebuilt from the stored row (the row holds
    it until the model has read the comment)."""
    return EngineVerdict(
        action=row.action, escalation=row.escalation, signpost=row.signpost, categories=tuple(row.categories),
        rules=tuple(RuleHit(h["id"], h.get("category", ""), h.get("clause", ""),
                            tuple(tuple(s) for s in h.get("spans", ()))) for h in row.rules),
        auto_apply=row.auto_apply, reply_template=row.reply_template or None,
    )


def comments_read(*, batch: int = READ_BATCH) -> dict[str, int]:
    """Read one batch of verdicts waiting for the model (module docstring). Returns counts:
    ``read``, ``changed`` (the model changed the verdict), ``queued`` (items made or raised),
    ``unavailable``."""
    version, matcher = published_matcher()
    settings = ReaderSettings.from_document(version.document if version is not None else load_default_document())
    counts = {"read": 0, "changed": 0, "queued": 0, "unavailable": 0}
    with transaction.atomic():
        rows = list(
            Verdict.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("comment", "ruleset_version")
            .filter(is_current=True, model_state__in=UNREAD)
            # pending before unavailable: new comments first while an old backlog waits
            .order_by("model_state", "created_at", "pk")[:batch]
        )
        if not rows:
            return counts
        try:
            readings = get_reader().read([row.comment.text for row in rows], settings=settings)
        except Exception as exc:  # noqa: BLE001 - ReaderUnavailable, a runtime error, the soft time limit
            log.warning("model reader unavailable, %s verdicts keep the rules' verdict: %s", len(rows), exc)
            counts["unavailable"] = _mark_unavailable(rows, matcher, reason=str(exc) or type(exc).__name__)
            return counts
        now = timezone.now()
        for row, reading in zip(rows, readings, strict=True):
            rules = _rules_verdict(row)
            combined = combine(rules, reading, matcher=matcher, settings=settings,
                               received_at=row.comment.received_at)
            changed = _summary(combined) != _summary(rules) or combined.reply_template != rules.reply_template
            row.model_state, row.disputed, row.model, row.model_read_at = (
                ModelState.READ, combined.disputed, combined.model, now)
            row.rules_only = _summary(rules)
            update = ["model_state", "disputed", "model", "model_read_at", "rules_only"]
            if changed:
                row.action, row.escalation, row.signpost = combined.action, combined.escalation, combined.signpost
                row.categories, row.auto_apply = list(combined.categories), combined.auto_apply
                row.rules = [h.as_dict() for h in combined.rules]
                row.reply_template = combined.reply_template or ""
                update += ["action", "escalation", "signpost", "categories", "auto_apply", "rules", "reply_template"]
            row.save(update_fields=update)
            queued = _queue_item_for(row, matcher, rules=rules) if (needs_person(row) or row.disputed) else ""
            counts["read"] += 1
            counts["changed"] += changed
            counts["queued"] += bool(queued)
            audit_record(
                verb="verdict.model_read", system_actor="model", comment=row.comment, target=f"verdict:{row.pk}",
                ruleset_version=row.ruleset_version,
                data={"rules": _summary(rules), "combined": _summary(row), "changed": changed,
                      "disputed": row.disputed, "disputed_because": (row.model or {}).get("disputed_because"),
                      "findings": [f["category"] for f in (row.model or {}).get("findings", [])],
                      "queue_item": queued},
            )
    return counts


def _mark_unavailable(rows: list[Verdict], matcher, *, reason: str) -> int:
    """The rules' verdict stands; each comment goes to a person. Rows already unavailable
    change nothing (a second failed try is a no-op). Returns how many were marked now."""
    marked = 0
    for row in rows:
        if row.model_state != ModelState.PENDING:
            continue
        Verdict.objects.filter(pk=row.pk).update(model_state=ModelState.UNAVAILABLE)
        row.model_state = ModelState.UNAVAILABLE
        queued = _queue_item_for(row, matcher, rules=None)
        audit_record(verb="verdict.model_unavailable", system_actor="model", comment=row.comment,
                     target=f"verdict:{row.pk}", ruleset_version=row.ruleset_version,
                     data={"reason": reason[:500], "queue_item": queued})
        marked += 1
    return marked


def _queue_item_for(row: Verdict, matcher, *, rules: EngineVerdict | None) -> str:
    """Make sure a person sees this comment under ``row`` (the verdict as it now stands):
    a new queue item ("created"), or the existing one raised to the row's escalation, action
    and reply with due times from ``queue_item_sla`` and re-opened when the model found more
    than the rules had ("raised"); "" when nothing changed. ``rules`` None: the model could
    not read it, so only a missing item is made. Pages the duty manager after commit when
    the item now does."""
    comment = row.comment
    item = QueueItem.objects.select_for_update(of=("self",)).filter(comment_id=comment.pk).first()
    if item is None:
        item = QueueItem.objects.create(comment=comment, **queue_item_fields(
            comment=comment, verdict=row, calendar=matcher.calendar, first_look_minutes=matcher.first_look_minutes))
        # The rules' automatic decisions were made with the rules' items; here only the
        # model's own enabled automatic hide can apply (combine: never a disputed removal).
        apply_automatic([(row, item)])
        outcome = "created"
    else:
        if rules is None:
            return ""
        raised = ESCALATION_RANK[row.escalation] > ESCALATION_RANK[rules.escalation]
        more = raised or row.disputed or (row.action != rules.action and row.action != "allow") or (
            row.signpost != rules.signpost)
        if not more:
            return ""
        needs_reply = item.needs_reply or row.signpost != Verdict.Signpost.NONE
        escalation = row.escalation if ESCALATION_RANK[row.escalation] >= ESCALATION_RANK[item.escalation] \
            else item.escalation  # an officer's higher escalation stands
        fields = queue_item_sla(received_at=comment.received_at, escalation=escalation, action=row.action,
                                needs_reply=needs_reply, calendar=matcher.calendar,
                                first_look_minutes=matcher.first_look_minutes)
        fields.update(needs_reply=needs_reply, action=row.action, categories=list(row.categories))
        if item.status == QueueItem.Status.DECIDED and (raised or row.disputed):
            # Closed on the rules' word (an automatic rule, or quickly by a person): the model
            # found more, so a person looks again.
            fields.update(status=QueueItem.Status.OPEN, claimed_by=None, claimed_at=None, decided_at=None)
        QueueItem.objects.filter(pk=item.pk).update(**fields)
        for name, value in fields.items():
            setattr(item, name, value)
        outcome = "raised"
    if item.notified_at is None and pages_duty_manager(item, received_at=comment.received_at,
                                                       calendar=matcher.calendar):
        doorbells.queueitem_page(item.pk)
    return outcome

