"""OAuth refresh (README §4.4, §5.5, §3.1) over real HTTP against the simulator's token
endpoints: an expired token is refreshed, the call retried once and the new tokens stored
encrypted; X's rotating refresh token is spent once even with two workers refreshing at
the same time; a refused refresh needs a person and is not retried; no token is ever
written to a log, an error, the audit trail or a page."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import logging
import threading
import time
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from moderation.decisions.actions import platform_action_apply, platform_action_request
from moderation.crypto import decrypt_credentials, encrypt_credentials
from moderation.ingest.polling import channel_poll, channels_poll_due
from audit.models import AuditEvent
from moderation.models import Channel
from moderation.platforms import client_for
from moderation.platforms.base import AuthExpired
from tests.factories import CommentFactory
from tests.moderation.platforms import fixtures
from tests.moderation.platforms.fixtures import ACCOUNTS, TOKENS, client, make_channel

sim = fixtures.sim  # the simulator fixture, used by name below

REFRESH = {"youtube": "1//sim-google-refresh-9d2e", "x": "sim-x-refresh-0-4b7c"}


def _calls(sim, platform):
    return [(m, p) for (pl, m, p) in sim.world.requests if pl == platform]


def _expired_channel(sim, platform, **kwargs):
    """A channel whose access token's hour is up, with a refresh token that still works."""
    sim.world.set_tokens(platform, ACCOUNTS[platform], access=TOKENS[platform], refresh=REFRESH[platform])
    sim.world.expire_token(platform, ACCOUNTS[platform])
    return make_channel(platform, credentials={"refresh_token": REFRESH[platform]}, **kwargs)


def _credentials(channel) -> dict:
    channel.refresh_from_db()
    return decrypt_credentials(channel.credentials_encrypted)


def _assert_no_secret_anywhere(secrets, *, channel, caplog, pages=()):
    secrets = [s for s in secrets if s]
    channel.refresh_from_db()
    trail = json.dumps(list(AuditEvent.objects.values("verb", "target", "data")))
    for secret in secrets:
        assert secret not in channel.state_reason
        assert secret.encode() not in bytes(channel.credentials_encrypted)  # stored encrypted
        assert secret not in trail
        assert all(secret not in r.getMessage() for r in caplog.records)
        assert all(secret not in page for page in pages)


@pytest.mark.django_db
@pytest.mark.parametrize("platform", ["youtube", "x"])
def test_expired_token_is_refreshed_the_poll_succeeds_and_new_tokens_are_stored(sim, platform, settings, caplog,
                                                                               client_for, duty_manager):
    caplog.set_level(logging.DEBUG)
    channel = _expired_channel(sim, platform)
    sim.world.add_comment(platform, ACCOUNTS[platform], "When does the walk-in centre open?")
    before = int(time.time())

    outcome = channel_poll(channel_id=channel.pk)

    assert (outcome.status, outcome.comments) == ("polled", 1)
    account = sim.world.account(platform, ACCOUNTS[platform])
    listing = ("GET", "commentThreads") if platform == "youtube" else ("GET", f"users/{ACCOUNTS['x']}/mentions")
    # 401, one refresh, the same call again.
    assert _calls(sim, platform) == [listing, ("POST", "oauth2/token"), listing]
    stored = _credentials(channel)
    lifetime = 3600 if platform == "youtube" else 7200
    assert stored["access_token"] == account.token != TOKENS[platform]
    assert before + lifetime <= stored["expires_at"] <= time.time() + lifetime
    if platform == "x":  # rotated: the old one is spent, the new one stored
        assert stored["refresh_token"] == account.refresh_token != REFRESH["x"]
        assert REFRESH["x"] in account.spent_refresh_tokens
    else:  # Google does not rotate
        assert stored["refresh_token"] == REFRESH["youtube"]
    assert channel.state == "active" and channel.state_reason == ""
    audit = AuditEvent.objects.get(verb="channel.token_refreshed")
    assert (audit.system_actor, audit.target) == (f"platform:{platform}", f"channel:{channel.pk}")
    assert audit.data == {"expires_at": dt.datetime.fromtimestamp(stored["expires_at"], tz=dt.UTC).isoformat(),
                          "refresh_token_rotated": platform == "x"}

    # The next poll uses the stored token: no refresh.
    channel_poll(channel_id=channel.pk)
    assert (account.refreshes, _calls(sim, platform)[3:]) == (1, [listing])

    page = client_for(duty_manager).get(reverse("moderation:audit")).content.decode()
    assert "token_refreshed" in page
    _assert_no_secret_anywhere(
        [TOKENS[platform], REFRESH[platform], stored["access_token"], stored["refresh_token"],
         settings.GOOGLE_CLIENT_SECRET, settings.X_CLIENT_SECRET],
        channel=channel, caplog=caplog, pages=[page])


