"""Files in, decisions out: the evaluation pipeline a host (or the CLI) runs over a district.

A facade in the manner of OPA's ``rego`` package: it wires the readers of :mod:`tierflow.ingest`
and the facts built by :mod:`tierflow.attendance` to :meth:`CompiledRuleset.evaluate`, and holds
no logic of its own beyond that wiring and the bookkeeping of rejects. Every record that cannot
be read or evaluated goes to the caller's :class:`~tierflow.errors.DataReport` with its source
and student id; the rest of the batch goes on.

>>> import datetime as dt, tierflow
>>> from tierflow.errors import DataReport
>>> from tierflow.ingest import FactsRecord
>>> records = [
...     FactsRecord("roster.jsonl:1", {"student_id": "s1", "days_enrolled": 60, "days_absent": 7}),
...     FactsRecord("roster.jsonl:2", {"student_id": "s2", "days_enrolled": "sixty"}),
... ]
>>> report = DataReport()
>>> ruleset = tierflow.load_ruleset("mtss")
>>> [(r.facts["student_id"], d.tier) for r, d in
...  evaluate_records(ruleset, records, as_of=dt.date(2025, 11, 3), report=report)]
[('s1', 'tier2')]
>>> report.read, report.accepted, [(r.source, r.student_id) for r in report.rejects]
(2, 1, [('roster.jsonl:2', 's2')])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

from tierflow.attendance import FactsBuilder
from tierflow.errors import DataError, DataReport
from tierflow.evaluate import CompiledRuleset, Decision
from tierflow.ingest import FactsRecord, read_facts

__all__ = ["evaluate_built_facts", "evaluate_facts_file", "evaluate_records"]


def evaluate_records(
    ruleset: CompiledRuleset,
    records: Iterable[FactsRecord],
    *,
    as_of: dt.date,
    report: DataReport,
) -> Iterator[tuple[FactsRecord, Decision]]:
    """Evaluate located facts records one at a time; a record that fails goes to ``report``.

    Args:
        ruleset: The compiled rule set.
        records: Facts with their source (file and line, or a description).
        as_of: The date the facts describe.
        report: Counts each record evaluated; a record whose evaluation fails is put there,
            located with its source and student id.

    Yields:
        Each record that evaluated, with its decision, in input order.
    """
    # One loop for the batch (CompiledRuleset._decide_all): it takes a record's facts, then
    # yields that record's decision or rejects it before it takes the next, so the record
    # last handed over is the one decided.
    current: FactsRecord | None = None

    def facts() -> Iterator[Mapping[str, Any]]:
        nonlocal current
        for current in records:
            yield current.facts

    def reject(exc: DataError, number: int) -> None:
        assert current is not None
        sid = current.facts.get("student_id") if isinstance(current.facts, Mapping) else None
        student = None if sid is None else str(sid)
        report.reject(exc.with_source(current.source, student=student))

    for decision in ruleset._decide_all(facts(), as_of=as_of, reject=reject, accept=report.accept):
        assert current is not None
        yield current, decision


def evaluate_facts_file(
    ruleset: CompiledRuleset,
    path: str,
    *,
    as_of: dt.date,
    report: DataReport,
    stream: IO[str] | None = None,
    on_record: Callable[[int], None] | None = None,
) -> Iterator[tuple[FactsRecord, Decision]]:
    """Read a facts file (JSON Lines, JSON or CSV) and evaluate each student in it.

    Args:
        ruleset: The compiled rule set; its declared extra facts type the file's extra columns.
        path: The file; its suffix names the format (and its name is used in every reject).
        as_of: The date the facts describe.
        report: Every unreadable record and every record that fails evaluation, located.
        stream: Read from this text stream instead of opening ``path`` (``-`` on a command
            line: standard input).
        on_record: Called with the number of records read so far (evaluated and refused)
            after each record: a progress display's hook.

    Yields:
        Each record that evaluated, with its decision, in file order.
    """
    kinds = {name: decl.type for name, decl in ruleset.spec.facts.extra.items()}
    read_before = report.read
    records = read_facts(path, stream=stream, extra_kinds=kinds, report=report)
    for item in evaluate_records(ruleset, records, as_of=as_of, report=report):
        if on_record is not None:
            on_record(report.read - read_before)
        yield item


def evaluate_built_facts(
    ruleset: CompiledRuleset,
    builder: FactsBuilder,
    *,
    as_of: dt.date,
    report: DataReport,
) -> Iterator[tuple[FactsRecord, Decision]]:
    """Evaluate every student whose facts ``builder`` folded from raw attendance records.

    The builder comes from :func:`tierflow.ingest.facts_from_files` (or is filled by hand);
    each student's source is ``student ID``.

    Yields:
        Each student that evaluated, with the decision, in student order.
    """
    records = (FactsRecord(f"student {f['student_id']}", f) for f in builder.facts(as_of))
    yield from evaluate_records(ruleset, records, as_of=as_of, report=report)
