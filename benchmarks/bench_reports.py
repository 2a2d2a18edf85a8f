"""Benchmark: the insight reports on a district's year in SQLite, against hand-written SQL.

The store is the store benchmark's year (``bench_store.fill_year``: a district run every 20
school days of a 180-day year under ``ca``, staff starting, checking in and issuing legal steps
between runs). Each report runs on a store opened afresh, as a command-line call would:

* ``operations(repo, roster, as_of=...)``: caseloads, overdue follow-ups, legal steps waiting;
* ``equity_report(repo, facts, as_of=...)``: coverage, time to support, legal steps per group;
* ``effectiveness(repo, attendance, as_of=...)``: before/after windows, matched comparison,
  bootstrap intervals (attendance: each student's 180 days, absent with their own rate).

The baseline computes the figures each report's headline rests on with plain ``sqlite3`` and
plain Python over the same file (the reporting columns of schema version 4): open cases per
owner and unassigned per school, legal steps due and not issued; the district's Tier 2/3
students, those triggered and still waiting, students with a legal step issued; served
students per intervention kind. They must equal tierflow's before any figure is printed.

Timing: process CPU time and wall time, ``--samples`` alternating runs (tierflow, baseline,
tierflow...), the median with the spread (min-max).

Run::

    python benchmarks/bench_reports.py --year-students 50000           # builds the year (~25 min)
    python benchmarks/bench_reports.py --year year50k.db --year-students 50000   # reuses a file
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_store

import tierflow
from tierflow.report import DailyAttendance, effectiveness, equity_report, operations
from tierflow.store import SqlRepository

STARTED = ("active", "follow_up_due")  # the built-in lifecycle's started states


# --- the inputs ----------------------------------------------------------------------------------


def end_facts(students: int, cadence: int) -> list[dict[str, Any]]:
    """The facts of the year's last run, as fill_year computed them (the same drift)."""
    year = bench_store.Year(students)
    facts: list[dict[str, Any]] = []
    for k in range(cadence, bench_store.YEAR_DAYS + 1, cadence):
        facts = year.facts(k)
    return facts


def attendance(facts: list[dict[str, Any]], days: list[dt.date]) -> dict[str, DailyAttendance]:
    """Each student's school days, each missed with the student's own rate (seeded)."""
    rng = random.Random(11)
    out = {}
    shared = tuple(days)
    for f in facts:
        rate = f["days_absent"] / f["days_enrolled"]
        absent = tuple(1.0 if rng.random() < rate else 0.0 for _ in shared)
        out[f["student_id"]] = DailyAttendance(
            f["student_id"], shared, absent, str(f["grade"]), tuple(f["groups"])
        )
    return out


# --- tierflow ---------------------------------------------------------------------------------


