"""From attendance files to facts: calendars, enrollments, groups and events into a builder.

The whole raw-data pipeline a host (or the command line's ``--events``) runs before
evaluation, as one call: :func:`facts_from_files` reads every file, counts every record in one
:class:`~tierflow.DataReport` and returns the :class:`~tierflow.attendance.FactsBuilder`, whose
``facts(as_of)`` are ready for :meth:`~tierflow.CompiledRuleset.evaluate_many`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tierflow.attendance import CalendarSet, CauseMap, FactsBuilder, SchoolCalendar, SchoolYears
from tierflow.errors import DataError, DataReport
from tierflow.ingest._calendars import read_calendars
from tierflow.ingest._events import read_enrollments, read_events
from tierflow.ingest._groups import read_groups
from tierflow.spec import AttendancePolicy, ColumnMapping

__all__ = ["facts_from_files"]


def facts_from_files(
    calendars: Iterable[str | Path],
    events: Iterable[str | Path],
    *,
    enrollments: Iterable[str | Path] = (),
    groups: Iterable[str | Path] = (),
    mapping: ColumnMapping | str | Path | None = None,
    policy: AttendancePolicy | None = None,
    school_years: SchoolYears | None = None,
    assume_full_year: bool = False,
    calendar_report: DataReport | None = None,
) -> FactsBuilder:
    r"""Read attendance files into a :class:`~tierflow.attendance.FactsBuilder`.

    The calendars' Ed-Fi sessions, when they have any, say which school year a date is in (the
    district's own data); else ``school_years`` does (a rule set's ``school_years``). Sessions
    whose years overlap or leave a gap are a warning, and ``school_years`` is used.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "cal.csv").write_text("calendar_id,date\nlincoln,2025-09-08\n"
    ...                                     "lincoln,2025-09-09\n")
    >>> _ = (folder / "ev.csv").write_text("student_id,school_id,date,category\n"
    ...                                    "s1,lincoln,2025-09-08,unexcused_absence\n"
    ...                                    "s1,lincoln,2025-09-31,tardy\n")
    >>> builder = facts_from_files([folder / "cal.csv"], [folder / "ev.csv"],
    ...                            assume_full_year=True)
    >>> builder.report.summary()
    'read 2, accepted 1, rejected 1 (ingest.invalid_date 1)'
    >>> import datetime as dt
    >>> next(builder.facts(dt.date(2025, 9, 9)))["days_absent"]
    1.0

    Args:
        calendars: Calendar files (:func:`~tierflow.ingest.read_calendars`).
        events: Attendance event files (:func:`~tierflow.ingest.read_events`).
        enrollments: Enrollment files; without them, see ``assume_full_year``.
        groups: Student group files (:func:`~tierflow.ingest.read_groups`).
        mapping: A :class:`~tierflow.spec.ColumnMapping` (or its file) for vendor exports; its
            ``causes`` go before the built-in reason keywords.
        policy: How events are counted (a rule set's ``attendance_policy``).
        school_years: The school years when the calendars have no sessions (default: July 1).
        assume_full_year: Take a student with events but no enrollment as enrolled all year.
        calendar_report: Where the calendar files' records are counted, their unreadable
            records rejected and their disagreements put as warnings (default: a new report,
            not returned). The enrollment, group and event records are counted in the
            builder's ``report``.

    Raises:
        OSError: A file cannot be opened.
        RulesetError: ``mapping`` names a mapping file that is not valid.
    """
    cmap = ColumnMapping.load(mapping) if isinstance(mapping, (str, Path)) else mapping
    notes = DataReport() if calendar_report is None else calendar_report
    found: dict[str, SchoolCalendar] = {}
    sessions = CalendarSet()
    for path in calendars:
        calendar_set = read_calendars(path, report=notes)
        found.update(calendar_set.calendars)
        sessions.sessions.extend(calendar_set.sessions)
    years = school_years if school_years is not None else SchoolYears()
    if sessions.sessions:
        try:
            years = sessions.school_years(f"{years.month:02d}-{years.day:02d}")
        except DataError as exc:  # sessions whose years overlap: the rule set's day is used
            notes.warnings.append(
                DataError(
                    exc.code,
                    f"{exc.reason}; school years start on the rule set's day instead",
                    student_id=exc.student_id,
                    source=exc.source,
                    field=exc.field,
                )
            )
    builder = FactsBuilder(
        found,
        policy=policy,
        causes=CauseMap.default(cmap.causes if cmap else None),
        assume_full_year=assume_full_year,
        school_years=years,
    )
    report = builder.report
    for path in enrollments:
        builder.add_enrollments(read_enrollments(path, mapping=cmap, report=report))
    for path in groups:
        for item in read_groups(path, report=report):
            builder.add_groups(item)
    for path in events:
        builder.add_events(read_events(path, mapping=cmap, report=report))
    return builder
