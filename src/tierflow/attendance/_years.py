"""School years: the span every truancy count, window and legal ladder is measured in.

California counts truancy "in one school year" (EC 48260, 48262) and Texas "in the same school
year" (TEC 25.0951); a student's ladder restarts each year. A school year is named as Ed-Fi
names it, by the calendar year it ends in (``2026`` is 2025-26), and runs from a start day
(month and day, California's July 1 by default: EC 37200) to the day before the next year's.
A district whose calendar says otherwise (Ed-Fi ``Session`` records with a ``SchoolYear``) gives
those years explicitly; a date they cover belongs to them, any other date to the year the start
day puts it in.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable
from itertools import pairwise
from typing import NamedTuple

from tierflow.errors import DataError
from tierflow.spec import parse_month_day

__all__ = ["SchoolYear", "SchoolYears"]

_DAY = dt.timedelta(days=1)


class SchoolYear(NamedTuple):
    """One school year: its Ed-Fi name (the calendar year it ends in) and its first and last day.

    >>> SchoolYears().of(dt.date(2025, 9, 2))
    SchoolYear(label=2026, start=datetime.date(2025, 7, 1), end=datetime.date(2026, 6, 30))
    >>> str(SchoolYears().of(dt.date(2025, 9, 2)))
    '2025-2026'
    """

    label: int
    start: dt.date
    end: dt.date

    def __str__(self) -> str:
        first, last = self.start.year, self.end.year
        return f"{first}-{last}" if first != last else str(self.label)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


class SchoolYears:
    """Which school year a date belongs to.

    Args:
        starts: The day each school year starts, ``MM-DD`` (default ``07-01``).
        years: Explicit years (from a calendar's sessions), one after another with no gap. A
            date inside one belongs to it; a date before or after them follows the start day.

    >>> years = SchoolYears("08-01")
    >>> years.of(dt.date(2026, 7, 31)).label, years.of(dt.date(2026, 8, 1)).label
    (2026, 2027)
    >>> years.previous(years.of(dt.date(2026, 8, 1)))
    SchoolYear(label=2026, start=datetime.date(2025, 8, 1), end=datetime.date(2026, 7, 31))

    Raises:
        DataError: ``calendar.invalid`` for explicit years that end before they start, or do
            not follow one another day after day.
        ValueError: A start day that is not ``MM-DD``.
    """

    __slots__ = ("_cache", "_explicit", "day", "month")

    def __init__(self, starts: str = "07-01", years: Iterable[SchoolYear] = ()) -> None:
        self.month, self.day = parse_month_day(starts)
        explicit = sorted(years, key=lambda y: y.start)
        for year in explicit:
            if year.end < year.start:
                raise DataError("calendar.invalid", f"school year {year} ends before it starts")
        for a, b in pairwise(explicit):
            if b.start != a.end + _DAY or b.label != a.label + 1:
                raise DataError(
                    "calendar.invalid",
                    f"school years {a} ({a.start}..{a.end}) and {b} ({b.start}..{b.end}) "
                    "must follow one another: each starts the day after the one before ends",
                )
        self._explicit: tuple[SchoolYear, ...] = tuple(explicit)
        # A batch asks about the same few dates again and again (every student as of one day).
        self._cache: dict[dt.date, SchoolYear] = {}

    def __repr__(self) -> str:
        extra = f", {len(self._explicit)} explicit" if self._explicit else ""
        return f"SchoolYears(starts={self.month:02d}-{self.day:02d}{extra})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SchoolYears):
            return NotImplemented
        return (self.month, self.day, self._explicit) == (other.month, other.day, other._explicit)

    def __hash__(self) -> int:
        return hash((self.month, self.day, self._explicit))

    def _by_rule(self, label: int) -> SchoolYear:
        """Year ``label`` as the start day makes it (it ends in calendar year ``label``)."""
        first = label if (self.month, self.day) == (1, 1) else label - 1
        start = dt.date(first, self.month, self.day)
        end = dt.date(first + 1, self.month, self.day) - dt.timedelta(days=1)
        return SchoolYear(label, start, end)

    def of(self, day: dt.date) -> SchoolYear:
        """The school year ``day`` belongs to."""
        year = self._cache.get(day)
        if year is None:
            if len(self._cache) >= 4096:
                self._cache.clear()
            year = self._cache[day] = self._of(day)
        return year

    def _of(self, day: dt.date) -> SchoolYear:
        # A year starting on January 1 ends in the year it starts; any other in the next one.
        label = day.year + (0 if (self.month, self.day) == (1, 1) else 1)
        if (day.month, day.day) < (self.month, self.day):
            label -= 1
        explicit = self._explicit
        if not explicit:
            return self._by_rule(label)
        first, last = explicit[0], explicit[-1]
        if day < first.start:
            # Before the years given: by rule, and the year just before the first of them runs
            # up to the day before it (longer or shorter than the rule's year).
            year = self._by_rule(min(label, first.label - 1))
            end = first.start - _DAY
            return SchoolYear(
                year.label, year.start, end if year.label == first.label - 1 else min(year.end, end)
            )
        if day > last.end:
            # After them: by rule, and the year just after the last of them starts the day
            # after it.
            year = self._by_rule(max(label, last.label + 1))
            start = last.end + _DAY
            return SchoolYear(
                year.label,
                start if year.label == last.label + 1 else max(year.start, start),
                year.end,
            )
        return explicit[bisect_right([y.start for y in explicit], day) - 1]

    def start_of(self, day: dt.date) -> dt.date:
        """The first day of the school year ``day`` belongs to."""
        return self.of(day).start

    def previous(self, year: SchoolYear) -> SchoolYear:
        """The school year before ``year``."""
        return self.of(year.start - dt.timedelta(days=1))

    @classmethod
    def from_sessions(
        cls, sessions: Iterable[tuple[int, dt.date, dt.date]], starts: str = "07-01"
    ) -> SchoolYears:
        """Build from sessions ``(school year, begin, end)``: each year spans its sessions.

        Every date from the first session's start to the day before the next year's first
        session belongs to the year (summer school after the last session included); dates
        before the first year known follow the start day.

        >>> y = SchoolYears.from_sessions([(2022, dt.date(2021, 8, 23), dt.date(2021, 12, 17)),
        ...                                (2022, dt.date(2022, 1, 4), dt.date(2022, 5, 27)),
        ...                                (2023, dt.date(2022, 8, 22), dt.date(2023, 5, 26))])
        >>> y.of(dt.date(2022, 8, 1)).label, y.of(dt.date(2022, 8, 22)).label
        (2022, 2023)
        """
        spans: dict[int, tuple[dt.date, dt.date]] = {}
        for label, begin, end in sessions:
            low, high = spans.get(label, (begin, end))
            spans[label] = (min(low, begin), max(high, end))
        rule = cls(starts)
        labels = sorted(spans)
        years = []
        for i, label in enumerate(labels):
            begin, end = spans[label]
            if i + 1 < len(labels):
                end = spans[labels[i + 1]][0] - _DAY
            else:
                end = max(end, rule._by_rule(label).end)
            years.append(SchoolYear(label, begin, end))
        return cls(starts, years)