@pytest.mark.django_db
def test_a_stored_expiry_in_the_past_refreshes_before_calling(sim):
    channel = _expired_channel(sim, "youtube")
    Channel.objects.filter(pk=channel.pk).update(credentials_encrypted=encrypt_credentials(
        {"access_token": TOKENS["youtube"], "refresh_token": REFRESH["youtube"], "expires_at": int(time.time()) - 5}))
    assert channel_poll(channel_id=channel.pk).status == "polled"
    # No call wasted on a token known to be expired.
    assert _calls(sim, "youtube") == [("POST", "oauth2/token"), ("GET", "commentThreads")]


@pytest.mark.django_db
@pytest.mark.parametrize("platform,error", [
    ("youtube", "youtube: token refresh refused (invalid_grant): Token has been expired or revoked."),
    ("x", "x: token refresh refused (invalid_request): Value passed for the token was invalid."),
])
def test_a_refused_refresh_needs_reauth_and_is_never_retried(sim, platform, error, caplog):
    caplog.set_level(logging.DEBUG)
    channel = _expired_channel(sim, platform)
    sim.world.revoke(platform, ACCOUNTS[platform])

    assert channel_poll(channel_id=channel.pk).status == "needs_reauth"

    channel.refresh_from_db()
    assert (channel.state, channel.state_reason, channel.next_poll_at) == ("needs_reauth", error, None)
    assert [p for _, p in _calls(sim, platform)].count("oauth2/token") == 1
    calls = len(_calls(sim, platform))
    far = timezone.now() + dt.timedelta(days=2)
    assert channels_poll_due(now=far) == []
    assert channel_poll(channel_id=channel.pk, now=far).status == "skipped"
    assert len(_calls(sim, platform)) == calls  # no loop against the token endpoint
    assert _credentials(channel) == {"access_token": TOKENS[platform], "refresh_token": REFRESH[platform]}  # unchanged
    assert AuditEvent.objects.filter(verb="channel.needs_reauth").count() == 1
    assert not AuditEvent.objects.filter(verb="channel.token_refreshed").exists()
    _assert_no_secret_anywhere([TOKENS[platform], REFRESH[platform]], channel=channel, caplog=caplog)


@pytest.mark.django_db
def test_a_new_token_that_is_refused_too_is_not_refreshed_again(sim):
    channel = _expired_channel(sim, "x")
    sim.world.set_fault("x", "expired")  # every API call says 401, whatever the token
    assert channel_poll(channel_id=channel.pk).status == "needs_reauth"
    listing = ("GET", f"users/{ACCOUNTS['x']}/mentions")
    assert _calls(sim, "x") == [listing, ("POST", "oauth2/token"), listing]
    # The refresh itself succeeded and its (unspent) tokens are kept for the reconnection.
    assert _credentials(channel)["refresh_token"] == sim.world.account("x", ACCOUNTS["x"]).refresh_token


