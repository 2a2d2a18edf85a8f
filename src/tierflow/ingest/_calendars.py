"""Read school calendars: Ed-Fi ``CalendarDate`` and ``Session`` records, or tierflow's columns."""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.parsers.expat
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from tierflow.attendance import CalendarSet, SchoolCalendar
from tierflow.errors import DataError, DataReport
from tierflow.ingest._rows import records
from tierflow.ingest._values import list_of, parse_date, parse_number, reference, text_of
from tierflow.ingest._xml import xml_error, xml_items

__all__ = ["read_calendars"]


INSTRUCTIONAL = frozenset({"instructional day", "make-up day", "makeup day", "make up day"})

_SCHOOL_YEAR = re.compile(r"(\d{4})(?:\s*[-/]\s*(\d{4}))?")


def calendar_set(
    days: Mapping[str, set[dt.date]],
    fractions: Mapping[str, dict[dt.date, float]],
    schools: Mapping[str, str],
    sessions: list[tuple[str, str, dt.date, dt.date, int, str]],
    report: DataReport,
    sources: Mapping[str, dict[dt.date, str]] | None = None,
) -> CalendarSet:
    """The calendars of the dates read, with what disagrees in ``report.warnings``.

    A calendar refused whole or a session's disagreeing day count is a warning, not a reject:
    each of its records was read well.
    """
    out = CalendarSet(report=report)
    for cal_id, dates in sorted(days.items()):
        if not dates:
            continue
        try:
            out.calendars[cal_id] = SchoolCalendar(
                cal_id, dates, fractions.get(cal_id), sources=(sources or {}).get(cal_id)
            )
        except DataError as err:
            report.warnings.append(err)
            continue
        out.schools[cal_id] = schools.get(cal_id, cal_id)
    for school, session, begin, end, stated, source in sessions:
        for cal_id, cal in out.calendars.items():
            if out.schools[cal_id] != school:
                continue
            counted = cal.count(begin, end)
            if counted != stated:
                report.warnings.append(
                    DataError(
                        "calendar.session_mismatch",
                        f"session {session!r} of school {school} states {stated} instructional "
                        f"days from {begin} to {end}, but calendar {cal_id!r} has {counted}; "
                        "the calendar dates are used",
                        source=source,
                    )
                )
    return out


def _day_count(text: str, source: str) -> int:
    """A session's ``TotalInstructionalDays``: a whole number of days in a year (0 to 366)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 <= value <= 366 and value.is_integer()):
        raise DataError(
            "ingest.invalid_number",
            f"TotalInstructionalDays {text[:30]!r} is not a whole number of days from 0 to 366",
            source=source,
            field="TotalInstructionalDays",
        )
    return int(value)


def _xml_calendars(path: Path, report: DataReport) -> CalendarSet:
    name = str(path)
    days: dict[str, set[dt.date]] = defaultdict(set)
    fractions: dict[str, dict[dt.date, float]] = defaultdict(dict)
    sources: dict[str, dict[dt.date, str]] = defaultdict(dict)
    schools: dict[str, str] = {}
    sessions: list[tuple[str, str, dt.date, dt.date, int, str]] = []
    years: list[tuple[int, dt.date, dt.date]] = []
    try:
        for line, rec in xml_items(path, frozenset({"CalendarDate", "Session"})):
            if isinstance(rec, DataError):
                report.reject(rec)
                continue
            source = f"{name}:{line}"
            try:
                if rec.tag == "Session":
                    total = rec.value("TotalInstructionalDays")
                    school, begin, end = (
                        rec.value("SchoolId"),
                        rec.value("BeginDate"),
                        rec.value("EndDate"),
                    )
                    if total and school and begin and end:
                        sessions.append(
                            (
                                school,
                                rec.value("SessionName") or "",
                                parse_date(begin, source, None, "BeginDate", None),
                                parse_date(end, source, None, "EndDate", None),
                                _day_count(total, source),
                                source,
                            )
                        )
                    year = rec.value("SchoolYear")
                    if year and begin and end:
                        years.append(
                            (
                                _school_year(year, source),
                                parse_date(begin, source, None, "BeginDate", None),
                                parse_date(end, source, None, "EndDate", None),
                            )
                        )
                    report.accept()
                    continue
                school = rec.value("SchoolId")
                text = rec.value("Date")
                if school is None or text is None:
                    raise DataError(
                        "ingest.missing_value",
                        "a CalendarDate needs a Date and a SchoolId",
                        source=source,
                    )
                cal_id = rec.value("CalendarCode") or school
                schools[cal_id] = school
                day = parse_date(text, source, None, "Date", None)
                kinds = [v.rsplit("#", 1)[-1].strip().lower() for v in rec.values("CalendarEvent")]
                days.setdefault(cal_id, set())
                if any(k in INSTRUCTIONAL for k in kinds):
                    days[cal_id].add(day)
                    text = rec.value("EventDuration")
                    duration = (
                        None if text is None else parse_number(text, source, None, "EventDuration")
                    )
                    if duration is not None and duration != 1:
                        # A shortened day; one outside (0, 1] refuses the calendar, naming
                        # this record (calendar.invalid).
                        fractions[cal_id][day] = duration
                        sources[cal_id][day] = source
            except DataError as err:
                report.reject(err)
            else:
                report.accept()
    except xml.parsers.expat.ExpatError as exc:
        report.reject(xml_error(exc, name))
    found = calendar_set(days, fractions, schools, sessions, report, sources)
    found.sessions = years
    return found


def _school_year(text: str, source: str) -> int:
    """A session's ``SchoolYear``, named by the year it ends in: ``2021-2022`` or ``2022``."""
    match = _SCHOOL_YEAR.fullmatch(text.strip())
    if match is None or (match[2] is not None and int(match[2]) != int(match[1]) + 1):
        raise DataError(
            "calendar.invalid",
            f"SchoolYear {text[:30]!r} is not a school year (2021-2022, or 2022 for the year "
            "ending in 2022)",
            source=source,
            field="SchoolYear",
        )
    return int(match[2] or match[1])


