"""The ``tierflow`` command: a thin shell over the library.

Commands: ``check`` (compile rule sets, print every problem), ``test`` (run inline tests),
``evaluate`` (facts in, JSON Lines decisions out), ``explain`` (one student, in words),
``schema`` (JSON Schema of the rule set format), ``demo`` (a bundled sample district) and
``audit verify`` (tamper evidence of a store's records) and ``export packet`` (a student's
documentation).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import errno
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import IO, Any, NoReturn

from tierflow.compile import builtin_names
from tierflow.errors import (
    DataError,
    DataReport,
    Problem,
    RulesetError,
    StoreError,
    TierflowError,
)
from tierflow.evaluate import CompiledRuleset, load_ruleset
from tierflow.ingest import FactsRecord, read_facts

__all__ = ["main"]

_PROGRESS_EVERY = 5_000


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What a terminal would act on instead of showing: C0 (tab and newline too), DEL, C1, and the
bidirectional embeddings, overrides and isolates that reorder what is shown (Trojan Source)."""

_UNSAFE_IN_DATA = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""The same, except the newline that ends a line of a document."""


def _escape(text: str) -> str:
    r"""``text`` with each character of :data:`_UNSAFE` written as :func:`repr` writes it.

    A backslash is kept as it is, so escaping twice changes nothing (``\x1b`` stays four
    characters) and a Windows path stays readable.

    >>> print(_escape("x1\x1b]0;pwned\x07\tand\nnext\u202e"))
    x1\x1b]0;pwned\x07\tand\nnext\u202e
    """
    return _UNSAFE.sub(lambda m: repr(m.group())[1:-1], text)


def _escaped(value: Any) -> Any:
    r"""A copy of ``value`` with every text in it escaped (dataclasses, tuples, lists, dicts).

    An object that renders itself over several lines (an explanation, an impact report) is
    escaped field by field before it is rendered, so that a newline inside a value is shown as
    ``\n`` and cannot start a line of its own.
    """
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_escaped(v) for v in value)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        copy = value.copy()  # keeps a Counter a Counter and a defaultdict's factory
        copy.clear()
        dict.update(copy, {_escaped(k): _escaped(v) for k, v in value.items()})
        return copy
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _escaped(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **fields)
    return value


class _Out:
    """Where a command writes: the one place its output is made safe for a terminal.

    Human-readable text goes through :meth:`line` (or :meth:`lines`), one line a call, with
    every control character of the text escaped. Machine output (JSON, YAML, a CSV or HTML
    document) goes through :meth:`data` as it is, its format escaping its values, except that
    on a terminal control characters other than the newline are escaped too.
    """

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def is_terminal(self) -> bool:
        """Whether the stream is a terminal (progress counts are shown only there)."""
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty is not None and isatty())

    def line(self, text: str = "") -> None:
        """Write ``text`` as one line: a newline or control character in it is escaped."""
        self.stream.write(_escape(text) + "\n")

    def lines(self, value: Any, render: Callable[[Any], str] = str) -> None:
        """Write an object that renders itself over several lines, its values escaped first."""
        for text in render(_escaped(value)).split("\n"):
            self.line(text)

    def progress(self, text: str) -> None:
        """Overwrite the current line of a terminal with ``text`` (a count, no input text)."""
        self.stream.write("\r" + _escape(text))
        self.stream.flush()

    def data(self, text: str) -> None:
        """Write machine output (JSON, YAML, CSV, HTML) as it is; escaped on a terminal."""
        if self.is_terminal():
            text = _UNSAFE_IN_DATA.sub(lambda m: repr(m.group())[1:-1], text)
        self.stream.write(text)


class _UsageError(Exception):
    """A command's arguments do not fit together: exit status 2, as for argparse's errors."""


class _Failed(Exception):
    """A command cannot go on (a bad ``--as-of``, no such student): ``SystemExit``, status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, with the argument it complains about escaped (it is printed as given)."""

    def error(self, message: str) -> NoReturn:
        """Print the usage and ``message`` (escaped), and exit with status 2."""
        super().error(_escape(message))


def _require_files(paths: Iterable[str | None]) -> None:
    """Fail before any work is done when an input file named on the command line is missing.

    Raises:
        OSError: ``FileNotFoundError`` or ``IsADirectoryError`` naming the file (exit status 2).
    """
    for path in paths:
        if path is None or path == "-" or Path(path).is_file():
            continue
        code = errno.EISDIR if Path(path).is_dir() else errno.ENOENT
        error = IsADirectoryError if code == errno.EISDIR else FileNotFoundError
        raise error(code, os.strerror(code), path)


def _require_rejects_folder(args: argparse.Namespace) -> None:
    """Fail before any work is done when ``--rejects FILE`` cannot be written (no such folder)."""
    if args.rejects and not Path(args.rejects).parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), args.rejects)


def _file_problem(exc: OSError) -> str:
    """One line naming the file a command could not read or write, and why."""
    if exc.filename is None:
        return str(exc)
    return f"{exc.filename}: {exc.strerror or exc}"


def _ruleset_files(paths: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Each rule set file to load, with the folder it was found in when a folder was named.

    A file found in a folder may extend any file of that folder's tree (``schools/x.yaml``
    extending ``../district.yaml``), as the one who named the folder allowed.
    """
    out: list[tuple[str, list[str]]] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(f for f in path.rglob("*.y*ml") if f.suffix in (".yaml", ".yml"))
            out += [(str(f), [p]) for f in found]
        else:
            out.append((p, []))
    return out


