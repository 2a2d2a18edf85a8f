"""``tierflow outbox`` and ``tierflow delivery``: the notices in a store, and what became of them.

``outbox`` lists every notice rendered with its last delivery status (text, JSON or CSV).
``delivery`` records one report of a notice's delivery (``sent``, ``delivered``, ``returned``,
``bounced``, ``read``) as the engine's ``record_delivery`` does, checked the same way, in one
batch (tried again if another writer got there first). It needs no rule set: a delivery is
about a notice already in the store. As the other staff actions, a refused report records
nothing and exits with status 1; a store that cannot be used, 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from tierflow.cli._run import _date, _event_line
from tierflow.cli._shell import _escape, _no_database, _Out, _write_export
from tierflow.report import event_record
from tierflow.workflow import WorkflowEvent

__all__: list[str] = []

# The library's OUTBOX_STATUSES, written out so that building the parser (for any command)
# does not import the reports; a test checks they are equal.
_STATUSES = ("rendered", "sent", "delivered", "returned", "bounced", "read")
_DB_HELP = "a SQLite store file, or a database URL (postgresql+psycopg://...)"


def _add_outbox_commands(sub: Any) -> None:
    """Add ``outbox`` and ``delivery`` to the parser's subcommands."""
    p = sub.add_parser("outbox", help="every notice rendered, with its last delivery status")
    p.add_argument("--db", required=True, help=_DB_HELP)
    p.add_argument(
        "--status",
        action="append",
        choices=_STATUSES,
        help="only notices with this status (repeat for several; default: all)",
    )
    p.add_argument("--school", metavar="ID", help="only notices recorded for this school")
    p.add_argument("--student", action="append", metavar="ID", help="only this student's")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text")
    p.add_argument("--output", "-o", help="write to this file")
    p.set_defaults(func=_cmd_outbox)

    p = sub.add_parser("delivery", help="record what became of a notice (sent, returned...)")
    p.add_argument("student", metavar="STUDENT")
    p.add_argument("notice", metavar="NOTICE_SEQ", type=int, help="the notice's event number")
    p.add_argument("status", metavar="STATUS", help="sent, delivered, returned, bounced or read")
    p.add_argument("--db", required=True, help=_DB_HELP)
    p.add_argument("--on", metavar="DATE", help="the day it happened (default: today)")
    p.add_argument("--by", required=True, metavar="STAFF", help="who reported it")
    p.add_argument("--note", default="")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_cmd_delivery)


def _cmd_outbox(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.report import Outbox, outbox
    from tierflow.store import SqlRepository

    if _no_database(args.db, "outbox", err):
        return 2
    with SqlRepository(args.db) as repo:
        box = outbox(repo, status=args.status, school=args.school, students=args.student)
    if args.format == "text" and not args.output:
        out.lines(box, lambda b: Outbox.to_text(b).rstrip("\n"))
        return 0
    _write_export(box, args, out)
    err.line(_escape(box.summary()))
    return 0


def _cmd_delivery(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.store import SqlRepository
    from tierflow.workflow._notices import delivery_event

    if _no_database(args.db, "delivery", err):
        return 2
    on = dt.date.today() if args.on is None else _date(args.on, "--on")
    with SqlRepository(args.db) as repo:

        def work() -> WorkflowEvent:
            # Read inside the batch: a retry checks against what the other writer kept.
            events = repo.notice_events([args.student]).get(args.student, [])
            event = delivery_event(
                events, args.student, args.notice, args.status, on=on, by=args.by, note=args.note
            )
            return repo.append(event)

        recorded = repo.run_batch(work)
    if args.format == "json":
        out.data(json.dumps({"events": [event_record(recorded, None)]}, indent=2) + "\n")
    else:
        out.line(f"{recorded.student_id}  {_event_line(recorded, None)}")
    return 0