@pytest.mark.django_db
def test_an_action_refreshes_the_token_and_is_applied(sim):
    channel = _expired_channel(sim, "youtube")
    upstream = sim.world.add_comment("youtube", ACCOUNTS["youtube"], "spam spam", author_id="UCspam")
    comment = CommentFactory(channel=channel, external_id=upstream.id, platform="youtube")
    action = platform_action_request(comment=comment, kind="hide", decision=None)
    platform_action_apply(action_id=action.pk)
    action.refresh_from_db()
    assert (action.status, upstream.moderation_status) == ("applied", "heldForReview")
    assert _credentials(channel)["access_token"] == sim.world.account("youtube", ACCOUNTS["youtube"]).token


@pytest.mark.django_db
def test_instagram_login_tokens_are_renewed_once_a_day_and_page_tokens_never(sim):
    issued = int(time.time()) - 25 * 3600
    channel = make_channel("instagram", credentials={"issued_at": issued, "expires_at": issued + 60 * 86400})
    before = int(time.time())
    assert channel_poll(channel_id=channel.pk).status == "polled"
    stored = _credentials(channel)
    account = sim.world.account("instagram", ACCOUNTS["instagram"])
    assert stored["access_token"] == account.token != TOKENS["instagram"]
    assert before <= stored["issued_at"] <= time.time()
    assert stored["expires_at"] == stored["issued_at"] + 60 * 86400
    assert _calls(sim, "instagram")[0] == ("GET", "oauth2/token")
    # Renewed a minute ago: the next poll does not renew again.
    channel_poll(channel_id=channel.pk)
    assert account.refreshes == 1



@pytest.mark.django_db
def test_instagram_page_tokens_have_no_expiry_and_are_never_renewed(sim):
    # Facebook Login: the Page token of the linked Page does not expire (README §1.4).
    channel = make_channel("instagram")
    channel_poll(channel_id=channel.pk)
    channel_poll(channel_id=channel.pk)
    assert ("GET", "oauth2/token") not in _calls(sim, "instagram")
    assert _credentials(channel) == {"access_token": TOKENS["instagram"]}


# -- the exact requests, over HTTP (pytest-httpserver) --------------------------------------
def test_google_refresh_sends_the_documented_form(httpserver, settings):
    settings.YOUTUBE_API_BASE = httpserver.url_for("/youtube/v3")
    settings.GOOGLE_TOKEN_URL = httpserver.url_for("/token")
    seen = []
    httpserver.expect_oneshot_request("/youtube/v3/commentThreads").respond_with_json(
        {"error": {"code": 401, "message": "Invalid Credentials", "errors": [{"reason": "authError"}]}}, status=401)

    def token(request):
        seen.append((request.method, request.headers.get("Authorization"), parse_qs(request.get_data(as_text=True))))
        from werkzeug import Response

        return Response(json.dumps({"access_token": "ya29.new", "expires_in": 3599, "token_type": "Bearer"}),
                        content_type="application/json")

    httpserver.expect_oneshot_request("/token", method="POST").respond_with_handler(token)
    httpserver.expect_oneshot_request("/youtube/v3/commentThreads", headers={"Authorization": "Bearer ya29.new"}
                                      ).respond_with_json({"items": []})
    yt = fixtures.client_class_for("youtube", {"access_token": "ya29.old", "refresh_token": "1//refresh"})
    assert yt.fetch_since({}).comments == []
    assert seen == [("POST", None, {"grant_type": ["refresh_token"], "refresh_token": ["1//refresh"],
                                    "client_id": [settings.GOOGLE_CLIENT_ID],
                                    "client_secret": [settings.GOOGLE_CLIENT_SECRET]})]
    assert yt.credentials["access_token"] == "ya29.new"
    httpserver.check_assertions()