def read_calendars(path: str | Path, *, report: DataReport | None = None) -> CalendarSet:
    """Read school calendars from a file.

    ``.xml``: Ed-Fi ``CalendarDate`` rows ("Instructional day" and "Make-up day" count) and
    ``Session`` totals, which are checked against the dates; ``.json``/``.jsonl``: Ed-Fi API
    ``calendarDates`` or tierflow's columns; ``.csv``: ``calendar_id, date`` and optionally
    ``fraction`` (a shortened day) and ``school_id``. Every listed date of a tierflow file is an
    instructional day.

    Args:
        path: The file.
        report: Where to count the records and put the ones that cannot be read, as
            :attr:`CalendarSet.report` (default: a new report). A calendar refused as a whole
            and a session whose day count its dates contradict are its ``warnings``.
    """
    file = Path(path)
    report = DataReport() if report is None else report
    if file.suffix.lower() == ".xml":
        return _xml_calendars(file, report)
    days: dict[str, set[dt.date]] = defaultdict(set)
    fractions: dict[str, dict[dt.date, float]] = defaultdict(dict)
    sources: dict[str, dict[dt.date, str]] = defaultdict(dict)
    schools: dict[str, str] = {}
    for item in records(file, ("calendar_id", "date"), None):
        if isinstance(item, DataError):
            report.reject(item)
            continue
        source, row = item
        try:
            if "calendarReference" in row:
                ref = reference(row, "calendarReference", source)
                cal_id = text_of(ref.get("calendarCode")) or text_of(ref.get("schoolId"))
                school = text_of(ref.get("schoolId")) or cal_id
                kinds = [
                    str(e.get("calendarEventDescriptor", "")).rsplit("#", 1)[-1].strip().lower()
                    for e in list_of(row, "calendarEvents", source)
                    if isinstance(e, dict)
                ]
                instructional = any(k in INSTRUCTIONAL for k in kinds)
                fraction = None
            else:
                cal_id = text_of(row.get("calendar_id"))
                school = text_of(row.get("school_id")) or cal_id
                instructional = True
                fraction = parse_number(row.get("fraction"), source, None, "fraction")
            if cal_id is None or text_of(row.get("date")) is None:
                raise DataError(
                    "ingest.missing_value",
                    "a calendar date needs a calendar and a date",
                    source=source,
                )
            day = parse_date(str(row["date"]), source, None, "date", None)
            schools[cal_id] = str(school)
            days.setdefault(cal_id, set())
            if instructional:
                days[cal_id].add(day)
                if fraction is not None and fraction != 1:
                    fractions[cal_id][day] = fraction
                    sources[cal_id][day] = source
        except DataError as err:
            report.reject(err)
        else:
            report.accept()
    return calendar_set(days, fractions, schools, [], report, sources)
