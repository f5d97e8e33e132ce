"""Service levels on the awkward dates (policy sections 4 and 9; DESIGN.md).

The calendar is the engine's (09:00-17:00 Mon-Fri Europe/London, England's bank holidays);
these tests pin what the queue promises officers and the public on top of it.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from moderation.models import QueueItem
from moderation.queue import sla
from moderation.queue.items import queue_item_fields
from policy.engine import WorkingCalendar
from tests.factories import CommentFactory, VerdictFactory

LONDON = ZoneInfo("Europe/London")
UTC = dt.timezone.utc
CAL = WorkingCalendar()


def london(*args):
    return dt.datetime(*args, tzinfo=LONDON)


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("case,arrived,minutes,first_look,reply", [
    # Friday evening: nothing counts until Monday 09:00.
    ("friday evening", london(2026, 11, 27, 18, 30), 60, utc(2026, 11, 30, 10, 0), utc(2026, 11, 30, 17, 0)),
    # Friday afternoon in hours: 30 minutes on Friday, the rest on Monday; reply by end of Monday.
    ("friday 16:30", london(2026, 11, 27, 16, 30), 60, utc(2026, 11, 30, 9, 30), utc(2026, 11, 30, 17, 0)),
    # Late summer bank holiday Monday (31 Aug 2026) is skipped: Tuesday, in BST.
    ("bank holiday monday", london(2026, 8, 28, 16, 0), 120, utc(2026, 9, 1, 9, 0), utc(2026, 9, 1, 16, 0)),
    # Saturday before the spring bank holiday (25 May 2026): the next working day is Tuesday.
    ("spring bank holiday weekend", london(2026, 5, 23, 11, 0), 240, utc(2026, 5, 26, 12, 0), utc(2026, 5, 26, 16, 0)),
    # Christmas Eve afternoon: Christmas Day, the weekend and Boxing Day (observed Mon 28th) are closed.
    ("christmas", london(2026, 12, 24, 16, 30), 60, utc(2026, 12, 29, 9, 30), utc(2026, 12, 29, 17, 0)),
    # New Year's Eve night: New Year's Day (Fri) and the weekend are closed; Monday 4 January.
    ("new year", london(2026, 12, 31, 20, 0), 60, utc(2027, 1, 4, 10, 0), utc(2027, 1, 4, 17, 0)),
    # Clocks go forward on Sunday 29 March 2026: Monday's 09:30 is BST, 08:30 UTC.
    ("spring clock change", london(2026, 3, 27, 16, 30), 60, utc(2026, 3, 30, 8, 30), utc(2026, 3, 30, 16, 0)),
    # Clocks go back on Sunday 25 October 2026: Friday is BST, Monday is GMT.
    ("autumn clock change", london(2026, 10, 23, 16, 30), 60, utc(2026, 10, 26, 9, 30), utc(2026, 10, 26, 17, 0)),
    # Arriving in the repeated hour (01:30 GMT, after the change) still means Monday 09:00 GMT.
    ("autumn repeated hour", utc(2026, 10, 25, 1, 30), 240, utc(2026, 10, 26, 13, 0), utc(2026, 10, 26, 17, 0)),
])
def test_due_times_on_awkward_dates(case, arrived, minutes, first_look, reply):
    assert sla.first_look_due(calendar=CAL, received_at=arrived, escalation="none", minutes=minutes) == first_look
    assert sla.reply_due(calendar=CAL, received_at=arrived) == reply


def test_in_hours_reply_is_due_end_of_next_working_day():
    # Tuesday 10:00 -> Wednesday 17:00 ("same or next working day": we promise the latter).
    assert sla.reply_due(calendar=CAL, received_at=london(2026, 11, 24, 10, 0)) == utc(2026, 11, 25, 17, 0)


@pytest.mark.parametrize("escalation", ["urgent", "duty_manager", "safeguarding"])
def test_escalations_are_not_held_until_the_office_opens(settings, escalation):
    settings.SLA_ESCALATION_FIRST_LOOK_MINUTES = 15
    saturday_night = london(2026, 11, 28, 3, 0)
    due = sla.first_look_due(calendar=CAL, received_at=saturday_night, escalation=escalation, minutes=60)
    assert due == utc(2026, 11, 28, 3, 15)


@pytest.mark.parametrize("now,expected", [
    # Due Monday 09:30. Friday 16:00: 90 working minutes remain -> on track.
    (london(2026, 11, 27, 16, 0), "on_track"),
    # Friday 16:45: 15 + 30 = 45 working minutes remain (< 60) -> at risk, all weekend.
    (london(2026, 11, 27, 16, 45), "at_risk"),
    (london(2026, 11, 29, 23, 0), "at_risk"),
    # Monday 09:30 exactly: due now -> breached.
    (london(2026, 11, 30, 9, 30), "breached"),
])
def test_state_counts_working_minutes_not_wall_clock(settings, now, expected):
    settings.SLA_AT_RISK_WORKING_MINUTES = 60
    due = utc(2026, 11, 30, 9, 30)
    with time_machine.travel(now, tick=False):
        assert sla.Clock.current(CAL).state(due) == expected


def test_state_across_christmas_closure(settings):
    settings.SLA_AT_RISK_WORKING_MINUTES = 60
    due = utc(2026, 12, 29, 9, 30)  # Christmas Eve 16:30 arrival, 60 working minutes
    with time_machine.travel(london(2026, 12, 24, 16, 0), tick=False):
        assert sla.Clock.current(CAL).state(due) == "on_track"  # 60 + 30 working minutes left
    with time_machine.travel(london(2026, 12, 26, 12, 0), tick=False):
        assert sla.Clock.current(CAL).state(due) == "at_risk"  # 30 working minutes left, all holiday


def test_state_without_a_due_time_is_on_track():
    assert sla.state(due=None, now=utc(2026, 1, 1), cutoff=utc(2026, 1, 1)) == "on_track"


@pytest.mark.django_db
def test_queue_item_gets_the_due_times_from_sla():
    comment = CommentFactory(received_at=london(2026, 12, 24, 16, 30))
    verdict = VerdictFactory(comment=comment, action="allow", signpost="complaints", categories=["complaint"])
    item = QueueItem(comment=comment, **queue_item_fields(comment=comment, verdict=verdict, calendar=CAL,
                                                           first_look_minutes=60))
    assert (item.first_look_due, item.reply_due, item.needs_reply) == (
        utc(2026, 12, 29, 9, 30), utc(2026, 12, 29, 17, 0), True
    )


# --- the due time follows the item's escalation and state (issue #11) ----------------------
def _queued(text="You lot are useless idiots", **verdict):
    """A queue item made as classify makes it, arriving now."""
    comment = CommentFactory(text=text, received_at=dt.datetime.now(tz=UTC))
    verdict = VerdictFactory(comment=comment, **verdict)
    return QueueItem.objects.create(comment=comment, **queue_item_fields(
        comment=comment, verdict=verdict, calendar=sla.published_calendar(),
        first_look_minutes=sla.published_first_look_minutes()))


def _row_state(client, item) -> str:
    from django.urls import reverse

    body = client.get(reverse("moderation:queue")).content.decode()
    start = body.index(f'id="item-{item.comment_id}" class="qrow sla-') + len(f'id="item-{item.comment_id}" class="qrow sla-')
    return body[start:body.index('"', start)]


@pytest.mark.django_db
@pytest.mark.parametrize("to", ["duty_manager", "safeguarding"])
def test_escalating_makes_the_first_look_due_as_an_escalation_from_arrival(settings, client_for, officer, to):
    from django.urls import reverse

    settings.SLA_ESCALATION_FIRST_LOOK_MINUTES = 15
    arrived = london(2026, 11, 24, 10, 0)  # a Tuesday, in working hours
    with time_machine.travel(arrived, tick=False):
        item = _queued(action="hide", categories=["abuse"])
    assert item.first_look_due == utc(2026, 11, 24, 11, 0)  # the rule set's 60 working minutes
    c = client_for(officer)
    with time_machine.travel(arrived + dt.timedelta(minutes=5), tick=False):
        response = c.post(reverse("moderation:decide", args=[item.comment_id]),
                          {"kind": "escalate", "escalate_to": to, "reason": "needs the duty manager"})
        assert response.status_code == 302
    item.refresh_from_db()
    # As if it had arrived as this escalation: 15 wall-clock minutes after arrival.
    assert (item.escalation, item.first_look_due) == (to, utc(2026, 11, 24, 10, 15))
    assert item.first_look_due == sla.first_look_due(calendar=sla.published_calendar(), received_at=arrived,
                                                     escalation=to, minutes=60)
    with time_machine.travel(arrived + dt.timedelta(minutes=20), tick=False):
        assert _row_state(c, item) == "breached"  # the ordinary first look (11:00) was not


@pytest.mark.django_db
@pytest.mark.parametrize("claimed_first", [False, True])
def test_undoing_an_approve_restores_the_item_and_its_due_time_exactly(client_for, officer, claimed_first):
    from django.urls import reverse

    from moderation.models import Decision, QueueItem

    arrived = london(2026, 11, 24, 10, 0)
    with time_machine.travel(arrived, tick=False):
        item = _queued(action="hide", categories=["abuse"])
    c = client_for(officer)
    if claimed_first:
        with time_machine.travel(arrived + dt.timedelta(minutes=10), tick=False):
            c.post(reverse("moderation:claim", args=[item.comment_id]))
    item.refresh_from_db()
    before = QueueItem.objects.filter(pk=item.pk).values(
        "status", "claimed_by", "claimed_at", "first_look_due", "reply_due", "priority", "escalation").get()
    due_before = sla.item_due(item)
    with time_machine.travel(arrived + dt.timedelta(minutes=20), tick=False):
        state_before = _row_state(c, item)
        c.post(reverse("moderation:decide", args=[item.comment_id]), {"kind": "approve", "next": "queue"})
    approve = Decision.objects.get(kind="approve")
    with time_machine.travel(arrived + dt.timedelta(minutes=30), tick=False):
        c.post(reverse("moderation:undo", args=[item.comment_id, approve.pk]))
        state_after = _row_state(c, item)
    item.refresh_from_db()
    after = QueueItem.objects.filter(pk=item.pk).values(*before).get()
    assert after == before
    assert (item.decided_at, sla.item_due(item), state_after) == (None, due_before, state_before)
    assert item.status == ("claimed" if claimed_first else "open")
