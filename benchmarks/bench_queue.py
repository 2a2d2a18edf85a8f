"""Benchmark: one owner's work queue on a district-year SQLite store, against hand-written SQL.

The store is the store benchmark's year (``bench_store.fill_year``): a 50,000-student district
run every ``--cadence`` school days of a 180-day year under ``ca``, staff starting what they
are given, checking in, missing some follow-ups, issuing most legal steps due. Then, as of the
year's last day, the queue of the owner holding the most open interventions (and of a median
owner) is read with ``tierflow.report.work_queue`` and with a hand-written ``sqlite3`` query of
the same rows (the owner's open interventions by the indexed ``owner`` column, their students'
legal events by a ``LIKE`` on the body), bucketed and aged in plain Python on weekdays (the
year's calendar). Both must list the same items (bucket, student, item, due date, age) before
any figure is printed. For scale, the queue is also computed the way a host without the query
would: every open intervention read and filtered in Python.

Run::

    python benchmarks/bench_queue.py                       # 50,000 students (fills ~10 min)
    python benchmarks/bench_queue.py --db year.db          # keep the store; reuse it next time
    python benchmarks/bench_queue.py --students 2000 --cadence 60 --repeat 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from tierflow.report import work_queue
from tierflow.store import SqlRepository

Row = tuple[str, str, str, str | None, int | None]
"""What both sides must agree on: bucket, student, item, due date (ISO), age in school days."""


def _bench_store() -> ModuleType:
    """benchmarks/bench_store.py (its district, roster and year), loaded by path."""
    path = Path(__file__).resolve().parent / "bench_store.py"
    spec = importlib.util.spec_from_file_location("bench_store_for_queue", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --- the hand-written queue ---------------------------------------------------------------------


def _weekdays_between(start: dt.date, end: dt.date) -> int:
    """Weekdays after ``start`` up to and including ``end`` (the year's calendar is weekdays)."""
    if end <= start:
        return 0
    weeks, extra = divmod((end - start).days, 7)
    count = weeks * 5
    day = start + dt.timedelta(days=weeks * 7)
    for _ in range(extra):
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            count += 1
    return count


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dict) and value.get("$t") == "date":
        return dt.date.fromisoformat(value["v"])
    return None


def queue_by_hand(conn: sqlite3.Connection, owner: str, as_of: dt.date, ahead: int) -> list[Row]:
    """One owner's queue, written the way a district developer would, on the same tables."""
    rows = conn.execute(
        "SELECT student_id, catalog_id, body FROM interventions WHERE owner = ? AND is_open = 1",
        (owner,),
    ).fetchall()
    out: list[Row] = []
    students = []
    for sid, kind, body in rows:
        students.append(sid)
        iv = json.loads(body)
        due = _date(iv["next_follow_up"]) or _date(iv["opened_on"])
        assert due is not None
        if due <= as_of:
            age = _weekdays_between(due, as_of)
            bucket = "overdue" if due < as_of else "due_today"
        else:
            age = -_weekdays_between(as_of, due)
            if -age > ahead:
                continue
            bucket = "upcoming"
        out.append((bucket, sid, kind, due.isoformat(), age))
    marks = ", ".join("?" * len(set(students)))
    events = conn.execute(
        f"SELECT student_id, body FROM events WHERE record = 'event' AND student_id IN ({marks}) "
        'AND body LIKE \'%"kind":"legal%\' ORDER BY student_id, seq',
        sorted(set(students)),
    ).fetchall()
    due_now: dict[tuple[str, str], dt.date] = {}
    flags: dict[tuple[str, str, Any], dt.date] = {}
    for sid, body in events:
        ev = json.loads(body)
        kind, detail, at = ev["kind"], ev["detail"] or {}, _date(ev["at"])
        assert at is not None
        step = str(detail.get("step"))
        if kind == "legal_due":
            due_now.setdefault((sid, step), at)
        elif kind in ("legal_issued", "legal_withdrawn"):
            due_now.pop((sid, step), None)
        elif kind == "legal_flagged":
            flags.setdefault((sid, step, json.dumps(detail.get("issued_on"))), at)
        elif kind == "legal_flag_resolved":
            flags.pop((sid, step, json.dumps(detail.get("issued_on"))), None)
    for (sid, step), due in due_now.items():
        age = _weekdays_between(due, as_of)
        out.append(("legal_awaiting_evidence", sid, step, due.isoformat(), age))
    for (sid, step, _), flagged in flags.items():
        age = _weekdays_between(flagged, as_of)
        out.append(("legal_awaiting_evidence", sid, step, flagged.isoformat(), age))
    return sorted(out)


