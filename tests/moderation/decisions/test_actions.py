"""Actions out: requested -> in flight -> applied / failed, over real HTTP to the simulator.
Tasks are called directly, twice; the platform must see each action once."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.utils import timezone

from moderation import tasks
from moderation.decisions.actions import MAX_ATTEMPTS, ActionNotSupported, platform_action_apply, platform_action_request
from audit.models import AuditEvent
from moderation.models import Author, Channel, PlatformAction, WebhookDelivery
from moderation.triage.classify import comments_classify
from tests.factories import AuthorFactory, CommentFactory
from tests.moderation.platforms import fixtures
from tests.moderation.platforms.fixtures import ACCOUNTS, TOKENS, make_channel

sim = fixtures.sim  # the simulator fixture, used by name below

pytestmark = pytest.mark.django_db

APPLY = "moderation.tasks.platformaction_apply_task"


def _comment_on(sim, platform, text="You are all useless c*nts", author_id="author-77"):
    channel = make_channel(platform)
    upstream = sim.world.add_comment(platform, ACCOUNTS[platform], text, author_id=author_id)
    author = AuthorFactory(platform=platform, external_id=author_id)
    comment = CommentFactory(channel=channel, external_id=upstream.id, author=author, text=text)
    return comment, upstream


def _calls(sim, platform, method):
    return [r for r in sim.world.requests if r[0] == platform and r[1] == method]


def _request(comment, kind, payload=None):
    return platform_action_request(comment=comment, kind=kind, decision=None, payload=payload)


def test_request_rings_the_apply_task_after_commit(sim, broker, django_capture_on_commit_callbacks):
    comment, _ = _comment_on(sim, "facebook")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        action = _request(comment, "hide")
    assert broker.messages() == []
    callbacks[0]()
    assert broker.messages() == [(APPLY, {"action_id": action.pk})]


def test_hide_is_applied_once_however_often_the_task_runs(sim):
    comment, upstream = _comment_on(sim, "facebook")
    action = _request(comment, "hide")
    tasks.platformaction_apply_task(action_id=action.pk)
    tasks.platformaction_apply_task(action_id=action.pk)
    action.refresh_from_db()
    assert (action.status, action.attempts, action.response, action.last_error) == ("applied", 1, {"success": True}, "")
    assert action.started_at is not None and action.finished_at is not None
    assert upstream.hidden is True
    assert len(_calls(sim, "facebook", "POST")) == 1
    audit = AuditEvent.objects.get(verb="action.applied", comment=comment)
    assert (audit.system_actor, audit.target, audit.data) == ("platform:facebook", f"action:{action.pk}",
                                                               {"kind": "hide", "attempts": 1})


@pytest.mark.parametrize("platform,kind,state", [
    ("facebook", "delete", lambda u, a: u.deleted),
    ("facebook", "unhide", lambda u, a: u.hidden is False),
    ("instagram", "hide", lambda u, a: u.hidden),
    ("instagram", "delete", lambda u, a: u.deleted),
    ("youtube", "hide", lambda u, a: u.moderation_status == "heldForReview"),
    ("youtube", "delete", lambda u, a: u.moderation_status == "rejected"),
    ("x", "hide", lambda u, a: u.hidden),
])
def test_every_supported_action_reaches_the_platform(sim, platform, kind, state):
    comment, upstream = _comment_on(sim, platform)
    action = _request(comment, kind)
    platform_action_apply(action_id=action.pk)
    action.refresh_from_db()
    assert action.status == "applied" and state(upstream, action)


@pytest.mark.parametrize("platform", ["facebook", "youtube", "x"])
def test_block_blocks_upstream_and_marks_the_author(sim, platform):
    comment, _ = _comment_on(sim, platform, author_id="troll-1")
    action = _request(comment, "block")
    platform_action_apply(action_id=action.pk)
    author = Author.objects.get(pk=comment.author_id)
    assert (author.blocked, author.blocked_at is not None) == (True, True)
    account = sim.world.account(platform, ACCOUNTS[platform])
    # X: blocking is Enterprise-only, so "block" is applied as a mute (capabilities.py).
    upstream = {"facebook": account.blocked, "youtube": account.banned, "x": account.muted}[platform]
    assert upstream == {"troll-1"}
    action.refresh_from_db()
    if platform == "x":
        assert (account.blocked, action.response) == (set(), {"data": {"muting": True}})


@pytest.mark.parametrize("platform", ["facebook", "instagram", "youtube", "x"])
def test_reply_is_posted_once(sim, platform):
    comment, upstream = _comment_on(sim, platform, text="How do I complain?")
    action = _request(comment, "reply", {"message": "Please contact PALS on 0800 000 000"})
    tasks.platformaction_apply_task(action_id=action.pk)
    tasks.platformaction_apply_task(action_id=action.pk)
    replies = [c for c in sim.world.account(platform, ACCOUNTS[platform]).comments if c.parent_id == upstream.id]
    assert [r.text for r in replies] == ["Please contact PALS on 0800 000 000"]
    action.refresh_from_db()
    assert action.status == "applied"


@pytest.mark.parametrize("platform,kind", [("instagram", "block"), ("x", "delete")])
def test_unsupported_actions_are_refused_and_nothing_is_created(sim, platform, kind, broker):
    comment, _ = _comment_on(sim, platform)
    with pytest.raises(ActionNotSupported):
        _request(comment, kind)
    assert PlatformAction.objects.count() == 0 and broker.messages() == []


def test_outage_is_retried_later_with_backoff_then_applied(sim, broker, django_capture_on_commit_callbacks):
    comment, upstream = _comment_on(sim, "instagram")
    action = _request(comment, "hide")
    sim.world.set_fault("instagram", "outage", count=1)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        platform_action_apply(action_id=action.pk)
    action.refresh_from_db()
    assert (action.status, action.attempts) == ("requested", 1)
    assert action.last_error.startswith("instagram: temporary error (code 2)")
    wait = (action.next_attempt_at - before).total_seconds()
    assert 30 <= wait <= 61  # first step: 60 s with jitter between half and all of it
    assert [m[0] for m in broker.messages()] == [APPLY]  # the retry's doorbell (with a countdown)
    # Too early: a stray doorbell does nothing and calls nobody.
    calls = len(_calls(sim, "instagram", "POST"))
    platform_action_apply(action_id=action.pk)
    assert len(_calls(sim, "instagram", "POST")) == calls
    platform_action_apply(action_id=action.pk, now=action.next_attempt_at + dt.timedelta(seconds=1))
    action.refresh_from_db()
    assert (action.status, action.attempts, upstream.hidden) == ("applied", 2, True)
    assert AuditEvent.objects.filter(verb="action.retry_scheduled", comment=comment).count() == 1


def test_gives_up_after_the_last_attempt(sim):
    comment, _ = _comment_on(sim, "x")
    action = _request(comment, "hide")
    sim.world.set_fault("x", "outage")
    now = timezone.now()
    for _ in range(MAX_ATTEMPTS):
        platform_action_apply(action_id=action.pk, now=now)
        action.refresh_from_db()
        now = (action.next_attempt_at or now) + dt.timedelta(seconds=1)
    assert (action.status, action.attempts) == ("failed", MAX_ATTEMPTS)
    assert action.last_error == f"gave up after {MAX_ATTEMPTS} attempts: x: temporary error (HTTP 503 Service Unavailable)"
    assert len(_calls(sim, "x", "PUT")) == MAX_ATTEMPTS


def test_a_permanent_refusal_fails_with_the_platforms_error_and_is_not_retried(sim, broker):
    comment, upstream = _comment_on(sim, "youtube")
    upstream.moderation_status = "rejected"  # YouTube will not publish a rejected comment
    action = _request(comment, "unhide")
    platform_action_apply(action_id=action.pk)
    platform_action_apply(action_id=action.pk)
    action.refresh_from_db()
    assert (action.status, action.attempts) == ("failed", 1)
    assert action.last_error == "youtube: refused (operationNotSupported)"
    assert AuditEvent.objects.get(verb="action.failed", comment=comment).data == {
        "kind": "unhide", "attempts": 1, "error": "youtube: refused (operationNotSupported)"}


def test_expired_token_fails_the_action_and_marks_the_channel(sim, caplog):
    caplog.set_level(logging.DEBUG)
    comment, _ = _comment_on(sim, "facebook")
    action = _request(comment, "delete")
    sim.world.set_fault("facebook", "expired")
    platform_action_apply(action_id=action.pk)
    action.refresh_from_db()
    channel = Channel.objects.get(pk=comment.channel_id)
    assert action.status == "failed" and action.last_error.startswith("facebook: access token expired or revoked (code 190, subcode 463)")
    assert channel.state == "needs_reauth"
    # No token anywhere a person or a log could see it.
    token = TOKENS["facebook"]
    texts = [action.last_error, channel.state_reason, *(json.dumps(a.data) for a in AuditEvent.objects.all()),
             *(r.getMessage() for r in caplog.records)]
    assert all(token not in t for t in texts)
    # Later actions on that channel fail fast without calling the platform.
    second = _request(comment, "hide")
    calls = len(sim.world.requests)
    platform_action_apply(action_id=second.pk)
    second.refresh_from_db()
    assert second.status == "failed" and len(sim.world.requests) == calls


def test_an_action_in_flight_on_a_live_worker_is_left_alone(sim):
    comment, upstream = _comment_on(sim, "facebook")
    action = _request(comment, "hide")
    PlatformAction.objects.filter(pk=action.pk).update(status="in_flight", attempts=1, started_at=timezone.now())
    platform_action_apply(action_id=action.pk)
    action.refresh_from_db()
    assert (action.status, upstream.hidden, sim.world.requests) == ("in_flight", False, [])


def test_a_stuck_idempotent_action_is_applied_again(sim):
    comment, upstream = _comment_on(sim, "facebook")
    action = _request(comment, "hide")
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    PlatformAction.objects.filter(pk=action.pk).update(status="in_flight", attempts=1, started_at=long_ago)
    platform_action_apply(action_id=action.pk)
    action.refresh_from_db()
    assert (action.status, action.attempts, upstream.hidden) == ("applied", 2, True)


def test_a_stuck_reply_is_failed_rather_than_risk_posting_twice(sim):
    comment, upstream = _comment_on(sim, "facebook")
    action = _request(comment, "reply", {"message": "hello"})
    PlatformAction.objects.filter(pk=action.pk).update(status="in_flight", attempts=1,
                                                       started_at=timezone.now() - dt.timedelta(minutes=10))
    platform_action_apply(action_id=action.pk)
    action.refresh_from_db()
    assert action.status == "failed" and action.last_error.startswith("interrupted while posting")
    assert sim.world.requests == []


def test_sweeper_requeues_lost_actions_and_pending_deliveries(broker):
    old = timezone.now() - dt.timedelta(minutes=10)
    comment = CommentFactory(received_at=old)
    comments_classify(comment_ids=[comment.pk])
    lost = PlatformAction.objects.create(comment=comment, kind="hide")
    stuck = PlatformAction.objects.create(comment=comment, kind="delete", status="in_flight", started_at=old)
    PlatformAction.objects.create(comment=comment, kind="unhide", status="in_flight", started_at=timezone.now())
    PlatformAction.objects.create(comment=comment, kind="reply", next_attempt_at=timezone.now() + dt.timedelta(minutes=5))
    PlatformAction.objects.filter(pk__in=[lost.pk, stuck.pk]).update(requested_at=old)
    PlatformAction.objects.filter(kind__in=["unhide", "reply"]).update(requested_at=old)
    delivery = WebhookDelivery.objects.create(platform="facebook", body_sha256="a" * 64, body=b"{}")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(received_at=old)
    WebhookDelivery.objects.create(platform="facebook", body_sha256="b" * 64, body=b"{}")  # fresh
    WebhookDelivery.objects.create(platform="x", body_sha256="c" * 64, body=b"{}", status="processed")

    counts = tasks.pending_sweep_task()

    assert counts == {"comments": 0, "actions": 2, "deliveries": 1, "unread": 0}
    assert sorted(broker.messages(), key=lambda m: sorted(m[1].items())) == sorted([
        (APPLY, {"action_id": lost.pk}), (APPLY, {"action_id": stuck.pk}),
        ("moderation.tasks.webhookdelivery_process_task", {"delivery_id": delivery.pk}),
    ], key=lambda m: sorted(m[1].items()))
