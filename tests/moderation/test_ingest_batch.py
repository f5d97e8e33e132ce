"""The batch fast path gives the same results as the per-row services, and is idempotent."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from moderation import services, tasks
from moderation.ingest import comments_classify_batch, comments_upsert_batch
from audit.models import AuditEvent
from moderation.models import Author, Comment, Decision, PlatformAction, QueueItem, Verdict
from moderation.services import IncomingComment
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

TEXTS = {
    "fine": "Great to see the new diagnostic centre open in Grantham!",
    "abuse": "You're all scum, every single one of you",
    "safeguarding": "My stepdad hits me when mum is at work and I'm scared to go home",
    "question": "Can I take ibuprofen after my covid booster?",
    "profanity": "You are all useless c*nts",  # "apply automatically" in the default rule set
}


def _incoming(key, n=0, **kw):
    return IncomingComment(external_id=f"{key}-{n}", text=TEXTS[key], author_external_id=f"author-{key}", **kw)


def _store(channel, incomings):
    with transaction.atomic():
        return comments_upsert_batch(channel=channel, incomings=incomings)


def test_batch_upsert_stores_links_and_dedupes(django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    reply = IncomingComment(external_id="r", text="same here", parent_external_id="fine-0", author_external_id="x")
    own = IncomingComment(external_id="own", text="Thanks", is_own=True)
    with django_capture_on_commit_callbacks() as callbacks:
        ids = _store(channel, [_incoming("fine"), reply, _incoming("fine"), own])
    assert Comment.objects.count() == 3 and len(callbacks) == 1
    assert sorted(ids) == sorted(Comment.objects.filter(is_own=False).values_list("pk", flat=True))
    assert Comment.objects.get(external_id="r").parent == Comment.objects.get(external_id="fine-0")
    assert sorted(Author.objects.values_list("external_id", flat=True)) == ["author-fine", "x"]
    # Again: nothing new, nothing rung.
    with django_capture_on_commit_callbacks() as callbacks:
        assert _store(channel, [_incoming("fine"), reply]) == []
    assert (Comment.objects.count(), callbacks) == (3, [])


def test_batch_upsert_links_replies_to_parents_stored_before_or_after_them():
    channel = ChannelFactory()
    early = IncomingComment(external_id="early", text="a reply before its parent", parent_external_id="parent")
    _store(channel, [early])  # its parent is not stored yet
    assert Comment.objects.get(external_id="early").parent_id is None
    _store(channel, [IncomingComment(external_id="parent", text="the parent")])
    late = IncomingComment(external_id="late", text="a reply after its parent", parent_external_id="parent")
    _store(channel, [late])
    parent = Comment.objects.get(external_id="parent")
    assert dict(Comment.objects.filter(parent=parent).values_list("external_id", "parent_id")) == {
        "early": parent.pk, "late": parent.pk}
    # Another platform's comment with the same ids is never linked across platforms.
    _store(ChannelFactory(platform="youtube"), [IncomingComment(external_id="yt", text="x", parent_external_id="parent")])
    assert Comment.objects.get(external_id="yt").parent_id is None


def test_copy_rows_raises_integrity_error_like_an_insert_and_fills_defaults():
    from django.db import IntegrityError

    from moderation.ingest import _copy_rows

    channel = ChannelFactory()
    _store(channel, [_incoming("fine")])
    row = dict(platform=channel.platform, external_id="fine-0", channel_id=channel.pk, text="x",
               received_at=Comment.objects.get().received_at)
    with pytest.raises(IntegrityError), transaction.atomic():  # the batch falls back to row by row on this
        _copy_rows(Comment, [row], ids=True)
    [pk] = _copy_rows(Comment, [{**row, "external_id": "fine-1"}], ids=True)
    stored = Comment.objects.get(pk=pk)  # every column left out took its field's default
    assert (stored.revision, stored.raw, stored.is_own, stored.parent_external_id, stored.author) == (1, {}, False, "", None)
    with pytest.raises(AssertionError):  # received_at has no default: a row must name it
        _copy_rows(Comment, [{k: v for k, v in row.items() if k != "received_at"}])


def test_batch_upsert_hands_edits_to_the_per_row_path(django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    _store(channel, [_incoming("fine")])
    edited = IncomingComment(external_id="fine-0", text="edited text", author_external_id="author-fine")
    with django_capture_on_commit_callbacks() as callbacks:
        _store(channel, [edited])
    comment = Comment.objects.get()
    assert (comment.text, comment.revision, len(callbacks)) == ("edited text", 2, 1)


def test_batch_classify_matches_the_per_row_service_and_is_idempotent():
    a, b = ChannelFactory(), ChannelFactory()
    keys = ["fine", "abuse", "safeguarding", "question"]
    batch_ids = _store(a, [_incoming(k, 1) for k in keys])
    row_ids = _store(b, [_incoming(k, 2) for k in keys])

    counts = tasks.comments_classify_batch_task(comment_ids=batch_ids)
    again = tasks.comments_classify_batch_task(comment_ids=batch_ids)
    for pk in row_ids:
        services.comment_classify(comment_id=pk)

    # Flagged comments are judged in the batch too (queue items, automatic decisions, pages).
    assert counts == {"bulk": 4, "needs_person": 3, "one_by_one": 0}
    assert again == {"bulk": 0, "needs_person": 0, "one_by_one": 0}

    def judged(ids):
        return [(v.action, v.escalation, v.signpost, sorted(v.categories), [r["id"] for r in v.rules])
                for v in Verdict.objects.filter(comment_id__in=ids).order_by("comment_id")]

    assert judged(batch_ids) == judged(row_ids)
    assert Verdict.objects.filter(comment_id__in=batch_ids).count() == 4
    assert AuditEvent.objects.filter(verb="comment.classified", comment_id__in=batch_ids).count() == 4
    assert (QueueItem.objects.filter(comment_id__in=batch_ids).count()
            == QueueItem.objects.filter(comment_id__in=row_ids).count() == 3)
    fine = Verdict.objects.get(comment__external_id="fine-1")
    audit = AuditEvent.objects.get(verb="comment.classified", comment_id=fine.comment_id)
    assert (audit.system_actor, audit.data) == ("engine", {"action": "allow", "escalation": "none", "signpost": "none",
                                                           "categories": [], "rules": []})


def test_batch_classify_after_a_per_row_classify_changes_nothing():
    ids = _store(ChannelFactory(), [_incoming("fine", 3)])
    services.comment_classify(comment_id=ids[0])
    assert comments_classify_batch(comment_ids=ids) == {"bulk": 0, "needs_person": 0, "one_by_one": 0}
    assert Verdict.objects.count() == 1


# With the clock stopped: out of hours a first-look due time is the next working morning, so
# "due minus received" differs between comments received a moment apart (the two sets below
# are stored one after the other). This test failed every evening before the clock was fixed.
@time_machine.travel(dt.datetime(2026, 3, 3, 20, 0, tzinfo=ZoneInfo("Europe/London")), tick=False)
def test_batch_makes_the_same_queue_items_decisions_and_pages_as_the_per_row_service(
    django_capture_on_commit_callbacks, broker
):
    a, b = ChannelFactory(), ChannelFactory()
    keys = ["fine", "abuse", "safeguarding", "question", "profanity"]
    batch_ids = _store(a, [_incoming(k, 1) for k in keys])
    row_ids = _store(b, [_incoming(k, 2) for k in keys])
    with django_capture_on_commit_callbacks(execute=True):
        comments_classify_batch(comment_ids=batch_ids)
    batch_messages = sorted(name for name, _ in broker.messages())
    for pk in row_ids:
        with django_capture_on_commit_callbacks(execute=True):
            services.comment_classify(comment_id=pk)
    row_messages = sorted(name for name, _ in broker.messages()[len(batch_messages):])
    assert batch_messages == row_messages and batch_messages  # platform actions rung after commit

    def items(ids):
        return [(i.priority, i.status, i.needs_reply, i.escalation, i.action, sorted(i.categories),
                 i.first_look_due - i.comment.received_at, i.reply_due and i.reply_due.date(),
                 i.decided_at is not None, i.verdict.comment_id == i.comment_id)
                for i in QueueItem.objects.filter(comment_id__in=ids).select_related("comment", "verdict")
                .order_by("comment_id")]

    def decided(ids):
        return ([(d.kind, d.automatic, d.reason) for d in Decision.objects.filter(comment_id__in=ids).order_by("comment_id")],
                sorted(PlatformAction.objects.filter(comment_id__in=ids).values_list("kind", "status")),
                sorted((e.verb, e.system_actor, e.data.get("actions"), e.data.get("item_open"))
                       for e in AuditEvent.objects.filter(comment_id__in=ids)))

    assert items(batch_ids) == items(row_ids) and len(items(batch_ids)) == 4
    assert decided(batch_ids) == decided(row_ids) and decided(batch_ids)[0]  # profanity: hidden automatically
    strikes = dict(Author.objects.values_list("external_id", "strikes"))
    assert strikes["author-profanity"] == 2  # one strike from each path


def test_a_batch_of_flagged_comments_costs_a_constant_number_of_queries():
    # One by one, a comment needing a person cost ~16 queries; the batch is flat in its size.
    channel = ChannelFactory()
    services._matcher()
    counts = []
    for n in (4, 24):
        ids = _store(channel, [IncomingComment(external_id=f"q{n}-{i}", text=TEXTS[["abuse", "safeguarding", "profanity"][i % 3]],
                                               author_external_id=f"author-{i % 2}") for i in range(n)])
        with CaptureQueriesContext(connection) as queries:
            assert comments_classify_batch(comment_ids=ids)["needs_person"] == n
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1] <= 20, counts
