"""``tierflow report progress`` and ``tierflow report operations``: one student, and each school.

``progress`` reads the district's attendance files (one :class:`~tierflow.attendance.FactsBuilder`)
and a store; ``operations`` reads a store and the staff file. Both print text for people, or
write JSON or CSV (the reports' own exports) to standard output or ``--output``.
"""

from __future__ import annotations

import argparse
from typing import Any

from tierflow.cli._queue import _calendars
from tierflow.cli._shell import (
    _escape,
    _extends_option,
    _Failed,
    _load,
    _no_database,
    _Out,
    _write_export,
)

__all__: list[str] = []


def _date(text: str, option: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _Failed(f"{option} must be a date YYYY-MM-DD, got {text!r}") from None


def _db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        required=True,
        help="a SQLite store file, or a database URL (postgresql+psycopg://...)",
    )


def _output_options(p: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    p.add_argument("--format", choices=formats, default="text", help="default: text")
    p.add_argument("--output", "-o", help="write to this file")


def add_progress(sub: Any) -> None:
    """Add ``report progress``: a student's attendance by week with their support."""
    p: argparse.ArgumentParser = sub.add_parser(
        "progress", help="a student's attendance by week, with tiers, interventions and goals"
    )
    p.add_argument("student", metavar="STUDENT", help="the student id")
    _db_option(p)
    p.add_argument(
        "--calendar",
        action="append",
        required=True,
        metavar="FILE",
        help="school calendars (Ed-Fi XML/JSON, CSV); repeatable",
    )
    p.add_argument(
        "--events", action="append", required=True, metavar="FILE", help="attendance events"
    )
    p.add_argument(
        "--enrollments",
        action="append",
        metavar="FILE",
        help="enrollment spans (without: enrolled all year at the school of the events)",
    )
    p.add_argument("--through", required=True, help="the last day shown (YYYY-MM-DD)")
    p.add_argument(
        "--ruleset",
        "-r",
        help="the rule set whose goals and attendance policy to use (default: no goals)",
    )
    _extends_option(p)
    _output_options(p, ("text", "json", "csv", "html"))
    p.set_defaults(func=_cmd_progress)


def add_operations(sub: Any) -> None:
    """Add ``report operations``: caseloads against limits and waiting work per school."""
    p: argparse.ArgumentParser = sub.add_parser(
        "operations", help="caseloads against limits, overdue follow-ups, legal aging per school"
    )
    _db_option(p)
    p.add_argument("--staff", required=True, metavar="FILE", help="the staff file (limits)")
    p.add_argument(
        "--calendar",
        action="append",
        metavar="FILE",
        help="school calendars to count school days on (default: Monday to Friday)",
    )
    p.add_argument("--as-of", required=True, help="the report's date (YYYY-MM-DD)")
    _output_options(p, ("text", "json", "csv"))
    p.set_defaults(func=_cmd_operations)


def _cmd_progress(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.ingest import facts_from_files
    from tierflow.report import Progress, progress
    from tierflow.store import SqlRepository

    if _no_database(args.db, "report progress", err):
        return 2
    through = _date(args.through, "--through")
    ruleset = _load(args.ruleset, args) if args.ruleset else None
    builder = facts_from_files(
        args.calendar,
        args.events,
        enrollments=args.enrollments or (),
        policy=None if ruleset is None else ruleset.attendance_policy,
        school_years=None if ruleset is None else ruleset.school_years,
        assume_full_year=not args.enrollments,
    )
    if builder.report.rejects:
        err.line(f"tierflow report progress: warning: records {builder.report.summary()}")
    with SqlRepository(args.db) as repo:
        report = progress(repo, builder, args.student, through=through, ruleset=ruleset)
    if args.format == "text" and not args.output:
        out.lines(report, lambda r: Progress.to_text(r).rstrip("\n"))
        return 0
    _write_export(report, args, out)
    return 0


def _cmd_operations(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.errors import DataReport
    from tierflow.report import Operations, operations
    from tierflow.runner import read_staff
    from tierflow.store import SqlRepository

    if _no_database(args.db, "report operations", err):
        return 2
    as_of = _date(args.as_of, "--as-of")
    staff_report = DataReport()
    roster = read_staff(args.staff, report=staff_report)
    for problem in staff_report.rejects:
        err.line(f"tierflow report operations: warning: {problem}")
    calendars = _calendars(args.calendar, err, "report operations")
    with SqlRepository(args.db) as repo:
        report = operations(repo, roster, as_of=as_of, calendars=calendars)
    if args.format == "text" and not args.output:
        out.lines(report, lambda r: Operations.to_text(r).rstrip("\n"))
        return 0
    _write_export(report, args, out)
    err.line(_escape(report.summary()))
    return 0
