"""Shared fixtures for the platform tests: the simulator over real HTTP, channels on it, and
the helpers the Facebook and Instagram polling tests share.

Import the fixtures into a test module: ``from tests.moderation.platforms.fixtures import sim``.
"""

from __future__ import annotations

import pytest

from moderation.crypto import encrypt_credentials
from moderation.platforms.base import MAX_PAGES_PER_POLL
from moderation.simulator import SimulatorServer
from tests.factories import ChannelFactory

ACCOUNTS = {
    "facebook": "104857600123456",
    "instagram": "17841400000000001",
    "youtube": "UCdemoLincsICB000000001",
    "x": "98765432",
}
TOKENS = {p: f"secret-{p}-token-7f3a9c" for p in ACCOUNTS}


@pytest.fixture
def sim(settings):
    server = SimulatorServer(port=0).start()
    settings.FACEBOOK_API_BASE = server.url("facebook")
    settings.INSTAGRAM_API_BASE = server.url("instagram")
    settings.YOUTUBE_API_BASE = server.url("youtube")
    settings.X_API_BASE = server.url("x")
    settings.GOOGLE_TOKEN_URL = f"{server.base}/google/token"
    settings.X_TOKEN_URL = f"{server.base}/x/2/oauth2/token"
    settings.INSTAGRAM_REFRESH_URL = f"{server.base}/instagram/refresh_access_token"
    server.world.oauth_clients = {"youtube": (settings.GOOGLE_CLIENT_ID, settings.GOOGLE_CLIENT_SECRET),
                                  "x": (settings.X_CLIENT_ID, settings.X_CLIENT_SECRET)}
    for platform, account_id in ACCOUNTS.items():
        server.world.add_account(platform, account_id, TOKENS[platform])
        server.world.new_thread(platform, account_id)
    yield server
    server.stop()


def make_channel(platform: str, *, credentials: dict | None = None, **kwargs):
    channel = ChannelFactory(platform=platform, account_id=ACCOUNTS[platform], **kwargs)
    channel.credentials_encrypted = encrypt_credentials({"access_token": TOKENS[platform], **(credentials or {})})
    channel.save(update_fields=["credentials_encrypted"])
    return channel


def client(platform: str):
    from moderation.platforms import client_class

    return client_class(platform)(account_id=ACCOUNTS[platform], credentials={"access_token": TOKENS[platform]})


def client_class_for(platform: str, credentials: dict):
    """A client with these credentials and no token store (refreshes stay in memory)."""
    from moderation.platforms import client_class

    return client_class(platform)(account_id=ACCOUNTS[platform], credentials=credentials)


def new_threads(sim, platform: str, n: int) -> list[str]:
    """Adds ``n`` posts (or media) to the fixture's; returns all the account's, newest first
    (the order the feed and /media list them)."""
    world = sim.world
    for _ in range(n):
        world.new_thread(platform, ACCOUNTS[platform])
    return list(reversed(world.account(platform, ACCOUNTS[platform]).threads))


def poll(platform_client, cursor: dict, world):
    """One poll: its result, and the requests it made (never more than the budget)."""
    before = len(world.requests)
    result = platform_client.fetch_since(cursor)
    made = world.requests[before:]
    assert len(made) <= MAX_PAGES_PER_POLL
    return result, made


def comment_ids(result) -> list[str]:
    return [c.external_id for c in result.comments]
