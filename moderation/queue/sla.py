"""Service levels (policy sections 4 and 9; DESIGN.md "Service levels").

Working time comes from the engine's WorkingCalendar (the published rule set's
``matcher.calendar``); this module only decides what is due when and how it is going.

- First look: within the rule set's ``first_look_minutes`` of working time after arrival.
  Escalations (urgent, duty manager, safeguarding) are not held until the office opens:
  they are due ``SLA_ESCALATION_FIRST_LOOK_MINUTES`` wall-clock minutes after arrival.
- Reply: by the end of the next working day (``WorkingCalendar.reply_due``).
- State: breached once the due time has passed; at risk when the due time falls within the
  next ``SLA_AT_RISK_WORKING_MINUTES`` of working time; otherwise on track. "Within the next
  N working minutes" is one instant per request (``at_risk_cutoff``), so the queue can sort
  by state in SQL and the page shows exactly the state it sorted by.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from policy.selectors import published_matcher

ON_TRACK = "on_track"
AT_RISK = "at_risk"
BREACHED = "breached"
STATE_LABELS = {ON_TRACK: "On track", AT_RISK: "At risk", BREACHED: "Breached"}
# Sort rank used by the queue (lower first): breached, then at risk, then on track.
STATE_RANK = {BREACHED: 0, AT_RISK: 1, ON_TRACK: 2}

ESCALATIONS_NOT_HELD = ("urgent", "duty_manager", "safeguarding")


def published_calendar():
    """The published rule set's working calendar (the bundled default before any publish)."""
    return published_matcher()[1].calendar


def published_first_look_minutes() -> int:
    return published_matcher()[1].first_look_minutes


def first_look_due(*, calendar, received_at: dt.datetime, escalation: str, minutes: int) -> dt.datetime:
    """When somebody must first look at an item that arrived at ``received_at``."""
    if escalation in ESCALATIONS_NOT_HELD:
        return received_at + dt.timedelta(minutes=settings.SLA_ESCALATION_FIRST_LOOK_MINUTES)
    return calendar.add_working_minutes(received_at, minutes)


def reply_due(*, calendar, received_at: dt.datetime) -> dt.datetime:
    """End of the next working day (out-of-hours arrivals: the next working day's end)."""
    return calendar.reply_due(received_at)


def at_risk_cutoff(*, calendar, now: dt.datetime | None = None) -> dt.datetime:
    """Anything due at or before this instant (and not yet breached) is at risk."""
    now = now or timezone.now()
    return calendar.add_working_minutes(now, settings.SLA_AT_RISK_WORKING_MINUTES)


def state(*, due: dt.datetime | None, now: dt.datetime, cutoff: dt.datetime) -> str:
    if due is None:
        return ON_TRACK
    if due <= now:
        return BREACHED
    if due <= cutoff:
        return AT_RISK
    return ON_TRACK


@dataclass(frozen=True)
class Clock:
    """``now`` and the at-risk cutoff, computed once per request and shared by every row."""

    now: dt.datetime
    cutoff: dt.datetime

    @classmethod
    def current(cls, calendar=None) -> Clock:
        now = timezone.now()
        return cls(now=now, cutoff=at_risk_cutoff(calendar=calendar or published_calendar(), now=now))

    def state(self, due: dt.datetime | None) -> str:
        return state(due=due, now=self.now, cutoff=self.cutoff)


def item_due(item) -> dt.datetime | None:
    """The due time the queue tracks: first look until somebody claims the item, then the
    reply (when one is needed). Must match the queue's SQL (moderation/selectors.py)."""
    if item.status == "open":
        return item.first_look_due
    return item.reply_due if item.needs_reply else None
