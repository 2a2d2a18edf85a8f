"""``tierflow queue``: one owner's, role's or school's work queue, read from a store."""

from __future__ import annotations

import argparse

from tierflow.attendance import SchoolCalendar
from tierflow.cli._shell import _as_of, _escape, _Failed, _no_database, _Out, _write_export
from tierflow.errors import StoreError

__all__: list[str] = []

# The library's QUEUE_BUCKETS and QUEUE_SORTS, written out so that building the parser (for any
# command) does not import the reports; a test checks they are equal.
_BUCKETS = ("overdue", "due_today", "upcoming", "unassigned", "legal_awaiting_evidence")
_NOTICE_BUCKETS = ("returned_notice",)  # shown only when it holds an item (docs/outbox.md)
_SORTS = ("bucket", "due", "age", "student", "tier")


def _queue_options(p: argparse.ArgumentParser) -> None:
    """The ``queue`` command's arguments."""
    p.add_argument(
        "--db",
        required=True,
        help="a SQLite store file, or a database URL (postgresql+psycopg://...)",
    )
    p.add_argument("--as-of", help="the queue's date (default: today)")
    p.add_argument("--owner", metavar="ID", help="only this staff member's interventions")
    p.add_argument("--role", metavar="ROLE", help="only interventions owned by this role")
    p.add_argument("--school", metavar="ID", help="only interventions at this school")
    p.add_argument(
        "--bucket",
        action="append",
        choices=(*_BUCKETS, *_NOTICE_BUCKETS),
        help="only this bucket (repeat for several; default: all)",
    )
    p.add_argument("--sort", choices=_SORTS, default="bucket", help="default: bucket")
    p.add_argument(
        "--upcoming-days",
        type=int,
        default=5,
        metavar="N",
        help="school days ahead that 'upcoming' covers (default: 5)",
    )
    p.add_argument(
        "--calendar",
        action="append",
        metavar="FILE",
        help="school calendars to count school days on (Ed-Fi XML/JSON, CSV; default: "
        "Monday to Friday)",
    )
    p.add_argument("--format", choices=("text", "json", "csv"), default="text")
    p.add_argument("--output", "-o", help="write to this file")


def _calendars(
    files: list[str] | None, err: _Out, command: str = "queue"
) -> dict[str, SchoolCalendar]:
    """The calendars of ``files`` by school id (a problem in a file is a warning on ``err``).

    ``command`` names the command in each warning (``tierflow queue: warning: ...``).
    """
    from tierflow.ingest import read_calendars

    out: dict[str, SchoolCalendar] = {}
    for path in files or ():
        found = read_calendars(path)
        for problem in found.report.rejects + found.report.warnings:
            err.line(f"tierflow {command}: warning: {problem}")
        for cal_id, cal in found.calendars.items():
            out[found.schools.get(cal_id, cal_id)] = cal
    return out


def _cmd_queue(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.report import WorkQueue, work_queue
    from tierflow.store import SqlRepository

    if _no_database(args.db, "queue", err):
        return 2
    if args.upcoming_days < 0:
        raise _Failed(f"--upcoming-days must be 0 or more, got {args.upcoming_days}")
    as_of = _as_of(args.as_of)
    calendars = _calendars(args.calendar, err)
    try:
        with SqlRepository(args.db) as repo:
            queue = work_queue(
                repo,
                as_of,
                owner=args.owner,
                role=args.role,
                school=args.school,
                buckets=args.bucket or (*_BUCKETS, *_NOTICE_BUCKETS),
                upcoming_days=args.upcoming_days,
                calendars=calendars,
                sort=args.sort,
            )
    except StoreError as exc:
        err.line(f"tierflow queue: {exc}")
        return 2
    if args.format == "text" and not args.output:
        # For people: every value escaped (a student id is data), one line at a time.
        out.lines(queue, lambda q: WorkQueue.to_text(q).rstrip("\n"))
        return 0
    _write_export(queue, args, out)
    err.line(_escape(queue.summary()))
    return 0
