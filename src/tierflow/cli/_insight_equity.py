"""``tierflow report chronic`` and ``tierflow report equity``: who is absent, who is missed.

``chronic`` reads a facts file alone (FS195's chronic absence: district, schools, groups, or
the FS195 records); ``equity`` reads a store and the facts file (coverage of Tier 2/3
students, time to support, chronic-absence and legal-step rates by group, and the groups that
reach legal steps with less support first).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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

__all__: list[str] = []


def _facts(path: str, command: str, err: _Out) -> list[dict[str, Any]]:
    """The records of a facts file; each record that cannot be read is a warning on ``err``."""
    from tierflow.ingest import read_facts

    _require_files([path])
    report = DataReport()
    records = [dict(r.facts) for r in read_facts(path, report=report)]
    for problem in report.rejects:
        err.line(f"tierflow report {command}: rejected: {problem}")
    return records


def _write(text: str, args: argparse.Namespace, out: _Out) -> None:
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        out.data(text)


def add_chronic(sub: Any) -> None:
    """Add ``report chronic`` to the ``report`` subcommands."""
    p: argparse.ArgumentParser = sub.add_parser(
        "chronic", help="chronic absence as EDFacts FS195 counts it: district, schools, groups"
    )
    p.add_argument("--facts", required=True, metavar="FILE", help="the day's facts file")
    p.add_argument("--as-of", help="the date the facts are as of (shown in the report)")
    p.add_argument("--format", choices=("text", "json", "csv", "fs195"), default="text")
    p.add_argument("--lea-id", metavar="ID", help="the state's LEA identifier (fs195)")
    p.add_argument("--state-code", metavar="CODE", help="the state's FIPS code (fs195)")
    p.add_argument("--state-agency", metavar="N", help="the state agency number (fs195)")
    p.add_argument("--output", "-o", help="write to this file")
    p.set_defaults(func=_cmd_chronic)


def _cmd_chronic(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.report import ChronicAbsence, chronic_absence

    as_of = None if args.as_of is None else _as_of(args.as_of)
    records = _facts(args.facts, "chronic", err)
    try:
        report = chronic_absence(records, as_of=as_of)
    except ValueError as exc:
        raise _Failed(str(exc)) from None
    if args.format == "text" and not args.output:
        out.lines(report, lambda r: ChronicAbsence.to_text(r).rstrip("\n"))
        return 0
    if args.format == "fs195":
        text = report.to_fs195_csv(
            state_code=args.state_code, state_agency=args.state_agency, lea_id=args.lea_id
        )
    else:
        text = getattr(report, f"to_{args.format}")()
    _write(text, args, out)
    err.line(_escape(report.summary()))
    return 0


def add_equity(sub: Any) -> None:
    """Add ``report equity`` to the ``report`` subcommands."""
    p: argparse.ArgumentParser = sub.add_parser(
        "equity",
        help="coverage of Tier 2/3 students, time to support, legal steps by student group",
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
        help="school calendars: time to support in school days (default: calendar days)",
    )
    p.add_argument(
        "--margin",
        type=float,
        default=10.0,
        metavar="POINTS",
        help="flag a group whose support-first share is this many points below the district's",
    )
    p.add_argument(
        "--min-legal",
        type=int,
        default=1,
        metavar="N",
        help="students with a legal step a group needs before it can be flagged (default 1)",
    )
    p.add_argument("--format", choices=("text", "json", "csv"), default="text")
    p.add_argument("--output", "-o", help="write to this file")
    _extends_option(p)
    p.set_defaults(func=_cmd_equity)


def _cmd_equity(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.report import EquityReport, equity_report
    from tierflow.store import SqlRepository

    if _no_database(args.db, "report equity", err):
        return 2
    if not 0 <= args.margin <= 100:
        raise _Failed(f"--margin must be between 0 and 100 points, got {args.margin}")
    as_of = _as_of(args.as_of)
    ruleset = _load(args.ruleset, args)
    records = _facts(args.facts, "equity", err)
    calendars = _calendars(args.calendar, err, "report equity") if args.calendar else None
    try:
        with SqlRepository(args.db) as repo:
            report = equity_report(
                repo,
                records,
                as_of=as_of,
                ruleset=ruleset,
                calendars=calendars,
                margin=args.margin / 100,
                min_legal=args.min_legal,
            )
    except StoreError as exc:
        err.line(f"tierflow report equity: {exc}")
        return 2
    except ValueError as exc:
        raise _Failed(str(exc)) from None
    if args.format == "text" and not args.output:
        out.lines(report, lambda r: EquityReport.to_text(r).rstrip("\n"))
        return 0
    _write(getattr(report, f"to_{args.format}")(), args, out)
    err.line(_escape(report.summary()))
    return 0
