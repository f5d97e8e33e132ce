"""Judging stored comments: one path for every caller (a batch of one or of hundreds),
idempotent, edits re-judged, and a constant number of queries whatever the batch."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from moderation import tasks
from moderation.decisions import services as decisions
from moderation.ingest.store import comment_upsert
from moderation.models import Author, Decision, PlatformAction, QueueItem, Verdict
from moderation.platforms.base import IncomingComment
from moderation.triage.classify import comments_classify
from policy.selectors import published_matcher
from tests.factories import ChannelFactory
from tests.moderation.stored_comments import TEXTS, incoming as _incoming, store as _store

pytestmark = pytest.mark.django_db



def _verdicts(ids):
    return {v.comment.external_id: (v.action, v.escalation, v.signpost, sorted(v.categories), [r["id"] for r in v.rules])
            for v in Verdict.objects.filter(comment_id__in=ids).select_related("comment")}


def test_a_batch_is_judged_once_and_a_second_doorbell_changes_nothing():
    keys = ["fine", "abuse", "safeguarding", "question"]
    ids = _store(ChannelFactory(), [_incoming(k, 1) for k in keys])

    counts = tasks.comments_classify_batch_task(comment_ids=ids)
    again = tasks.comments_classify_batch_task(comment_ids=ids)

    # Flagged comments are judged in the batch too (queue items, automatic decisions, pages).
    assert counts == {"judged": 4, "needs_person": 3}
    assert again == {"judged": 0, "needs_person": 0}
    assert Verdict.objects.filter(comment_id__in=ids).count() == 4
    assert AuditEvent.objects.filter(verb="comment.classified", comment_id__in=ids).count() == 4
    assert QueueItem.objects.filter(comment_id__in=ids).count() == 3
    fine = Verdict.objects.get(comment__external_id="fine-1")
    audit = AuditEvent.objects.get(verb="comment.classified", comment_id=fine.comment_id)
    assert (audit.system_actor, audit.data) == ("engine", {"action": "allow", "escalation": "none", "signpost": "none",
                                                           "categories": [], "rules": []})


def test_one_comment_is_judged_as_it_would_be_in_any_batch():
    # The single doorbell (an edit, the sweeper) takes the batch path with a batch of one.
    a, b = ChannelFactory(), ChannelFactory()
    keys = ["fine", "abuse", "safeguarding", "question", "profanity"]
    batch_ids = _store(a, [_incoming(k, 1) for k in keys])
    one_ids = _store(b, [_incoming(k, 2) for k in keys])
    comments_classify(comment_ids=batch_ids)
    for pk in one_ids:
        assert tasks.comment_classify_task(comment_id=pk)["judged"] == 1
    batch, one = _verdicts(batch_ids), _verdicts(one_ids)
    assert [batch[f"{k}-1"] for k in keys] == [one[f"{k}-2"] for k in keys]


def test_an_edit_is_judged_again_and_its_queue_item_reopened(officer):
    channel = ChannelFactory()
    stored = comment_upsert(channel=channel, incoming=_incoming("abuse")).comment
    comments_classify(comment_ids=[stored.pk])
    item = QueueItem.objects.get(comment=stored)
    decisions.decision_make(item=item, user=officer, kind="approve")
    first = Verdict.objects.get(comment=stored)

    edited = comment_upsert(channel=channel, incoming=IncomingComment(
        external_id="abuse-0", text=TEXTS["safeguarding"], author_external_id="author-abuse")).comment
    assert tasks.comment_classify_task(comment_id=edited.pk) == {"judged": 1, "needs_person": 1}

    first.refresh_from_db()
    current = Verdict.objects.get(comment=stored, is_current=True)
    item.refresh_from_db()
    assert (first.is_current, current.comment_revision, current.escalation) == (False, 2, "safeguarding")
    assert (item.verdict_id, item.status, item.claimed_by, item.decided_at, item.escalation) == (
        current.pk, "open", None, None, "safeguarding")
    assert AuditEvent.objects.filter(verb="comment.classified", comment=stored).count() == 2
    # The same revision again: nothing new.
    assert tasks.comment_classify_task(comment_id=edited.pk) == {"judged": 0, "needs_person": 0}

    # Edited to something harmless: a new current verdict; the queue item keeps what it had.
    comment_upsert(channel=channel, incoming=IncomingComment(
        external_id="abuse-0", text=TEXTS["fine"], author_external_id="author-abuse"))
    assert tasks.comment_classify_task(comment_id=stored.pk) == {"judged": 1, "needs_person": 0}
    assert Verdict.objects.get(comment=stored, is_current=True).action == "allow"
    item.refresh_from_db()
    assert item.verdict_id == current.pk


# With the clock stopped: out of hours a first-look due time is the next working morning.
@time_machine.travel(dt.datetime(2026, 3, 3, 20, 0, tzinfo=ZoneInfo("Europe/London")), tick=False)
def test_queue_items_automatic_decisions_and_pages_after_commit(django_capture_on_commit_callbacks, broker):
    keys = ["fine", "abuse", "safeguarding", "question", "profanity"]
    ids = _store(ChannelFactory(), [_incoming(k, 1) for k in keys])
    with django_capture_on_commit_callbacks(execute=True):
        comments_classify(comment_ids=ids)
    items = {i.comment.external_id: (i.priority, i.status, i.needs_reply, i.escalation, i.action,
                                      i.first_look_due - i.comment.received_at, i.decided_at is not None)
             for i in QueueItem.objects.filter(comment_id__in=ids).select_related("comment")}
    next_morning = dt.timedelta(hours=14)  # 10:00, the rule set's first hour of working time
    assert items == {
        # (priority, status, needs reply, escalation, action, first look due after arrival, decided)
        "abuse-1": (20, "open", False, "none", "hide", next_morning, False),
        "safeguarding-1": (10, "open", True, "safeguarding", "allow", dt.timedelta(minutes=15), False),
        "question-1": (30, "open", True, "none", "allow", next_morning, False),
        "profanity-1": (20, "decided", False, "none", "hide", next_morning, True),  # hidden automatically
    }
    assert [(d.kind, d.automatic, d.reason, d.item_status_before) for d in Decision.objects.all()] == [
        ("hide", True, "Applied automatically: abuse-directed-insult, abuse-directed-weak-insult, profanity-terms",
         "open")]
    assert list(PlatformAction.objects.values_list("kind", "status")) == [("hide", "requested")]
    # The safeguarding concern arrived out of hours: the duty manager is paged too (section 10).
    assert sorted(name for name, _ in broker.messages()) == [
        "moderation.tasks.platformaction_apply_task", "moderation.tasks.queueitem_page_task"]
    assert Author.objects.get(external_id="author-profanity").strikes == 1
    assert sorted((e.verb, e.system_actor, e.data.get("actions"), e.data.get("item_open"))
                  for e in AuditEvent.objects.exclude(verb="comment.classified")) == [
        ("decision.hide", "rule:auto_apply", ["hide"], False)]


def test_a_batch_of_flagged_comments_costs_a_constant_number_of_queries():
    # One by one, a comment needing a person cost ~16 queries; the batch is flat in its size.
    channel = ChannelFactory()
    published_matcher()
    counts = []
    for n in (4, 24):
        ids = _store(channel, [IncomingComment(external_id=f"q{n}-{i}", text=TEXTS[["abuse", "safeguarding", "profanity"][i % 3]],
                                               author_external_id=f"author-{i % 2}") for i in range(n)])
        with CaptureQueriesContext(connection) as queries:
            assert comments_classify(comment_ids=ids)["needs_person"] == n
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1] <= 20, counts
