"""Constraints live in the database: these prove PostgreSQL refuses what the code must never do."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from moderation.models import Author, Comment, Decision, PlatformAction, QueueItem, Verdict
from tests.factories import AuthorFactory, ChannelFactory, CommentFactory

pytestmark = pytest.mark.django_db


def _verdict(comment, **kw):
    return Verdict.objects.create(
        comment=comment, comment_revision=comment.revision, action="hide", escalation="none", signpost="none", **kw
    )


def test_comment_is_unique_per_platform_and_external_id():
    comment = CommentFactory(external_id="c1")
    CommentFactory(external_id="c1", channel=ChannelFactory(platform="youtube"))  # other platform: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        CommentFactory(external_id="c1", channel=comment.channel)


def test_author_is_unique_per_platform_and_blocked_needs_a_time():
    AuthorFactory(external_id="a1")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuthorFactory(external_id="a1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Author.objects.create(platform="x", external_id="a2", blocked=True)


def test_only_one_current_verdict_per_comment():
    comment = CommentFactory()
    _verdict(comment)
    with pytest.raises(IntegrityError), transaction.atomic():
        Verdict.objects.create(comment=comment, comment_revision=2, action="allow", escalation="none", signpost="none")


def test_same_revision_under_the_bundled_default_cannot_be_judged_twice():
    # ruleset_version is NULL for the bundled default; NULLs must still collide.
    comment = CommentFactory()
    _verdict(comment)
    with pytest.raises(IntegrityError), transaction.atomic():
        _verdict(comment, is_current=False)


def test_claimed_queue_item_needs_an_owner():
    comment = CommentFactory()
    verdict = _verdict(comment)
    with pytest.raises(IntegrityError), transaction.atomic():
        QueueItem.objects.create(comment=comment, verdict=verdict, status="claimed", first_look_due=timezone.now())


def test_decision_needs_a_person_unless_automatic_and_reply_needs_text(officer):
    comment = CommentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(comment=comment, kind="hide")
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(comment=comment, kind="reply", decided_by=officer)
    Decision.objects.create(comment=comment, kind="hide", automatic=True)


def test_a_decision_creates_each_kind_of_platform_call_once(officer):
    comment = CommentFactory()
    decision = Decision.objects.create(comment=comment, kind="hide", decided_by=officer)
    PlatformAction.objects.create(comment=comment, decision=decision, kind="hide")
    with pytest.raises(IntegrityError), transaction.atomic():
        PlatformAction.objects.create(comment=comment, decision=decision, kind="hide")


def test_finished_platform_action_needs_a_finish_time():
    comment = CommentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PlatformAction.objects.create(comment=comment, kind="hide", status="applied")


def test_audit_trail_is_append_only_in_the_database():
    event = AuditEvent.objects.create(verb="test.event", system_actor="test")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(verb="tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).verb == "test.event"


def test_audit_event_names_who_acted():
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(verb="nobody.did.this")


def test_indexes_exist_in_postgresql():
    with connection.cursor() as cursor:
        names = {
            row[0]
            for row in cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").fetchall()
        }
    assert {"queue_open_order_idx", "action_pending_idx", "comment_author_recent_idx", "verdict_one_current"} <= names


def test_comment_text_round_trips_any_unicode():
    text = "Zalgo ẗ̸̡̛ͅë̴́x̷t, RTL ‮gnirts‬, emoji 👩🏽‍⚕️, CJK 病院, astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, BOM \ufeff, ZWJ a\u200db"
    comment = CommentFactory(text=text)
    assert Comment.objects.get(pk=comment.pk).text == text
