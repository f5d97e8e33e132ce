"""Storing comments: a page or a delivery at a time, idempotent, replies linked to parents
whichever arrives first, edits handed to the row-by-row path."""

from __future__ import annotations


import pytest
from django.db import transaction

from moderation.models import Author, Comment
from moderation.platforms.base import IncomingComment
from tests.factories import ChannelFactory
from tests.moderation.stored_comments import incoming as _incoming, store as _store

pytestmark = pytest.mark.django_db



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

    from moderation.bulk import copy_rows

    channel = ChannelFactory()
    _store(channel, [_incoming("fine")])
    row = dict(platform=channel.platform, external_id="fine-0", channel_id=channel.pk, text="x",
               received_at=Comment.objects.get().received_at)
    with pytest.raises(IntegrityError), transaction.atomic():  # the batch falls back to row by row on this
        copy_rows(Comment, [row], ids=True)
    [pk] = copy_rows(Comment, [{**row, "external_id": "fine-1"}], ids=True)
    stored = Comment.objects.get(pk=pk)  # every column left out took its field's default
    assert (stored.revision, stored.raw, stored.is_own, stored.parent_external_id, stored.author) == (1, {}, False, "", None)
    with pytest.raises(AssertionError):  # received_at has no default: a row must name it
        copy_rows(Comment, [{k: v for k, v in row.items() if k != "received_at"}])


def test_batch_upsert_hands_edits_to_the_per_row_path(django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    _store(channel, [_incoming("fine")])
    edited = IncomingComment(external_id="fine-0", text="edited text", author_external_id="author-fine")
    with django_capture_on_commit_callbacks() as callbacks:
        _store(channel, [edited])
    comment = Comment.objects.get()
    assert (comment.text, comment.revision, len(callbacks)) == ("edited text", 2, 1)
