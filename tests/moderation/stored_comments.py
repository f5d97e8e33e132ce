"""Comments as a platform hands them over, and storing them as ingest does: shared by the
ingest and triage tests, which start from the same stored comments."""

from django.db import transaction

from moderation.ingest.store import comments_upsert_batch
from moderation.platforms.base import IncomingComment

TEXTS = {
    "fine": "Great to see the new diagnostic centre open in Grantham!",
    "abuse": "You're all scum, every single one of you",
    "safeguarding": "My stepdad hits me when mum is at work and I'm scared to go home",
    "question": "Can I take ibuprofen after my covid booster?",
    "profanity": "You are all useless c*nts",  # "apply automatically" in the default rule set
}


def incoming(key, n=0, **kw):
    return IncomingComment(external_id=f"{key}-{n}", text=TEXTS[key], author_external_id=f"author-{key}", **kw)


def store(channel, incomings):
    with transaction.atomic():
        return comments_upsert_batch(channel=channel, incomings=incomings)
