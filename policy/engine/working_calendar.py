"""Working time: 09:00-17:00 Monday-Friday in Europe/London, minus England's bank holidays.

Shared by the engine (urgent vs duty_manager escalation) and the queue (due times). All
inputs must be timezone-aware; every datetime returned is in UTC (DESIGN.md: times are
stored in UTC, working hours are computed in Europe/London).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

UTC = timezone.utc


def _parse_hhmm(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


@lru_cache(maxsize=32)
def _bank_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


class WorkingCalendar:
    """Immutable description of working time.

    ``weekdays`` uses Python's numbering (Monday=0). ``closures`` are extra non-working dates
    (e.g. a Christmas shutdown) on top of the bank holidays of ``country``/``subdivision``.
    """

    __slots__ = ("start", "end", "weekdays", "closures", "tz", "subdivision", "country")

    def __init__(
        self,
        start: str = "09:00",
        end: str = "17:00",
        weekdays=(0, 1, 2, 3, 4),
        closures=(),
        tz: str = "Europe/London",
        subdivision: str = "ENG",
        country: str = "GB",
    ):
        start_t, end_t = _parse_hhmm(start), _parse_hhmm(end)
        if not start_t < end_t:
            raise ValueError("working day must end after it starts")
        weekdays = tuple(sorted(set(int(d) for d in weekdays)))
        if not weekdays or any(d < 0 or d > 6 for d in weekdays):
            raise ValueError("weekdays must be a non-empty subset of 0..6 (Monday=0)")
        closures = frozenset(
            d if isinstance(d, date) else date.fromisoformat(str(d)) for d in closures
        )
        # Assigned once here; the class exposes no mutators.
        self.start = start_t
        self.end = end_t
        self.weekdays = weekdays
        self.closures = closures
        self.tz = ZoneInfo(tz)
        self.subdivision = subdivision
        self.country = country

    def warm(self, years) -> None:
        """Build the bank-holiday tables for ``years`` now (the first build of a year takes
        tens of milliseconds, which must not land inside a verdict's time budget)."""
        for year in years:
            _bank_holidays(self.country, self.subdivision, int(year))

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(start={self.start:%H:%M}, end={self.end:%H:%M}, "
            f"weekdays={self.weekdays}, closures={len(self.closures)}, tz={self.tz.key})"
        )

    # -- days -------------------------------------------------------------------------
    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() in self.weekdays
            and day not in self.closures
            and day not in _bank_holidays(self.country, self.subdivision, day.year)
        )

    def _next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        # A year has far fewer than 370 consecutive closed days; bound the loop anyway.
        for _ in range(370):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError("no working day within a year")

    def _day_start(self, day: date) -> datetime:
        return datetime.combine(day, self.start, tzinfo=self.tz).astimezone(UTC)

    def _day_end(self, day: date) -> datetime:
        return datetime.combine(day, self.end, tzinfo=self.tz).astimezone(UTC)

    @staticmethod
    def _check(dt: datetime) -> None:
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError("datetime must be timezone-aware")

    # -- instants ---------------------------------------------------------------------
    def is_working_time(self, dt: datetime) -> bool:
        self._check(dt)
        local = dt.astimezone(self.tz)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end

    def next_working_start(self, dt: datetime) -> datetime:
        """The earliest instant >= ``dt`` that is working time (``dt`` itself if it is)."""
        self._check(dt)
        local = dt.astimezone(self.tz)
        day = local.date()
        if self.is_working_day(day):
            if local.time() < self.start:
                return self._day_start(day)
            if local.time() < self.end:
                return dt.astimezone(UTC)
        return self._day_start(self._next_working_day(day))

    def add_working_minutes(self, dt: datetime, minutes: float) -> datetime:
        """``dt`` plus ``minutes`` of working time (first-look due times)."""
        if minutes < 0:
            raise ValueError("minutes must be >= 0")
        current = self.next_working_start(dt)
        remaining = timedelta(minutes=minutes)
        for _ in range(400):
            day = current.astimezone(self.tz).date()
            end = self._day_end(day)
            if current + remaining <= end:
                return current + remaining
            remaining -= end - current
            current = self._day_start(self._next_working_day(day))
        raise ValueError("too many working minutes")

    def reply_due(self, dt: datetime) -> datetime:
        """When a reply is due (DESIGN.md "Service levels").

        Arrival in working time: the end of the next working day after the arrival day.
        Arrival out of hours: the end of the next working day (the day work next starts).
        """
        self._check(dt)
        if self.is_working_time(dt):
            day = dt.astimezone(self.tz).date()
            return self._day_end(self._next_working_day(day))
        start = self.next_working_start(dt)
        return self._day_end(start.astimezone(self.tz).date())
