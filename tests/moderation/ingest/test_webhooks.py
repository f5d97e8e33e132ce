"""/hooks/meta/ and /hooks/x/: handshakes, signatures, body validation, storage, processing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

import pytest
from django.test import Client

from moderation import tasks
from audit.models import AuditEvent
from moderation.models import Comment, Verdict, WebhookDelivery
from moderation.selectors import comment_hidden_upstream
from tests.factories import ChannelFactory
from tests.moderation.platforms import fixtures

sim = fixtures.sim  # the simulator fixture, used by name below

pytestmark = pytest.mark.django_db

PAGE = "104857600123456"
IG = "17841400000000001"
XUSER = "98765432"
PROCESS = "moderation.tasks.webhookdelivery_process_task"


@pytest.fixture
def web():
    # CSRF is enforced here as in production: the views must be csrf_exempt to work at all.
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def security_lines(caplog):
    # The "security" logger does not propagate (settings.LOGGING); listen to it directly.
    logger = logging.getLogger("security")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="security")
    yield lambda: [r.getMessage() for r in caplog.records if r.name == "security"]
    logger.removeHandler(caplog.handler)


def meta_sig(body: bytes, secret="test-meta-app-secret") -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def x_sig(body: bytes, secret="test-x-consumer-secret") -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def post_meta(web, body: bytes, signature: str | None = "auto"):
    headers = {}
    if signature == "auto":
        headers["HTTP_X_HUB_SIGNATURE_256"] = meta_sig(body)
    elif signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return web.post("/hooks/meta/", data=body, content_type="application/json", **headers)


def post_x(web, body: bytes, signature: str | None = "auto"):
    headers = {}
    if signature == "auto":
        headers["HTTP_X_TWITTER_WEBHOOKS_SIGNATURE"] = x_sig(body)
    elif signature is not None:
        headers["HTTP_X_TWITTER_WEBHOOKS_SIGNATURE"] = signature
    return web.post("/hooks/x/", data=body, content_type="application/json", **headers)


def fb_change(comment_id="1_100", message="Hello there", verb="add", author="8812345678901234", parent=None):
    value = {"item": "comment", "verb": verb, "comment_id": comment_id, "post_id": f"{PAGE}_1",
             "parent_id": parent or f"{PAGE}_1", "from": {"id": author, "name": "Dana Ruiz"}, "created_time": 1773480067}
    if verb != "remove":
        value["message"] = message
    return {"field": "feed", "value": value}


def fb_body(*changes, ensure_ascii=True) -> bytes:
    payload = {"object": "page", "entry": [{"id": PAGE, "time": 1773480068, "changes": list(changes)}]}
    return json.dumps(payload, ensure_ascii=ensure_ascii).encode()


def process_all():
    for delivery_id in WebhookDelivery.objects.filter(status="pending").values_list("pk", flat=True):
        tasks.webhookdelivery_process_task(delivery_id=delivery_id)


# --- handshakes ----------------------------------------------------------------------------
def test_meta_handshake_echoes_the_challenge_for_our_verify_token(web):
    response = web.get("/hooks/meta/", {"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                        "hub.verify_token": "test-meta-verify-token"})
    assert (response.status_code, response.content, response["Content-Type"]) == (200, b"1158201444", "text/plain")


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "wrong"},
    {"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": "test-meta-verify-token"},
    {"hub.challenge": "1"},
])
def test_meta_handshake_refuses_anything_else(web, params, security_lines):
    response = web.get("/hooks/meta/", params)
    assert response.status_code == 403 and b"1" not in response.content
    assert security_lines() == ["webhook handshake rejected source=meta remote=127.0.0.1"]


def test_x_crc_answers_with_the_base64_hmac_of_the_token(web):
    response = web.get("/hooks/x/", {"crc_token": "challenge-123"})
    expected = base64.b64encode(hmac.new(b"test-x-consumer-secret", b"challenge-123", hashlib.sha256).digest()).decode()
    assert response.status_code == 200
    assert response.json() == {"response_token": "sha256=" + expected}


def test_x_crc_without_a_token_is_400(web):
    assert web.get("/hooks/x/").status_code == 400


def test_wrong_method_is_405(web):
    assert web.put("/hooks/meta/").status_code == 405
    assert web.delete("/hooks/x/").status_code == 405


# --- signatures ----------------------------------------------------------------------------
def test_a_signed_delivery_is_stored_verbatim_and_its_task_queued_after_commit(web, broker, django_capture_on_commit_callbacks):
    ChannelFactory(platform="facebook", account_id=PAGE)
    body = fb_body(fb_change())
    with django_capture_on_commit_callbacks(execute=True):
        response = post_meta(web, body)
    assert response.status_code == 200 and response.json()["status"] == "stored"
    delivery = WebhookDelivery.objects.get()
    assert (bytes(delivery.body), delivery.platform, delivery.status) == (body, "facebook", "pending")
    assert delivery.body_sha256 == hashlib.sha256(body).hexdigest()
    assert delivery.headers["X-Hub-Signature-256"] == meta_sig(body)
    assert broker.messages() == [(PROCESS, {"delivery_id": delivery.pk})]
    assert Comment.objects.count() == 0  # acknowledged before any processing


@pytest.mark.parametrize("signature,reason", [
    (None, "missing"),
    ("sha256=" + "0" * 64, "mismatch"),
    ("sha1=abc", "mismatch"),
    ("auto-wrong-secret", "mismatch"),
])
def test_meta_bad_or_missing_signature_is_403_logged_and_nothing_stored(web, broker, security_lines, signature, reason):
    body = fb_body(fb_change())
    if signature == "auto-wrong-secret":
        signature = meta_sig(body, secret="not-our-secret")
    response = post_meta(web, body, signature=signature)
    assert response.status_code == 403
    assert WebhookDelivery.objects.count() == 0 and broker.messages() == []
    assert security_lines() == [f"webhook signature rejected source=meta remote=127.0.0.1 reason={reason} bytes={len(body)}"]


def test_meta_signature_is_over_the_raw_bytes_not_reserialised_json(web):
    # Meta escapes characters (\u00e9, \/); a re-dump would not match. Ours must still verify.
    body = b'{"object":"page","entry":[{"id":"104857600123456","changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"1_7","post_id":"p","message":"caf\\u00e9 \\/ ok","from":{"id":"9"}}}]}]}'
    assert post_meta(web, body).status_code == 200


@pytest.mark.parametrize("signature,reason", [(None, "missing"), ("sha256=AAAA", "mismatch")])
def test_x_bad_or_missing_signature_is_403(web, security_lines, signature, reason):
    body = json.dumps({"for_user_id": XUSER, "tweet_create_events": []}).encode()
    assert post_x(web, body, signature=signature).status_code == 403
    assert WebhookDelivery.objects.count() == 0
    assert security_lines() == [f"webhook signature rejected source=x remote=127.0.0.1 reason={reason} bytes={len(body)}"]


def test_x_hex_signature_is_refused_because_x_signs_in_base64(web):
    body = json.dumps({"for_user_id": XUSER}).encode()
    hex_sig = "sha256=" + hmac.new(b"test-x-consumer-secret", body, hashlib.sha256).hexdigest()
    assert post_x(web, body, signature=hex_sig).status_code == 403


# --- bodies --------------------------------------------------------------------------------
@pytest.mark.parametrize("body,reason", [
    (b'{"object": "page", "entry": [', "malformed JSON: Expecting value at position 29"),
    (b'{"object": "page", "entry": [{"message": "a\x00b"}]}', "malformed JSON: Invalid control character at at position 43"),
    (b"\xff\xfe{}", "the body is not UTF-8"),
    (b"[1, 2]", "the body must be a JSON object"),
    (b'{"object": "user", "entry": []}', 'a Meta delivery needs "object": "page" or "instagram"'),
    (b'{"object": "page"}', 'a Meta delivery needs an "entry" list'),
])
def test_meta_malformed_bodies_are_400_with_the_reason(web, body, reason):
    response = post_meta(web, body)
    assert (response.status_code, response.json()) == (400, {"error": reason})
    assert WebhookDelivery.objects.count() == 0


def test_x_body_without_for_user_id_is_400(web):
    response = post_x(web, b'{"tweet_create_events": []}')
    assert (response.status_code, response.json()) == (400, {"error": "an X delivery needs for_user_id"})


def test_oversized_body_is_400_before_anything_else(web, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    body = fb_body(fb_change(message="x" * 2000))
    response = post_meta(web, body, signature=None)  # not even the signature is looked at
    assert (response.status_code, response.json()) == (400, {"error": "body too large: the limit is 1000 bytes"})
    assert WebhookDelivery.objects.count() == 0


def test_default_limit_is_one_megabyte(web):
    body = fb_body(fb_change(message="x" * (1024 * 1024)))
    assert post_meta(web, body).status_code == 400


def test_empty_body_is_400(web):
    assert post_meta(web, b"").json() == {"error": "empty body"}


def test_escaped_nul_and_lone_surrogates_are_stored_and_the_text_made_storable(web):
    channel = ChannelFactory(platform="facebook", account_id=PAGE)
    body = fb_body(fb_change(comment_id="1_9")).replace(b"Hello there", b"Hel\\u0000lo \\ud800 there")
    assert post_meta(web, body).status_code == 200
    process_all()
    comment = Comment.objects.get(channel=channel)
    assert (comment.text, comment.text_altered) == ("Hel\ufffdlo \ufffd there", True)
    assert bytes(WebhookDelivery.objects.get().body) == body  # the original bytes are kept


def test_huge_unicode_comment_under_the_limit_is_stored_whole(web):
    ChannelFactory(platform="facebook", account_id=PAGE)
    text = "💙🏥" * 100_000  # 800 KB of 4-byte characters
    body = fb_body(fb_change(comment_id="1_10", message=text), ensure_ascii=False)
    assert len(body) < 1024 * 1024
    assert post_meta(web, body).status_code == 200
    process_all()
    assert Comment.objects.get().text == text


def test_duplicate_delivery_changes_nothing(web, broker, django_capture_on_commit_callbacks):
    ChannelFactory(platform="facebook", account_id=PAGE)
    body = fb_body(fb_change())
    with django_capture_on_commit_callbacks(execute=True):
        first = post_meta(web, body)
    with django_capture_on_commit_callbacks(execute=True) as second_callbacks:
        second = post_meta(web, body)
    assert (first.json()["status"], second.json()["status"]) == ("stored", "duplicate")
    assert second.json()["id"] == first.json()["id"]
    assert second_callbacks == []
    assert WebhookDelivery.objects.count() == 1 and len(broker.messages()) == 1


# --- processing ----------------------------------------------------------------------------
def test_processing_upserts_comments_and_is_idempotent(web, django_capture_on_commit_callbacks, broker):
    channel = ChannelFactory(platform="facebook", account_id=PAGE)
    post_meta(web, fb_body(fb_change("1_100", "When does the clinic open?"), fb_change("1_101", "Monday", parent="1_100")))
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhookdelivery_process_task(delivery_id=delivery.pk)
    tasks.webhookdelivery_process_task(delivery_id=delivery.pk)  # twice: nothing changes
    comments = {c.external_id: c for c in Comment.objects.filter(channel=channel)}
    assert set(comments) == {"1_100", "1_101"}
    assert comments["1_101"].parent_id == comments["1_100"].pk
    assert comments["1_100"].thread_external_id == f"{PAGE}_1"
    # Judged in the same task, right after the delivery's commit: no classify doorbell, only
    # the model reader's (its own queue) for the new verdicts.
    assert broker.messages() == []
    assert broker.messages("reader") == [("moderation.tasks.comments_read_task", {})]
    assert Verdict.objects.filter(comment__channel=channel, is_current=True).count() == 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error, delivery.processed_at is not None) == ("processed", "", True)


def test_our_own_page_replies_are_marked_own_and_not_classified(web, django_capture_on_commit_callbacks):
    ChannelFactory(platform="facebook", account_id=PAGE)
    post_meta(web, fb_body(fb_change("1_200", "Thanks for your feedback", author=PAGE)))
    with django_capture_on_commit_callbacks() as callbacks:
        process_all()
    assert Comment.objects.get().is_own is True
    assert callbacks == []


def test_an_edit_reclassifies_the_new_text(web, django_capture_on_commit_callbacks):
    ChannelFactory(platform="facebook", account_id=PAGE)
    post_meta(web, fb_body(fb_change("1_300", "Great to see the new clinic open in Grantham")))
    process_all()  # a new comment is judged by the processing task itself
    first = Verdict.objects.get(is_current=True)
    assert first.action == "allow"
    post_meta(web, fb_body(fb_change("1_300", "You are all useless c*nts", verb="edited")))
    with django_capture_on_commit_callbacks() as callbacks:
        process_all()
    assert len(callbacks) == 1
    comment = Comment.objects.get()
    tasks.comment_classify_task(comment_id=comment.pk)
    current = Verdict.objects.get(is_current=True)
    assert (comment.revision, comment.text) == (2, "You are all useless c*nts")
    assert (current.comment_revision, current.action != "allow") == (2, True)


def test_an_upstream_removal_is_recorded_and_the_comment_kept(web):
    ChannelFactory(platform="facebook", account_id=PAGE)
    post_meta(web, fb_body(fb_change("1_400", "evidence")))
    process_all()
    post_meta(web, fb_body(fb_change("1_400", verb="remove")))
    process_all()
    comment = Comment.objects.get()
    assert comment.deleted_upstream_at is not None and comment.text == "evidence"
    assert AuditEvent.objects.filter(verb="comment.deleted_upstream", comment=comment).count() == 1


def test_upstream_hide_and_unhide_are_recorded_once_each(web, client_for, officer):
    from tests.factories import QueueItemFactory

    ChannelFactory(platform="facebook", account_id=PAGE)
    post_meta(web, fb_body(fb_change("1_500", "Hid this myself in Facebook")))
    process_all()
    comment = Comment.objects.get()
    assert comment_hidden_upstream(comment.pk) is None  # nobody has said
    post_meta(web, fb_body(fb_change("1_500", verb="hide")))
    process_all()
    post_meta(web, fb_body(fb_change("1_500", verb="hide"), fb_change("1_999", verb="hide")))  # again; unknown
    process_all()
    comment.refresh_from_db()
    assert comment_hidden_upstream(comment.pk) is True and comment.text == "Hid this myself in Facebook"
    assert list(AuditEvent.objects.filter(comment=comment).exclude(verb="comment.classified")
                .values_list("verb", "system_actor", "data")) == [
        ("comment.hidden_upstream", "platform:facebook", {"requested_by_us": False})]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"processed"}

    # The comment page says so and offers Unhide, though no decision of ours hid it.
    QueueItemFactory(comment=comment, verdict=Verdict.objects.get(comment=comment, is_current=True))
    body = client_for(officer).get(f"/comments/{comment.pk}/").content.decode()
    assert 'id="hidden-upstream"' in body and 'name="kind" value="unhide"' in body

    post_meta(web, fb_body(fb_change("1_500", verb="unhide")))
    process_all()
    assert comment_hidden_upstream(comment.pk) is False
    assert AuditEvent.objects.filter(comment=comment, verb="comment.unhidden_upstream").count() == 1


def test_the_echo_of_our_own_hide_changes_nothing(sim, web):
    from moderation.decisions.actions import platform_action_apply, platform_action_request
    from tests.factories import CommentFactory
    from tests.moderation.platforms.fixtures import ACCOUNTS, make_channel

    channel = make_channel("facebook")
    upstream = sim.world.add_comment("facebook", ACCOUNTS["facebook"], "rude words")
    comment = CommentFactory(channel=channel, platform="facebook", external_id=upstream.id)
    platform_action_apply(action_id=platform_action_request(comment=comment, kind="hide", decision=None).pk)
    assert comment_hidden_upstream(comment.pk) is True and upstream.hidden is True
    post_meta(web, fb_body(fb_change(upstream.id, verb="hide")))
    process_all()
    assert not AuditEvent.objects.filter(verb="comment.hidden_upstream").exists()
    # Hidden again on Facebook after someone there unhid it: recorded, not ours.
    post_meta(web, fb_body(fb_change(upstream.id, verb="unhide")))
    process_all()
    assert comment_hidden_upstream(comment.pk) is False
    assert AuditEvent.objects.get(verb="comment.unhidden_upstream").data == {"requested_by_us": False}


def test_instagram_delivery_in_both_shapes(web):
    channel = ChannelFactory(platform="instagram", account_id=IG)
    wrapped = {"object": "instagram", "entry": [{"id": IG, "time": 1773480068, "changes": [{"field": "comments", "value": {
        "id": "179001", "text": "Is the blue one back?", "from": {"id": "210572", "username": "coastal.runner"},
        "media": {"id": "17955", "media_product_type": "FEED"}}}]}]}
    inline = {"object": "instagram", "entry": [{"id": IG, "time": 1773480069, "field": "comments", "value": {
        "id": "179002", "text": "reply", "parent_id": "179001", "from": {"id": IG, "username": "nhslincsicb"},
        "media": {"id": "17955"}}}]}
    for payload in (wrapped, inline):
        assert post_meta(web, json.dumps(payload).encode()).status_code == 200
    process_all()
    rows = {c.external_id: (c.text, c.author.handle if c.author else "", c.is_own, c.thread_external_id)
            for c in Comment.objects.filter(channel=channel)}
    assert rows == {"179001": ("Is the blue one back?", "coastal.runner", False, "17955"),
                    "179002": ("reply", "nhslincsicb", True, "17955")}


def test_x_account_activity_creates_and_deletes(web):
    channel = ChannelFactory(platform="x", account_id=XUSER)
    create = {"for_user_id": XUSER, "tweet_create_events": [
        {"created_at": "Sat Mar 14 09:21:07 +0000 2026", "id_str": "1900019876543210987",
         "text": "@NHSLincsICB my referral never arrived", "in_reply_to_status_id_str": "1900012345678901234",
         "user": {"id_str": "1465512345678901248", "screen_name": "samk_77", "name": "Sam K"}},
        {"created_at": "Sat Mar 14 09:22:07 +0000 2026", "id_str": "1900019876543210999", "text": "Sorry to hear that",
         "in_reply_to_status_id_str": "1900019876543210987", "user": {"id_str": XUSER, "screen_name": "NHSLincsICB"}}]}
    assert post_x(web, json.dumps(create).encode()).status_code == 200
    process_all()
    comment = Comment.objects.get(external_id="1900019876543210987")
    assert (comment.channel_id, comment.author.handle, comment.is_own) == (channel.pk, "samk_77", False)
    assert comment.created_upstream.isoformat() == "2026-03-14T09:21:07+00:00"
    assert comment.permalink == "https://x.com/samk_77/status/1900019876543210987"
    assert Comment.objects.get(external_id="1900019876543210999").is_own is True
    delete = {"for_user_id": XUSER, "tweet_delete_events": [{"status": {"id": "1900019876543210987", "user_id": "1"},
                                                             "timestamp_ms": "1773480100000"}]}
    assert post_x(web, json.dumps(delete).encode()).status_code == 200
    process_all()
    comment.refresh_from_db()
    assert comment.deleted_upstream_at is not None


def test_events_for_accounts_we_do_not_moderate_are_skipped_and_noted(web):
    post_meta(web, fb_body(fb_change()))
    process_all()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.error) == ("processed", "1 event(s) for accounts that are not connected channels")
    assert Comment.objects.count() == 0


def test_one_doorbell_drains_every_pending_delivery_and_later_doorbells_do_nothing(web):
    channel = ChannelFactory(platform="facebook", account_id=PAGE)
    for n in range(3):
        post_meta(web, fb_body(fb_change(f"1_{500 + n}", f"comment {n}")))
    first, *rest = WebhookDelivery.objects.order_by("pk")
    tasks.webhookdelivery_process_task(delivery_id=first.pk)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"processed"}
    assert Verdict.objects.filter(comment__channel=channel, is_current=True).count() == 3
    for delivery in rest:
        assert tasks.webhookdelivery_process_task(delivery_id=delivery.pk) is None
    assert Comment.objects.count() == 3


def test_a_doorbell_whose_delivery_was_drained_still_drains_what_arrived_since(web):
    # Otherwise the newest delivery waits behind every no-op doorbell queued before its own.
    channel = ChannelFactory(platform="facebook", account_id=PAGE)
    post_meta(web, fb_body(fb_change("1_510", "comment a")))
    first = WebhookDelivery.objects.get()
    tasks.webhookdelivery_process_task(delivery_id=first.pk)
    post_meta(web, fb_body(fb_change("1_511", "comment b")))
    assert tasks.webhookdelivery_process_task(delivery_id=first.pk) is None  # its own: done already
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"processed"}
    assert Verdict.objects.filter(comment__channel=channel, is_current=True).count() == 2


def test_a_delivery_that_cannot_be_processed_fails_alone(web):
    ChannelFactory(platform="facebook", account_id=PAGE)
    post_meta(web, fb_body(fb_change("1_600", "fine")))
    # Stored before validation existed, say: an "entry" that is not a list of objects.
    bad = WebhookDelivery.objects.create(platform="facebook", body_sha256="f" * 64,
                                         body=b'{"object": "page", "entry": [1]}')
    tasks.webhookdelivery_process_task(delivery_id=bad.pk)
    bad.refresh_from_db()
    assert (bad.status, bad.error) == ("failed", "unreadable delivery: AttributeError")
    assert WebhookDelivery.objects.exclude(pk=bad.pk).get().status == "processed"
    assert Comment.objects.get().text == "fine"


# --- an older event never moves a comment backwards (issue #11) ----------------------------
def _drain(broker, seen: int, capture) -> int:
    """Run every task rung since ``seen`` messages, as a worker would, until none is left;
    returns how many messages the broker now holds."""
    from celery import current_app

    while True:
        messages = broker.messages()
        if len(messages) == seen:
            return seen
        for name, kwargs in messages[seen:]:
            with capture(execute=True):
                current_app.tasks[name](**kwargs)
        seen = len(messages)


def _post_processed(web, body: bytes, broker, seen: int, capture) -> int:
    with capture(execute=True):
        assert post_meta(web, body).status_code == 200
    return _drain(broker, seen, capture)


def test_a_late_repeat_of_the_add_does_not_roll_back_an_edit(sim, web, broker, django_capture_on_commit_callbacks):
    from moderation.models import Decision, PlatformAction
    from tests.moderation.platforms.fixtures import make_channel

    capture = django_capture_on_commit_callbacks
    make_channel("facebook")
    upstream = sim.world.add_comment("facebook", PAGE, "You are useless f*cking idiots", at=1773480067)

    def change(verb, message):
        return {"field": "feed", "value": {
            "item": "comment", "verb": verb, "comment_id": upstream.id, "post_id": upstream.thread_id,
            "parent_id": upstream.thread_id, "from": {"id": upstream.author_id, "name": "Dana Ruiz"},
            "message": message, "created_time": 1773480067}}

    def body(time, *changes):
        return json.dumps({"object": "page", "entry": [{"id": PAGE, "time": time, "changes": list(changes)}]}).encode()

    add = change("add", "You are useless f*cking idiots")
    seen = _post_processed(web, body(1773480068, add), broker, 0, capture)
    comment = Comment.objects.get()
    assert (comment.revision, Verdict.objects.get(is_current=True).action) == (1, "hide")
    assert PlatformAction.objects.get().status == "applied" and upstream.hidden is True
    hides = [r for r in sim.world.requests if r[1] == "POST" and upstream.id in r[2]]
    assert len(hides) == 1

    seen = _post_processed(web, body(1773480300, change("edited", "Thanks for your help today")), broker, seen, capture)
    comment.refresh_from_db()
    assert (comment.revision, comment.text) == (2, "Thanks for your help today")
    assert Verdict.objects.get(is_current=True).action == "allow"

    # Meta delivers the first "add" again (a retry, or late): only entry[].time differs, so
    # its bytes are new and it is stored, but it describes the comment as first posted.
    rung_before = len(broker.messages())
    seen = _post_processed(web, body(1773480400, add), broker, seen, capture)
    comment.refresh_from_db()
    assert (comment.revision, comment.text) == (2, "Thanks for your help today")
    current = Verdict.objects.get(is_current=True)
    assert (current.comment_revision, current.action) == (2, "allow")
    assert Verdict.objects.filter(comment=comment).count() == 2
    assert Decision.objects.filter(automatic=True).count() == 1
    assert PlatformAction.objects.count() == 1
    assert len(broker.messages()) == rung_before + 1  # the delivery's own doorbell, nothing after it
    assert [r for r in sim.world.requests if r[1] == "POST" and upstream.id in r[2]] == hides
    # Kept and recorded: the delivery is stored and processed, the audit trail says why
    # nothing changed.
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["processed"] * 3
    stale = AuditEvent.objects.get(comment=comment, verb="comment.stale_copy_ignored")
    assert stale.system_actor == "platform:facebook"
    assert stale.data == {"revision": 2, "copy_version_at": "2026-03-14T09:21:07+00:00",
                          "stored_version_at": "2026-03-14T09:25:00+00:00"}


def test_an_add_and_its_edit_drained_together_keep_the_edit_whatever_their_order(web):
    channel = ChannelFactory(platform="facebook", account_id=PAGE)
    edited = fb_change("1_700", "Thanks for your help today", verb="edited")
    add = fb_change("1_700", "You are useless f*cking idiots")
    for time, change in ((1773480300, edited), (1773480400, add)):  # the edit arrives first
        body = {"object": "page", "entry": [{"id": PAGE, "time": time, "changes": [change]}]}
        assert post_meta(web, json.dumps(body).encode()).status_code == 200
    process_all()  # one doorbell drains both
    comment = Comment.objects.get(channel=channel)
    assert (comment.text, comment.revision) == ("Thanks for your help today", 1)
    assert Verdict.objects.get(comment=comment, is_current=True).action == "allow"
