"""channel_connect stores the token encrypted, never prints it, and reactivates a channel."""

import pytest
from django.core.management import call_command

from moderation.crypto import decrypt_credentials
from audit.models import AuditEvent
from moderation.models import Channel
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_connect_encrypts_the_token_and_reactivates(monkeypatch, capsys):
    ChannelFactory(platform="x", account_id="98765432", state="needs_reauth", state_reason="x: expired", enabled=True)
    monkeypatch.setenv("CHANNEL_ACCESS_TOKEN", "tok-SECRET-123456")
    call_command("channel_connect", "x", "98765432", "@NHSLincsICB (X)")
    channel = Channel.objects.get()
    assert (channel.state, channel.state_reason, channel.next_poll_at, channel.name) == ("active", "", None, "@NHSLincsICB (X)")
    assert b"tok-SECRET-123456" not in bytes(channel.credentials_encrypted)
    assert decrypt_credentials(channel.credentials_encrypted) == {"access_token": "tok-SECRET-123456"}
    out = capsys.readouterr()
    assert "tok-SECRET-123456" not in out.out + out.err
    assert "tok-SECRET-123456" not in str(AuditEvent.objects.get(verb="channel.connected").data)


def test_connect_stores_a_refresh_token_and_expiry_encrypted(monkeypatch, capsys):
    import time

    monkeypatch.setenv("CHANNEL_ACCESS_TOKEN", "tok-SECRET-123456")
    monkeypatch.setenv("CHANNEL_REFRESH_TOKEN", "refresh-SECRET-654321")
    before = int(time.time())
    call_command("channel_connect", "youtube", "UCdemo", "YouTube", "--expires-in", "3600")
    channel = Channel.objects.get()
    stored = decrypt_credentials(channel.credentials_encrypted)
    assert (stored["access_token"], stored["refresh_token"]) == ("tok-SECRET-123456", "refresh-SECRET-654321")
    assert before <= stored["issued_at"] <= int(time.time()) and stored["expires_at"] == stored["issued_at"] + 3600
    assert b"refresh-SECRET-654321" not in bytes(channel.credentials_encrypted)
    out = capsys.readouterr()
    assert "refresh-SECRET-654321" not in out.out + out.err
    assert AuditEvent.objects.get(verb="channel.connected").data == {
        "platform": "youtube", "account_id": "UCdemo", "created": True, "refreshable": True, "expires_in": 3600}
