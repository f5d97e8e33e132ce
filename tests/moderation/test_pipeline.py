"""Ingest -> classify -> queue, database first, with the real Redis broker."""

import datetime as dt

import pytest
from django.utils import timezone

from moderation import sweeps, tasks
from audit.models import AuditEvent
from moderation.models import Comment, QueueItem, Verdict
from moderation.ingest.store import comment_upsert
from moderation.platforms.base import IncomingComment
from moderation.triage.classify import comments_classify
from tests.factories import ChannelFactory, CommentFactory

pytestmark = pytest.mark.django_db

CLASSIFY = "moderation.tasks.comment_classify_task"


def _incoming(external_id="c-1", text="Great to see the new clinic open in Grantham"):
    return IncomingComment(external_id=external_id, text=text, author_external_id="a-1", author_handle="sam")


def test_new_comment_is_committed_before_its_classify_task_is_queued(django_capture_on_commit_callbacks, broker):
    channel = ChannelFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = comment_upsert(channel=channel, incoming=_incoming())
    assert broker.messages() == []  # nothing is sent inside the transaction
    assert len(callbacks) == 1
    callbacks[0]()
    assert broker.messages() == [(CLASSIFY, {"comment_id": result.comment.pk})]


def test_redelivery_changes_nothing_and_queues_nothing(django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    first = comment_upsert(channel=channel, incoming=_incoming())
    with django_capture_on_commit_callbacks() as callbacks:
        again = comment_upsert(channel=channel, incoming=_incoming())
    assert (again.created, again.text_changed, callbacks) == (False, False, [])
    assert Comment.objects.get().revision == first.comment.revision == 1


def test_edit_updates_text_bumps_revision_and_reclassifies(django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    comment_upsert(channel=channel, incoming=_incoming())
    with django_capture_on_commit_callbacks() as callbacks:
        edited = comment_upsert(channel=channel, incoming=_incoming(text="You are all useless c*nts"))
    assert edited.text_changed and len(callbacks) == 1
    comment = Comment.objects.get()
    assert (comment.revision, comment.text, comment.edited_upstream_at is not None) == (2, "You are all useless c*nts", True)
    assert AuditEvent.objects.filter(verb="comment.edited_upstream", comment=comment).count() == 1


def test_own_page_replies_are_stored_but_never_classified(django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        result = comment_upsert(channel=channel, incoming=IncomingComment(external_id="own", text="Thanks!", is_own=True))
    assert callbacks == []
    assert comments_classify(comment_ids=[result.comment.pk]) == {"judged": 0, "needs_person": 0}
    assert not Verdict.objects.exists()


def test_reply_arriving_before_its_parent_is_linked_when_the_parent_arrives():
    channel = ChannelFactory()
    reply = comment_upsert(channel=channel, incoming=IncomingComment(external_id="r", text="yes", parent_external_id="p")).comment
    parent = comment_upsert(channel=channel, incoming=IncomingComment(external_id="p", text="question?")).comment
    reply.refresh_from_db()
    assert reply.parent_id == parent.pk


def test_classify_task_is_idempotent_and_queues_a_flagged_comment():
    comment = CommentFactory(text="You are all useless c*nts")
    tasks.comment_classify_task(comment_id=comment.pk)
    tasks.comment_classify_task(comment_id=comment.pk)
    verdict = Verdict.objects.get(comment=comment)
    assert verdict.action != "allow" and verdict.is_current
    item = QueueItem.objects.get(comment=comment)
    # Profanity is "apply automatically" in the default rule set: the classify path hides it
    # (moderation/decisions/automatic.py) and the item leaves the queue, decided.
    assert (item.status, item.verdict_id) == ("decided", verdict.pk)
    assert list(item.comment.decisions.values_list("kind", "automatic")) == [("hide", True)]
    assert AuditEvent.objects.filter(verb="comment.classified", comment=comment).count() == 1


def test_a_harmless_comment_gets_a_verdict_but_no_queue_item():
    comment = CommentFactory(text="Great to see the new diagnostic centre open in Louth")
    assert comments_classify(comment_ids=[comment.pk]) == {"judged": 1, "needs_person": 0}
    assert Verdict.objects.get(comment=comment).action == "allow"
    assert not QueueItem.objects.filter(comment=comment).exists()


def test_sweeper_requeues_comments_whose_task_was_lost(broker):
    old = timezone.now() - dt.timedelta(minutes=10)
    lost = CommentFactory(received_at=old)
    CommentFactory(received_at=timezone.now())  # too fresh: its task is probably in flight
    judged = CommentFactory(received_at=old)
    comments_classify(comment_ids=[judged.pk])
    CommentFactory(received_at=old, is_own=True)

    counts = tasks.pending_sweep_task()

    assert counts == {"comments": 1, "actions": 0, "deliveries": 0, "unread": 0}
    assert broker.messages() == [(CLASSIFY, {"comment_id": lost.pk})]


def test_sweeper_requeues_an_edited_comment_judged_only_in_its_old_revision(broker):
    comment = CommentFactory(received_at=timezone.now() - dt.timedelta(minutes=10))
    comments_classify(comment_ids=[comment.pk])
    Comment.objects.filter(pk=comment.pk).update(revision=2, text="edited")
    assert sweeps.pending_sweep(grace=dt.timedelta(seconds=60), batch=10) == {"comments": 1, "actions": 0, "deliveries": 0, "unread": 0}
    assert broker.messages() == [(CLASSIFY, {"comment_id": comment.pk})]


def test_sweeper_works_in_bounded_batches(broker):
    old = timezone.now() - dt.timedelta(minutes=10)
    CommentFactory.create_batch(5, received_at=old)
    assert sweeps.pending_sweep(grace=dt.timedelta(seconds=60), batch=3) == {"comments": 3, "actions": 0, "deliveries": 0, "unread": 0}
    assert len(broker.messages()) == 3
