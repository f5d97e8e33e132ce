"""NUL bytes and lone surrogates: PostgreSQL and UTF-8 reject them, so we make them storable."""

import json

import pytest
from django.db import DataError, transaction

from moderation.ingest.store import comments_upsert_batch
from moderation.models import Comment
from moderation.ingest.store import comment_upsert
from moderation.platforms.base import IncomingComment
from audit.text import REPLACEMENT, storable_json, storable_json_text, storable_text
from tests.factories import ChannelFactory, CommentFactory


def test_storable_text_replaces_nul_and_lone_surrogates_only():
    assert storable_text("a\x00b\ud800c😀") == (f"a{REPLACEMENT}b{REPLACEMENT}c😀", True)
    assert storable_text("plain £ text ✓") == ("plain £ text ✓", False)


def test_storable_json_cleans_keys_and_nested_values():
    assert storable_json({"k\x00": ["v\x00", {"n": 1, "t": None}]}) == {
        f"k{REPLACEMENT}": [f"v{REPLACEMENT}", {"n": 1, "t": None}]
    }


@pytest.mark.parametrize("value", [
    {"k\x00": ["v\x00", {"n": 1, "t": None}]},
    {"message": "lone \ud800 surrogate"},
    {"message": "nothing to replace 😀 £", "n": [1, 2.5, True, None]},
    ["a literal backslash-u: \\u0000"],
])
def test_storable_json_text_is_storable_json_dumped(value):
    assert json.loads(storable_json_text(value)) == storable_json(value)


@pytest.mark.django_db
def test_postgresql_really_rejects_nul_which_is_why_we_clean():
    with pytest.raises(DataError, match="NUL"), transaction.atomic():
        CommentFactory(text="a\x00b")


@pytest.mark.django_db(transaction=True)
def test_upsert_stores_a_comment_with_nul_bytes_and_marks_it_altered():
    channel = ChannelFactory()
    result = comment_upsert(
        channel=channel,
        incoming=IncomingComment(
            external_id="nul-1", text="hello\x00world\ud83d", raw={"message": "hello\x00world"},
            author_external_id="a\x00", author_handle="bad\x00handle",
        ),
    )
    stored = Comment.objects.get(pk=result.comment.pk)
    assert stored.text == f"hello{REPLACEMENT}world{REPLACEMENT}"
    assert stored.text_altered is True
    assert stored.raw == {"message": f"hello{REPLACEMENT}world"}
    assert stored.author.handle == f"bad{REPLACEMENT}handle"


@pytest.mark.django_db
def test_batch_upsert_stores_nul_bytes_and_lone_surrogates_like_the_per_row_path():
    channel = ChannelFactory()
    with transaction.atomic():
        comments_upsert_batch(channel=channel, incomings=[IncomingComment(
            external_id="nul-2", text="hello\x00world\ud83d", raw={"message": "hello\x00world", "k\ud800": 1},
            author_external_id="a\x00", author_name="bad\x00name",
        )])
    stored = Comment.objects.get(external_id="nul-2")
    assert (stored.text, stored.text_altered) == (f"hello{REPLACEMENT}world{REPLACEMENT}", True)
    assert stored.raw == {"message": f"hello{REPLACEMENT}world", f"k{REPLACEMENT}": 1}
    assert stored.author.display_name == f"bad{REPLACEMENT}name"


@pytest.mark.django_db
def test_huge_text_is_stored_whole():
    text = "ward " * 40_000  # 200 KB: larger than any platform allows, stored all the same
    assert Comment.objects.get(pk=CommentFactory(text=text).pk).text == text


