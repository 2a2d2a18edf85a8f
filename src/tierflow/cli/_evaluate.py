"""``tierflow evaluate`` and ``explain``: facts or raw attendance data in, decisions out."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tierflow.attendance import FactsBuilder
from tierflow.cli._shell import (
    _PROGRESS_EVERY,
    _as_of,
    _Failed,
    _load,
    _Out,
    _Progress,
    _require_files,
    _require_rejects_folder,
    _UsageError,
    _write_rejects,
)
from tierflow.errors import (
    DataError,
    DataReport,
)
from tierflow.evaluate import CompiledRuleset, Decision
from tierflow.ingest import FactsRecord, facts_from_files, read_facts
from tierflow.pipeline import evaluate_built_facts, evaluate_facts_file

__all__: list[str] = []


def _input_options(p: argparse.ArgumentParser, help_input: str) -> None:
    """Add the inputs ``evaluate`` and ``explain`` share: ``INPUT``, or raw attendance data."""
    p.add_argument("input", metavar="INPUT", nargs="?", help=help_input)
    raw = p.add_argument_group("facts from raw attendance data (instead of INPUT)")
    raw.add_argument(
        "--events", action="append", metavar="FILE", help="attendance events (Ed-Fi XML/JSON, CSV)"
    )
    raw.add_argument(
        "--calendar", action="append", metavar="FILE", help="school calendars (Ed-Fi XML/JSON, CSV)"
    )
    raw.add_argument("--enrollments", action="append", metavar="FILE", help="enrollment spans")
    raw.add_argument(
        "--groups",
        action="append",
        metavar="FILE",
        help="student groups (Ed-Fi characteristics and programs, or CSV student_id,groups)",
    )
    raw.add_argument("--mapping", metavar="FILE", help="column mapping for vendor CSV exports")
    raw.add_argument(
        "--assume-full-year",
        action="store_true",
        help="without enrollment records, enrol students for the whole year at their school",
    )


def _check_inputs(args: argparse.Namespace) -> list[str | None]:
    """Refuse inputs that do not fit together; return every file named, for checking.

    Raises:
        _UsageError: ``INPUT`` with ``--events``, or ``--events`` without ``--calendar``.
    """
    if args.events and args.input is not None:
        raise _UsageError("give either INPUT (facts) or --events, not both")
    if args.events and not args.calendar:
        raise _UsageError("--events needs --calendar FILE")
    raw = [*(args.events or ()), *(args.calendar or ()), *(args.enrollments or ())]
    return [args.input, *raw, *(args.groups or ()), args.mapping]


def _build_facts(ruleset: CompiledRuleset, args: argparse.Namespace, err: _Out) -> FactsBuilder:
    """Fold the raw data the options name into facts, printing what was read and assumed."""
    calendar_report = DataReport()
    builder = facts_from_files(
        args.calendar,
        args.events,
        enrollments=args.enrollments or (),
        groups=args.groups or (),
        mapping=args.mapping or None,
        policy=ruleset.attendance_policy,
        school_years=ruleset.school_years,
        assume_full_year=args.assume_full_year,
        calendar_report=calendar_report,
    )
    for warning in calendar_report.rejects + calendar_report.warnings:
        err.line(f"warning: {warning}")
    built = builder.report
    err.line(f"attendance records: {built.summary()}")
    for note in built.assumptions:
        err.line(f"assumed: {note}")
    for note in built.ignored:
        err.line(f"ignored: {note}")
    return builder


def _decision_line(decision: Decision, args: argparse.Namespace) -> str:
    """One JSON line: ``Decision.to_dict()``, with ``--explain`` its explanation too."""
    data = decision.to_dict()
    if args.explain:
        explanation = decision.explain()
        data["explanation"] = (
            str(explanation) if args.explain_format == "text" else explanation.to_dict()
        )
    return json.dumps(data, default=str) + "\n"


def _records_in(path: str) -> int | None:
    """How many records a JSON Lines or CSV file holds, counted by lines (None: not known).

    A progress bar's total, read before the work: a count of newlines is cheap next to
    evaluating, and exact but for CSV fields holding newlines (the bar then ends early).
    """
    suffix = Path(path).suffix.lower()
    if path == "-" or suffix not in (".jsonl", ".ndjson", ".csv"):
        return None
    with open(path, "rb") as fh:
        lines = sum(1 for line in fh if line.strip())
    return max(lines - (suffix == ".csv"), 0)


def _evaluate_stream(
    ruleset: CompiledRuleset,
    path: str,
    as_of: dt.date,
    report: DataReport,
    progress: _Progress,
) -> Iterator[tuple[FactsRecord, Decision]]:
    """:func:`~tierflow.pipeline.evaluate_facts_file`, drawing ``progress`` (records read)."""
    total = _records_in(path) if progress.shown else None

    # Redraw every 0.5% of a known total (or every _PROGRESS_EVERY records): counts skip
    # the rejected records, so crossing a step is what is tested, not landing on it.
    step = max(total // 200, 1) if total else _PROGRESS_EVERY
    shown = [0]

    def show(count: int) -> None:
        if count // step > shown[0] // step or count == total:
            shown[0] = count
            progress(count, total)

    name, stream = ("<stdin>.jsonl", sys.stdin) if path == "-" else (path, None)
    try:
        yield from evaluate_facts_file(
            ruleset, name, as_of=as_of, report=report, stream=stream, on_record=show
        )
    finally:
        progress.close()


def _events_stream(
    ruleset: CompiledRuleset,
    args: argparse.Namespace,
    as_of: dt.date,
    report: DataReport,
    err: _Out,
) -> Iterator[tuple[FactsRecord, Decision]]:
    """Build facts from calendars, enrollments and events, then evaluate them."""
    builder = _build_facts(ruleset, args, err)
    report.rejects.extend(builder.report.rejects)
    yield from evaluate_built_facts(ruleset, builder, as_of=as_of, report=report)


def _cmd_evaluate(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    files = _check_inputs(args)
    if not args.events and args.input is None:
        raise _UsageError("give INPUT (a facts file) or --events and --calendar")
    ruleset = _load(args.ruleset, args)
    _require_files(files)
    _require_rejects_folder(args)
    as_of = _as_of(args.as_of)
    report = DataReport()
    rejects = report.rejects
    accepted = 0
    progress = _Progress(err, "records evaluated", args.progress)
    if args.events:
        stream = _events_stream(ruleset, args, as_of, report, err)
        for _, decision in stream:
            out.data(_decision_line(decision, args))
            accepted += 1
        students = sum(1 for r in rejects if r.source and r.source.startswith("student "))
        _write_rejects(rejects, args, err)
        err.line(f"students: {accepted:,} evaluated, {students:,} rejected")
        return 1 if rejects and args.strict else 0
    for _, decision in _evaluate_stream(ruleset, args.input, as_of, report, progress):
        out.data(_decision_line(decision, args))
        accepted += 1
    _write_rejects(rejects, args, err)
    err.line(
        f"read {accepted + len(rejects):,} records: {accepted:,} evaluated, "
        f"{len(rejects):,} rejected"
    )
    return 1 if rejects and args.strict else 0


def _explain_facts(args: argparse.Namespace) -> Any:
    """The facts ``--facts`` gives on the command line (a JSON object).

    It is decoded as a facts file is (:class:`~tierflow.ingest._json.SafeJson`): nesting too
    deep, ``NaN``, ``Infinity`` and numbers too large are refused, not passed on.
    """
    from tierflow.ingest._json import JsonProblem, SafeJson

    try:
        facts = SafeJson().decode(args.facts)
    except JsonProblem as exc:
        cause = exc.__cause__
        if isinstance(cause, json.JSONDecodeError):
            problem = f"is not valid JSON: {cause.msg} at column {cause.colno}"
        else:
            where = f" at column {exc.column}" if exc.column is not None else ""
            problem = f"is refused ({exc.code}): {exc.message}{where}"
        raise _UsageError(f"--facts {problem}") from None
    if not isinstance(facts, dict):
        raise _UsageError(f"--facts must be a JSON object, got {type(facts).__name__}")
    return facts


def _student_built(
    ruleset: CompiledRuleset, args: argparse.Namespace, as_of: dt.date, err: _Out
) -> dict[str, Any]:
    """The student's facts, folded from the raw attendance data the options name."""
    builder = _build_facts(ruleset, args, err)
    for facts in builder.facts(as_of):
        if str(facts.get("student_id")) == args.student:
            return facts
    raise _Failed(f"no student {args.student!r} in the attendance records")


