"""A school day's workflow run on Dask workers, each partition into the one shared store.

Each task runs one facts file (a partition: a school's students, or several schools') through
an :class:`~tierflow.workflow.Engine` on the shared store, in one batch that is tried again when
another writer changed the same records first (:meth:`SqlRepository.run_batch`), and advances
the follow-ups of its own schools only. When every partition is done, one last task advances the
open interventions of the schools no partition named (a school whose students all left, say),
so the store ends as one process running the whole day would leave it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierflow.errors import DataReport
from tierflow.scale._evaluate import (
    Reject,
    add_to_report,
    ruleset_on_worker,
    wire_rejects,
    worker_address,
)

__all__ = ["DayPartition", "ScaledDay", "run_day_partitioned"]


class _Except:
    """The schools not in ``named``: what the last task advances."""

    def __init__(self, named: frozenset[str | None]) -> None:
        self._named = named

    def __contains__(self, school: object) -> bool:
        return school not in self._named


@dataclass(frozen=True)
class DayPartition:
    """What one worker did with one partition of the day.

    Attributes:
        path: The facts file ("" for the last task, which advances the other schools).
        schools: The schools whose follow-ups it advanced (the last task: every school not
            named by a partition, given as an empty tuple).
        students: Students whose facts were run.
        events: The events it recorded, by kind (``opened``, ``transition``...).
        rejects: Every record that could not be read, and every student the engine could not
            evaluate, located by file and line.
        read: Records read.
        accepted: Records run.
        attempts: Batches tried (more than 1: another writer got there first, and the batch
            was undone and run again from what the store then held).
        worker: The Dask worker that ran it (its address).
    """

    path: str
    schools: tuple[str | None, ...]
    students: int
    events: dict[str, int]
    rejects: list[Reject]
    read: int
    accepted: int
    attempts: int
    worker: str = ""


@dataclass
class ScaledDay:
    """Every partition's work on the day, and one report of what could not be run.

    Attributes:
        day: The day run.
        partitions: Each file's work, in the order given, then the last task's.
        report: Every reject (file, line and student id), and the counts.
    """

    day: dt.date
    partitions: list[DayPartition]
    report: DataReport = field(default_factory=DataReport)

    @property
    def events(self) -> Counter[str]:
        """The events the day recorded, by kind, over every partition."""
        total: Counter[str] = Counter()
        for part in self.partitions:
            total.update(part.events)
        return total


def _schools_of(facts: Sequence[dict[str, Any]]) -> frozenset[str | None]:
    """The schools as the engine records them (``str``, or None without one)."""
    return frozenset(None if f.get("school_id") is None else str(f["school_id"]) for f in facts)


def _run_partition(
    path: str,
    source: str,
    content_hash: str,
    roots: tuple[str, ...],
    on: dt.date,
    db: str,
    staff: str | None,
    calendars: tuple[str, ...],
    named: frozenset[str | None] | None,
) -> DayPartition:
    """One partition's day on a worker (``path`` ""; ``named``: the last task's exclusions)."""
    from tierflow.ingest import read_calendars, read_facts
    from tierflow.runner import _report_rejects as report_rejects
    from tierflow.runner import read_staff
    from tierflow.store import SqlRepository
    from tierflow.workflow import Engine, Plan, Roster

    ruleset = ruleset_on_worker(source, content_hash, roots)
    report = DataReport()
    facts: list[dict[str, Any]] = []
    sources: dict[str, str] = {}
    if path:
        kinds = {n: decl.type for n, decl in ruleset.spec.facts.extra.items()}
        for record in read_facts(path, extra_kinds=kinds, report=report):
            facts.append(dict(record.facts))
            sources[str(record.facts.get("student_id"))] = record.source
    schools: Container[str | None] = _schools_of(facts) if named is None else _Except(named)
    roster = None if staff is None else read_staff(staff)  # its problems: told by the driver
    school_calendars = {}
    for calendar in calendars:
        school_calendars.update(read_calendars(calendar).calendars)
    kinds_seen: Counter[str] = Counter()
    attempts = 0
    repo = SqlRepository(db, reserved_ids=True)  # no two partitions take the same id
    try:

        def work() -> Plan:
            nonlocal attempts
            attempts += 1
            kinds_seen.clear()  # a retried batch starts again, from what the store holds now
            staff_now = Roster(() if roster is None else roster.staff.values())
            engine = Engine(ruleset, repository=repo, roster=staff_now, calendars=school_calendars)
            engine.subscribe(lambda event: kinds_seen.update((event.kind,)))
            if path:
                return engine.run(on, facts, schools=schools)
            return engine.advance(on, schools=schools)

        plan = repo.run_batch(work)
    finally:
        repo.close()
    before = report.rejected
    report_rejects(plan, report, set(), sources)  # located as tierflow run --facts does
    refused = report.rejected - before
    kept = len(facts) - refused
    report.read += kept
    report.accepted += kept
    rejects = wire_rejects(report)
    shown = tuple(sorted(schools, key=str)) if isinstance(schools, frozenset) else ()
    return DayPartition(
        path,
        shown,
        len(facts),
        dict(kinds_seen),
        rejects,
        report.read,
        report.accepted,
        attempts,
        worker_address(),
    )


def run_day_partitioned(
    client: Any,
    ruleset: str | os.PathLike[str],
    partitions: Sequence[str | os.PathLike[str]],
    *,
    on: dt.date,
    db: str,
    staff: str | os.PathLike[str] | None = None,
    calendars: Sequence[str | os.PathLike[str]] = (),
    extends_roots: Sequence[str | os.PathLike[str]] = (),
) -> ScaledDay:
    """Run a school day's workflow over facts files, one Dask task a file, into one store.

    Each file is read and run by a worker into ``db`` (the workflow of ``tierflow run --facts``:
    review, escalate, withdraw, open, and advance follow-ups), one batch a file, retried when
    another writer changed the same records first. A file advances the follow-ups of the
    schools its students are at; a last task advances every other school's. **Split by
    school**: a student in two files is run twice, and a school in two files has its staff's
    caseloads counted by two writers at once (each sees the other's commits only on a retry),
    so a caseload limit may be passed.

    Args:
        client: A ``distributed.Client`` of any cluster.
        ruleset: A built-in rule set's name or a file every worker can read at this path.
        partitions: Facts files every worker can read, each a school's students (or several
            schools'), all describing ``on``.
        on: The day.
        db: The shared store: a database URL (PostgreSQL: its concurrent writers are safe) or
            a SQLite file every worker can reach (its writers take turns).
        staff: The staff file (owners, roles and caseloads), readable by every worker.
        calendars: School calendar files, readable by every worker.
        extends_roots: Folders a rule set's ``extends`` may name files in.

    Returns:
        Each partition's work and one report of rejects, in the order the files were given.

    Raises:
        TierflowError: A worker compiled another version of the rule set.
        ConflictError: A partition conflicted with another writer on every attempt.
        StoreError: The store cannot be written (that partition's batch left nothing behind).
    """
    from tierflow.evaluate import load_ruleset

    source = os.fspath(ruleset)
    roots = tuple(os.fspath(r) for r in extends_roots)
    content_hash = load_ruleset(source, extends_roots=roots).content_hash  # the driver's
    paths = [str(Path(p)) for p in partitions]
    common = {
        "source": source,
        "content_hash": content_hash,
        "roots": roots,
        "on": on,
        "db": db,
        "staff": None if staff is None else os.fspath(staff),
        "calendars": tuple(os.fspath(c) for c in calendars),
    }
    futures = client.map(_run_partition, paths, named=None, pure=False, **common)
    done: list[DayPartition] = client.gather(futures)
    named = frozenset(school for part in done for school in part.schools)
    rest = client.submit(_run_partition, "", named=named, pure=False, **common)
    done.append(rest.result())
    run = ScaledDay(on, done)
    for part in done:
        add_to_report(run.report, part.read, part.accepted, part.rejects)
    return run
