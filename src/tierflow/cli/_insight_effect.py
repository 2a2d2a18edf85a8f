"""``tierflow report effectiveness``: attendance before and after support, against a comparison.

The store holds who was served and when; the attendance files hold each student's school
days, read into a :class:`~tierflow.attendance.FactsBuilder` (what ``tierflow evaluate
--events`` reads), so the report counts days the way the rules do.
"""

from __future__ import annotations

import argparse
from typing import Any

from tierflow.cli._shell import _as_of, _escape, _Failed, _no_database, _Out, _write_export
from tierflow.errors import DataReport, StoreError

__all__ = ["add_effectiveness"]

# The library's EFFECT_BY without "intervention" (always the first grouping), written out so
# that building the parser does not import the reports; a test checks they agree.
_BY = ("school", "grade", "group", "owner")


def add_effectiveness(sub: Any) -> None:
    """Add ``effectiveness`` to the ``report`` subcommands."""
    p: argparse.ArgumentParser = sub.add_parser(
        "effectiveness",
        help="attendance before and after each intervention started, against matched students",
    )
    p.add_argument(
        "--db",
        required=True,
        help="a SQLite store file, or a database URL (postgresql+psycopg://...)",
    )
    p.add_argument(
        "--calendar", action="append", required=True, metavar="FILE", help="school calendars"
    )
    p.add_argument(
        "--events", action="append", required=True, metavar="FILE", help="attendance events"
    )
    p.add_argument("--enrollments", action="append", metavar="FILE", help="enrollment spans")
    p.add_argument("--groups", action="append", metavar="FILE", help="student groups")
    p.add_argument(
        "--assume-full-year",
        action="store_true",
        help="without enrollment records, enrol each student for the whole year (reported)",
    )
    p.add_argument("--as-of", help="read records and attendance up to this day (default: today)")
    p.add_argument(
        "--window", type=int, default=20, metavar="N", help="school days each side (default 20)"
    )
    p.add_argument(
        "--by", action="append", choices=_BY, help="also group by this (repeat for several)"
    )
    p.add_argument(
        "--separately",
        action="store_true",
        help="rows for the district and for each --by key on its own, not their combinations",
    )
    p.add_argument(
        "--min-n", type=int, default=10, metavar="N", help="fewest students for an estimate"
    )
    p.add_argument(
        "--caliper",
        type=float,
        default=0.05,
        metavar="X",
        help="largest before-rate difference a match may have (default 0.05)",
    )
    p.add_argument("--seed", type=int, default=0, help="the bootstrap's seed (default 0)")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text")
    p.add_argument("--output", "-o", help="write to this file")
    p.set_defaults(func=_cmd_effectiveness)


def _cmd_effectiveness(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.ingest import facts_from_files
    from tierflow.report import effectiveness
    from tierflow.store import SqlRepository

    if _no_database(args.db, "report effectiveness", err):
        return 2
    as_of = _as_of(args.as_of)
    calendar_report = DataReport()
    builder = facts_from_files(
        args.calendar,
        args.events,
        enrollments=args.enrollments or (),
        groups=args.groups or (),
        assume_full_year=args.assume_full_year,
        calendar_report=calendar_report,
    )
    for warning in calendar_report.rejects + calendar_report.warnings:
        err.line(_escape(f"warning: {warning}"))
    err.line(_escape(f"attendance records: {builder.report.summary()}"))
    for note in builder.report.assumptions:
        err.line(_escape(f"assumed: {note}"))
    try:
        with SqlRepository(args.db) as repo:
            report = effectiveness(
                repo,
                builder,
                as_of=as_of,
                window=args.window,
                by=("intervention", *(args.by or ())),
                min_n=args.min_n,
                caliper=args.caliper,
                seed=args.seed,
                separately=args.separately,
            )
    except StoreError as exc:
        err.line(f"tierflow report effectiveness: {exc}")
        return 2
    except ValueError as exc:
        raise _Failed(str(exc)) from None
    if args.format == "text" and not args.output:
        out.lines(report, lambda r: type(r).to_text(r).rstrip("\n"))
        return 0
    _write_export(report, args, out)
    err.line(_escape(report.summary()))
    return 0
