"""Attendance data: school calendars, enrollment spans and raw events, turned into facts.

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

from tierflow.attendance._build import FactsBuilder, IngestReport
from tierflow.attendance._calendar import SchoolCalendar
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
from tierflow.attendance._io import (
    CalendarSet,
    ColumnMapping,
    read_calendars,
    read_enrollments,
    read_events,
    read_groups,
)
from tierflow.attendance._policy import AttendancePolicy
from tierflow.attendance._years import SchoolYear, SchoolYears

__all__ = [
    "ABSENCE_CATEGORIES",
    "CATEGORIES",
    "AttendanceEvent",
    "AttendancePolicy",
    "CalendarSet",
    "CauseMap",
    "ColumnMapping",
    "Enrollment",
    "FactsBuilder",
    "IngestReport",
    "SchoolCalendar",
    "SchoolYear",
    "SchoolYears",
    "StudentGroups",
    "category_of",
    "group_of",
    "read_calendars",
    "read_enrollments",
    "read_events",
    "read_groups",
]
