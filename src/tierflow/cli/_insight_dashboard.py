"""``tierflow report dashboard``: the district dashboard, one self-contained HTML file.

It reads what ``report chronic``, ``report equity`` and ``report effectiveness`` read (a
store, a rule set, the day's facts, and optionally the calendars and attendance events) and
writes the page :func:`tierflow.report.dashboard` lays out. Without ``--events`` the page has
no effectiveness section and no progress page (the store holds who was served, not their
school days); without ``--staff``, no operations sections (the limits are the staff file's).
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from typing import Any

from tierflow.cli._insight_equity import _facts
from tierflow.cli._queue import _calendars
from tierflow.cli._shell import (
    _as_of,
    _escape,
    _extends_option,
    _Failed,
    _load,
    _no_database,
    _Out,
    _require_files,
)
from tierflow.errors import DataReport, StoreError

__all__ = ["add_dashboard"]


def add_dashboard(sub: Any) -> None:
    """Add ``dashboard`` to the ``report`` subcommands."""
    p: argparse.ArgumentParser = sub.add_parser(
        "dashboard",
        help="one self-contained HTML page of charts and tables: absence, equity, effectiveness",
    )
    p.add_argument(
        "--db", required=True, help="a SQLite store file, or a database URL (postgresql+...)"
    )
    p.add_argument("--ruleset", "-r", required=True, help="the rule set (for its tier levels)")
    p.add_argument("--facts", required=True, metavar="FILE", help="the day's facts file")
    p.add_argument("--as-of", required=True, help="read the records as they stood that day")
    p.add_argument(
        "--calendar",
        action="append",
        metavar="FILE",
        help="school calendars: time to support in school days; needed with --events",
    )
    p.add_argument(
        "--events",
        action="append",
        metavar="FILE",
        help="attendance events: with them, the effectiveness section",
    )
    p.add_argument("--enrollments", action="append", metavar="FILE", help="enrollment spans")
    p.add_argument(
        "--assume-full-year",
        action="store_true",
        help="without enrollment records, enrol each student for the whole year (reported)",
    )
    p.add_argument(
        "--staff", metavar="FILE", help="the staff file (caseload limits): the operations sections"
    )
    p.add_argument(
        "--student",
        action="append",
        metavar="ID",
        help="add this student's progress page (repeatable; needs --events)",
    )
    p.add_argument(
        "--window", type=int, default=20, metavar="N", help="school days each side (default 20)"
    )
    p.add_argument(
        "--min-n", type=int, default=10, metavar="N", help="fewest students for an estimate"
    )
    p.add_argument("--title", default="District attendance dashboard", help="the page's title")
    p.add_argument("--output", "-o", required=True, help="the HTML file to write")
    _extends_option(p)
    p.set_defaults(func=_cmd_dashboard)


def _cmd_dashboard(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.ingest import facts_from_files
    from tierflow.report import dashboard
    from tierflow.store import SqlRepository

    if importlib.util.find_spec("matplotlib") is None:  # say so before any work
        err.line(
            "tierflow report dashboard: the charts need matplotlib: pip install 'tierflow[reports]'"
        )
        return 2
    if _no_database(args.db, "report dashboard", err):
        return 2
    if args.events and not args.calendar:
        raise _Failed("--events needs --calendar (the school days the events fall on)")
    if args.student and not args.events:
        raise _Failed("--student needs --events (a progress page counts the student's days)")
    _require_files([args.facts, args.staff, *(args.calendar or ()), *(args.events or ())])
    as_of = _as_of(args.as_of)
    ruleset = _load(args.ruleset, args)
    records = _facts(args.facts, "dashboard", err)
    calendars = _calendars(args.calendar, err, "report dashboard") if args.calendar else None
    roster = None
    if args.staff:
        from tierflow.runner import read_staff

        staff_report = DataReport()
        roster = read_staff(args.staff, report=staff_report)
        for problem in staff_report.rejects:
            err.line(_escape(f"tierflow report dashboard: warning: {problem}"))
    attendance = None
    if args.events:
        attendance = facts_from_files(
            args.calendar,
            args.events,
            enrollments=args.enrollments or (),
            assume_full_year=args.assume_full_year,
        )
        err.line(_escape(f"attendance records: {attendance.report.summary()}"))
    try:
        with SqlRepository(args.db) as repo:
            page = dashboard(
                repo,
                records,
                as_of=as_of,
                ruleset=ruleset,
                calendars=calendars,
                attendance=attendance,
                roster=roster,
                students=args.student or (),
                window=args.window,
                min_n=args.min_n,
                title=args.title,
            )
    except StoreError as exc:
        err.line(f"tierflow report dashboard: {exc}")
        return 2
    except ValueError as exc:
        raise _Failed(str(exc)) from None
    Path(args.output).write_text(page, encoding="utf-8")
    err.line(_escape(f"wrote the dashboard to {args.output} ({len(page):,} characters)"))
    return 0
