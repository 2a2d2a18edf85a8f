"""Attendance data: school calendars, enrollment spans and raw events, turned into facts.

No file is read here: :mod:`tierflow.ingest` reads the files, and the counting choices
(:class:`~tierflow.spec.AttendancePolicy`) are rule-set settings in :mod:`tierflow.spec`.

>>> import datetime as dt
>>> from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
>>> cal = SchoolCalendar.from_pattern("lincoln", dt.date(2025, 8, 18), dt.date(2025, 12, 19))
>>> builder = FactsBuilder({"lincoln": cal})
>>> builder.add_enrollment(Enrollment("s1", "lincoln", dt.date(2025, 8, 18)))
True
>>> builder.add_event(AttendanceEvent("s1", "lincoln", dt.date(2025, 9, 2), "excused_absence"))
True
>>> facts = builder.facts_for("s1", as_of=dt.date(2025, 9, 5))
>>> facts["days_enrolled"], facts["days_absent"], facts["days_present"]
(15, 1.0, 14.0)
"""

from tierflow.attendance._build import FactsBuilder
from tierflow.attendance._calendar import CalendarSet, SchoolCalendar
from tierflow.attendance._events import (
    ABSENCE_CATEGORIES,
    CATEGORIES,
    AttendanceEvent,
    CauseMap,
    Enrollment,
    StudentGroups,
    category_of,
    group_of,
)
from tierflow.attendance._years import SchoolYear, SchoolYears

__all__ = [
    "ABSENCE_CATEGORIES",
    "CATEGORIES",
    "AttendanceEvent",
    "CalendarSet",
    "CauseMap",
    "Enrollment",
    "FactsBuilder",
    "SchoolCalendar",
    "SchoolYear",
    "SchoolYears",
    "StudentGroups",
    "category_of",
    "group_of",
]
