"""Judging stored comments: the one path every caller takes (a delivery's or a page's new
comments, an edit, one comment the sweeper found), a batch of one or of hundreds.

``comments_classify`` judges each comment's current revision under the published rule set
(the bundled default before any is published), in pk order, then in ONE transaction, under
each comment's row lock: stores the verdicts and their audit events (appended with COPY),
and for verdicts that need a person creates the queue item (or, for an edit, points the
existing one at the new verdict and re-opens it), applies "apply automatically" rules
(decisions/automatic.py) and rings the duty manager's pager after commit.

Idempotent: a revision already judged under this version is skipped (the unique
(comment, revision, version) constraint backs it), and a comment edited while it was being
judged is left to the edit's own doorbell. Measured (bench/ingest.py): a flagged comment
cost ~16 queries one by one; a batch costs a constant ~12, whatever its size and mix.
"""

from __future__ import annotations

import json

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit.models import AuditEvent
from audit.text import storable_json_text
from moderation import doorbells
from moderation.bulk import copy_rows
from moderation.decisions.automatic import apply_automatic
from moderation.decisions.notify import pages_duty_manager
from moderation.models import Comment, QueueItem, Verdict
from moderation.triage.history import author_histories, author_history_for
from moderation.queue.items import needs_person, queue_item_fields
from policy.selectors import published_matcher

# What judging a comment reads of it (and the queue items and decisions made for it).
JUDGED_FIELDS = ("platform", "channel_id", "author_id", "text", "received_at", "revision")
# What a new verdict changes on an existing queue item (an edit re-judged).
REFRESHED = ("verdict", "needs_reply", "escalation", "priority", "first_look_due", "reply_due", "action", "categories")


def comments_classify(*, comment_ids: list[int]) -> dict[str, int]:
    """Judge these comments (module docstring). Returns how many were judged now and how
    many of those need a person; our own page's replies and missing ids are skipped."""
    version, matcher = published_matcher()
    version_id = version.pk if version is not None else None
    judgements = Verdict.objects.filter(comment=OuterRef("pk"))
    comments = list(
        Comment.objects.filter(pk__in=comment_ids, is_own=False)
        .only(*JUDGED_FIELDS)
        .annotate(
            # This revision under this rule set version: a repeated doorbell, nothing to do.
            judged_now=Exists(judgements.filter(comment_revision=OuterRef("revision"), ruleset_version=version)),
        )
        .order_by("pk")
    )
    comments = [c for c in comments if not c.judged_now]
    histories = author_histories(comments)
    results = []
    for comment in comments:
        history = author_history_for(comment, histories)
        result = matcher.evaluate(comment.text, platform=comment.platform, received_at=comment.received_at, author=history)
        if comment.author_id is not None:
            # Judged one by one, the author's later comments in this batch would see this
            # verdict (and not an edited comment's old one) among their recent violations;
            # so they do here (pk order).
            violations = histories[comment.author_id][1]
            if result.action != Verdict.Action.ALLOW:
                violations.add(comment.pk)
            else:
                violations.discard(comment.pk)
        results.append((comment, result))
    judged = flagged = 0
    if results:
        with transaction.atomic():
            # Every judge of a comment takes this lock, in pk order (no deadlocks between
            # batches). NO KEY: replies being inserted meanwhile (FK check, FOR KEY SHARE)
            # need not wait for us.
            locked = dict(
                Comment.objects.select_for_update(no_key=True).filter(pk__in=[c.pk for c, _ in results]).order_by("pk")
                .values_list("pk", "revision")
            )
            # A separate statement, after the locks: it sees a verdict committed by a task
            # that held one of them while we waited (one query would read an older snapshot).
            earlier = list(Verdict.objects.filter(comment_id__in=list(locked))
                           .values_list("comment_id", "comment_revision", "ruleset_version_id"))
            done = {c for c, revision, v in earlier if revision == locked[c] and v == version_id}
            # An edit arrived meanwhile (its own doorbell judges the new text), or another task
            # judged this revision first: nothing to do for those.
            todo = [(c, r, r.as_dict()["rules"]) for c, r in results if locked.get(c.pk) == c.revision and c.pk not in done]
            rejudged = {c for c, _, _ in earlier} & {c.pk for c, _, _ in todo}
            if rejudged:
                Verdict.objects.filter(comment_id__in=rejudged, is_current=True).update(is_current=False)
            now = timezone.now()
            verdict_ids = copy_rows(Verdict, [
                dict(comment_id=c.pk, comment_revision=c.revision, ruleset_version_id=version_id, action=r.action,
                     escalation=r.escalation, signpost=r.signpost, categories=list(r.categories),
                     rules=json.dumps(rules), auto_apply=r.auto_apply, reply_template=r.reply_template or "",
                     created_at=now)
                for c, r, rules in todo
            ], ids=True)
            copy_rows(AuditEvent, [
                dict(at=now, system_actor="engine", verb="comment.classified", comment_id=c.pk,
                     ruleset_version_id=version_id, data=storable_json_text({
                         "action": r.action, "escalation": r.escalation, "signpost": r.signpost,
                         "categories": list(r.categories), "rules": [h["id"] for h in rules]}))
                for c, r, rules in todo
            ])
            judged = len(verdict_ids)
            if judged:
                # Every new verdict waits (model_state pending) for the model reader.
                doorbells.comments_read()
            # Model instances only for the few that need a person (queue items, decisions).
            flagged = _queue_items_write([
                (c, Verdict(pk=pk, comment=c, comment_revision=c.revision, ruleset_version=version, action=r.action,
                            escalation=r.escalation, signpost=r.signpost, categories=list(r.categories), rules=rules,
                            auto_apply=r.auto_apply, reply_template=r.reply_template or "", is_current=True,
                            created_at=now))
                for (c, r, rules), pk in zip(todo, verdict_ids, strict=True) if needs_person(r)
            ], matcher, rejudged=rejudged)
    return {"judged": judged, "needs_person": flagged}


