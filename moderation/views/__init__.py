"""The triage console's views, one module per screen (STYLE.md: split past ~500 lines)."""

from moderation.views.audit import audit
from moderation.views.comment import claim, comment, decide, release, undo
from moderation.views.escalations import acknowledge, escalations
from moderation.views.queue import bulk, queue

__all__ = ["acknowledge", "audit", "bulk", "claim", "comment", "decide", "escalations", "queue", "release", "undo"]
