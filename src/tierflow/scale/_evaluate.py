"""Facts files decided on Dask workers: one task a file, the rule set compiled once a worker."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierflow.errors import DataError, DataReport, TierflowError
from tierflow.evaluate import CompiledRuleset, load_ruleset
from tierflow.pipeline import evaluate_facts_file

__all__ = [
    "PartitionResult",
    "Reject",
    "ScaledRun",
    "add_to_report",
    "evaluate_partitioned",
    "ruleset_on_worker",
    "wire_rejects",
    "worker_address",
]

Reject = tuple[str, str, str | None, str | None, str | None]
"""A reject as it crosses the wire: code, reason, source, student id, field."""


@dataclass(frozen=True)
class PartitionResult:
    """What one worker made of one facts file.

    Attributes:
        path: The file.
        decisions: ``{"source", "decision"}`` a student (``Decision.to_dict()``), file order.
        rejects: Every record that could not be read or decided, located.
        read: Records read.
        accepted: Records decided.
        worker: The Dask worker that decided it (its address).
    """

    path: str
    decisions: list[dict[str, Any]]
    rejects: list[Reject]
    read: int
    accepted: int
    worker: str = ""


@dataclass
class ScaledRun:
    """Every partition's decisions and one report of rejects, in partition order.

    Attributes:
        partitions: Each file's result, in the order given.
        report: Every reject (file, line and student id), and the counts.
    """

    partitions: list[PartitionResult]
    report: DataReport = field(default_factory=DataReport)

    @property
    def decisions(self) -> list[dict[str, Any]]:
        """Every decision, partition by partition, each in file order."""
        return [d for p in self.partitions for d in p.decisions]


_COMPILED: dict[tuple[str, str], CompiledRuleset] = {}
"""A worker's rule sets, compiled once a process: (source, content hash) -> rule set."""


def ruleset_on_worker(source: str, content_hash: str, roots: tuple[str, ...]) -> CompiledRuleset:
    """The rule set compiled on this worker once, checked against the driver's content hash.

    Raises:
        TierflowError: This worker compiled another version of the file.
    """
    key = (source, content_hash)
    found = _COMPILED.get(key)
    if found is None:
        found = load_ruleset(source, extends_roots=roots)
        if found.content_hash != content_hash:
            raise TierflowError(
                f"rule set {source}: this worker compiled version {found.content_hash[:12]}, "
                f"the driver {content_hash[:12]}; give every worker the same file"
            )
        _COMPILED[key] = found
    return found


def _decide(
    path: str, source: str, content_hash: str, roots: tuple[str, ...], as_of: dt.date
) -> PartitionResult:
    """One partition, on a worker."""
    ruleset = ruleset_on_worker(source, content_hash, roots)
    report = DataReport()
    decisions = [
        {"source": record.source, "decision": decision.to_dict()}
        for record, decision in evaluate_facts_file(ruleset, path, as_of=as_of, report=report)
    ]
    rejects = wire_rejects(report)
    return PartitionResult(path, decisions, rejects, report.read, report.accepted, worker_address())


def worker_address() -> str:
    """The Dask worker running this task ("" outside one: a test, a local scheduler)."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return ""


def evaluate_partitioned(
    client: Any,
    ruleset: str | os.PathLike[str],
    partitions: Sequence[str | os.PathLike[str]],
    *,
    as_of: dt.date,
    extends_roots: Sequence[str | os.PathLike[str]] = (),
) -> ScaledRun:
    """Decide every student of every facts file, one Dask task a file.

    Args:
        client: A ``distributed.Client`` of any cluster (local, SSH, Kubernetes, YARN).
        ruleset: A built-in rule set's name or a rule set file every worker can read at this
            path (a shared file system, or the same file in every worker's image).
        partitions: Facts files (CSV, JSON Lines or a JSON array) every worker can read.
            Facts hold one record a student, so any split works; keep a student in one file
            (a student in two is decided twice).
        as_of: The date the facts describe.
        extends_roots: Folders a rule set's ``extends`` may name files in (as
            :func:`~tierflow.load_ruleset`).

    Returns:
        The partitions' decisions and rejects, in the order the files were given.

    Raises:
        TierflowError: A worker compiled another version of the rule set, or failed.
        RulesetError: The rule set does not compile on the driver.
    """
    source = os.fspath(ruleset)
    roots = tuple(os.fspath(r) for r in extends_roots)
    content_hash = load_ruleset(source, extends_roots=roots).content_hash  # the driver's
    paths = [str(Path(p)) for p in partitions]
    futures = client.map(
        _decide,
        paths,
        source=source,
        content_hash=content_hash,
        roots=roots,
        as_of=as_of,
        pure=False,
    )
    results: list[PartitionResult] = client.gather(futures)
    run = ScaledRun(results)
    for part in results:
        add_to_report(run.report, part.read, part.accepted, part.rejects)
    return run


def wire_rejects(report: DataReport) -> list[Reject]:
    """A worker's rejects as they cross the wire (:func:`add_to_report` makes them errors again)."""
    return [(e.code, e.reason, e.source, e.student_id, e.field) for e in report.rejects]


def add_to_report(report: DataReport, read: int, accepted: int, rejects: list[Reject]) -> None:
    """Count a partition's records in ``report``, its rejects made errors again."""
    report.read += read
    report.accepted += accepted
    for code, reason, where, student, name in rejects:
        report.rejects.append(DataError(code, reason, student_id=student, source=where, field=name))
