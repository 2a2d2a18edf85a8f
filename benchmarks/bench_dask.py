"""tierflow.scale on Dask: one worker against two, and what a state would take (issue 17).

Writes ``--students`` generated students (:func:`tierflow._sample.generate_facts`, seeded) as
``--files`` facts files (JSON Lines), then decides them with
:func:`tierflow.scale.evaluate_partitioned` on a ``LocalCluster`` of one worker process and of
two (one thread each), alternating ``--rounds`` times, wall time. Before any figure the two
runs must give the same decisions, and the same as one process without Dask on a sample.

From the measured rate it extrapolates to 6,000,000 students (about California's) on N
workers: ``students / (N x rate of one worker x the efficiency measured with two)``. It says
what it assumes: every worker as fast as these, files on storage that keeps up, and the
decisions gathered on the driver (at about 1 KB a student, a state's would not fit in one
process: write each partition's out from the workers instead).

With ``--day`` it measures a school day's workflow instead
(:func:`tierflow.scale.run_day_partitioned`): the students as one facts file a school, run into
a fresh store by one engine in this process, then by a cluster of one worker and of two, each
into a fresh store of its own (``--postgres URL``: a new schema on that server each time;
otherwise SQLite files, whose writers take turns). The three stores must hold the same records
(events by kind, interventions by catalogue id, state and owner) before any figure is printed.
On PostgreSQL it also reads the server's CPU time from ``/proc`` (the server must run on this
machine), and says how many students a second a server of N cores could take at that cost: the
point past which more workers wait on the store.

Usage::

    python benchmarks/bench_dask.py                  # 200,000 students in 16 files
    python benchmarks/bench_dask.py --quick          # small (what the test runs)
    python benchmarks/bench_dask.py --day --students 200000 --postgres postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from distributed import Client, LocalCluster

import tierflow
from tierflow._sample import generate_facts
from tierflow.errors import DataReport
from tierflow.pipeline import evaluate_facts_file
from tierflow.scale import evaluate_partitioned, run_day_partitioned

AS_OF = dt.date(2025, 11, 3)
STATE = 6_000_000


def write_files(folder: Path, students: int, files: int) -> list[Path]:
    """The students as ``files`` JSON Lines files of (nearly) equal size."""
    paths = [folder / f"part-{n:03d}.jsonl" for n in range(files)]
    handles = [p.open("w", encoding="utf-8") for p in paths]
    try:
        for i, facts in enumerate(generate_facts(students, seed=11)):
            handles[i % files].write(json.dumps(facts, default=str) + "\n")
    finally:
        for h in handles:
            h.close()
    return paths


def outcomes(decisions: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (d["decision"]["student_id"], d["decision"]["tier"], tuple(d["decision"]["rules"]))
        for d in decisions
    ]


def timed(workers: int, ruleset: str, paths: list[Path]) -> tuple[float, list[tuple[Any, ...]]]:
    with (
        LocalCluster(
            n_workers=workers, processes=True, threads_per_worker=1, dashboard_address="127.0.0.1:0"
        ) as cluster,
        Client(cluster) as client,
    ):
        evaluate_partitioned(client, ruleset, paths[:1], as_of=AS_OF)  # compile on the workers
        started = time.perf_counter()
        run = evaluate_partitioned(client, ruleset, paths, as_of=AS_OF)
        seconds = time.perf_counter() - started
    return seconds, outcomes(run.decisions)


# --- a school day's workflow into one store (--day) ---------------------------------------------

DAY = dt.date(2025, 10, 6)


def write_schools(
    folder: Path, students: int, schools: int, ruleset: str
) -> tuple[list[Path], Path]:
    """One facts file a school, and a staff file (one owner per school and role).

    The generator knows a handful of schools; a state's partitions are many, so the students
    are dealt over ``schools`` schools of their own.
    """
    by_school: dict[str, list[str]] = {}
    for i, facts in enumerate(generate_facts(students, seed=11)):
        facts["school_id"] = school = f"school-{i % schools:03d}"
        by_school.setdefault(school, []).append(json.dumps(facts, default=str))
    paths = []
    for school, lines in sorted(by_school.items()):
        path = folder / f"{school}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    roles = sorted({iv.owner for iv in tierflow.load_ruleset(ruleset).interventions.values()})
    staff = folder / "staff.csv"
    rows = ["staff_id,school_id,roles,caseload_limit"]
    rows += [f"{s}-{r},{s},{r},{students}" for s in sorted(by_school) for r in roles]
    staff.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return paths, staff


class Stores:
    """Fresh stores, one a run: schemas on a PostgreSQL server, or SQLite files."""

    def __init__(self, postgres: str | None, folder: Path) -> None:
        self.postgres, self.folder = postgres, folder
        self.made: list[str] = []

    def fresh(self, name: str) -> str:
        """A new, empty store's URL (its tables made)."""
        from tierflow.store import SqlRepository

        if self.postgres is None:
            url = f"sqlite:///{self.folder / (name + '.db')}"
        else:
            schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
            self.made.append(schema)
            url = f"{self.postgres}?options=-csearch_path%3D{schema}"
            engine = sa.create_engine(self.postgres)
            with engine.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            engine.dispose()
        SqlRepository(url).close()
        return url

    def drop(self) -> None:
        if self.postgres is None or not self.made:
            return
        engine = sa.create_engine(self.postgres)
        with engine.begin() as conn:
            for schema in self.made:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def server_cpu() -> float:
    """CPU seconds of every ``postgres`` process on this machine (0 if there is none)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # its own time, and (the postmaster's) that of the backends that ended, which leave /proc
        total += sum(int(f) for f in fields[11:15]) / tick
    return total


def store_records(url: str) -> tuple[Counter[str], Counter[tuple[Any, ...]]]:
    """Events by kind, and interventions by (catalogue id, state, owner, school)."""
    from tierflow.store import SqlRepository

    kinds: Counter[str] = Counter()
    ivs: Counter[tuple[Any, ...]] = Counter()
    with SqlRepository(url) as repo:
        for student in repo.students():
            kinds.update(e.kind for e in repo.events(student))
            ivs.update(
                (iv.intervention, iv.state, iv.owner, iv.school_id)
                for iv in repo.for_student(student)
            )
    return kinds, ivs


def day_alone(ruleset: str, paths: list[Path], staff: Path, url: str) -> float:
    """One engine in this process over every school's students, one batch: seconds."""
    from tierflow.ingest import read_facts
    from tierflow.runner import read_staff
    from tierflow.store import SqlRepository
    from tierflow.workflow import Engine

    compiled = tierflow.load_ruleset(ruleset)
    facts = [dict(r.facts) for p in paths for r in read_facts(p)]
    roster = read_staff(staff)
    with SqlRepository(url) as repo:
        started = time.perf_counter()
        repo.run_batch(lambda: Engine(compiled, repository=repo, roster=roster).run(DAY, facts))
        return time.perf_counter() - started


