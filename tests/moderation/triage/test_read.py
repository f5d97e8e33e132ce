"""The model reader in the pipeline: the rules' fast path first (pending), then the model
task in its own queue (read, combined, queued, paged, audited), idempotent, and the rules'
verdict standing when the reader cannot run."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.models import OnCallShift
from audit.models import AuditEvent
from moderation import sweeps, tasks
from moderation.models import QueueItem, Verdict
from moderation.triage.classify import comments_classify
from tests.factories import CommentFactory, UserFactory, VerdictFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
SATURDAY_NIGHT = dt.datetime(2026, 11, 28, 2, 0, tzinfo=LONDON)
# The rules alone allow it (no word they list); the model reads crisis (checked with
# `./dev manage moderate --ruleset default` and `--rules-only`).
CRISIS = "Been putting a tablet aside from every prescription for months, nearly enough now"
ABUSE = "You're all scum, every single one of you"


@pytest.fixture
def rota(db):
    dm = UserFactory(username="dm.primary", email="primary@example.nhs.uk")
    OnCallShift.objects.create(
        user=dm, starts_at=dt.datetime(2026, 11, 27, 17, 0, tzinfo=LONDON),
        ends_at=dt.datetime(2026, 11, 30, 9, 0, tzinfo=LONDON),
    )
    return dm


@pytest.fixture
def reader_unavailable(tmp_path, monkeypatch):
    """The reader's artefacts directory is empty: get_reader raises ReaderUnavailable. The
    process-wide reader is cached per directory, so a fresh empty one is never cached."""
    monkeypatch.setenv("READER_ARTEFACTS_DIR", str(tmp_path))


def _fast_path(text, received_at, callbacks):
    comment = CommentFactory(text=text, received_at=received_at)
    with time_machine.travel(received_at, tick=False), callbacks(execute=True):
        comments_classify(comment_ids=[comment.pk])
    return comment


def test_the_fast_path_stores_the_rules_verdict_pending_and_rings_the_reader_after_commit(
    django_capture_on_commit_callbacks, broker
):
    comment = CommentFactory(text=CRISIS, received_at=SATURDAY_NIGHT)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        comments_classify(comment_ids=[comment.pk])
    verdict = Verdict.objects.get(comment=comment)
    assert (verdict.action, verdict.escalation, verdict.model_state, verdict.model) == (
        "allow", "none", "pending", None)
    assert not QueueItem.objects.filter(comment=comment).exists()  # the rules saw nothing
    assert broker.messages("reader") == []
    for cb in callbacks:
        cb()
    assert broker.messages("reader") == [("moderation.tasks.comments_read_task", {})]
    assert broker.messages("celery") == []  # its own queue, not the fast path's


def test_the_model_escalates_a_crisis_the_rules_miss_and_pages_the_duty_manager_out_of_hours(
    rota, django_capture_on_commit_callbacks, broker
):
    comment = _fast_path(CRISIS, SATURDAY_NIGHT, django_capture_on_commit_callbacks)
    broker.client.delete("reader")
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(seconds=5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            counts = tasks.comments_read_task()
            again = tasks.comments_read_task()
    assert counts == {"read": 1, "changed": 1, "queued": 1, "unavailable": 0}
    assert again == {"read": 0, "changed": 0, "queued": 0, "unavailable": 0}

    verdict = Verdict.objects.get(comment=comment)
    assert (verdict.model_state, verdict.action, verdict.escalation, verdict.signpost, verdict.disputed) == (
        "read", "allow", "duty_manager", "crisis", False)
    assert verdict.categories == ["crisis"]
    assert [r["id"] for r in verdict.rules] == ["model.crisis"]
    assert verdict.rules_only == {"action": "allow", "escalation": "none", "signpost": "none", "categories": [],
                                  "auto_apply": False}
    assert verdict.model["findings"][0]["category"] == "crisis"

    item = QueueItem.objects.get(comment=comment)
    assert (item.verdict_id, item.escalation, item.priority, item.status) == (
        verdict.pk, "duty_manager", QueueItem.PRIORITY_ESCALATION, "open")
    assert item.first_look_due == SATURDAY_NIGHT + dt.timedelta(minutes=15)
    assert item.reply_due is not None

    # The page rings after commit, like any out-of-hours escalation; its task sends it.
    assert broker.messages() == [("moderation.tasks.queueitem_page_task", {"item_id": item.pk})]
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(seconds=10), tick=False):
        tasks.queueitem_page_task(item_id=item.pk)
    assert [m.to for m in mail.outbox] == [["primary@example.nhs.uk"]]

    event = AuditEvent.objects.get(verb="verdict.model_read", comment=comment)
    assert event.system_actor == "model"
    assert event.data["changed"] is True
    assert event.data["rules"]["escalation"] == "none"
    assert event.data["combined"]["escalation"] == "duty_manager"
    assert event.data["findings"] == ["crisis"]
    assert event.data["queue_item"] == "created"


def test_a_verdict_the_model_agrees_with_is_read_and_its_item_left_alone(django_capture_on_commit_callbacks):
    monday = dt.datetime(2026, 11, 30, 11, 0, tzinfo=LONDON)
    comment = _fast_path(ABUSE, monday, django_capture_on_commit_callbacks)
    before = QueueItem.objects.values().get(comment=comment)
    tasks.comments_read_task()
    verdict = Verdict.objects.get(comment=comment)
    assert verdict.model_state == "read" and verdict.action == "hide" and verdict.model is not None
    assert QueueItem.objects.values().get(comment=comment) == before
    assert AuditEvent.objects.filter(verb="verdict.model_read", comment=comment).count() == 1


def test_unavailable_reader_keeps_the_rules_verdict_queues_for_a_person_and_the_sweeper_rerings(
    reader_unavailable, django_capture_on_commit_callbacks, broker
):
    comment = _fast_path(CRISIS, SATURDAY_NIGHT, django_capture_on_commit_callbacks)
    broker.client.delete("reader")
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(seconds=5), tick=False):
        counts = tasks.comments_read_task()
        again = tasks.comments_read_task()
    assert counts == {"read": 0, "changed": 0, "queued": 0, "unavailable": 1}
    assert again == {"read": 0, "changed": 0, "queued": 0, "unavailable": 0}

    verdict = Verdict.objects.get(comment=comment)
    assert (verdict.model_state, verdict.action, verdict.escalation, verdict.model) == (
        "unavailable", "allow", "none", None)
    item = QueueItem.objects.get(comment=comment)  # a person reads what the model could not
    assert (item.status, item.escalation, item.verdict_id) == ("open", "none", verdict.pk)
    event = AuditEvent.objects.get(verb="verdict.model_unavailable", comment=comment)
    assert event.data["queue_item"] == "created" and "SHA256SUMS" in event.data["reason"]

    # Within the grace period the sweeper leaves it; after it, the reader is rung again.
    counts = sweeps.pending_sweep(now=SATURDAY_NIGHT + dt.timedelta(seconds=30), grace=dt.timedelta(seconds=60),
                                  batch=100)
    assert counts["unread"] == 0 and broker.messages("reader") == []
    counts = sweeps.pending_sweep(now=SATURDAY_NIGHT + dt.timedelta(minutes=5), grace=dt.timedelta(seconds=60),
                                  batch=100)
    assert counts["unread"] == 1
    assert broker.messages("reader") == [("moderation.tasks.comments_read_task", {})]


def test_once_the_reader_is_back_an_unavailable_verdict_is_read(
    reader_unavailable, monkeypatch, django_capture_on_commit_callbacks
):
    comment = _fast_path(CRISIS, SATURDAY_NIGHT, django_capture_on_commit_callbacks)
    tasks.comments_read_task()
    monkeypatch.delenv("READER_ARTEFACTS_DIR")
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(minutes=2), tick=False):
        counts = tasks.comments_read_task()
    assert counts["read"] == 1
    verdict = Verdict.objects.get(comment=comment)
    assert (verdict.model_state, verdict.escalation) == ("read", "duty_manager")
    item = QueueItem.objects.get(comment=comment)
    assert (item.escalation, item.first_look_due) == ("duty_manager", SATURDAY_NIGHT + dt.timedelta(minutes=15))
    assert AuditEvent.objects.get(verb="verdict.model_read", comment=comment).data["queue_item"] == "raised"


def test_the_sweeper_rings_once_per_batch_of_unread_verdicts(django_capture_on_commit_callbacks, broker):
    for n in range(3):
        _fast_path(f"Thanks for the flu clinic, number {n}", SATURDAY_NIGHT, django_capture_on_commit_callbacks)
    broker.client.delete("reader")
    counts = sweeps.pending_sweep(now=SATURDAY_NIGHT + dt.timedelta(minutes=5), grace=dt.timedelta(seconds=60),
                                  batch=2)
    assert counts["unread"] == 2  # bounded by the batch
    assert broker.messages("reader") == [("moderation.tasks.comments_read_task", {})]


def test_the_comment_page_shows_the_models_finding_or_that_it_has_not_read_it_yet(
    client_for, officer, django_capture_on_commit_callbacks
):
    comment = _fast_path(CRISIS, SATURDAY_NIGHT, django_capture_on_commit_callbacks)
    url = reverse("moderation:comment", args=[comment.pk])
    page = client_for(officer).get(url).content.decode()
    assert 'id="model-unread"' in page and "Not yet read by the model" in page

    tasks.comments_read_task()
    page = client_for(officer).get(url).content.decode()
    assert "Not yet read by the model" not in page
    panel = page[page.index('id="model-reading"'):]
    assert "<td>crisis</td><td>0.87</td><td>0.48</td>" in panel
    assert "I&#x27;ve got the pills lined up on the table" in panel  # the nearest example, escaped
    assert "The rules alone said: allow, escalation none, signpost none." in panel
    assert "Disputed" not in panel


def test_a_disputed_verdict_says_a_person_decides(client_for, officer):
    verdict = VerdictFactory(action="hide", disputed=True, model_state="read",
                             model={"findings": [], "flag_score": 0.1,
                                    "disputed_because": "the rules remove it; the model reads it as fine"})
    page = client_for(officer).get(reverse("moderation:comment", args=[verdict.comment_id])).content.decode()
    assert "Disputed: a person decides" in page
    assert "the rules remove it; the model reads it as fine" in page


def _unread(*, minutes_ago, **kw):
    verdict = VerdictFactory(**kw)  # created_at is auto_now_add: set it after
    Verdict.objects.filter(pk=verdict.pk).update(created_at=SATURDAY_NIGHT - dt.timedelta(minutes=minutes_ago))


@pytest.mark.parametrize("persona", ["officer", "duty_manager"])
def test_the_queue_header_shows_the_model_readers_health(persona, request, client_for):
    user = request.getfixturevalue(persona)
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        page = client_for(user).get(reverse("moderation:queue")).content.decode()
        assert "Model reader:" in page and "up to date" in page
        _unread(minutes_ago=3)
        _unread(minutes_ago=1)
        page = client_for(user).get(reverse("moderation:queue")).content.decode()
        assert "2 comments waiting, oldest 3\xa0minutes" in page
        _unread(minutes_ago=2, model_state="unavailable")
        page = client_for(user).get(reverse("moderation:queue")).content.decode()
        assert "unavailable since Sat 01:58 · 3 comments not yet read by the model" in page
        # The 20-second poll re-renders the list only: no health query there.
        partial = client_for(user).get(reverse("moderation:queue"), HTTP_HX_REQUEST="true").content.decode()
        assert "Model reader:" not in partial
