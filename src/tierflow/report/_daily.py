"""A student's school days and the part of each day missed: what before/after windows read.

:class:`DailyAttendance` is the simple per-student daily record the effectiveness report
(:mod:`tierflow.report._effect`) reads: the student's enrolled school days in order and the
fraction of each day missed. It comes from a :class:`~tierflow.attendance.FactsBuilder` with
*one* ``facts_for`` call per student and school year (:meth:`DailyAttendance.from_facts`
reads that year's ``school_days`` and ``attendance_log``), never by rebuilding facts day by
day; or a host builds it from its own data.

>>> import datetime as dt
>>> from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
>>> cal = SchoolCalendar.from_pattern("lincoln", dt.date(2025, 9, 1), dt.date(2025, 9, 5))
>>> b = FactsBuilder({"lincoln": cal})
>>> b.add_enrollment(Enrollment("s1", "lincoln", dt.date(2025, 9, 1), grade=4))
True
>>> b.add_event(AttendanceEvent("s1", "lincoln", dt.date(2025, 9, 2), "partial", duration=0.5))
True
>>> daily = DailyAttendance.from_facts(b.facts_for("s1", dt.date(2025, 9, 5)))
>>> daily.absent, daily.grade
((0.0, 0.5, 0.0, 0.0, 0.0), '4')
>>> daily.window_rates(dt.date(2025, 9, 3), 2)  # 2 days before the 3rd, and from it on
(0.75, 1.0)
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tierflow.attendance import FactsBuilder

__all__ = ["AttendanceSource", "DailyAttendance", "daily_lookup"]

_MISSED = ("excused", "unexcused", "suspension")


@dataclass(frozen=True)
class DailyAttendance:
    """One student's enrolled school days, each with the fraction of the day missed.

    Attributes:
        student_id: The student.
        days: Their enrolled school days, in order (no duplicates).
        absent: The fraction of each of ``days`` missed, from 0 (present) to 1 (absent all day).
        grade: Their grade as text (``"4"``, ``"K"``), if known.
        groups: Their student groups (``iep``, ``el``...).

    Raises:
        ValueError: ``days`` and ``absent`` differ in length, ``days`` are not in increasing
            order, or a fraction is outside [0, 1].
    """

    student_id: str
    days: tuple[dt.date, ...]
    absent: tuple[float, ...]
    grade: str | None = None
    groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.days) != len(self.absent):
            raise ValueError(
                f"student {self.student_id}: {len(self.days)} days but "
                f"{len(self.absent)} absence fractions"
            )
        if any(a >= b for a, b in zip(self.days, self.days[1:], strict=False)):
            raise ValueError(f"student {self.student_id}: days are not in increasing order")
        if any(not 0.0 <= f <= 1.0 for f in self.absent):  # also refuses NaN
            raise ValueError(f"student {self.student_id}: an absence fraction is outside 0..1")

    @classmethod
    def from_facts(
        cls, facts: Mapping[str, Any], *, suspensions_count: bool = True
    ) -> DailyAttendance:
        """Read a student's days from the facts a builder made (``school_days``, the log).

        Args:
            facts: One student's facts from :meth:`FactsBuilder.facts_for`.
            suspensions_count: Whether out-of-school suspension days are absences (the
                policy's ``suspensions_count_as_absence``).

        A day's fraction is the sum of its ``excused``, ``unexcused`` (and ``suspension``)
        log rows, at most 1: the same reading as the ``recent_absence_rate`` fact.
        """
        days = tuple(facts.get("school_days") or ())
        missed: dict[dt.date, float] = {}
        for row in facts.get("attendance_log") or ():
            kind = row["kind"]
            if kind in _MISSED and (suspensions_count or kind != "suspension"):
                missed[row["date"]] = missed.get(row["date"], 0.0) + float(row["days"])
        grade = facts.get("grade")
        return cls(
            str(facts.get("student_id")),
            days,
            tuple(min(1.0, missed.get(d, 0.0)) for d in days),
            None if grade is None else str(grade),
            tuple(sorted(str(g) for g in facts.get("groups") or ())),
        )

    def until(self, as_of: dt.date) -> DailyAttendance:
        """The record without the days after ``as_of`` (not yet attended: not counted)."""
        end = bisect_right(self.days, as_of)
        if end == len(self.days):
            return self
        return DailyAttendance(
            self.student_id, self.days[:end], self.absent[:end], self.grade, self.groups
        )

    def window_rates(self, anchor: dt.date, window: int) -> tuple[float | None, float | None]:
        """Attendance rates over ``window`` school days before ``anchor``, and from it on.

        The before window is the ``window`` enrolled school days strictly before ``anchor``;
        the after window the ``window`` enrolled school days from ``anchor`` (included, when a
        school day) on. A rate is None when the student has fewer such days.
        """
        i = bisect_left(self.days, anchor)
        before = None if i < window else 1.0 - math.fsum(self.absent[i - window : i]) / window
        after = (
            None
            if len(self.days) - i < window
            else 1.0 - math.fsum(self.absent[i : i + window]) / window
        )
        return before, after

    def after_end(self, anchor: dt.date, window: int) -> dt.date | None:
        """The last day of the after window from ``anchor`` (None: the window is short)."""
        i = bisect_left(self.days, anchor)
        return self.days[i + window - 1] if len(self.days) - i >= window else None


AttendanceSource = FactsBuilder | Mapping[str, DailyAttendance]
"""Where the days come from: a builder of raw events, or each student's record by id."""


def daily_lookup(
    attendance: AttendanceSource, as_of: dt.date
) -> Callable[[str, dt.date], DailyAttendance | None]:
    """A function giving a student's days in the school year of a date, up to ``as_of``.

    From a builder, each student-year is read once (one ``facts_for`` as of the year's last
    day or ``as_of``, whichever is first) and kept; a window never reaches into another
    school year, as the builder's own windows do not. From a mapping, the student's record as
    given, cut at ``as_of``.
    """
    if isinstance(attendance, FactsBuilder):
        builder = attendance
        counts = builder.policy.suspensions_count_as_absence
        cache: dict[tuple[str, dt.date], DailyAttendance | None] = {}

        def from_builder(student_id: str, on: dt.date) -> DailyAttendance | None:
            year = builder.school_years.of(on)
            key = (student_id, year.start)
            if key not in cache:
                facts = builder.facts_for(student_id, min(year.end, as_of))
                cache[key] = (
                    None
                    if facts is None
                    else DailyAttendance.from_facts(facts, suspensions_count=counts)
                )
            return cache[key]

        return from_builder
    records = attendance
    cut: dict[str, DailyAttendance] = {}

    def from_mapping(student_id: str, on: dt.date) -> DailyAttendance | None:
        found = cut.get(student_id)
        if found is None:
            given = records.get(student_id)
            if given is None:
                return None
            found = cut[student_id] = given.until(as_of)
        return found

    return from_mapping
