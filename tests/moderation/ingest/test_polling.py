"""Polling: beat claims due channels, the poll task reads the simulator over HTTP, stores the
comments and the cursor together, and honours rate limits, token expiry and outages."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.utils import timezone

from moderation import tasks
from moderation.ingest.polling import POLL_LEASE, channel_poll, channels_poll_due
from audit.models import AuditEvent
from moderation.models import Channel, Comment
from tests.moderation.platforms import fixtures
from tests.moderation.platforms.fixtures import ACCOUNTS, TOKENS, make_channel

sim = fixtures.sim  # the simulator fixture, used by name below

pytestmark = pytest.mark.django_db

POLL = "moderation.tasks.channel_poll_task"
CLASSIFY_BATCH = "moderation.tasks.comments_classify_batch_task"


def _requests(sim, platform):
    return [r for r in sim.world.requests if r[0] == platform]


def test_beat_claims_each_due_channel_once_and_rings_after_commit(broker, django_capture_on_commit_callbacks):
    now = timezone.now()
    due = make_channel("facebook", next_poll_at=now - dt.timedelta(seconds=1))
    never = make_channel("youtube")  # never polled: due
    make_channel("x", next_poll_at=now + dt.timedelta(minutes=1))  # not yet
    make_channel("instagram", enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        claimed = channels_poll_due(now=now)
    with django_capture_on_commit_callbacks(execute=True):
        again = tasks.channels_poll_due_task()  # the lease stops a second claim
    assert (sorted(claimed), again) == (sorted([due.pk, never.pk]), 0)
    assert sorted(broker.messages(), key=lambda m: m[1]["channel_id"]) == [
        (POLL, {"channel_id": due.pk}), (POLL, {"channel_id": never.pk})]
    due.refresh_from_db()
    assert due.next_poll_at == now + POLL_LEASE


@pytest.mark.parametrize("state,backoff", [("paused", None), ("needs_reauth", None), ("backing_off", 60)])
def test_beat_skips_channels_that_must_not_be_polled(state, backoff):
    now = timezone.now()
    make_channel("facebook", state=state, backoff_until=now + dt.timedelta(seconds=backoff) if backoff else None)
    assert channels_poll_due(now=now) == []


def test_poll_stores_new_comments_and_the_cursor_together(sim, broker, django_capture_on_commit_callbacks):
    channel = make_channel("facebook", poll_interval_seconds=60)
    world = sim.world
    start = timezone.now().timestamp() - 600
    first = [world.add_comment("facebook", ACCOUNTS["facebook"], f"comment {i}", at=start + i) for i in range(3)]
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = channel_poll(channel_id=channel.pk, now=now)
    assert (outcome.status, outcome.comments, outcome.more) == ("polled", 3, False)
    assert sorted(Comment.objects.values_list("external_id", flat=True)) == sorted(c.id for c in first)
    new_ids = sorted(Comment.objects.values_list("pk", flat=True))
    assert broker.messages() == [(CLASSIFY_BATCH, {"comment_ids": new_ids})]  # one doorbell for the page
    channel.refresh_from_db()
    post = world.account("facebook", ACCOUNTS["facebook"]).threads[0]
    assert channel.poll_cursor["posts"] == {post: int(start + 2)}  # the post's newest comment
    assert (channel.state, channel.last_polled_at, channel.next_poll_at) == ("active", now, now + dt.timedelta(seconds=60))

    late = world.add_comment("facebook", ACCOUNTS["facebook"], "a late one")
    with django_capture_on_commit_callbacks(execute=True):
        channel_poll(channel_id=channel.pk)
    assert Comment.objects.count() == 4
    late_pk = Comment.objects.get(external_id=late.id).pk
    # The boundary comment read again is not new: only the late one is judged.
    assert broker.messages()[1:] == [(CLASSIFY_BATCH, {"comment_ids": [late_pk]})]


def test_a_poll_with_more_pages_than_its_budget_continues_straight_away(sim, broker, django_capture_on_commit_callbacks):
    channel = make_channel("youtube")
    start = timezone.now().timestamp() - 5000
    for i in range(1050):  # 11 pages of 100; a poll reads 10
        sim.world.add_comment("youtube", ACCOUNTS["youtube"], f"c{i}", at=start + i)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = channel_poll(channel_id=channel.pk)
    assert (outcome.comments, outcome.more) == (1000, True)
    assert broker.messages()[-1] == (POLL, {"channel_id": channel.pk})
    with django_capture_on_commit_callbacks(execute=True):
        outcome = channel_poll(channel_id=channel.pk)
    assert (outcome.comments, outcome.more) == (50, False)
    assert Comment.objects.filter(channel=channel).count() == 1050
    channel.refresh_from_db()
    # The round is over (no page token); the reply counts of the 300 newest threads remain.
    assert set(channel.poll_cursor) == {"watermark", "threads", "scanned_at"}
    assert len(channel.poll_cursor["threads"]) == 300


def test_the_poll_task_reads_a_backlog_in_one_go_within_its_time_budget(
    sim, broker, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("moderation.ingest.polling.POLL_CONTINUE_SECONDS", 60)  # a slow machine is not a short budget
    channel = make_channel("youtube")
    start = timezone.now().timestamp() - 5000
    for i in range(2050):  # 21 pages of 100: three polls
        sim.world.add_comment("youtube", ACCOUNTS["youtube"], f"c{i}", at=start + i)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.channel_poll_task(channel_id=channel.pk) == "polled"
    assert Comment.objects.filter(channel=channel).count() == 2050
    rung = [name for name, _ in broker.messages()]
    assert (rung.count(CLASSIFY_BATCH), rung.count(POLL)) == (3, 0)  # each poll's page judged; none left
    channel.refresh_from_db()
    assert channel.next_poll_at > timezone.now() + dt.timedelta(seconds=30)  # back to the poll interval


def test_a_backlog_longer_than_the_budget_is_handed_to_a_new_task(sim, broker, django_capture_on_commit_callbacks):
    from moderation.ingest.polling import channel_poll_backlog

    channel = make_channel("youtube")
    start = timezone.now().timestamp() - 5000
    for i in range(1050):
        sim.world.add_comment("youtube", ACCOUNTS["youtube"], f"c{i}", at=start + i)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = channel_poll_backlog(channel_id=channel.pk, seconds=0)
    assert (outcome.comments, outcome.more, outcome.again) == (1000, True, True)
    assert broker.messages()[-1] == (POLL, {"channel_id": channel.pk})  # after the poll's commit
    channel.refresh_from_db()
    assert channel.next_poll_at > timezone.now() + POLL_LEASE - dt.timedelta(minutes=1)  # still leased


@pytest.mark.parametrize("platform", ["facebook", "instagram", "youtube", "x"])
def test_throttling_backs_off_until_the_platform_allows(sim, platform):
    channel = make_channel(platform)
    sim.world.add_comment(platform, ACCOUNTS[platform], "hello")
    sim.world.set_fault(platform, "throttle", count=1, retry_after=300)
    now = timezone.now()
    assert channel_poll(channel_id=channel.pk, now=now).status == "backing_off"
    channel.refresh_from_db()
    assert channel.state == "backing_off" and channel.next_poll_at == channel.backoff_until
    wait = (channel.backoff_until - now).total_seconds()
    if platform == "youtube":
        assert 0 < wait <= 24 * 3600  # quota resets at midnight Pacific
    else:
        assert 299 <= wait <= 301
    assert "rate limited" in channel.state_reason or "quota" in channel.state_reason
    calls = len(_requests(sim, platform))
    # Not before the platform allows: beat does not claim it and a stray task does nothing.
    assert channels_poll_due(now=now + dt.timedelta(seconds=wait - 1)) == []
    assert channel_poll(channel_id=channel.pk, now=now + dt.timedelta(seconds=wait - 1)).status == "skipped"
    assert len(_requests(sim, platform)) == calls
    later = channel.backoff_until + dt.timedelta(seconds=1)
    assert channels_poll_due(now=later) == [channel.pk]
    assert channel_poll(channel_id=channel.pk, now=later).status == "polled"
    channel.refresh_from_db()
    assert (channel.state, channel.backoff_until, Comment.objects.count()) == ("active", None, 1)


def test_facebook_usage_headers_near_the_limit_back_off_before_an_error(httpserver, settings):
    settings.FACEBOOK_API_BASE = httpserver.url_for("/v25.0")
    channel = make_channel("facebook")
    page = ACCOUNTS["facebook"]
    busy = {"X-Business-Use-Case-Usage": json.dumps({page: [{"type": "pages", "call_count": 97, "total_cputime": 10,
                                                             "total_time": 12, "estimated_time_to_regain_access": 0}]})}
    httpserver.expect_request(f"/v25.0/{page}/feed").respond_with_json({"data": [{"id": f"{page}_1"}]})
    httpserver.expect_request(f"/v25.0/{page}_1/comments").respond_with_json(
        {"data": [{"id": "1_1", "message": "hi", "from": {"id": "9"}, "created_time": "2026-03-14T09:21:07+0000"}]},
        headers=busy)
    now = timezone.now()
    outcome = channel_poll(channel_id=channel.pk, now=now)
    channel.refresh_from_db()
    assert (outcome.status, outcome.comments, Comment.objects.count()) == ("polled", 1, 1)  # what was read is kept
    assert (channel.state, channel.backoff_until) == ("backing_off", now + dt.timedelta(seconds=300))


@pytest.mark.parametrize("platform", ["facebook", "instagram", "youtube", "x"])
def test_expired_token_marks_needs_reauth_once_and_is_never_retried(sim, platform, caplog):
    caplog.set_level(logging.DEBUG)
    channel = make_channel(platform)
    sim.world.set_fault(platform, "expired")  # until cleared
    assert channel_poll(channel_id=channel.pk).status == "needs_reauth"
    channel.refresh_from_db()
    assert channel.state == "needs_reauth" and "expired or revoked" in channel.state_reason
    assert channel.next_poll_at is None
    calls = len(_requests(sim, platform))
    far = timezone.now() + dt.timedelta(days=2)
    assert channels_poll_due(now=far) == []
    assert channel_poll(channel_id=channel.pk, now=far).status == "skipped"
    assert len(_requests(sim, platform)) == calls  # no loop against the platform
    audits = AuditEvent.objects.filter(verb="channel.needs_reauth", target=f"channel:{channel.pk}")
    assert audits.count() == 1
    # The token is nowhere: not in the reason, the audit trail or any log line.
    assert TOKENS[platform] not in channel.state_reason
    assert TOKENS[platform] not in json.dumps(audits.get().data)
    assert all(TOKENS[platform] not in r.getMessage() for r in caplog.records)


def test_outage_keeps_the_cursor_and_retries_later_losing_nothing(sim):
    channel = make_channel("x", poll_interval_seconds=60)
    sim.world.add_comment("x", ACCOUNTS["x"], "one")
    sim.world.set_fault("x", "outage", count=1)
    now = timezone.now()
    assert channel_poll(channel_id=channel.pk, now=now).status == "failed"
    channel.refresh_from_db()
    assert (channel.state, channel.poll_cursor, channel.next_poll_at) == ("active", {}, now + dt.timedelta(seconds=120))
    assert channel.state_reason == "x: temporary error (HTTP 503 Service Unavailable)"
    sim.world.add_comment("x", ACCOUNTS["x"], "two")
    assert channel_poll(channel_id=channel.pk).comments == 2
    assert sorted(Comment.objects.values_list("text", flat=True)) == ["one", "two"]


def test_poll_task_is_idempotent(sim):
    channel = make_channel("instagram")
    sim.world.add_comment("instagram", ACCOUNTS["instagram"], "hello")
    tasks.channel_poll_task(channel_id=channel.pk)
    tasks.channel_poll_task(channel_id=channel.pk)
    assert Comment.objects.filter(channel=channel).count() == 1
    assert Comment.objects.get().revision == 1


def test_undecryptable_credentials_need_reauth_without_calling_the_platform(sim):
    channel = make_channel("facebook")
    Channel.objects.filter(pk=channel.pk).update(credentials_encrypted=b"not-a-fernet-token")
    assert channel_poll(channel_id=channel.pk).status == "needs_reauth"
    assert _requests(sim, "facebook") == []


# --- an older copy never moves a comment backwards (issue #11) -----------------------------
def test_a_facebook_poll_that_read_before_an_edit_does_not_undo_it(sim):
    from moderation.ingest.webhooks import webhook_receive, webhookdelivery_process

    channel = make_channel("facebook")
    upstream = sim.world.add_comment("facebook", ACCOUNTS["facebook"], "You are useless f*cking idiots", at=1773480067)

    def deliver(verb, message, time):
        value = {"item": "comment", "verb": verb, "comment_id": upstream.id, "post_id": upstream.thread_id,
                 "parent_id": upstream.thread_id, "from": {"id": upstream.author_id}, "message": message,
                 "created_time": 1773480067}
        body = {"object": "page", "entry": [{"id": channel.account_id, "time": time,
                                            "changes": [{"field": "feed", "value": value}]}]}
        delivery, _ = webhook_receive(platform="facebook", body=json.dumps(body).encode(), headers={})
        webhookdelivery_process(delivery_id=delivery.pk)

    deliver("add", "You are useless f*cking idiots", 1773480068)
    deliver("edited", "Thanks for your help today", 1773480300)
    # The platform still answers with the text as first posted (a poll that read it before
    # the edit, committing after it): Graph gives no edit time, so it is a copy of creation.
    assert channel_poll(channel_id=channel.pk).status == "polled"
    comment = Comment.objects.get()
    assert (comment.revision, comment.text) == (2, "Thanks for your help today")
    assert AuditEvent.objects.filter(comment=comment, verb="comment.stale_copy_ignored").count() == 1


def test_a_youtube_poll_applies_newer_copies_and_ignores_older_ones(sim):
    from django.db import transaction

    from moderation.ingest.store import comments_upsert_batch
    from moderation.platforms import client_for

    channel = make_channel("youtube")
    upstream = sim.world.add_comment("youtube", ACCOUNTS["youtube"], "When does the clinic open?",
                                     at=timezone.now().timestamp() - 600)
    channel_poll(channel_id=channel.pk)
    comment = Comment.objects.get()
    # A second poll reads the comment now, but is slow to commit (a duplicate poll after a
    # lost lease, say): its copy is the one before the edit.
    channel.refresh_from_db()
    slow = client_for(channel).fetch_since({})
    sim.world.edit_comment("youtube", upstream.id, "You are useless f*cking idiots")
    channel_poll(channel_id=channel.pk)  # updatedAt moved: an edit, applied
    comment.refresh_from_db()
    assert (comment.revision, comment.text) == (2, "You are useless f*cking idiots")
    with transaction.atomic():
        assert comments_upsert_batch(channel=channel, incomings=slow.comments) == []
    comment.refresh_from_db()
    assert (comment.revision, comment.text) == (2, "You are useless f*cking idiots")
    stale = AuditEvent.objects.get(comment=comment, verb="comment.stale_copy_ignored")
    assert stale.system_actor == "platform:youtube" and stale.data["revision"] == 2
    # The same copy again records nothing more; the newer one again changes nothing.
    channel_poll(channel_id=channel.pk)
    assert AuditEvent.objects.filter(comment=comment, verb="comment.stale_copy_ignored").count() == 1
    assert Comment.objects.get().revision == 2
