"""Follow-ups and reviews land on school days: cadences measured on the school calendar."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.spec import CadenceSpec
from tierflow.spec._cadence import HORIZON_DAYS, parse_rrule

__all__ = ["SchoolDays", "next_follow_up"]


class SchoolDays:
    """School-day arithmetic on a calendar; Monday to Friday where there is none.

    Before the calendar's first day there are none (the year has not started); beyond its last
    day (summer, and no calendar for next year yet) school days are weekdays again, so a date
    can always be computed.

    >>> cal = SchoolCalendar.from_pattern("x", dt.date(2025, 9, 1), dt.date(2025, 9, 30),
    ...                                   holidays=[dt.date(2025, 9, 8)])
    >>> days = SchoolDays(cal)
    >>> days.add(dt.date(2025, 9, 5), 1)  # Friday + 1 school day skips the weekend and a holiday
    datetime.date(2025, 9, 9)
    >>> SchoolDays(None).on_or_after(dt.date(2025, 9, 6))
    datetime.date(2025, 9, 8)
    """

    def __init__(self, calendar: SchoolCalendar | None) -> None:
        """Measure on ``calendar`` (None: weekdays)."""
        self.calendar = calendar
        # A run schedules thousands of follow-ups from the same date: compute each once, and
        # share the date objects (a million open interventions hold few distinct dates).
        self._added: dict[tuple[dt.date, int], dt.date] = {}
        self._follow_ups: dict[tuple[Any, ...], dt.date | None] = {}

    def _is_weekday(self, day: dt.date) -> bool:
        return day.weekday() < 5

    def is_school_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a school day."""
        cal = self.calendar
        if cal is None or day > cal.last_day:
            return self._is_weekday(day)
        return day in cal

    def on_or_after(self, day: dt.date) -> dt.date:
        """The first school day on or after ``day``."""
        cal = self.calendar
        if cal is not None and cal.first_day <= day <= cal.last_day:
            return cal.days[bisect_left(cal.days, day)]
        if cal is not None and day < cal.first_day:
            return cal.first_day
        while not self._is_weekday(day):
            day += dt.timedelta(days=1)
        return day

    def add(self, day: dt.date, count: int) -> dt.date:
        """The school day ``count`` school days after ``day`` (``day`` itself not counted)."""
        key = (day, count)
        found = self._added.get(key)
        if found is None:
            if len(self._added) > 100_000:
                self._added.clear()
            found = self._added[key] = self._add(day, count)
        return found

    def between(self, start: dt.date, end: dt.date) -> int:
        """How many school days come after ``start`` up to and including ``end`` (0 if none).

        The inverse of :meth:`add` on school days: ``between(day, add(day, n)) == n``.

        >>> SchoolDays(None).between(dt.date(2025, 9, 5), dt.date(2025, 9, 9))  # Fri to Tue
        2
        """
        if end <= start:
            return 0
        cal = self.calendar
        count = 0
        if cal is not None and start < cal.last_day:
            if end <= cal.last_day:
                return bisect_right(cal.days, end) - bisect_right(cal.days, start)
            count = len(cal.days) - bisect_right(cal.days, start)
            start = cal.last_day
        # Weekdays after ``start`` up to ``end``: five in every whole week, then the rest day by
        # day (a queue ages hundreds of follow-ups by months: no walk over every day).
        weeks, rest = divmod((end - start).days, 7)
        count += 5 * weeks
        day = start + dt.timedelta(days=7 * weeks)
        for _ in range(rest):
            day += dt.timedelta(days=1)
            if self._is_weekday(day):
                count += 1
        return count

    def follow_up(self, cadence: CadenceSpec, after: dt.date) -> dt.date | None:
        """The next follow-up after ``after`` for ``cadence`` (see :func:`next_follow_up`)."""
        key = (cadence.every_school_days, cadence.every_weeks, cadence.rrule, after)
        if key in self._follow_ups:
            return self._follow_ups[key]
        if len(self._follow_ups) > 100_000:
            self._follow_ups.clear()
        found = self._follow_ups[key] = self._follow_up(cadence, after)
        return found

    def _follow_up(self, cadence: CadenceSpec, after: dt.date) -> dt.date | None:
        if cadence.every_school_days is not None:
            return self.add(after, cadence.every_school_days)
        if cadence.every_weeks is not None:
            return self.on_or_after(after + dt.timedelta(weeks=cadence.every_weeks))
        assert cadence.rrule is not None  # the spec requires exactly one
        last = dt.date.fromordinal(min(after.toordinal() + HORIZON_DAYS, dt.date.max.toordinal()))
        for occurrence in parse_rrule(cadence.rrule).occurrences(after, last):
            if self.is_school_day(occurrence):
                return occurrence
        return None

    def _add(self, day: dt.date, count: int) -> dt.date:
        cal = self.calendar
        if cal is not None and day < cal.last_day:
            index = bisect_right(cal.days, day) + count - 1
            if index < len(cal.days):
                return cal.days[index]
            count = index - len(cal.days) + 1
            day = cal.last_day
        if count > 5:  # whole weeks at once: five weekdays are seven days
            # at least one weekday is left to walk, so starting from a weekend needs no care:
            # Friday, Saturday and Sunday all reach the same next weekday
            weeks = (count - 1) // 5
            day += dt.timedelta(weeks=weeks)
            count -= weeks * 5
        while count > 0:
            day += dt.timedelta(days=1)
            if self._is_weekday(day):
                count -= 1
        return day


def next_follow_up(cadence: CadenceSpec | None, after: dt.date, days: SchoolDays) -> dt.date | None:
    """The next follow-up after ``after`` for a cadence (None: no cadence, no follow-ups).

    ``every_school_days: N`` counts school days; ``every_weeks: N`` adds weeks and moves to the
    next school day; an ``rrule`` (started at ``after``) takes its first occurrence after
    ``after`` that is a school day, looking two years ahead at most (``HORIZON_DAYS``, so the
    work is bounded however rare the rule). None if there is none: past the rule's ``UNTIL``, or
    a rule whose days are all holidays, or one (checked at load from 24 starts) that skips more
    than two years after this one (``FREQ=YEARLY`` from February 29).
    """
    if cadence is None:
        return None
    return days.follow_up(cadence, after)