def day_on_cluster(
    workers: int, ruleset: str, paths: list[Path], staff: Path, url: str
) -> tuple[float, int]:
    """Seconds, and batches tried again because another writer got there first."""
    with (
        LocalCluster(
            n_workers=workers, processes=True, threads_per_worker=1, dashboard_address="127.0.0.1:0"
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(tierflow.load_ruleset, ruleset)  # compiled on the workers before timing
        started = time.perf_counter()
        run = run_day_partitioned(client, ruleset, paths, on=DAY, db=url, staff=staff)
        took = time.perf_counter() - started
    return took, sum(p.attempts - 1 for p in run.partitions)


def main_day(args: argparse.Namespace) -> int:
    """``--day``: a school day's workflow, in one process and on 1 and 2 workers."""
    with tempfile.TemporaryDirectory(prefix="tierflow-dask-day-") as name:
        folder = Path(name)
        paths, staff = write_schools(folder, args.students, args.schools, args.ruleset)
        stores = Stores(args.postgres, folder)
        try:
            seconds: dict[str, float] = {}
            server: dict[str, float] = {}
            retried: dict[str, int] = {"alone": 0}
            found = {}
            for side in ("alone", "1 worker", "2 workers"):
                url = stores.fresh(side.replace(" ", ""))
                before = server_cpu()
                if side == "alone":
                    seconds[side] = day_alone(args.ruleset, paths, staff, url)
                else:
                    workers = int(side[0])
                    seconds[side], retried[side] = day_on_cluster(
                        workers, args.ruleset, paths, staff, url
                    )
                server[side] = server_cpu() - before
                found[side] = store_records(url)
            if not found["alone"] == found["1 worker"] == found["2 workers"]:
                print("MISMATCH: the stores of one process, 1 worker and 2 workers differ")
                return 1
        finally:
            stores.drop()
    n = args.students
    kinds = found["alone"][0]
    where = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"a day of {n:,} {args.ruleset} students in {len(paths)} school files into {where}; "
        f"the three stores agree ({sum(kinds.values()):,} events: {dict(kinds)})"
    )
    for side, took in seconds.items():
        cpu = f", server CPU {server[side]:.1f} s" if args.postgres else ""
        again = f", {retried[side]} batches retried" if retried[side] else ""
        print(f"  {side:<9} {took:8.2f} s  {n / took:9,.0f} students/s{cpu}{again}")
    print(f"  2 workers / 1 worker: {seconds['1 worker'] / seconds['2 workers']:.2f}x faster")
    if args.postgres and server["2 workers"] > 0:
        per = server["2 workers"] / n
        print(f"  the server spent {per * 1e6:.0f} us of CPU a student: a server of")
        for cores in (4, 16, 64):
            limit = cores / per
            print(
                f"    {cores:>2} cores takes at most {limit:9,.0f} students/s; "
                f"{STATE:,} students in at least {STATE / limit:6.0f} s"
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ruleset", default="ca")
    parser.add_argument("--quick", action="store_true", help="small sizes (for the test)")
    parser.add_argument("--day", action="store_true", help="a day's workflow into a store")
    parser.add_argument("--postgres", metavar="URL", help="--day: a PostgreSQL server to use")
    parser.add_argument("--schools", type=int, default=100, help="--day: schools (files)")
    args = parser.parse_args(argv)
    if args.day:
        if args.quick:
            args.students, args.schools = 1_000, 6
        return main_day(args)
    if args.quick:
        args.students, args.files, args.rounds = 2_000, 4, 1
    with tempfile.TemporaryDirectory(prefix="tierflow-dask-") as name:
        paths = write_files(Path(name), args.students, args.files)
        compiled = tierflow.load_ruleset(args.ruleset)
        report = DataReport()
        alone = outcomes(
            [
                {"decision": d.to_dict()}
                for p in paths[:2]
                for _, d in evaluate_facts_file(compiled, str(p), as_of=AS_OF, report=report)
            ]
        )
        times: dict[int, list[float]] = {1: [], 2: []}
        answers: dict[int, list[tuple[Any, ...]]] = {}
        for _ in range(args.rounds):
            for workers in (1, 2):
                seconds, answers[workers] = timed(workers, args.ruleset, paths)
                times[workers].append(seconds)
        if answers[1] != answers[2] or answers[1][: len(alone)] != alone:
            print("MISMATCH: one worker, two workers and one process do not agree")
            return 1
    n = args.students
    one, two = statistics.median(times[1]), statistics.median(times[2])
    rate = n / one
    efficiency = (one / two) / 2
    print(f"{n:,} {args.ruleset} students in {args.files} files; 1 and 2 workers agree")
    print(f"  1 worker:  {one:7.2f} s  {rate:10,.0f} students/s   (rounds {times[1]})")
    print(f"  2 workers: {two:7.2f} s  {n / two:10,.0f} students/s   speed-up {one / two:.2f}x")
    print(f"  efficiency with 2: {efficiency:.0%} (2 cores, shared with the driver)")
    for workers in (1, 8, 32, 128):
        est = STATE / (workers * rate * (efficiency if workers > 1 else 1.0))
        print(f"  {STATE:,} students on {workers:>3} workers: about {est:8.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