def _load(source: str, args: argparse.Namespace, roots: Sequence[str] = ()) -> CompiledRuleset:
    """Load a rule set named on the command line, its ``extends`` allowed in ``--extends-root``."""
    return load_ruleset(source, extends_roots=[*roots, *(args.extends_root or ())])


def _extends_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--extends-root",
        action="append",
        metavar="DIR",
        help="also let extends name files in this folder tree (default: only the built-ins and "
        "the loaded rule set's own folder tree); repeatable",
    )


def _load_all(
    paths: Sequence[str], args: argparse.Namespace
) -> tuple[list[CompiledRuleset], list[Problem]]:
    rulesets: list[CompiledRuleset] = []
    problems: list[Problem] = []
    for p, roots in _ruleset_files(paths):
        try:
            rulesets.append(_load(p, args, roots))
        except RulesetError as exc:
            problems += exc.problems
    return rulesets, problems


def _cmd_check(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.analysis import analyze

    rulesets, problems = _load_all(args.paths, args)
    errors = len(problems)
    for r in rulesets:
        problems.extend(f.as_problem() for f in analyze(r))
    warnings = sum(1 for p in problems if p.severity == "warning")
    failed = bool(errors or (args.strict and warnings))
    if args.format == "json":
        document = {
                "ok": not failed,
                "rulesets": [
                    {"id": r.id, "version": r.version, "files": list(r.files)} for r in rulesets
                ],
                "problems": [
                    {
                        "file": p.span.file,
                        "line": p.span.line,
                        "col": p.span.col,
                        "code": p.code,
                        "message": p.message,
                        "path": p.path,
                        "hint": p.hint,
                        "severity": p.severity,
                    }
                    for p in problems
                ],
            }  # fmt: skip
        out.data(json.dumps(document, indent=2) + "\n")
    else:
        for p in problems:
            out.line(f"{p}")
        for r in rulesets:
            out.line(
                f"ok {r.files[-1]} ({r.id} {r.version}, {len(r.tiers)} tiers, "
                f"{len(r.spec.rules)} rules, {len(r.legal_steps)} legal steps)"
            )
        if errors:
            out.line(f"{errors} problem(s)")
        if warnings:
            out.line(f"{warnings} warning(s){' (--strict: failing)' if args.strict else ''}")
    return 1 if failed else 0


def _cmd_test(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.analysis import boundary_cases, coverage

    rulesets, problems = _load_all(args.paths, args)
    for p in problems:
        out.line(f"{p}")
    if args.boundaries:
        import yaml

        for r in rulesets:
            out.line(f"# boundary cases for {r.id}: review, then paste into its tests:")
            out.data(yaml.safe_dump(boundary_cases(r), sort_keys=False, width=100))
        return 1 if problems else 0
    passed = failed = 0
    for r in rulesets:
        for result in r.run_tests():
            if result.passed:
                passed += 1
                if args.verbose:
                    out.line(f"PASS {r.id}: {result.name}")
            else:
                failed += 1
                out.line(f"FAIL {result.location}: {r.id}: {result.name}")
                for d in result.diffs:
                    out.line(f"    {d}")
    for r in rulesets:
        if args.coverage:
            out.line(f"coverage of {r.id}: {coverage(r).summary()}")
    out.line(f"{passed} passed, {failed} failed")
    return 1 if failed or problems else 0


def _as_of(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _Failed(f"--as-of must be a date YYYY-MM-DD, got {text!r}") from None


def _evaluate_stream(
    ruleset: CompiledRuleset,
    path: str,
    as_of: dt.date,
    rejects: list[DataError],
    progress: _Out | None,
) -> Iterator[tuple[FactsRecord, Any]]:
    """Read facts and evaluate them; counts go to ``progress`` (None: no counts)."""
    kinds = {name: decl.type for name, decl in ruleset.spec.facts.extra.items()}
    stream = sys.stdin if path == "-" else None
    name = "<stdin>.jsonl" if path == "-" else path
    report = DataReport(rejects=rejects)  # unreadable records join the caller's rejects
    count = taken = 0
    for item in read_facts(name, stream=stream, extra_kinds=kinds, report=report):
        taken += 1
        count = taken + report.read  # the reader counts the records it refuses
        if progress is not None and count // _PROGRESS_EVERY > (count - 1) // _PROGRESS_EVERY:
            progress.progress(f"{count:,} records read, {len(rejects):,} rejected")
        try:
            yield item, ruleset.evaluate(item.facts, as_of=as_of)
        except DataError as exc:
            sid = item.facts.get("student_id")
            rejects.append(exc.with_source(item.source, student=None if sid is None else str(sid)))
    if progress is not None and taken + report.read >= _PROGRESS_EVERY:
        progress.line()


def _write_rejects(rejects: list[DataError], args: argparse.Namespace, err: _Out) -> None:
    if args.rejects:
        with open(args.rejects, "w", encoding="utf-8") as fh:
            for r in rejects:
                fh.write(
                    json.dumps(
                        {
                            "source": r.source,
                            "student_id": r.student_id,
                            "code": r.code,
                            "field": r.field,
                            "message": r.reason,
                        }
                    )
                    + "\n"
                )
    for r in rejects[: args.show_rejects]:
        err.line(f"rejected: {r}")
    if len(rejects) > args.show_rejects:
        err.line(
            f"... {len(rejects) - args.show_rejects} more rejected records"
            f"{' (see ' + args.rejects + ')' if args.rejects else ' (use --rejects FILE)'}"
        )


def _events_stream(
    ruleset: CompiledRuleset,
    args: argparse.Namespace,
    as_of: dt.date,
    rejects: list[DataError],
    err: _Out,
) -> Iterator[tuple[FactsRecord, Any]]:
    """Build facts from calendars, enrollments and events, then evaluate them."""
    from tierflow.ingest import facts_from_files

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
    report = builder.report
    rejects.extend(report.rejects)
    err.line(f"attendance records: {report.summary()}")
    for note in report.assumptions:
        err.line(f"assumed: {note}")
    for note in report.ignored:
        err.line(f"ignored: {note}")
    for facts in builder.facts(as_of):
        record = FactsRecord(f"student {facts['student_id']}", facts)
        try:
            yield record, ruleset.evaluate(facts, as_of=as_of)
        except DataError as exc:
            rejects.append(exc.with_source(record.source))


def _cmd_evaluate(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    if args.events and args.input is not None:
        raise _UsageError("give either INPUT (facts) or --events, not both")
    if args.events and not args.calendar:
        raise _UsageError("--events needs --calendar FILE")
    if not args.events and args.input is None:
        raise _UsageError("give INPUT (a facts file) or --events and --calendar")
    raw = [*(args.events or ()), *(args.calendar or ()), *(args.enrollments or ())]
    ruleset = _load(args.ruleset, args)
    _require_files([args.input, *raw, *(args.groups or ()), args.mapping])
    _require_rejects_folder(args)
    as_of = _as_of(args.as_of)
    rejects: list[DataError] = []
    accepted = 0
    progress = err if err.is_terminal() else None
    if args.events:
        stream = _events_stream(ruleset, args, as_of, rejects, err)
        for _, decision in stream:
            data = decision.to_dict()
            if args.explain:
                data["explanation"] = str(decision.explain())
            out.data(json.dumps(data) + "\n")
            accepted += 1
        students = sum(1 for r in rejects if r.source and r.source.startswith("student "))
        _write_rejects(rejects, args, err)
        err.line(f"students: {accepted:,} evaluated, {students:,} rejected")
        return 1 if rejects and args.strict else 0
    for _, decision in _evaluate_stream(ruleset, args.input, as_of, rejects, progress):
        data = decision.to_dict()
        if args.explain:
            data["explanation"] = str(decision.explain())
        out.data(json.dumps(data) + "\n")
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


def _cmd_explain(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    if args.facts is None and args.student is None:
        raise _UsageError("give --student ID and the INPUT file that holds it, or --facts JSON")
    if args.facts is not None and (args.student is not None or args.input is not None):
        raise _UsageError("give either --facts JSON or --student ID with INPUT, not both")
    if args.facts is None and args.input is None:
        raise _UsageError(f"--student {args.student} needs the INPUT file that holds it")
    ruleset = _load(args.ruleset, args)
    _require_files([args.input])
    as_of = _as_of(args.as_of)
    if args.facts is not None:
        facts = _explain_facts(args)
    else:
        facts = None
        kinds = {name: decl.type for name, decl in ruleset.spec.facts.extra.items()}
        report = DataReport()
        for item in read_facts(args.input, extra_kinds=kinds, report=report):
            if str(item.facts.get("student_id")) == args.student:
                facts = item.facts
                break
        # The records refused before the student's (all of them, if it was not found).
        for bad in report.rejects:
            if bad.student_id == args.student:  # the student's record is bad: say why
                err.line(f"tierflow: {bad}")
                return 1
        if facts is None:
            raise _Failed(f"no student {args.student!r} in {args.input}")
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


def _cmd_diff(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.analysis import Impact, impact

    old, new = _load(args.old, args), _load(args.new, args)
    _require_files([args.facts])
    _require_rejects_folder(args)
    kinds = {name: decl.type for r in (old, new) for name, decl in r.spec.facts.extra.items()}
    rejects: list[DataError] = []
    report = DataReport(rejects=rejects)  # a record that cannot be read is reported, not dropped
    sources: dict[str, str | None] = {}  # student id -> its record (None: several records)
    taken = 0

    def records() -> Iterator[dict[str, Any]]:
        nonlocal taken
        for item in read_facts(args.facts, extra_kinds=kinds, report=report):
            taken += 1
            sid = str(item.facts.get("student_id"))
            sources[sid] = None if sid in sources else item.source
            yield item.facts

    result = impact(old, new, records(), as_of=_as_of(args.as_of))
    read = taken + report.read
    for exc in result.rejected:  # records either rule set could not evaluate
        rejects.append(exc.with_source(sources.get(str(exc.student_id))))
    result.rejected = rejects
    if args.format == "json":
        out.data(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        out.lines(result, Impact.report)
    _write_rejects(rejects, args, err)
    err.line(f"read {read:,} records: {result.students:,} compared, {len(rejects):,} rejected")
    return 1 if rejects and args.strict else 0


def _cmd_schema(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.spec import ruleset_json_schema

    text = json.dumps(ruleset_json_schema(), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        out.data(text)
    return 0


def _table(rows: Sequence[Sequence[str]], out: _Out) -> None:
    cells = [[_escape(c) for c in row] for row in rows]  # columns as wide as what is printed
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    for n, row in enumerate(cells):
        out.line(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            out.line("  ".join("-" * w for w in widths))


def _cmd_demo(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow._sample import SAMPLE_AS_OF

    ruleset = load_ruleset(args.ruleset)
    sample = resources.files("tierflow") / "data" / "sample_district.jsonl"
    tiers: collections.Counter[str] = collections.Counter()
    ivs: collections.Counter[str] = collections.Counter()
    legal: collections.Counter[tuple[str, str]] = collections.Counter()
    rejects: list[DataError] = []
    first_legal = None
    total = 0
    students: list[dict[str, Any]] = []
    with resources.as_file(sample) as path:
        for item, decision in _evaluate_stream(ruleset, str(path), SAMPLE_AS_OF, rejects, None):
            total += 1
            students.append(dict(item.facts))
            tiers[decision.tier] += 1
            ivs.update(i.id for i in decision.interventions)
            legal.update((a.step, a.status) for a in decision.legal_actions)
            if first_legal is None and decision.legal_blocked and decision.tier_level >= 2:
                first_legal = item
    out.line(
        f"tierflow demo: {total:,} students of the bundled sample district through the built-in "
        f"'{ruleset.id}' rule set ({ruleset.ref}), as of {SAMPLE_AS_OF.isoformat()}"
    )
    out.line()
    rows: list[tuple[str, ...]] = [("tier", "students", "share")]
    for t in ruleset.tiers:
        rows.append(
            (
                f"{t.id} ({t.label or t.id})",
                f"{tiers[t.id]:,}",
                f"{tiers[t.id] / max(total, 1):.1%}",
            )
        )
    _table(rows, out)
    out.line()
    rows = [("intervention", "owner", "students")]
    for iv_id, n in ivs.most_common(10):
        rows.append((iv_id, ruleset.interventions[iv_id].owner, f"{n:,}"))
    _table(rows, out)
    if legal:
        out.line()
        rows = [("legal step", "due", "blocked", "exempt")]
        for step in ruleset.legal_steps:
            rows.append(
                (
                    step.label or step.id,
                    *(f"{legal[(step.id, s)]:,}" for s in ("due", "blocked", "exempt")),
                )
            )
        _table(rows, out)
    if rejects:
        out.line()
        out.line(f"{len(rejects)} records rejected")
        for r in rejects[:5]:
            out.line(f"  {r}")
    status = _demo_records(ruleset, students, args.db, SAMPLE_AS_OF, out, err)
    if first_legal is not None:
        out.line()
        out.line(f"One student, explained ({first_legal.source}):")
        out.lines(ruleset.explain(first_legal.facts, as_of=SAMPLE_AS_OF))
    return status


def _demo_records(
    ruleset: CompiledRuleset,
    facts: list[dict[str, Any]],
    db: str,
    day: dt.date,
    out: _Out,
    err: _Out,
) -> int:
    """Run the workflow engine over the demo's students, keeping its records in ``db``.

    A generated staff (four people per owner role at each school, 75 cases each) owns the
    interventions. Running the same day again opens nothing and adds no event.
    """
    from tierflow.errors import StoreError
    from tierflow.store import SqlRepository
    from tierflow.workflow import Engine, Roster, StaffMember

    roles = sorted({iv.owner for iv in ruleset.interventions.values()})
    schools = sorted({str(f["school_id"]) for f in facts if f.get("school_id") is not None})
    staff = [
        StaffMember(f"{school}-{role}-{n}", school, (role,), caseload_limit=75)
        for school in schools
        for role in roles
        for n in range(1, 5)
    ]
    where = "in memory (gone when the demo ends)" if db == ":memory:" else f"in {db}"
    try:
        with SqlRepository(db) as repo:
            before = sum(seq for seq, _ in repo.chain_heads().values())
            engine = Engine(ruleset, repository=repo, roster=Roster(staff))
            with repo.batch():
                plan = engine.run(day, facts)
            heads = repo.chain_heads()
            after = sum(seq for seq, _ in heads.values())
            where = "in memory (gone when the demo ends)" if db == ":memory:" else f"in {repo.path}"
    except StoreError as exc:
        err.line(f"tierflow demo: {exc}")
        return 2
    out.line()
    out.line(f"Workflow records {where} (SQLite, tierflow.store):")
    if after == before:
        out.line(
            f"nothing changed: {day} was already run ({len(plan.opened)} opened, 0 events "
            f"added); the store holds {after:,} events for {len(heads):,} students"
        )
        return 0
    opened = collections.Counter(iv.intervention for iv in plan.opened)
    full = len(plan.unassigned)
    out.line(
        f"this run opened {len(plan.opened):,} interventions"
        + (f" ({full:,} without an owner: every eligible caseload was full)" if full else "")
        + f", reported {len(plan.legal_due):,} legal steps due and added {after - before:,} "
        f"events; the store holds {after:,} events for {len(heads):,} students"
    )
    out.line()
    rows: list[tuple[str, ...]] = [("opened", "owner role", "interventions")]
    for iv_id, n in opened.most_common(10):
        rows.append((iv_id, ruleset.interventions[iv_id].owner, f"{n:,}"))
    _table(rows, out)
    return 0


def _no_database(db: str, command: str, err: _Out) -> bool:
    """Say so (and return True) when ``db`` is neither a database URL nor an existing file."""
    from tierflow.store import is_url

    if is_url(db) or Path(db).is_file():
        return False
    err.line(f"tierflow {command}: no database file {db}")
    return True


def _stored_ruleset(named: Sequence[str], command: str, whose: str, err: _Out) -> str | None:
    """The built-in rule set the records name, or None after saying why on stderr.

    A store never names a file to load: its rows are data anyone who can write to the database
    may have edited (and ``audit verify`` has not run), so only a built-in id is taken from them;
    any other rule set is given with ``--ruleset``. The ids are printed with :func:`repr`.
    """
    found = list(dict.fromkeys(named))
    if len(found) != 1:
        listed = ", ".join(repr(n) for n in sorted(found)) or "none"
        err.line(f"tierflow export {command}: {whose} name rule sets {listed}; give --ruleset")
        return None
    if found[0] not in builtin_names():
        err.line(f"tierflow export {command}: {whose} name rule set {found[0]!r}, which "
                 "is not built in; give --ruleset (a rule set named in a store is "
                 "only loaded if it is built in)")  # fmt: skip
        return None
    return found[0]


def _write_export(document: Any, args: argparse.Namespace, out: _Out) -> None:
    """Write a packet or report as ``--format`` says, to ``--output`` or ``out``."""
    text: str = getattr(document, f"to_{args.format}")()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        out.data(text)


def _cmd_audit_verify(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.errors import StoreError
    from tierflow.store import Anchor, SqlRepository, verify

    if _no_database(args.db, "audit verify", err):
        return 2
    saved: Anchor | None = None
    if args.anchor is not None:
        try:
            saved = Anchor.from_json(Path(args.anchor).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            err.line(f"tierflow audit verify: cannot read the anchor {args.anchor}: {exc}")
            return 2
        except StoreError as exc:
            err.line(f"tierflow audit verify: {args.anchor}: {exc}")
            return 2
    try:
        with SqlRepository(args.db) as repo:
            findings = verify(repo, anchor=saved)
            rows, students = len(repo.chain_rows()), len(repo.chain_heads())
            args.db = repo.path  # a URL is printed without its password
    except StoreError as exc:
        err.line(f"tierflow audit verify: {exc}")
        return 2
    for finding in findings:
        out.line(f"{args.db}: {finding}")
    if findings:
        n = len(findings)
        out.line(f"{n} problem{'s' * (n != 1)}: the records were changed outside tierflow")
        return 1
    out.line(f"{args.db}: ok, {rows:,} rows in {students:,} student chains verified")
    return 0


def _cmd_audit_anchor(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.errors import StoreError
    from tierflow.store import SqlRepository, anchor

    if _no_database(args.db, "audit anchor", err):
        return 2
    try:
        with SqlRepository(args.db) as repo:
            saved = anchor(repo)
    except StoreError as exc:
        err.line(f"tierflow audit anchor: {exc}")
        return 2
    text = saved.to_json() + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        out.data(text)
    # Apart from the anchor's text: keep the digest somewhere else again (an anchor whose heads
    # were edited no longer matches it).
    err.line(f"digest: {saved.digest}")
    return 0


def _people(args: argparse.Namespace, command: str, err: _Out) -> dict[str, Any] | None:
    """The roster for ``--include-pii`` (problems on stderr, by file, line and id); None: no PII.

    Raises:
        _Failed: ``--include-pii`` without ``--students``, or the file cannot be read.
    """
    from tierflow.ingest import read_people

    if not args.include_pii:
        return None
    if not args.students:
        raise _Failed("--include-pii needs --students FILE")
    try:
        found = read_people(args.students)
    except OSError as exc:
        raise _Failed(f"cannot read {args.students}: {exc}") from None
    for problem in found.report.rejects:
        err.line(f"rejected: {problem}")
    for note in found.report.ignored:
        err.line(f"ignored: {note}")
    return dict(found.people)


def _cmd_export_packet(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.errors import StoreError
    from tierflow.store import SqlRepository, build_packet

    if _no_database(args.db, "export packet", err):
        return 2
    people = _people(args, "packet", err)
    try:
        with SqlRepository(args.db) as repo:
            name = args.ruleset
            if name is None:
                first = next((e.ruleset.id for e in repo.events(args.student) if e.ruleset), None)
                whose = f"the records of student {args.student!r}"
                name = _stored_ruleset([] if first is None else [first], "packet", whose, err)
                if name is None:
                    return 2
            packet = build_packet(
                repo, args.student, _load(name, args), as_of=_as_of(args.as_of),
                step=args.readiness, people=people, include_personal=people is not None,
            )  # fmt: skip
    except (StoreError, KeyError) as exc:
        err.line(f"tierflow export packet: {exc}")
        return 2
    _write_export(packet, args, out)
    return 0


def _pii_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--students",
        metavar="FILE",
        help="names and birth dates by student id (CSV, JSON, Ed-Fi Student XML)",
    )
    p.add_argument(
        "--include-pii",
        action="store_true",
        help="print names and dates of birth from --students (default: student ids only)",
    )


def _reject_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rejects", metavar="FILE", help="write rejected records here as JSON Lines")
    p.add_argument(
        "--show-rejects", type=int, default=20, metavar="N", help="print the first N rejects"
    )
    p.add_argument(
        "--strict", action="store_true", help="exit with status 1 if any record is rejected"
    )


def _cmd_export_compliance(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.errors import StoreError
    from tierflow.store import SqlRepository, compliance_report

    if _no_database(args.db, "export compliance", err):
        return 2
    people = _people(args, "compliance", err)
    try:
        with SqlRepository(args.db) as repo:
            students = repo.students()
            name = args.ruleset
            if name is None:
                named = [
                    e.ruleset.id
                    for s in students
                    for e in repo.events(s)
                    if e.ruleset is not None and e.kind in ("legal_issued", "decision")
                ]
                name = _stored_ruleset(named, "compliance", "the records", err)
                if name is None:
                    return 2
            report = compliance_report(
                repo, _load(name, args), students=students, people=people,
                include_personal=people is not None,
            )  # fmt: skip
    except StoreError as exc:
        err.line(f"tierflow export compliance: {exc}")
        return 2
    _write_export(report, args, out)
    err.line(f"{report.summary()}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tierflow", description="Attendance playbooks as code.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="compile rule sets and print every problem")
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="rule set files, directories or built-in names"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--strict", action="store_true", help="exit with status 1 on warnings from the analysis too"
    )
    _extends_option(p)
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("test", help="run the inline tests of rule sets")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-v", "--verbose", action="store_true", help="also list passing tests")
    p.add_argument(
        "--coverage",
        action="store_true",
        help="list tiers, rules and legal steps no test exercised",
    )
    p.add_argument(
        "--boundaries",
        action="store_true",
        help="print test cases one below, at and one above every threshold, as YAML",
    )
    _extends_option(p)
    p.set_defaults(func=_cmd_test)

    p = sub.add_parser(
        "evaluate", help="evaluate facts (CSV, JSON Lines, JSON) into JSON Lines decisions"
    )
    p.add_argument(
        "input",
        metavar="INPUT",
        nargs="?",
        help="facts file, or - for JSON Lines on standard input (or give --events)",
    )
    p.add_argument(
        "--ruleset", "-r", required=True, help=f"built-in ({', '.join(builtin_names())}) or a path"
    )
    p.add_argument("--as-of", help="date the facts describe (default: today)")
    p.add_argument("--explain", action="store_true", help="add each decision's explanation")
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
    _reject_options(p)
    _extends_option(p)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("explain", help="explain the decision for one student")
    p.add_argument("input", metavar="INPUT", nargs="?", help="facts file holding the student")
    p.add_argument("--ruleset", "-r", required=True)
    p.add_argument("--student", help="the student id to explain")
    p.add_argument("--facts", help="the student's facts as a JSON object instead of INPUT")
    p.add_argument("--as-of", help="date the facts describe (default: today)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    _extends_option(p)
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser("diff", help="show what changes for students when a rule set changes")
    p.add_argument("old", metavar="OLD", help="the rule set in use (built-in or path)")
    p.add_argument("new", metavar="NEW", help="the proposed rule set")
    p.add_argument("--facts", required=True, metavar="FILE", help="students' facts to compare on")
    p.add_argument("--as-of", help="date the facts describe (default: today)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    _reject_options(p)
    _extends_option(p)
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser("schema", help="print the JSON Schema of the rule set format")
    p.add_argument("--output", "-o", help="write to this file")
    p.set_defaults(func=_cmd_schema)

    p = sub.add_parser("demo", help="run the bundled sample district through a built-in rule set")
    p.add_argument("--ruleset", "-r", default="ca", help="built-in rule set (default: ca)")
    p.add_argument(
        "--db",
        default="tierflow-demo.db",
        help="where the workflow keeps its records: a SQLite file (default: tierflow-demo.db in "
        "the current directory), :memory:, or a database URL",
    )
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("audit", help="check stored workflow records")
    audit = p.add_subparsers(dest="audit_command", required=True)
    p = audit.add_parser("verify", help="find edited or deleted rows of a store's event chains")
    p.add_argument(
        "db", metavar="DB", help="a SQLite store file, or a database URL (postgresql+psycopg://...)"
    )
    p.add_argument(
        "--anchor",
        metavar="FILE",
        help="an anchor saved by 'tierflow audit anchor': also report chains cut short, rolled "
        "back or rewritten since",
    )
    p.set_defaults(func=_cmd_audit_verify)
    p = audit.add_parser(
        "anchor", help="print every chain's head and their digest, to keep outside the store"
    )
    p.add_argument(
        "db", metavar="DB", help="a SQLite store file, or a database URL (postgresql+psycopg://...)"
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write the anchor to a file")
    p.set_defaults(func=_cmd_audit_anchor)

    p = sub.add_parser("export", help="export documentation from a store")
    export = p.add_subparsers(dest="export_command", required=True)
    p = export.add_parser("packet", help="a student's timeline with the rule behind each step")
    p.add_argument("student", metavar="STUDENT", help="the student id")
    p.add_argument(
        "--db",
        required=True,
        help="a SQLite store file, or a database URL (postgresql+psycopg://...)",
    )
    p.add_argument("--format", choices=("json", "csv", "html"), default="html")
    p.add_argument("--ruleset", "-r", help="for citations (default: the one in the records)")
    p.add_argument("--as-of", help="date the packet is prepared for (default: today)")
    p.add_argument("--readiness", metavar="STEP", help="check a legal step (sarb-referral)")
    p.add_argument("--output", "-o", help="write to this file")
    _pii_options(p)
    _extends_option(p)
    p.set_defaults(func=_cmd_export_packet)
    p = export.add_parser(
        "compliance", help="every legal step issued, and the interventions documented before it"
    )
    p.add_argument(
        "--db",
        required=True,
        help="a SQLite store file, or a database URL (postgresql+psycopg://...)",
    )
    p.add_argument("--format", choices=("json", "csv", "html"), default="html")
    p.add_argument("--ruleset", "-r", help="the rule set to check against (default: the records')")
    p.add_argument("--output", "-o", help="write to this file")
    _pii_options(p)
    _extends_option(p)
    p.set_defaults(func=_cmd_export_compliance)
    return parser


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Every error tierflow raises ends the command with its message (a rule set's problems one a
    line) and a nonzero status: 1, or 2 for a usage error, a file that cannot be read or written
    and a store that cannot be used. What is printed for people has its control characters
    escaped (see :class:`_Out`).

    Raises:
        SystemExit: A message that ends a command early (a bad ``--as-of``, no such student,
            ``--include-pii`` without a roster), escaped; status 1, as on the command line.
    """
    args = _parser().parse_args(argv)
    command = " ".join(
        name
        for name in (args.command, getattr(args, "audit_command", None),
                     getattr(args, "export_command", None))
        if name
    )  # fmt: skip
    err = _Out(sys.stderr)
    try:
        status: int = args.func(args, _Out(out or sys.stdout), err)
    except RulesetError as exc:
        for problem in exc.problems:
            err.line(str(problem))
        if exc.omitted:
            err.line(f"... and {exc.omitted} more problems")
        return 1
    except _UsageError as exc:
        err.line(f"tierflow {command}: error: {exc}")
        return 2
    except _Failed as exc:  # as documented: SystemExit with the message (status 1)
        raise SystemExit(_escape(f"tierflow {command}: {exc}")) from None
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    except OSError as exc:  # a file named on the command line cannot be read (or written)
        err.line(f"tierflow {command}: {_file_problem(exc)}")
        return 2
    except StoreError as exc:
        err.line(f"tierflow {command}: {exc}")
        return 2
    except TierflowError as exc:  # a DataError or WorkflowError no command caught itself
        err.line(f"tierflow {command}: {exc}")
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
