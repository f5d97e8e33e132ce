"""Shared fixtures for the platform tests: the simulator over real HTTP, and channels on it.

Import the fixtures into a test module: ``from tests.moderation.platforms.fixtures import sim``.
"""

from __future__ import annotations

import pytest

from moderation.crypto import encrypt_credentials
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
    for platform, account_id in ACCOUNTS.items():
        server.world.add_account(platform, account_id, TOKENS[platform])
        server.world.new_thread(platform, account_id)
    yield server
    server.stop()


def make_channel(platform: str, **kwargs):
    channel = ChannelFactory(platform=platform, account_id=ACCOUNTS[platform], **kwargs)
    channel.credentials_encrypted = encrypt_credentials({"access_token": TOKENS[platform]})
    channel.save(update_fields=["credentials_encrypted"])
    return channel


def client(platform: str):
    from moderation.platforms import client_class

    return client_class(platform)(account_id=ACCOUNTS[platform], credentials={"access_token": TOKENS[platform]})
