"""The triage console's views, one module per screen (STYLE.md: split past ~500 lines)."""

from moderation.views.audit import audit
from moderation.views.comment import claim, comment, decide, release, undo
from moderation.views.dryruns import dryrun_detail, dryrun_start, rule_stats
from moderation.views.escalations import acknowledge, escalations
from moderation.views.queue import bulk, queue

__all__ = [
    "acknowledge", "audit", "bulk", "claim", "comment", "decide", "dryrun_detail", "dryrun_start", "escalations",
    "queue", "release", "rule_stats", "undo",
]