def test_x_refresh_authenticates_the_client_with_basic_auth(httpserver, settings):
    settings.X_API_BASE = httpserver.url_for("/2")
    settings.X_TOKEN_URL = httpserver.url_for("/2/oauth2/token")
    basic = "Basic " + base64.b64encode(f"{settings.X_CLIENT_ID}:{settings.X_CLIENT_SECRET}".encode()).decode()
    httpserver.expect_oneshot_request(f"/2/users/{ACCOUNTS['x']}/mentions").respond_with_json(
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}, status=401)
    httpserver.expect_oneshot_request(
        "/2/oauth2/token", method="POST", headers={"Authorization": basic},
        data=f"grant_type=refresh_token&refresh_token=old-refresh&client_id={settings.X_CLIENT_ID}",
    ).respond_with_json({"token_type": "bearer", "expires_in": 7200, "access_token": "new-access",
                         "scope": "tweet.read offline.access", "refresh_token": "new-refresh"})
    httpserver.expect_oneshot_request(f"/2/users/{ACCOUNTS['x']}/mentions", headers={"Authorization": "Bearer new-access"}
                                      ).respond_with_json({"meta": {"result_count": 0}})
    x = fixtures.client_class_for("x", {"access_token": "old-access", "refresh_token": "old-refresh"})
    x.fetch_since({})
    assert (x.credentials["access_token"], x.credentials["refresh_token"]) == ("new-access", "new-refresh")
    httpserver.check_assertions()


def test_a_token_endpoint_outage_is_transient_and_names_no_secret(httpserver, settings):
    from moderation.platforms.base import TransientError

    settings.X_API_BASE = httpserver.url_for("/2")
    settings.X_TOKEN_URL = httpserver.url_for("/2/oauth2/token")
    httpserver.expect_request(f"/2/users/{ACCOUNTS['x']}/mentions").respond_with_json({"status": 401}, status=401)
    httpserver.expect_request("/2/oauth2/token").respond_with_data("old-refresh upstream error", status=503)
    x = fixtures.client_class_for("x", {"access_token": "old-access", "refresh_token": "old-refresh"})
    with pytest.raises(TransientError) as caught:
        x.fetch_since({})
    assert str(caught.value) == "x: token endpoint error (HTTP 503)"


def test_without_a_refresh_token_an_expired_token_is_auth_expired_at_once(httpserver, settings):
    settings.X_API_BASE = httpserver.url_for("/2")
    httpserver.expect_oneshot_request(f"/2/users/{ACCOUNTS['x']}/mentions").respond_with_json({"status": 401}, status=401)
    with pytest.raises(AuthExpired):
        client("x").fetch_since({})
    assert len(httpserver.log) == 1


# -- two workers, one rotating refresh token (real PostgreSQL row lock) ----------------------
def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_spend_the_x_refresh_token_once(sim):
    channel = _expired_channel(sim, "x")
    sim.world.add_comment("x", ACCOUNTS["x"], "@NHSLincsICB is the clinic open?")
    entered, release = threading.Event(), threading.Event()
    token_calls = []

    def hold_first_refresh(platform):
        token_calls.append(platform)
        if len(token_calls) == 1:
            entered.set()
            assert release.wait(timeout=30)

    sim.world.token_hook = hold_first_refresh
    # Both workers read the channel (and its expired token) before either refreshes.
    first, second = client_for(Channel.objects.get(pk=channel.pk)), client_for(Channel.objects.get(pk=channel.pk))
    results, errors = {}, []

    def work(name, worker):
        try:
            results[name] = [c.external_id for c in worker.fetch_since({}).comments]
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(exc))
        finally:
            connection.close()

    a = threading.Thread(target=work, args=("a", first))
    a.start()
    assert entered.wait(timeout=30)  # A holds the row lock and is at the token endpoint
    b = threading.Thread(target=work, args=("b", second))
    b.start()
    deadline = time.monotonic() + 30
    while _lock_waiters() < 1:  # B got its 401 and now waits for A's row lock
        assert time.monotonic() < deadline, "the second refresher never waited for the lock"
        time.sleep(0.01)
    release.set()
    a.join(timeout=30)
    b.join(timeout=30)

    account = sim.world.account("x", ACCOUNTS["x"])
    assert errors == []
    assert results["a"] == results["b"] and len(results["a"]) == 1
    assert (token_calls, account.refreshes, account.spent_refresh_tokens) == (["x"], 1, {REFRESH["x"]})
    stored = _credentials(channel)
    assert (stored["access_token"], stored["refresh_token"]) == (account.token, account.refresh_token)
    # B used the token A stored, with no refresh of its own.
    assert second.credentials["access_token"] == account.token
    assert AuditEvent.objects.filter(verb="channel.token_refreshed").count() == 1


