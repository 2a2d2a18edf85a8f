"""Staff actions from the shell: assign, check in, note, record, open, close, issue.

Each command opens the store, builds an engine on it (the rule set, and the roster and calendars
when given), does one action in one batch (tried again if another writer got there first), and
prints the events it recorded: one line each for people, or ``{"events": [...]}`` with
``--format json``. A refused action (a full caseload, an unknown cause, a step not due) records
nothing and exits with status 1; a store that cannot be used, 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from tierflow.cli._run import _date, _event_line
from tierflow.cli._shell import (
    _extends_option,
    _Failed,
    _load,
    _no_database,
    _Out,
    _require_files,
)
from tierflow.errors import DataReport, WorkflowError
from tierflow.ingest import read_calendars, read_facts
from tierflow.report import event_record
from tierflow.runner import read_staff
from tierflow.store import SqlRepository
from tierflow.workflow import CONTACT_OUTCOMES, CONTACT_TYPES, Engine, WorkflowEvent

__all__: list[str] = []

_Action = Callable[[Engine, argparse.Namespace, dt.date], object]


def _common(p: argparse.ArgumentParser, *, staff: bool = False) -> None:
    p.add_argument("--db", required=True, help="the store: a SQLite file, or a database URL")
    p.add_argument("--ruleset", "-r", required=True, help="built-in rule set or a path")
    p.add_argument(
        "--on",
        "--as-of",
        dest="on",
        metavar="DATE",
        help="the day it happened (default: today)",
    )
    p.add_argument("--by", required=True, metavar="STAFF", help="who did it (a staff id)")
    p.add_argument(
        "--staff",
        metavar="FILE",
        required=staff,
        help="the roster (CSV, JSON): owners, roles and caseload limits"
        + ("" if staff else " (freed places are offered to waiting cases)"),
    )
    p.add_argument(
        "--calendar", action="append", metavar="FILE", help="school calendars (follow-up dates)"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    _extends_option(p)


def _add_casework_commands(sub: Any) -> None:
    """Add the staff actions to the parser's subcommands."""
    for name, doc in (
        ("assign", "give an intervention to a staff member (within their caseload limit)"),
        ("reassign", "move an owned intervention to another staff member"),
    ):
        p = sub.add_parser(name, help=doc)
        p.add_argument("intervention", metavar="INTERVENTION", help="the intervention id")
        p.add_argument("owner", metavar="STAFF", help="who takes it")
        p.add_argument("--reason", required=True)
        p.add_argument(
            "--override", action="store_true", help="go over the caseload limit (recorded)"
        )
        _common(p, staff=True)
        p.set_defaults(func=_command(name, _assign))

    p = sub.add_parser("unassign", help="take an intervention from its owner")
    p.add_argument("intervention", metavar="INTERVENTION")
    p.add_argument("--reason", required=True)
    _common(p)
    p.set_defaults(func=_command("unassign", _unassign))

    p = sub.add_parser("check-in", help="record a check-in on an intervention")
    p.add_argument("intervention", metavar="INTERVENTION")
    p.add_argument("--goal-met", choices=("yes", "no"), help="the owner's judgement")
    p.add_argument("--contact-type", choices=CONTACT_TYPES, default="meeting")
    p.add_argument("--outcome", help="effectiveness (positive, mixed, no_discernible...)")
    p.add_argument("--note", default="")
    _common(p)
    p.set_defaults(func=_command("check-in", _check_in))

    p = sub.add_parser("note", help="add a note to a student's timeline")
    p.add_argument("student", metavar="STUDENT")
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--intervention", metavar="ID", help="the intervention it is about")
    _common(p)
    p.set_defaults(func=_command("note", _note))

    p = sub.add_parser("record", help="record a conference, a contact attempt or a barrier")
    what = p.add_subparsers(dest="record_command", required=True)
    q = what.add_parser("conference", help="a conference held or attempted (legal evidence)")
    q.add_argument("student", metavar="STUDENT")
    q.add_argument("kind", metavar="KIND", help="parent_conference, sart...")
    q.add_argument("--outcome", choices=("held", "attempted"), default="held")
    q.add_argument("--method", help="letter, call, email, home_visit... (needed if attempted)")
    q.add_argument("--note", default="")
    _common(q)
    q.set_defaults(func=_command("record conference", _conference))
    q = what.add_parser("contact", help="an attempt to reach the family")
    q.add_argument("student", metavar="STUDENT")
    q.add_argument("--method", required=True, help="call, letter, email, home_visit...")
    q.add_argument("--outcome", required=True, choices=CONTACT_OUTCOMES)
    q.add_argument("--note", default="")
    q.add_argument("--intervention", metavar="ID")
    _common(q)
    q.set_defaults(func=_command("record contact", _contact))
    q = what.add_parser("barrier", help="the cause behind the absences (a fact on the next run)")
    q.add_argument("student", metavar="STUDENT")
    q.add_argument("cause", metavar="CAUSE", help="a cause of the rule set (transportation...)")
    q.add_argument("--note", default="")
    q.add_argument("--intervention", metavar="ID")
    _common(q)
    q.set_defaults(func=_command("record barrier", _barrier))

    p = sub.add_parser("open", help="open an intervention of the catalogue by hand")
    p.add_argument("student", metavar="STUDENT")
    p.add_argument("catalogue_id", metavar="INTERVENTION", help="a catalogue id (home-visit)")
    p.add_argument("--reason", required=True)
    p.add_argument("--school", help="the student's school (default: their latest case's)")
    p.add_argument("--tier", help="a tier id, if not the catalogue entry's")
    _common(p)
    p.set_defaults(func=_command("open", _open))

    p = sub.add_parser("close", help="close an open intervention for a reason")
    p.add_argument("intervention", metavar="INTERVENTION")
    p.add_argument("--reason", required=True)
    _common(p)
    p.set_defaults(func=_command("close", _close))

    p = sub.add_parser("issue", help="record a legal step issued (only when it is due)")
    p.add_argument("student", metavar="STUDENT")
    p.add_argument("step", metavar="STEP", help="a legal step of the rule set (not1...)")
    p.add_argument("--facts", required=True, metavar="FILE", help="facts holding the student")
    _common(p)
    p.set_defaults(func=_command("issue", _issue))


