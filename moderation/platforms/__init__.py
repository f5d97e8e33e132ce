"""One module per platform behind one small interface (base.py): facebook.py, instagram.py
(both on meta.py's Graph API plumbing), youtube.py, x.py. ``client_for(channel)`` builds the
client with decrypted credentials; ``parse_webhook`` normalises a verified delivery.

`capabilities.py` says what each platform can and cannot do; the console offers only what
the platform supports and shows the reason when it cannot. `tokens.py` keeps a channel's
credentials: refreshed tokens stored under the channel's lock, and "needs re-authorisation".

The bottom of moderation: nothing here imports ingest, triage or decisions, which use it.
"""

from moderation.crypto import decrypt_credentials
from moderation.platforms.facebook import FacebookClient, parse_page_webhook
from moderation.platforms.instagram import InstagramClient, parse_instagram_webhook
from moderation.platforms.tokens import ChannelTokenStore
from moderation.platforms.x import XClient, parse_x_webhook
from moderation.platforms.youtube import YouTubeClient


def client_class(platform: str):
    return {"facebook": FacebookClient, "instagram": InstagramClient, "youtube": YouTubeClient, "x": XClient}[platform]


def client_for(channel):
    """The platform client for a Channel, with its credentials decrypted in memory only;
    refreshed tokens are stored back on the channel (platforms/tokens.py)."""
    return client_class(channel.platform)(
        account_id=channel.account_id, credentials=decrypt_credentials(channel.credentials_encrypted),
        token_store=ChannelTokenStore(channel.pk),
    )


def parse_webhook(source: str, payload: dict):
    """Normalised events from a verified delivery. ``source`` is "meta" or "x"; a Meta
    payload's ``object`` says whether it is a Page ("page") or Instagram ("instagram")."""
    if source == "x":
        return parse_x_webhook(payload)
    if payload.get("object") == "instagram":
        return parse_instagram_webhook(payload)
    if payload.get("object") == "page":
        return parse_page_webhook(payload)
    return []
