"""``tierflow run``, ``advance`` and ``timeline``: the workflow's school days from the shell."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import Counter
from typing import Any

from tierflow.cli._shell import (
    _extends_option,
    _Failed,
    _load,
    _no_database,
    _Out,
    _Progress,
    _progress_options,
    _reject_options,
    _require_files,
    _require_rejects_folder,
    _table,
    _UsageError,
    _write_rejects,
)
from tierflow.errors import DataReport
from tierflow.ingest import read_calendars
from tierflow.report import event_record
from tierflow.runner import read_staff, run_facts_file, run_files
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, Intervention, WorkflowEvent

__all__: list[str] = []

_DB_HELP = "the store: a SQLite file (created if missing), or a database URL"


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _Failed(f"{option} must be a date YYYY-MM-DD, got {text!r}") from None


def _add_run_commands(sub: Any) -> None:
    """Add ``run``, ``advance`` and ``timeline`` to the parser's subcommands."""
    p = sub.add_parser("run", help="run the workflow for a school day, or a range of days")
    p.add_argument("--db", required=True, help=_DB_HELP)
    p.add_argument("--ruleset", "-r", required=True, help="built-in rule set or a path")
    raw = p.add_argument_group("raw attendance data (or --facts)")
    raw.add_argument("--events", action="append", metavar="FILE", help="attendance events")
    raw.add_argument(
        "--calendar",
        action="append",
        metavar="FILE",
        help="school calendars (which days are school days; with --facts: follow-up dates)",
    )
    raw.add_argument("--enrollments", action="append", metavar="FILE", help="enrollment spans")
    raw.add_argument("--groups", action="append", metavar="FILE", help="student groups")
    raw.add_argument("--mapping", metavar="FILE", help="column mapping for vendor CSV exports")
    raw.add_argument(
        "--assume-full-year",
        action="store_true",
        help="without enrollment records, enrol students for the whole year at their school",
    )
    p.add_argument("--facts", metavar="FILE", help="students' facts as of --on (instead)")
    p.add_argument("--staff", metavar="FILE", help="who owns interventions (CSV, JSON)")
    p.add_argument("--on", metavar="DATE", help="the day to run")
    p.add_argument("--from", dest="start", metavar="DATE", help="the first day of a range")
    p.add_argument("--to", dest="end", metavar="DATE", help="the last day of a range")
    p.add_argument("--format", choices=("text", "json"), default="text")
    _reject_options(p)
    _extends_option(p)
    _progress_options(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("advance", help="move missed follow-ups to due and flag the overdue")
    p.add_argument("--db", required=True, help="a SQLite store file, or a database URL")
    p.add_argument("--ruleset", "-r", required=True, help="built-in rule set or a path")
    p.add_argument("--on", required=True, metavar="DATE", help="today's date")
    p.add_argument(
        "--calendar", action="append", metavar="FILE", help="school calendars (the grace days)"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    _extends_option(p)
    p.set_defaults(func=_cmd_advance)

    p = sub.add_parser("timeline", help="everything recorded for a student, in order")
    p.add_argument("student", metavar="STUDENT", help="the student id")
    p.add_argument("--db", required=True, help="a SQLite store file, or a database URL")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_cmd_timeline)


def _days_wanted(args: argparse.Namespace) -> tuple[dt.date, dt.date]:
    """The range ``--on`` or ``--from``/``--to`` names."""
    if args.on is not None and (args.start is not None or args.end is not None):
        raise _UsageError("give either --on DATE or --from DATE --to DATE, not both")
    if args.on is not None:
        day = _date(args.on, "--on")
        return day, day
    if args.start is None or args.end is None:
        raise _UsageError("give --on DATE, or --from DATE and --to DATE")
    start, end = _date(args.start, "--from"), _date(args.end, "--to")
    if end < start:
        raise _UsageError(f"--to {end} is before --from {start}")
    return start, end


def _check_run(args: argparse.Namespace) -> list[str | None]:
    """Refuse inputs that do not fit together; return every file named."""
    if args.facts is not None and (args.events or args.enrollments or args.groups or args.mapping):
        raise _UsageError("give either --facts or --events (with --calendar), not both")
    if args.facts is None and not args.events:
        raise _UsageError("give --events FILE and --calendar FILE, or --facts FILE")
    if args.events and not args.calendar:
        raise _UsageError("--events needs --calendar FILE (the school days)")
    if args.facts is not None and args.on is None:
        raise _UsageError("a facts file describes one day: give --on DATE")
    return [
        args.facts,
        args.staff,
        *(args.events or ()),
        *(args.calendar or ()),
        *(args.enrollments or ()),
        *(args.groups or ()),
        args.mapping,
    ]


def _cmd_run(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    files = _check_run(args)
    start, end = _days_wanted(args)
    ruleset = _load(args.ruleset, args)
    _require_files(files)
    _require_rejects_folder(args)
    progress = _Progress(err, "school days run", args.progress)
    report = DataReport()
    calendar_notes = DataReport()
    skipped: list[dt.date] = []
    with SqlRepository(args.db) as repo:
        if args.facts is not None:
            roster = None if args.staff is None else read_staff(args.staff, report=report)
            calendars = {}
            for path in args.calendar or ():
                calendars.update(read_calendars(path, report=calendar_notes).calendars)
            days = run_facts_file(
                ruleset,
                repo,
                args.facts,
                on=start,
                roster=roster,
                calendars=calendars,
                report=report,
            )
            skipped = [] if days else [start]
        else:
            try:
                found = run_files(
                    ruleset,
                    repo,
                    calendars=args.calendar,
                    events=args.events,
                    enrollments=args.enrollments or (),
                    groups=args.groups or (),
                    mapping=args.mapping,
                    staff=args.staff,
                    start=start,
                    end=end,
                    assume_full_year=args.assume_full_year,
                    progress=progress,
                )
            finally:
                progress.close()
            days, skipped, report, calendar_notes = (
                found.days,
                found.skipped,
                found.report,
                found.calendar_report,
            )
        location = ":memory:" if args.db == ":memory:" else str(repo.path)
    for warning in calendar_notes.rejects + calendar_notes.warnings:
        err.line(f"warning: {warning}")
    for note in report.assumptions:
        err.line(f"assumed: {note}")
    err.line(f"records: {report.summary()}")
    _write_rejects(report.rejects, args, err)
    if args.format == "json":
        data = {
            "db": location,
            "days": [d.to_dict() for d in days],
            "skipped": [d.isoformat() for d in skipped],
            "records": {"read": report.read, "accepted": report.accepted},
            "rejected": [
                {
                    "source": r.source,
                    "student_id": r.student_id,
                    "code": r.code,
                    "field": r.field,
                    "message": r.reason,
                }
                for r in report.rejects
            ],
        }
        out.data(json.dumps(data, indent=2) + "\n")
    else:
        for day in days:
            if day.recorded:
                out.line(day.line())
        total = sum(d.recorded for d in days)
        opened = sum(d.opened for d in days)
        out.line(
            f"{location}: {len(days)} school day{'s' * (len(days) != 1)} run, "
            f"{opened} opened, {total} events recorded"
        )
        if skipped:
            out.line(
                f"skipped {len(skipped)} day{'s' * (len(skipped) != 1)} the store's records "
                f"have gone past ({skipped[0]} to {skipped[-1]})"
            )
    return 1 if report.rejects and args.strict else 0


def _due_row(iv: Intervention) -> dict[str, Any]:
    return {
        "id": iv.id,
        "student_id": iv.student_id,
        "intervention": iv.intervention,
        "owner": iv.owner,
        "state": iv.state,
        "next_follow_up": None if iv.next_follow_up is None else iv.next_follow_up.isoformat(),
        "overdue": iv.overdue,
    }


def _cmd_advance(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    if _no_database(args.db, "advance", err):
        return 2
    now = _date(args.on, "--on")
    ruleset = _load(args.ruleset, args)
    _require_files(args.calendar or ())
    calendars = {}
    for path in args.calendar or ():
        calendars.update(read_calendars(path).calendars)
    kinds: Counter[str] = Counter()
    with SqlRepository(args.db) as repo:

        def work() -> Any:
            kinds.clear()
            engine = Engine(ruleset, repository=repo, calendars=calendars)
            engine.subscribe(lambda event: kinds.update((event.kind,)))
            return engine.advance(now)

        plan = repo.run_batch(work)
    due = [_due_row(iv) for iv in plan.due]
    if args.format == "json":
        data = {"day": now.isoformat(), "due": due, "events": dict(sorted(kinds.items()))}
        out.data(json.dumps(data, indent=2) + "\n")
        return 0
    if due:
        header = ("student", "intervention", "owner", "state", "follow-up", "overdue")
        rows = [
            (
                d["student_id"],
                d["intervention"],
                d["owner"] or "-",
                d["state"],
                d["next_follow_up"] or "-",
                "yes" if d["overdue"] else "",
            )
            for d in due
        ]
        _table([header, *rows], out)
    out.line(
        f"{now}: {len(due)} follow-up{'s' * (len(due) != 1)} due, "
        f"{kinds['transition']} moved to follow_up_due, {kinds['overdue']} newly overdue"
    )
    return 0


def _event_line(event: WorkflowEvent, name: str | None) -> str:
    """One event for people: date, kind, intervention, states or step, who and why."""
    parts = [str(event.at), event.kind]
    if event.intervention_id is not None:
        parts.append(event.intervention_id + (f" ({name})" if name else ""))
    if event.from_state is not None and event.to_state is not None:
        parts.append(f"{event.from_state} -> {event.to_state}")
    elif event.to_state is not None:
        parts.append(event.to_state)
    detail = event.detail or {}
    if event.kind.startswith("legal") and "step" in detail:
        parts.append(str(detail["step"]))
    if event.kind == "opened":
        parts.append(f"owner {detail['owner']}" if detail.get("owner") else "unassigned")
    parts.append(f"by {event.who}")
    return "  ".join(parts) + (f": {event.why}" if event.why else "")


def _cmd_timeline(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    if _no_database(args.db, "timeline", err):
        return 2
    with SqlRepository(args.db) as repo:
        events = repo.events(args.student)
        interventions = {iv.id: iv.intervention for iv in repo.for_student(args.student)}
    if not events:
        err.line(f"tierflow timeline: no records for student {args.student!r} in {args.db}")
        return 1
    if args.format == "json":
        rows = [event_record(e, interventions.get(e.intervention_id or "")) for e in events]
        out.data(json.dumps(rows, indent=2, default=str) + "\n")
        return 0
    for event in events:
        out.line(_event_line(event, interventions.get(event.intervention_id or "")))
    return 0
