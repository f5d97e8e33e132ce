"""A channel's credentials over time: refreshed OAuth tokens, stored, and the channel that
needs a person to re-authorise it. The one place a platform client's new tokens reach the
database (base.py decides when to refresh; this decides who may).

X refresh tokens are single-use and rotate (README §5.5): if two workers (a poll and an
action, or two polls) both sent the same refresh token, the second would be refused and the
chain broken. So a refresh happens inside a transaction holding the channel's row lock:
the first worker refreshes and stores the new pair before it commits; the next, once it has
the lock, finds the stored access token is no longer the one it found expired, and uses the
stored one without calling the platform.

The lock is held across the token call, which STYLE.md otherwise avoids: the call is bounded
by PLATFORM_HTTP_TIMEOUT, it happens about once an hour per channel, and the lock is FOR NO
KEY UPDATE, which leaves the foreign-key checks of rows being inserted for the channel
(comments) unblocked; beat's claim skips the locked row and takes it next time.

Remaining risk, by design: a worker killed after X answered but before the commit loses the
new pair; the next refresh is refused (invalid_request) and the channel needs a person.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from moderation.crypto import decrypt_credentials, encrypt_credentials
from moderation.models import Channel
from audit.services import audit_record

log = logging.getLogger(__name__)


def channel_credentials_refresh(*, channel_id: int, client) -> dict:
    """Refresh ``client``'s credentials for the channel, at most once across workers, and
    return the credentials to use. Stores them encrypted, with an audit event, in the same
    transaction as the row lock. A refusal (``AuthExpired``) or an outage propagates with
    nothing changed; the caller decides (needs re-authorisation / retry later)."""
    stale = client.token
    with transaction.atomic():
        channel = Channel.objects.select_for_update(no_key=True).get(pk=channel_id)
        current = decrypt_credentials(channel.credentials_encrypted)
        if current.get("access_token") != stale:
            # Another worker refreshed while we waited for the lock (or a person reconnected
            # the channel): its tokens are the live ones, and its refresh token is unspent.
            return current
        fresh = client.refresh_grant(dict(current))
        stored = {**current, **fresh}
        if not stored.get("refresh_token"):
            stored.pop("refresh_token", None)
        Channel.objects.filter(pk=channel_id).update(credentials_encrypted=encrypt_credentials(stored))
        expires_at = stored.get("expires_at")
        audit_record(
            verb="channel.token_refreshed", system_actor=f"platform:{channel.platform}", target=f"channel:{channel_id}",
            # What was done, never a token.
            data={"expires_at": dt.datetime.fromtimestamp(expires_at, tz=dt.UTC).isoformat() if expires_at else None,
                  "refresh_token_rotated": "refresh_token" in fresh and fresh["refresh_token"] != current.get("refresh_token")},
        )
    log.info("channel %s: %s access token refreshed", channel_id, channel.platform)
    return stored


class ChannelTokenStore:
    """What a platform client calls to refresh (``client.token_store``), bound to one channel."""

    def __init__(self, channel_id: int):
        self.channel_id = channel_id

    def refresh(self, client) -> dict:
        return channel_credentials_refresh(channel_id=self.channel_id, client=client)


def channel_needs_reauth(*, channel_id: int, reason: str) -> None:
    """Stop polling and acting for a channel until a person reconnects it. Not retried.
    Polling (expired tokens on a fetch) and platform actions (on an apply) both end here."""
    with transaction.atomic():
        updated = Channel.objects.filter(pk=channel_id).exclude(state=Channel.State.NEEDS_REAUTH).update(
            state=Channel.State.NEEDS_REAUTH, state_reason=reason[:500], next_poll_at=None, backoff_until=None
        )
        if updated:
            audit_record(verb="channel.needs_reauth", system_actor="ingest", target=f"channel:{channel_id}",
                         data={"reason": reason[:500]})
    log.warning("channel %s needs re-authorisation: %s", channel_id, reason)