@pytest.mark.django_db
def test_the_demo_refreshes_its_expiring_youtube_and_x_tokens(settings):
    """./dev run: the simulator's demo tokens expire (--token-lifetime) and seed_demo's
    refresh tokens renew them, so the demo shows refreshes rather than needs_reauth."""
    from django.core.management import call_command

    from moderation.simulator import SimulatorServer, World

    world = World(seed=1)
    world.seed_demo(token_lifetime=900)
    server = SimulatorServer(port=0, world=world).start()
    try:
        for platform, name in (("youtube", "YOUTUBE"), ("x", "X")):
            setattr(settings, f"{name}_API_BASE", server.url(platform))
        settings.GOOGLE_TOKEN_URL = f"{server.base}/google/token"
        settings.X_TOKEN_URL = f"{server.base}/x/2/oauth2/token"
        call_command("seed_demo", "--no-comments", stdout=io.StringIO())
        for platform in ("youtube", "x"):
            channel = Channel.objects.get(platform=platform)
            world.expire_token(platform, channel.account_id)
            assert channel_poll(channel_id=channel.pk).status == "polled"
            assert world.account(platform, channel.account_id).refreshes == 1
            assert _credentials(channel)["access_token"] == world.account(platform, channel.account_id).token
    finally:
        server.stop()


@pytest.mark.django_db
def test_a_wrong_client_secret_needs_reauth_naming_the_cause_not_the_secret(sim, settings):
    settings.GOOGLE_CLIENT_SECRET = "wrong-google-secret-31f9"
    channel = _expired_channel(sim, "youtube")
    assert channel_poll(channel_id=channel.pk).status == "needs_reauth"
    channel.refresh_from_db()
    assert channel.state_reason == "youtube: token refresh refused (invalid_client): The OAuth client was not found."


@pytest.mark.django_db
def test_an_action_whose_refresh_is_refused_fails_and_the_channel_needs_reauth(sim):
    channel = _expired_channel(sim, "x")
    sim.world.revoke("x", ACCOUNTS["x"])
    upstream = sim.world.add_comment("x", ACCOUNTS["x"], "abuse")
    comment = CommentFactory(channel=channel, external_id=upstream.id, platform="x")
    action = platform_action_request(comment=comment, kind="hide", decision=None)
    platform_action_apply(action_id=action.pk)
    action.refresh_from_db()
    channel.refresh_from_db()
    reason = "x: token refresh refused (invalid_request): Value passed for the token was invalid."
    assert (action.status, action.last_error, upstream.hidden) == ("failed", reason, False)
    assert (channel.state, channel.state_reason) == ("needs_reauth", reason)


def test_the_simulators_control_api_sets_expires_and_revokes_tokens(sim):
    import requests

    account = sim.world.account("x", ACCOUNTS["x"])
    base = f"{sim.base}/_sim/tokens"
    assert requests.post(base, json={"platform": "x", "account_id": ACCOUNTS["x"], "access_token": "a1",
                                     "refresh_token": "r1", "expires_in": 60}, timeout=5).status_code == 201
    assert (account.token, account.refresh_token, sim.world.token_expired(account)) == ("a1", "r1", False)
    requests.post(f"{base}/expire", json={"platform": "x", "account_id": ACCOUNTS["x"]}, timeout=5)
    assert sim.world.token_expired(account) is True
    requests.post(f"{base}/revoke", json={"platform": "x", "account_id": ACCOUNTS["x"]}, timeout=5)
    assert (account.refresh_token, account.spent_refresh_tokens) == ("", {"r1"})
