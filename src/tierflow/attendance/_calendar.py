"""School calendars: the instructional days every count and window is measured on."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dateutil.rrule import DAILY, FR, MO, TH, TU, WE, rrule, rruleset, weekday

from tierflow.attendance._years import SchoolYears
from tierflow.errors import DataError, DataReport

__all__ = ["CalendarSet", "SchoolCalendar"]

_WEEKDAYS: dict[str, weekday] = {"MO": MO, "TU": TU, "WE": WE, "TH": TH, "FR": FR}


class SchoolCalendar:
    """The instructional days of one school year, for one school or program.

    A calendar is immutable and cheap to query: it keeps its days sorted, so counting the days
    in a span or finding where "the last 20 school days" start is a binary search.

    >>> cal = SchoolCalendar.from_pattern(
    ...     "demo", dt.date(2025, 9, 1), dt.date(2025, 9, 30), holidays=[dt.date(2025, 9, 1)]
    ... )
    >>> len(cal), cal.first_day, cal.last_day
    (21, datetime.date(2025, 9, 2), datetime.date(2025, 9, 30))
    >>> cal.count(dt.date(2025, 9, 1), dt.date(2025, 9, 7))  # Tue-Fri after Labor Day
    4
    >>> cal.window_start(dt.date(2025, 9, 30), 5)  # the last 5 school days start on a Wednesday
    datetime.date(2025, 9, 24)
    """

    __slots__ = ("_fractions", "_set", "days", "id")

    def __init__(
        self,
        id: str,
        days: Iterable[dt.date],
        fractions: Mapping[dt.date, float] | None = None,
        *,
        sources: Mapping[dt.date, str] | None = None,
    ) -> None:
        """Build a calendar from its instructional days.

        Args:
            id: Calendar id (a school id, or ``school:program``).
            days: The instructional days, in any order; duplicates are ignored.
            fractions: Shortened days, as the fraction of a full day they last (default 1).
            sources: Where each shortened day was read (``file:line``), named by the error
                about it.

        Raises:
            DataError: ``calendar.empty`` with no days; ``calendar.invalid`` for a fraction that
                is not in (0, 1] or names a day that is not instructional.
        """
        self.id = id
        self.days: tuple[dt.date, ...] = tuple(sorted(set(days)))
        if not self.days:
            raise DataError("calendar.empty", f"calendar {id!r} has no instructional days")
        self._set = frozenset(self.days)
        self._fractions = dict(fractions or {})
        where = sources or {}
        for day, fraction in self._fractions.items():
            if day not in self._set:
                raise DataError(
                    "calendar.invalid",
                    f"calendar {id!r}: shortened day {day} is not instructional",
                    source=where.get(day),
                )
            if not 0 < fraction <= 1:
                raise DataError(
                    "calendar.invalid",
                    f"calendar {id!r}: day {day} lasts {fraction:g} of a day; expected (0, 1]",
                    source=where.get(day),
                )

    @classmethod
    def from_pattern(
        cls,
        id: str,
        first_day: dt.date,
        last_day: dt.date,
        *,
        weekdays: Iterable[str] = ("MO", "TU", "WE", "TH", "FR"),
        holidays: Iterable[dt.date] = (),
        breaks: Iterable[tuple[dt.date, dt.date]] = (),
        makeup_days: Iterable[dt.date] = (),
        shortened: Mapping[dt.date, float] | None = None,
    ) -> SchoolCalendar:
        """Build a calendar from a weekly pattern between the first and last day.

        Args:
            id: Calendar id.
            first_day: First day of the school year.
            last_day: Last day of the school year.
            weekdays: Days of the week with school (``MO`` .. ``FR``).
            holidays: Single days off.
            breaks: Inclusive ``(start, end)`` spans off (winter break, spring break).
            makeup_days: Extra instructional days (a Saturday make-up day, say); they count even
                on a holiday or during a break (the day is given back).
            shortened: Days shorter than a full day, as a fraction of one.

        Raises:
            DataError: ``calendar.invalid`` for an unknown weekday or a last day before the first.
        """
        if last_day < first_day:
            raise DataError("calendar.invalid", f"calendar {id!r}: last day is before first day")
        try:
            by = [_WEEKDAYS[w.upper()[:2]] for w in weekdays]
        except KeyError as exc:
            raise DataError(
                "calendar.invalid",
                f"calendar {id!r}: unknown weekday {exc.args[0]!r} (use MO, TU, WE, TH, FR)",
            ) from None
        start = dt.datetime.combine(first_day, dt.time())
        end = dt.datetime.combine(last_day, dt.time())
        rules = rruleset()
        rules.rrule(rrule(DAILY, byweekday=by, dtstart=start, until=end))
        for day in holidays:
            rules.exdate(dt.datetime.combine(day, dt.time()))
        for low, high in breaks:
            rules.exrule(
                rrule(
                    DAILY,
                    dtstart=dt.datetime.combine(low, dt.time()),
                    until=dt.datetime.combine(high, dt.time()),
                )
            )
        # Make-up days are added after the holidays and breaks are taken out (an rdate of the
        # rruleset would be excluded again by them): a snow day made up on a holiday or during
        # a break is a school day.
        return cls(id, [*(d.date() for d in rules), *makeup_days], shortened)

    # --- queries ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.days)

    def __contains__(self, day: object) -> bool:
        return day in self._set

    def __repr__(self) -> str:
        return f"SchoolCalendar({self.id!r}, {self.first_day}..{self.last_day}, {len(self)} days)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SchoolCalendar):
            return NotImplemented
        return (self.id, self.days, self._fractions) == (other.id, other.days, other._fractions)

    def __hash__(self) -> int:
        return hash((self.id, self.days))

    @property
    def first_day(self) -> dt.date:
        """The first instructional day."""
        return self.days[0]

    @property
    def last_day(self) -> dt.date:
        """The last instructional day."""
        return self.days[-1]

    def fraction(self, day: dt.date) -> float:
        """How long ``day`` lasts as a fraction of a full day (0 when it is not instructional)."""
        if day not in self._set:
            return 0.0
        return self._fractions.get(day, 1.0)

    def count(self, start: dt.date, end: dt.date) -> int:
        """The number of instructional days from ``start`` to ``end``, both included."""
        if end < start:
            return 0
        return bisect_right(self.days, end) - bisect_left(self.days, start)

    def days_between(self, start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
        """The instructional days from ``start`` to ``end``, both included."""
        return self.days[bisect_left(self.days, start) : bisect_right(self.days, end)]

    def window_start(self, as_of: dt.date, school_days: int) -> dt.date:
        """The first day of the last ``school_days`` instructional days up to ``as_of``.

        Before the calendar has that many days, the window starts on the first day.
        """
        end = bisect_right(self.days, as_of)
        return self.days[max(0, end - max(school_days, 1))] if end else self.days[0]

    def last_day_up_to(self, as_of: dt.date) -> dt.date | None:
        """The last instructional day on or before ``as_of`` (None before the year starts)."""
        end = bisect_right(self.days, as_of)
        return self.days[end - 1] if end else None


@dataclass
class CalendarSet:
    """Calendars read from a file, by id, with what looked wrong in the source.

    Attributes:
        calendars: By id: the calendar code when the source has one, else the school id.
        report: The records read: calendar dates that could not be read are its rejects;
            its warnings are calendars refused as a whole (``calendar.invalid``) and
            disagreements (``calendar.session_mismatch``: a session states a number of
            instructional days its calendar dates do not have; the calendar dates win).
        schools: The school each calendar belongs to.
        sessions: Ed-Fi ``Session`` records that name their school year, as
            ``(school year, begin date, end date)``; the year is named as Ed-Fi names it, by the
            calendar year it ends in (``2021-2022`` is 2022). Empty for files without sessions.
    """

    calendars: dict[str, SchoolCalendar] = field(default_factory=dict)
    report: DataReport = field(default_factory=DataReport)
    schools: dict[str, str] = field(default_factory=dict)
    sessions: list[tuple[int, dt.date, dt.date]] = field(default_factory=list)

    def school_years(self, starts: str = "07-01") -> SchoolYears:
        """The school years the calendar's sessions give, else those ``starts`` gives.

        A district's own sessions win over a rule set's start day: every date from a year's
        first session to the day before the next year's belongs to it (summer school after the
        last session included); dates outside every session follow ``starts`` (``MM-DD``).

        >>> found = CalendarSet(sessions=[(2022, dt.date(2021, 8, 23), dt.date(2021, 12, 17)),
        ...                               (2022, dt.date(2022, 1, 4), dt.date(2022, 5, 27))])
        >>> found.school_years().of(dt.date(2021, 8, 23))
        SchoolYear(label=2022, start=datetime.date(2021, 8, 23), end=datetime.date(2022, 6, 30))
        >>> CalendarSet().school_years("08-01").of(dt.date(2021, 8, 23)).start
        datetime.date(2021, 8, 1)

        Raises:
            DataError: ``calendar.invalid`` when the sessions' years overlap or leave a gap.
        """
        if not self.sessions:
            return SchoolYears(starts)
        return SchoolYears.from_sessions(self.sessions, starts)