def _student_in_file(
    ruleset: CompiledRuleset, args: argparse.Namespace, err: _Out
) -> dict[str, Any] | None:
    """The first record of the student in ``INPUT``; None (said on ``err``) if it is bad."""
    kinds = {name: decl.type for name, decl in ruleset.spec.facts.extra.items()}
    report = DataReport()
    found: dict[str, Any] | None = None
    for item in read_facts(args.input, extra_kinds=kinds, report=report):
        if str(item.facts.get("student_id")) == args.student:
            found = dict(item.facts)
            break
    # The records refused before the student's (all of them, if it was not found).
    for bad in report.rejects:
        if bad.student_id == args.student:  # the student's record is bad: say why
            err.line(f"tierflow: {bad}")
            return None
    if found is None:
        raise _Failed(f"no student {args.student!r} in {args.input}")
    return found


def _cmd_explain(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    files = _check_inputs(args)
    given = args.input is not None or bool(args.events)
    if args.facts is None and args.student is None:
        raise _UsageError(
            "give --student ID and the INPUT file that holds it, or --facts JSON "
            "(or --events and --calendar instead of INPUT)"
        )
    if args.facts is not None and (args.student is not None or given):
        raise _UsageError("give either --facts JSON or --student ID with INPUT, not both")
    if args.facts is None and not given:
        raise _UsageError(
            f"--student {args.student} needs the INPUT file that holds it "
            "(or --events and --calendar)"
        )
    ruleset = _load(args.ruleset, args)
    _require_files(files)
    as_of = _as_of(args.as_of)
    if args.facts is not None:
        facts = _explain_facts(args)
    elif args.events:
        facts = _student_built(ruleset, args, as_of, err)
    else:
        facts = _student_in_file(ruleset, args, err)
        if facts is None:
            return 1
    try:
        explanation = ruleset.explain(facts, as_of=as_of)
    except DataError as exc:
        err.line(f"tierflow: {exc}")
        return 1
    if args.format == "json":
        out.data(json.dumps(explanation.to_dict(), indent=2, default=str) + "\n")
    else:
        out.lines(explanation)
    return 0