# --- tierflow's -----------------------------------------------------------------------------------


def queue_by_tierflow(repo: SqlRepository, owner: str, as_of: dt.date, ahead: int) -> list[Row]:
    queue = work_queue(repo, as_of, owner=owner, upcoming_days=ahead)
    return sorted(
        (
            i.bucket,
            i.student_id,
            i.item,
            None if i.due_on is None else i.due_on.isoformat(),
            i.age_school_days,
        )
        for i in queue.items
    )


def queue_by_scanning(repo: SqlRepository, owner: str, as_of: dt.date, ahead: int) -> int:
    """Without the store's query: every open intervention read, the owner's kept."""
    return sum(1 for iv in repo.open_interventions() if iv.owner == owner)


def _median_ms(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


def time_owner(
    repo: SqlRepository,
    conn: sqlite3.Connection,
    path: Path,
    owner: str,
    as_of: dt.date,
    args: argparse.Namespace,
) -> int:
    """Check both queues of ``owner`` agree, then print their times; 1 on a mismatch."""
    ahead, repeat = args.upcoming_days, args.repeat
    mine = queue_by_tierflow(repo, owner, as_of, ahead)
    theirs = queue_by_hand(conn, owner, as_of, ahead)
    if mine != theirs:
        print(f"  MISMATCH: tierflow {len(mine)} items, by hand {len(theirs)}")
        for a, b in zip(mine, theirs, strict=False):
            if a != b:
                print(f"  first difference: {a} != {b}")
                break
        return 1

    def cold() -> object:
        with SqlRepository(path) as fresh:
            return queue_by_tierflow(fresh, owner, as_of, ahead)

    warm, _ = _median_ms(lambda: queue_by_tierflow(repo, owner, as_of, ahead), repeat)
    opened, _ = _median_ms(cold, max(3, repeat // 3))
    hand, _ = _median_ms(lambda: queue_by_hand(conn, owner, as_of, ahead), repeat)
    scan, _ = _median_ms(lambda: queue_by_scanning(repo, owner, as_of, ahead), 3)
    buckets: dict[str, int] = {}
    for row in mine:
        buckets[row[0]] = buckets.get(row[0], 0) + 1
    counted = ", ".join(f"{k} {v}" for k, v in sorted(buckets.items()))
    print(f"  {len(mine)} items ({counted}); same items as the hand-written query")
    print(f"  work_queue, store open:            {warm:8.2f} ms (median of {repeat})")
    print(f"  work_queue, store opened per call: {opened:8.2f} ms")
    print(f"  hand-written sqlite3:              {hand:8.2f} ms (ratio {warm / hand:.1f}x)")
    print(f"  every open intervention scanned:   {scan:8.2f} ms (median of 3)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--cadence", type=int, default=20, help="school days between runs")
    parser.add_argument("--repeat", type=int, default=21, help="runs timed (the median shown)")
    parser.add_argument("--upcoming-days", type=int, default=5)
    parser.add_argument("--db", type=Path, help="keep the year's store here (reused if present)")
    args = parser.parse_args(argv)
    bench = _bench_store()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "year.db"
        if not path.exists():
            filled = bench.fill_year(
                bench.Db("sqlite", str(path)), args.students, "ca", args.cadence
            )
            did = ", ".join(f"{k} {v:,}" for k, v in sorted(filled["did"].items()))
            print(f"year: {args.students:,} students filled in {filled['seconds']:.0f} s ({did})")
        as_of = bench.school_days()[-1]
        conn = sqlite3.connect(path)
        loads = conn.execute(
            "SELECT owner, count(*) FROM interventions WHERE is_open = 1 AND owner IS NOT NULL "
            "GROUP BY owner ORDER BY count(*) DESC, owner"
        ).fetchall()
        (open_count,) = conn.execute(
            "SELECT count(*) FROM interventions WHERE is_open = 1"
        ).fetchone()
        (rows,) = conn.execute("SELECT count(*) FROM events").fetchone()
        print(
            f"store: {rows:,} event rows, {open_count:,} open interventions, "
            f"{len(loads):,} owners; queue as of {as_of}"
        )
        status = 0
        repo = SqlRepository(path)
        try:
            picks = {"busiest owner": loads[0], "median owner": loads[len(loads) // 2]}
            for name, (owner, held) in picks.items():
                print(f"{name} {owner}: {held} open interventions")
                status |= time_owner(repo, conn, path, owner, as_of, args)
        finally:
            repo.close()
            conn.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