def _command(name: str, action: _Action) -> Callable[[argparse.Namespace, _Out, _Out], int]:
    def run(args: argparse.Namespace, out: _Out, err: _Out) -> int:
        return _act(name, action, args, out, err)

    return run


def _act(name: str, action: _Action, args: argparse.Namespace, out: _Out, err: _Out) -> int:
    if _no_database(args.db, name, err):
        return 2
    on = dt.date.today() if args.on is None else _date(args.on, "--on")
    ruleset = _load(args.ruleset, args)
    _require_files([args.staff, *(args.calendar or ()), getattr(args, "facts", None)])
    report = DataReport()
    roster = None if args.staff is None else read_staff(args.staff, report=report)
    for problem in report.rejects:
        err.line(f"rejected: {problem}")
    calendars = {}
    for path in args.calendar or ():
        calendars.update(read_calendars(path).calendars)
    recorded: list[WorkflowEvent] = []
    names: dict[str, str] = {}
    with SqlRepository(args.db) as repo:

        def work() -> None:
            recorded.clear()  # a retried batch starts again, from what the store holds now
            if roster is not None:
                roster.load.clear()  # the new engine counts the store's caseloads into it
            engine = Engine(ruleset, repository=repo, roster=roster, calendars=calendars)
            engine.subscribe(recorded.append)
            action(engine, args, on)

        repo.run_batch(work)
        for ev in recorded:
            if ev.intervention_id is not None and ev.intervention_id not in names:
                names[ev.intervention_id] = repo.get(ev.intervention_id).intervention
    if args.format == "json":
        events = [event_record(ev, names.get(ev.intervention_id or "")) for ev in recorded]
        out.data(json.dumps({"events": events}, indent=2) + "\n")
    else:
        for ev in recorded:
            out.line(f"{ev.student_id}  {_event_line(ev, names.get(ev.intervention_id or ''))}")
    return 0


# --- the actions: each one call of the engine ---------------------------------------------------


def _assign(engine: Engine, args: argparse.Namespace, on: dt.date) -> object:
    if args.command == "reassign" and engine.repository.get(args.intervention).owner is None:
        raise WorkflowError(f"{args.intervention} has no owner to move; use assign")
    return engine.assign(
        args.intervention, args.owner, on=on, by=args.by, reason=args.reason, override=args.override
    )


def _unassign(engine: Engine, args: argparse.Namespace, on: dt.date) -> object:
    return engine.unassign(args.intervention, on=on, by=args.by, reason=args.reason)


def _check_in(engine: Engine, args: argparse.Namespace, on: dt.date) -> object:
    return engine.check_in(
        args.intervention,
        on=on,
        by=args.by,
        goal_met=None if args.goal_met is None else args.goal_met == "yes",
        contact_type=args.contact_type,
        note=args.note,
        outcome=args.outcome,
    )


def _note(engine: Engine, args: argparse.Namespace, on: dt.date) -> object:
    return engine.add_note(
        args.student, args.text, on=on, by=args.by, intervention_id=args.intervention
    )


def _conference(engine: Engine, args: argparse.Namespace, on: dt.date) -> object:
    return engine.record_conference(
        args.student,
        args.kind,
        on=on,
        by=args.by,
        outcome=args.outcome,
        method=args.method,
        note=args.note,
    )


def _contact(engine: Engine, args: argparse.Namespace, on: dt.date) -> object:
    return engine.record_contact(
        args.student,
        args.method,
        args.outcome,
        on=on,
        by=args.by,
        note=args.note,
        intervention_id=args.intervention,
    )


def _barrier(engine: Engine, args: argparse.Namespace, on: dt.date) -> object:
    return engine.record_barrier(
        args.student,
        args.cause,
        on=on,
        by=args.by,
        note=args.note,
        intervention_id=args.intervention,
    )


def _open(engine: Engine, args: argparse.Namespace, on: dt.date) -> object:
    return engine.open_intervention(
        args.student,
        args.catalogue_id,
        on=on,
        by=args.by,
        reason=args.reason,
        school_id=args.school,
        tier=args.tier,
    )


def _close(engine: Engine, args: argparse.Namespace, on: dt.date) -> object:
    return engine.close(args.intervention, on=on, by=args.by, reason=args.reason)


def _issue(engine: Engine, args: argparse.Namespace, on: dt.date) -> object:
    kinds = {name: d.type for name, d in engine.ruleset.spec.facts.extra.items()}
    for item in read_facts(args.facts, extra_kinds=kinds, report=DataReport()):
        if str(item.facts.get("student_id")) == args.student:
            return engine.issue_legal(args.student, args.step, on=on, by=args.by, facts=item.facts)
    raise _Failed(f"no student {args.student!r} in {args.facts}")
