"""Nothing lost, nothing duplicated: a real `celery worker` subprocess against the test
database and a real Redis, killed (SIGKILL) mid-batch, or with Redis restarted under it.

The guarantee comes from the design, not from luck: each delivery is processed in one
transaction that also marks it processed (a killed worker leaves it pending with nothing
half-written), every comment is unique on (platform, external id), every verdict unique on
(comment, revision, version), and the sweeper re-rings pending deliveries and unjudged
comments whose messages died with the worker or with Redis.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from moderation import sweeps
from moderation.ingest.webhooks import webhook_receive
from audit.models import AuditEvent
from moderation.models import Comment, Verdict, WebhookDelivery
from tests.factories import ChannelFactory
from tests.redis_server import wait_for

ROOT = Path(__file__).resolve().parents[3]
PAGE = "104857600123456"
DELIVERIES = 20
PER_DELIVERY = 50
TOTAL = DELIVERIES * PER_DELIVERY


def _db_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(broker_url: str, name: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_test",
        DATABASE_URL=_db_url(),  # the test database (test_<name>), where this test's rows are
        REDIS_URL=broker_url,
        # Nothing in this test should reach a platform; a closed port fails fast if it tried.
        FACEBOOK_API_BASE="http://127.0.0.1:9/facebook", INSTAGRAM_API_BASE="http://127.0.0.1:9/instagram",
        YOUTUBE_API_BASE="http://127.0.0.1:9/youtube", X_API_BASE="http://127.0.0.1:9/x",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "2", "-P", "prefork", "-l", "warning",
         "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool children: no chance to finish or acknowledge."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def _deliveries(channel) -> None:
    for d in range(DELIVERIES):
        changes = [{"field": "feed", "value": {
            "item": "comment", "verb": "add", "comment_id": f"9_{d}_{i}", "post_id": f"{PAGE}_9",
            "parent_id": f"{PAGE}_9", "from": {"id": f"88{i % 37}", "name": f"Resident {i % 37}"},
            "message": f"Thanks for the update on the new clinic, question {d}-{i}", "created_time": 1773480067}}
            for i in range(PER_DELIVERY)]
        body = json.dumps({"object": "page", "entry": [{"id": PAGE, "time": 1773480068, "changes": changes}]}).encode()
        webhook_receive(platform="facebook", body=body, headers={})


def _everything_done() -> bool:
    """all deliveries processed and every comment judged"""
    return (
        WebhookDelivery.objects.filter(status="processed").count() == DELIVERIES
        and Verdict.objects.filter(is_current=True).count() == TOTAL
    )


_last_sweep = [0.0]


def _sweep_now_and_then() -> None:
    # What beat's sweeper does every SWEEPER_INTERVAL_SECONDS (here every 5 s, no grace):
    # sweeping faster would only flood the queue with doorbells for work already queued.
    if time.monotonic() - _last_sweep[0] >= 5:
        _last_sweep[0] = time.monotonic()
        sweeps.pending_sweep(grace=dt.timedelta(0), batch=TOTAL)


def _assert_exactly_once() -> None:
    assert Comment.objects.count() == TOTAL
    assert WebhookDelivery.objects.count() == DELIVERIES
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"processed"}
    assert Verdict.objects.count() == TOTAL  # one judgement per comment, none repeated
    assert not Verdict.objects.values("comment").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert AuditEvent.objects.filter(verb="comment.classified").count() == TOTAL
    assert set(Comment.objects.values_list("revision", flat=True)) == {1}


@pytest.fixture
def clean_queue():
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = ["celery", "unacked", "unacked_index"]
    client.delete(*keys)
    yield
    client.delete(*keys)


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_loses_and_duplicates_nothing(clean_queue):
    channel = ChannelFactory(platform="facebook", account_id=PAGE)
    _deliveries(channel)  # stored and rung (on commit) before any worker runs
    first = _start_worker(settings.CELERY_BROKER_URL, "doomed")
    try:
        def some_but_not_all():
            """the first worker has stored part of the batch"""
            return 0 < Comment.objects.count() < TOTAL and Comment.objects.count() >= PER_DELIVERY

        wait_for(some_but_not_all, timeout=180, every=0.05)
    finally:
        _kill(first)
    stored_at_kill = Comment.objects.count()
    assert 0 < stored_at_kill < TOTAL  # killed mid-batch, not before or after
    second = _start_worker(settings.CELERY_BROKER_URL, "survivor")
    try:
        # The killed worker's messages are stuck unacknowledged in Redis until the visibility
        # timeout; the sweeper re-rings what is pending, and idempotency absorbs repeats.
        wait_for(_everything_done, timeout=300, every=0.5, on_tick=_sweep_now_and_then)
    finally:
        _kill(second)
    _assert_exactly_once()


@pytest.mark.django_db(transaction=True)
def test_redis_restart_mid_batch_loses_and_duplicates_nothing(celery_via):
    channel = ChannelFactory(platform="facebook", account_id=PAGE)
    worker = _start_worker(celery_via.url, "steady")
    try:
        _deliveries(channel)

        def some_but_not_all():
            """the worker has stored part of the batch"""
            return PER_DELIVERY <= Comment.objects.count() < TOTAL

        wait_for(some_but_not_all, timeout=180, every=0.05)
        celery_via.restart()  # every message queued in Redis is lost; the worker reconnects
        assert WebhookDelivery.objects.filter(status="pending").exists()  # work was really lost from Redis
        wait_for(_everything_done, timeout=300, every=0.5, on_tick=_sweep_now_and_then)
    finally:
        _kill(worker)
    _assert_exactly_once()