def by_tierflow(name: str, path: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Run one report on a freshly opened store; the figures the baseline also computes."""
    as_of = inputs["as_of"]
    with SqlRepository(path) as repo:
        if name == "operations":
            ops = operations(repo, inputs["roster"], as_of=as_of)
            owners = Counter(
                {o.owner: o.open_cases for s in ops.schools for o in s.owners if o.open_cases}
            )
            unassigned = Counter({s.school_id: s.unassigned for s in ops.schools if s.unassigned})
            waits = sum(len(s.legal) for s in ops.schools)
            return {"owners": owners, "unassigned": unassigned, "legal_waiting": waits}
        if name == "equity":
            eq = equity_report(repo, inputs["facts"], as_of=as_of, ruleset=inputs["ruleset"])
            d = eq.district
            return {"tier23": d.tier23, "waiting": d.waiting, "legal": d.legal}
        eff = effectiveness(repo, inputs["attendance"], as_of=as_of)
        return {"served": Counter({r.intervention: r.served for r in eff.rows})}


# --- by hand ------------------------------------------------------------------------------------


def by_hand(name: str, path: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The same figures with plain sqlite3 over the reporting columns."""
    as_of = inputs["as_of"].isoformat()
    con = sqlite3.connect(path)
    try:
        if name == "operations":
            owners = Counter(
                dict(
                    con.execute(
                        "SELECT owner, count(*) FROM interventions WHERE is_open "
                        "AND owner IS NOT NULL GROUP BY owner"
                    ).fetchall()
                )
            )
            unassigned = Counter(
                dict(
                    con.execute(
                        "SELECT school_id, count(*) FROM interventions WHERE is_open "
                        "AND owner IS NULL GROUP BY school_id"
                    ).fetchall()
                )
            )
            pending: dict[tuple[str, str], bool] = {}
            for sid, kind, step in con.execute(
                "SELECT student_id, kind, step FROM events WHERE record = 'event' AND kind IN "
                "('legal_due', 'legal_issued', 'legal_withdrawn') AND at <= ? "
                "ORDER BY student_id, seq",
                (as_of,),
            ):
                pending[(sid, step)] = kind == "legal_due"
            return {
                "owners": owners,
                "unassigned": unassigned,
                "legal_waiting": sum(pending.values()),
            }
        if name == "equity":
            return _equity_by_hand(con, as_of, inputs)
        served: dict[str, set[str]] = {}
        withdrawn = {
            iid
            for (iid,) in con.execute(
                "SELECT intervention_id FROM events WHERE record = 'event' AND kind = "
                "'transition' AND withdrawn AND at <= ?",
                (as_of,),
            )
        }
        for iid, sid, kind in con.execute(
            "SELECT id, student_id, catalog_id FROM interventions WHERE opened_on <= ?", (as_of,)
        ):
            if iid not in withdrawn:
                served.setdefault(kind, set()).add(sid)
        return {"served": Counter({k: len(v) for k, v in served.items()})}
    finally:
        con.close()


def _equity_by_hand(con: sqlite3.Connection, as_of: str, inputs: dict[str, Any]) -> dict[str, Any]:
    level = {t.id: t.level for t in inputs["ruleset"].spec.tiers}
    ids = {str(f["student_id"]) for f in inputs["facts"]}
    tier: dict[str, str | None] = {}
    trigger: dict[str, str] = {}
    legal: set[str] = set()
    for sid, kind, at, t in con.execute(
        "SELECT student_id, kind, at, tier FROM events WHERE record = 'event' AND kind IN "
        "('decision', 'legal_issued') AND at <= ? ORDER BY student_id, at, seq",
        (as_of,),
    ):
        if kind == "decision":
            tier[sid] = t
            if level.get(t or "", 0) >= 2:
                trigger.setdefault(sid, at)
        else:
            legal.add(sid)
    started: dict[str, str] = {}
    withdrawn: set[str] = set()
    for iid, at, state, gone in con.execute(
        "SELECT intervention_id, at, to_state, withdrawn FROM events WHERE record = 'event' "
        "AND kind = 'transition' AND at <= ? ORDER BY student_id, seq",
        (as_of,),
    ):
        if state in STARTED:  # started on the earliest date a start was recorded for
            started[iid] = min(at, started.get(iid, at))
        elif gone:
            withdrawn.add(iid)
    first_support: dict[str, list[str]] = {}
    for iid, sid in con.execute("SELECT id, student_id FROM interventions"):
        if iid in started and iid not in withdrawn:
            first_support.setdefault(sid, []).append(started[iid])
    waiting = sum(
        1
        for sid, on in trigger.items()
        if sid in ids and not any(s >= on for s in first_support.get(sid, ()))
    )
    return {
        "tier23": sum(1 for sid in ids if level.get(tier.get(sid) or "", 0) >= 2),
        "waiting": waiting,
        "legal": len(legal & ids),
    }


# --- timing --------------------------------------------------------------------------------------


def timed(run: Callable[..., Any], *args: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = run(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=Path, help="a year store built before (else one is built)")
    parser.add_argument("--year-students", type=int, default=50_000)
    parser.add_argument("--cadence", type=int, default=20)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--reports", default="operations,equity,effectiveness")
    args = parser.parse_args(argv)
    path = args.year
    if path is None or not path.exists():
        path = path or Path(f"year-{args.year_students}.db")
        print(f"building the year: {args.year_students:,} students into {path} ...", flush=True)
        filled = bench_store.fill_year(
            bench_store.Db("sqlite", str(path)), args.year_students, "ca", args.cadence
        )
        print(f"  built in {filled['seconds']:.0f} s", flush=True)
    opened = time.perf_counter()
    SqlRepository(path).close()  # migrate an older file first (timed apart)
    print(f"opened {path} (migrated if older) in {time.perf_counter() - opened:.1f} s")
    ruleset = tierflow.load_ruleset("ca")
    facts = end_facts(args.year_students, args.cadence)
    days = bench_store.school_days()[: bench_store.YEAR_DAYS]
    inputs = {
        "as_of": days[-1],
        "ruleset": ruleset,
        "facts": facts,
        "roster": bench_store.roster(ruleset, bench_store.Year(args.year_students).base),
    }
    names = [n.strip() for n in args.reports.split(",") if n.strip()]
    if "effectiveness" in names:
        inputs["attendance"] = attendance(facts, days)
    print(f"{len(facts):,} students, as of {inputs['as_of']}; {args.samples} alternating samples")
    print(
        f"{'report':<14}{'tierflow wall':>15}{'cpu':>9}{'by hand wall':>15}{'cpu':>9}{'ratio':>8}"
    )
    for name in names:
        ours: list[tuple[float, float]] = []
        hand: list[tuple[float, float]] = []
        for _ in range(args.samples):
            wall, cpu, got = timed(by_tierflow, name, str(path), inputs)
            ours.append((wall, cpu))
            wall, cpu, want = timed(by_hand, name, str(path), inputs)
            hand.append((wall, cpu))
            if got != want:
                print(f"{name}: tierflow and the baseline disagree:\n  {got}\n  {want}")
                return 1
        ratios = sorted(o[1] / h[1] for o, h in zip(ours, hand, strict=True))
        print(
            f"{name:<14}{statistics.median(w for w, _ in ours):>14.2f}s"
            f"{statistics.median(c for _, c in ours):>8.2f}s"
            f"{statistics.median(w for w, _ in hand):>14.2f}s"
            f"{statistics.median(c for _, c in hand):>8.2f}s"
            f"{statistics.median(ratios):>7.1f}x  (cpu ratio {ratios[0]:.1f}-{ratios[-1]:.1f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
