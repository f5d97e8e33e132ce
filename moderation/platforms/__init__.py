"""One module per platform behind one small interface (base.py): facebook.py, instagram.py
(both on meta.py's Graph API plumbing), youtube.py, x.py. ``client_for(channel)`` builds the
client with decrypted credentials; ``parse_webhook`` normalises a verified delivery.

`capabilities.py` says what each platform can and cannot do; the console offers only what
the platform supports and shows the reason when it cannot.
"""


def client_class(platform: str):
    from moderation.platforms.facebook import FacebookClient
    from moderation.platforms.instagram import InstagramClient
    from moderation.platforms.x import XClient
    from moderation.platforms.youtube import YouTubeClient

    return {"facebook": FacebookClient, "instagram": InstagramClient, "youtube": YouTubeClient, "x": XClient}[platform]


def client_for(channel):
    """The platform client for a Channel, with its credentials decrypted in memory only;
    refreshed tokens are stored back on the channel (moderation/tokens.py)."""
    from moderation.crypto import decrypt_credentials
    from moderation.tokens import ChannelTokenStore

    return client_class(channel.platform)(
        account_id=channel.account_id, credentials=decrypt_credentials(channel.credentials_encrypted),
        token_store=ChannelTokenStore(channel.pk),
    )


def parse_webhook(source: str, payload: dict):
    """Normalised events from a verified delivery. ``source`` is "meta" or "x"; a Meta
    payload's ``object`` says whether it is a Page ("page") or Instagram ("instagram")."""
    from moderation.platforms.facebook import parse_page_webhook
    from moderation.platforms.instagram import parse_instagram_webhook
    from moderation.platforms.x import parse_x_webhook

    if source == "x":
        return parse_x_webhook(payload)
    if payload.get("object") == "instagram":
        return parse_instagram_webhook(payload)
    if payload.get("object") == "page":
        return parse_page_webhook(payload)
    return []
