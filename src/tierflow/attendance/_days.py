"""One student's days: what the builder keeps per day, and how a day's events fold into counts.

The policy-dependent reading of a single event (which kind of time it records, how much of
the day it takes) is here, used both when events arrive (the conflict rules) and when facts are
counted (:mod:`tierflow.attendance._tally`), so the two cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from tierflow.attendance._calendar import SchoolCalendar
from tierflow.attendance._events import ABSENCE_CATEGORIES, AttendanceEvent, Enrollment, category_of
from tierflow.spec import AttendancePolicy

__all__ = [
    "Day",
    "DayRecord",
    "Student",
    "absence_fraction",
    "event_key",
    "fold_day",
    "kind_of",
    "minutes",
    "span_on",
]


class Day:
    """The accepted events of one student on one day."""

    __slots__ = ("events", "full")

    def __init__(self) -> None:
        self.events: list[AttendanceEvent] = []
        self.full: AttendanceEvent | None = None


_CATEGORY_KIND = {
    "excused_absence": "excused",
    "unexcused_absence": "unexcused",
    "suspension_out": "suspension",
}


class DayRecord:
    """One student-date folded: time missed by kind, whether late, whether a truancy occasion."""

    __slots__ = ("occasion", "parts", "tardy")

    def __init__(self) -> None:
        self.parts = {"excused": 0.0, "unexcused": 0.0, "suspension": 0.0}
        self.tardy = False
        self.occasion = False


@dataclass
class Student:
    spans: list[Enrollment] = field(default_factory=list)
    days: dict[dt.date, Day] = field(default_factory=dict)
    # Explicit "present" records are only marked, one byte per day of the year, so that an SIS
    # that exports every present day does not make memory grow with the number of records.
    present: dict[int, bytearray] = field(default_factory=dict)

    def is_present(self, day: dt.date) -> bool:
        n = day.toordinal()
        marks = self.present.get(n >> 9)
        return marks is not None and marks[n & 511] == 1

    def mark_present(self, day: dt.date, value: int) -> None:
        n = day.toordinal()
        marks = self.present.get(n >> 9)
        if marks is None:
            marks = self.present[n >> 9] = bytearray(512)
        marks[n & 511] = value


def fold_day(
    events: Iterable[AttendanceEvent], cal: SchoolCalendar, policy: AttendancePolicy
) -> DayRecord:
    """Fold one student-date's accepted events into one day record.

    Each event's time goes to one kind (excused, unexcused, suspension): its category, or
    for a partial absence, an early departure or a tardy the reason it gives (``Absent
    excused``...), else the policy (``partial_absence``; a tardy with no reason is
    unexcused). The date is one truancy occasion (California EC 48260) when an unexcused
    event is a full-day absence or lasts more than ``truancy_tardy_minutes``; excused and
    suspension time never makes one, and a date is one occasion however many events say so.
    """
    record = DayRecord()
    for e in events:
        if e.category == "tardy":
            record.tardy = True
        kind = kind_of(e, policy)
        if kind is None:
            continue
        fraction = absence_fraction(e, cal, policy)
        if kind == "unexcused" and (
            fraction >= 1 or minutes(e, cal, policy) > policy.truancy_tardy_minutes
        ):
            record.occasion = True
        if e.category != "tardy" and fraction:  # a late arrival's time is not an absence
            record.parts[kind] += fraction
    return record


def kind_of(event: AttendanceEvent, policy: AttendancePolicy) -> str | None:
    """The kind of time an event records: excused, unexcused, suspension, or None."""
    category = event.category
    if category in _CATEGORY_KIND:
        return _CATEGORY_KIND[category]
    if category not in ("partial", "early_departure", "tardy"):
        return None  # present, in-school suspension: attendance
    said = category_of(event.reason or "")
    if said in ("excused_absence", "unexcused_absence"):
        return "excused" if said == "excused_absence" else "unexcused"
    return "unexcused" if category == "tardy" else policy.partial_absence


def minutes(event: AttendanceEvent, cal: SchoolCalendar, policy: AttendancePolicy) -> float:
    """How many minutes an event covers (0 when neither minutes nor a duration is given)."""
    if event.minutes is not None:
        return float(event.minutes)
    if event.duration is not None:
        return event.duration * policy.minutes_per_day * cal.fraction(event.date)
    return 0.0


def absence_fraction(
    event: AttendanceEvent, cal: SchoolCalendar, policy: AttendancePolicy
) -> float:
    """The fraction of the school day an event takes away (0 for attendance)."""
    if event.category not in ABSENCE_CATEGORIES and event.category != "early_departure":
        return 0.0
    if event.duration is not None:
        return float(event.duration)
    if event.minutes is not None:
        day_minutes = policy.minutes_per_day * cal.fraction(event.date)
        return min(1.0, event.minutes / day_minutes) if day_minutes else 0.0
    return 0.0 if event.category == "early_departure" else 1.0


def event_key(event: AttendanceEvent) -> tuple[str, float, float]:
    """Order a day's accepted events; no two share a key (rule 1 rejects the second)."""
    return (
        event.category,
        -1.0 if event.duration is None else event.duration,
        -1.0 if event.minutes is None else event.minutes,
    )


def span_on(student: Student | None, day: dt.date) -> Enrollment | None:
    if student is None:
        return None
    for span in student.spans:
        if span.entry <= day and (span.exit is None or day <= span.exit):
            return span
    return None
