"""Redis down: saved work is answered as saved, read-only pages still load, and the
sweeper rings what could not be queued once Redis is back (issue #11).

The test stops a Redis of its own (tests/redis_server.py), never the machine's. It is
transactional: the point is what happens when the request's transaction really commits and
its after-commit doorbell meets a dead broker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from moderation import sweeps
from moderation.models import Comment, Decision, PlatformAction, QueueItem, Verdict, WebhookDelivery
from tests.conftest import Broker
from tests.factories import ChannelFactory, CommentFactory, QueueItemFactory, UserFactory, VerdictFactory

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = "104857600123456"
PROCESS = "moderation.tasks.webhookdelivery_process_task"
CLASSIFY = "moderation.tasks.comment_classify_task"
APPLY = "moderation.tasks.platformaction_apply_task"
# Past the sweeper's grace period (SWEEPER_GRACE_SECONDS) for everything made in the test.
LATER = dt.timedelta(minutes=5)


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    # A transactional test flushes the tables, and with them the groups the data migration
    # made; put them back the same way.
    import importlib

    from django.apps import apps

    importlib.import_module("accounts.migrations.0002_roles").create_roles(apps, None)


@pytest.fixture
def redis_down(celery_via, settings):
    """The broker and the cache on a Redis of our own, which is then stopped."""
    settings.CELERY_BROKER_URL = celery_via.url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": celery_via.url}}
    celery_via.stop()
    return celery_via


@pytest.fixture
def officer_client(client):
    user = UserFactory(username="olivia.officer")
    user.groups.add(Group.objects.get(name=roles.OFFICER))
    client.force_login(user)  # a session row in PostgreSQL (SESSION_ENGINE)
    return client


def _meta_post(client, payload: dict):
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(b"test-meta-app-secret", body, hashlib.sha256).hexdigest()
    return client.post("/hooks/meta/", data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)


def _change(verb: str, message: str, time_: int) -> dict:
    return {"object": "page", "entry": [{"id": PAGE, "time": time_, "changes": [{"field": "feed", "value": {
        "item": "comment", "verb": verb, "comment_id": "1_900", "post_id": f"{PAGE}_1", "parent_id": f"{PAGE}_1",
        "from": {"id": "8812345678901234", "name": "Dana Ruiz"}, "message": message, "created_time": 1773480067}}]}]}


def _not_queued(caplog, task: str, **ids) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "moderation.doorbells" and r.levelno == logging.WARNING and task in r.getMessage()
            and all(f"'{k}': {v}" in r.getMessage() for k, v in ids.items())]


def test_a_webhook_is_stored_and_answered_200_and_swept_when_redis_is_back(redis_down, client, caplog):
    ChannelFactory(platform="facebook", account_id=PAGE)
    caplog.set_level(logging.WARNING, logger="moderation.doorbells")
    started = time.monotonic()
    response = _meta_post(client, _change("add", "When does the clinic open?", 1773480068))
    took = time.monotonic() - started
    assert (response.status_code, response.json()["status"]) == (200, "stored")
    assert took < 10  # a short, bounded publish retry: Meta gives up on slow endpoints too
    delivery = WebhookDelivery.objects.get()
    assert (delivery.pk, delivery.status) == (response.json()["id"], "pending")  # committed
    assert len(_not_queued(caplog, PROCESS, delivery_id=delivery.pk)) == 1

    # Processed by hand (as a worker would, were one reachable), an edit to the comment is
    # stored, and its own classify doorbell cannot be rung either.
    from moderation.ingest.webhooks import webhookdelivery_process

    webhookdelivery_process(delivery_id=delivery.pk)
    response = _meta_post(client, _change("edited", "You are all useless c*nts", 1773480300))
    assert response.status_code == 200
    edited = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    webhookdelivery_process(delivery_id=edited.pk)
    comment = Comment.objects.get()
    assert comment.revision == 2
    assert not Verdict.objects.filter(comment=comment, comment_revision=2).exists()
    assert len(_not_queued(caplog, CLASSIFY, comment_id=comment.pk)) == 1

    redis_down.start()  # Redis is back, empty: every doorbell it held is gone
    WebhookDelivery.objects.filter(pk=edited.pk).update(status="pending")  # and one not processed yet
    counts = sweeps.pending_sweep(now=timezone.now() + LATER, grace=dt.timedelta(seconds=60), batch=100)
    # The first revision's verdict, never read by the model (its doorbell was lost too).
    assert counts == {"comments": 1, "actions": 0, "deliveries": 1, "unread": 1}
    assert Broker(redis_down.url).messages() == [(CLASSIFY, {"comment_id": comment.pk}),
                                                 (PROCESS, {"delivery_id": edited.pk})]
    assert Broker(redis_down.url).messages("reader") == [("moderation.tasks.comments_read_task", {})]


def test_an_officer_decision_is_recorded_shown_and_swept_when_redis_is_back(redis_down, officer_client, caplog):
    comment = CommentFactory(text="You lot are useless idiots")
    item = QueueItemFactory(verdict=VerdictFactory(comment=comment), first_look_due=timezone.now() + dt.timedelta(hours=1))
    caplog.set_level(logging.WARNING, logger="moderation.doorbells")

    # Pages that only read work without Redis.
    queue = officer_client.get(reverse("moderation:queue"))
    assert queue.status_code == 200 and "You lot are useless idiots" in queue.content.decode()
    assert officer_client.get(reverse("moderation:comment", args=[comment.pk])).status_code == 200
    assert officer_client.get(reverse("moderation:queue"), HTTP_HX_REQUEST="true").status_code == 200

    response = officer_client.post(reverse("moderation:decide", args=[comment.pk]), {"kind": "hide", "next": "queue"})
    assert (response.status_code, response["Location"]) == (302, reverse("moderation:queue"))
    decision = Decision.objects.get()
    action = PlatformAction.objects.get()
    assert (decision.kind, decision.comment_id, action.kind, action.status) == ("hide", comment.pk, "hide", "requested")
    assert QueueItem.objects.get(pk=item.pk).status == "decided"
    assert len(_not_queued(caplog, APPLY, action_id=action.pk)) == 1
    # The queue the officer lands on loads too.
    assert officer_client.get(response["Location"]).status_code == 200

    redis_down.start()
    counts = sweeps.pending_sweep(now=timezone.now() + LATER, grace=dt.timedelta(seconds=60), batch=100)
    assert counts["actions"] == 1
    assert Broker(redis_down.url).messages() == [(APPLY, {"action_id": action.pk})]


def test_the_cache_misses_rather_than_fails_while_redis_is_down(redis_down, caplog):
    from django.core.cache import caches

    cache = caches["default"]
    caplog.set_level(logging.WARNING, logger="config.cache")
    assert cache.get("queue-counts", "recompute") == "recompute"
    assert cache.get_or_set("queue-counts", "computed") == "computed"
    cache.set("queue-counts", 1)
    assert (cache.add("k", 1), cache.delete("k"), cache.get_many(["a", "b"])) == (False, False, {})
    assert sorted(cache.set_many({"a": 1, "b": 2})) == ["a", "b"]  # the keys not stored
    assert any("cache unavailable, get answered without it" in r.getMessage() for r in caplog.records)
    redis_down.start()
    cache.set("queue-counts", 1)
    assert cache.get("queue-counts") == 1  # and back to normal with Redis
