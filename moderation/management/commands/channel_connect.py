"""Connect (or reconnect) a platform account: store its token encrypted and start polling.

    python manage.py channel_connect facebook 104857600123456 "NHS Lincolnshire ICB"

The access token is read from the CHANNEL_ACCESS_TOKEN environment variable or typed at a
hidden prompt, never from the command line (which shell history and `ps` would keep). A
channel marked "needs re-authorisation" becomes active again.

Tokens that expire: CHANNEL_REFRESH_TOKEN (YouTube, X with offline.access) lets the console
refresh the access token itself; --expires-in SECONDS records when the access token expires
(for an Instagram Login long-lived token, 5184000: it is then renewed daily).
"""

from __future__ import annotations

import getpass
import os
import time

from django.core.management.base import BaseCommand, CommandError

from moderation.crypto import encrypt_credentials
from moderation.models import Channel, Platform
from audit.services import audit_record


class Command(BaseCommand):
    help = "Store a platform account's access token (encrypted) and enable polling."

    def add_arguments(self, parser):
        parser.add_argument("platform", choices=[p.value for p in Platform])
        parser.add_argument("account_id", help="Page id, Instagram user id, YouTube channel id or X user id")
        parser.add_argument("name")
        parser.add_argument("--poll-interval", type=int, default=60, help="seconds between polls")
        parser.add_argument("--expires-in", type=int, default=None,
                            help="seconds until the access token expires (as the platform said when issuing it)")

    def handle(self, *args, platform, account_id, name, poll_interval, expires_in=None, **options):
        token = os.environ.get("CHANNEL_ACCESS_TOKEN") or getpass.getpass("Access token (hidden): ")
        if not token.strip():
            raise CommandError("no access token given")
        credentials = {"access_token": token.strip()}
        refresh = os.environ.get("CHANNEL_REFRESH_TOKEN", "").strip()
        if refresh:
            credentials["refresh_token"] = refresh
        if expires_in:
            now = int(time.time())
            credentials.update(issued_at=now, expires_at=now + expires_in)
        channel, created = Channel.objects.update_or_create(
            platform=platform, account_id=account_id,
            defaults={"name": name, "poll_interval_seconds": poll_interval, "enabled": True,
                      "state": Channel.State.ACTIVE, "state_reason": "", "backoff_until": None, "next_poll_at": None,
                      "credentials_encrypted": encrypt_credentials(credentials)},
        )
        audit_record(verb="channel.connected", system_actor="manage.py", target=f"channel:{channel.pk}",
                     data={"platform": platform, "account_id": account_id, "created": created,
                           "refreshable": bool(refresh), "expires_in": expires_in})
        self.stdout.write(f"{'Connected' if created else 'Reconnected'} {channel} (channel {channel.pk}); polling starts within a minute.")