def _queue_items_write(pairs, matcher, *, rejudged: set[int]) -> int:
    """Queue items for new verdicts that need a person, inside the caller's transaction and
    under its comment locks: created (due times from the rule set's calendar, no queries),
    or, for a comment judged before that already has one, pointed at the new verdict and
    re-opened (an edit needs a fresh look, whatever happened before; it is due as the new
    verdict's escalation makes it, counted from its arrival). Then automatic decisions
    (which close what they settle) and duty-manager pages after commit."""
    if not pairs:
        return 0
    candidates = [c.pk for c, _ in pairs if c.pk in rejudged]
    existing = {i.comment_id: i for i in QueueItem.objects.filter(comment_id__in=candidates)} if candidates else {}
    new, refreshed = [], []
    for comment, verdict in pairs:
        fields = queue_item_fields(comment=comment, verdict=verdict, calendar=matcher.calendar,
                                   first_look_minutes=matcher.first_look_minutes)
        item = existing.get(comment.pk)
        if item is None:
            item = QueueItem(comment=comment, **fields)
            new.append(item)
        else:
            item.comment = comment
            for name in REFRESHED:
                setattr(item, name, fields[name])
            item.status, item.claimed_by, item.claimed_at, item.decided_at = QueueItem.Status.OPEN, None, None, None
            refreshed.append(item)
    for item in refreshed:
        QueueItem.objects.filter(pk=item.pk).update(
            **{name: getattr(item, name) for name in REFRESHED},
            status=QueueItem.Status.OPEN, claimed_by=None, claimed_at=None, decided_at=None,
        )
    items = QueueItem.objects.bulk_create(new) + refreshed
    apply_automatic([(item.verdict, item) for item in items])
    for item in items:
        if item.notified_at is None and pages_duty_manager(
            item, received_at=item.comment.received_at, calendar=matcher.calendar
        ):
            doorbells.queueitem_page(item.pk)
    return len(items)
