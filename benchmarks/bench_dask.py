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

Usage::

    python benchmarks/bench_dask.py                  # 200,000 students in 16 files
    python benchmarks/bench_dask.py --quick          # small (what the test runs)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster

import tierflow
from tierflow._sample import generate_facts
from tierflow.errors import DataReport
from tierflow.pipeline import evaluate_facts_file
from tierflow.scale import evaluate_partitioned

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
            n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        evaluate_partitioned(client, ruleset, paths[:1], as_of=AS_OF)  # compile on the workers
        started = time.perf_counter()
        run = evaluate_partitioned(client, ruleset, paths, as_of=AS_OF)
        seconds = time.perf_counter() - started
    return seconds, outcomes(run.decisions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ruleset", default="ca")
    parser.add_argument("--quick", action="store_true", help="small sizes (for the test)")
    args = parser.parse_args(argv)
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
