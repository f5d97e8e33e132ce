"""WorkingCalendar: explicit datetimes around weekends, bank holidays and clock changes."""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from policy.engine import WorkingCalendar

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")


def london(*args):
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def cal():
    return WorkingCalendar(
        start="09:00", end="17:00", weekdays=(0, 1, 2, 3, 4), tz="Europe/London", subdivision="ENG"
    )


def test_working_time_boundaries(cal):
    assert cal.is_working_time(london(2026, 3, 3, 9, 0))
    assert cal.is_working_time(london(2026, 3, 3, 16, 59))
    assert not cal.is_working_time(london(2026, 3, 3, 17, 0))
    assert not cal.is_working_time(london(2026, 3, 3, 8, 59))
    assert not cal.is_working_time(london(2026, 3, 7, 12, 0))  # Saturday


def test_naive_datetime_rejected(cal):
    with pytest.raises(ValueError):
        cal.is_working_time(datetime(2026, 3, 3, 10, 0))


def test_friday_evening_rolls_to_monday(cal):
    friday = london(2026, 3, 6, 18, 30)
    assert not cal.is_working_time(friday)
    assert cal.next_working_start(friday) == london(2026, 3, 9, 9, 0).astimezone(UTC)
    assert cal.reply_due(friday) == london(2026, 3, 9, 17, 0).astimezone(UTC)
    assert cal.add_working_minutes(friday, 90) == london(2026, 3, 9, 10, 30).astimezone(UTC)


def test_friday_afternoon_first_look_spills_into_monday(cal):
    assert cal.add_working_minutes(london(2026, 3, 6, 16, 30), 60) == london(
        2026, 3, 9, 9, 30
    ).astimezone(UTC)
    # in working time: reply due at the end of the next working day
    assert cal.reply_due(london(2026, 3, 6, 16, 30)) == london(2026, 3, 9, 17, 0).astimezone(UTC)


def test_bank_holiday_monday(cal):
    # Easter Monday 2026 is 6 April; the late May bank holiday is 25 May.
    assert not cal.is_working_time(london(2026, 4, 6, 11, 0))
    assert not cal.is_working_time(london(2026, 5, 25, 11, 0))
    good_friday_eve = london(2026, 4, 2, 17, 30)  # Thursday evening before Good Friday
    assert cal.next_working_start(good_friday_eve) == london(2026, 4, 7, 9, 0).astimezone(UTC)
    assert cal.reply_due(london(2026, 5, 22, 12, 0)) == london(2026, 5, 26, 17, 0).astimezone(UTC)


def test_christmas_boxing_day_new_year(cal):
    # 2026: Christmas Friday, Boxing Day Saturday -> substitute Monday 28th; New Year Friday.
    assert not cal.is_working_time(london(2026, 12, 25, 10, 0))
    assert not cal.is_working_time(london(2026, 12, 28, 10, 0))
    assert cal.is_working_time(london(2026, 12, 29, 10, 0))
    assert cal.next_working_start(london(2026, 12, 24, 17, 5)) == london(
        2026, 12, 29, 9, 0
    ).astimezone(UTC)
    assert cal.reply_due(london(2026, 12, 31, 10, 0)) == london(2027, 1, 4, 17, 0).astimezone(UTC)
    assert not cal.is_working_time(london(2027, 1, 1, 10, 0))


def test_closure_days_are_not_working(cal):
    closed = WorkingCalendar(closures=(date(2026, 12, 29), "2026-12-30"))
    assert cal.is_working_time(london(2026, 12, 29, 10, 0))
    assert not closed.is_working_time(london(2026, 12, 29, 10, 0))
    assert closed.next_working_start(london(2026, 12, 24, 18, 0)) == london(
        2026, 12, 31, 9, 0
    ).astimezone(UTC)


def test_spring_clock_change(cal):
    # Clocks go forward at 01:00 UTC on Sunday 29 March 2026: 09:00 BST is 08:00 UTC.
    monday = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert cal.is_working_time(monday)
    assert not cal.is_working_time(datetime(2026, 3, 30, 7, 59, tzinfo=UTC))
    assert cal.next_working_start(datetime(2026, 3, 27, 18, 0, tzinfo=UTC)) == monday
    due = cal.add_working_minutes(datetime(2026, 3, 27, 16, 30, tzinfo=UTC), 60)  # Fri 16:30 GMT
    assert due == datetime(2026, 3, 30, 8, 30, tzinfo=UTC)


def test_autumn_clock_change(cal):
    # Clocks go back at 01:00 UTC on Sunday 25 October 2026: 09:00 GMT is 09:00 UTC again.
    friday_bst = datetime(2026, 10, 23, 15, 30, tzinfo=UTC)  # 16:30 BST
    assert cal.is_working_time(friday_bst)
    assert cal.add_working_minutes(friday_bst, 60) == datetime(2026, 10, 26, 9, 30, tzinfo=UTC)
    assert cal.reply_due(friday_bst) == datetime(2026, 10, 26, 17, 0, tzinfo=UTC)
    assert cal.is_working_time(datetime(2026, 10, 26, 9, 0, tzinfo=UTC))
    assert not cal.is_working_time(datetime(2026, 10, 26, 8, 30, tzinfo=UTC))


def test_results_are_utc(cal):
    out = cal.next_working_start(london(2026, 7, 4, 12, 0))
    assert out.tzinfo == UTC and out == datetime(2026, 7, 6, 8, 0, tzinfo=UTC)


def test_out_of_hours_morning_is_due_the_same_day(cal):
    assert cal.reply_due(london(2026, 3, 3, 7, 0)) == london(2026, 3, 3, 17, 0).astimezone(UTC)
    assert cal.reply_due(london(2026, 3, 3, 10, 0)) == london(2026, 3, 4, 17, 0).astimezone(UTC)


def test_invalid_calendar():
    with pytest.raises(ValueError):
        WorkingCalendar(start="17:00", end="09:00")
    with pytest.raises(ValueError):
        WorkingCalendar(weekdays=())
