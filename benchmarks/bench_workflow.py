"""Benchmark: the intervention workflow at state scale, against hand-written minimal code.

Memory: a fresh process runs the engine once over generated Tier 2 students (two interventions
each under the built-in ``mtss`` rule set) and holds every opened intervention, its opening
event and each student's decision event; its resident memory is compared with a hand-written
minimal baseline (a list per intervention, a tuple per event) holding the same records, and
with one ``transitions.Machine`` per intervention (what the design avoids), extrapolated from
a sample.

Speed: every intervention goes through start, follow_up_due (by ``advance``), check_in and
close, through the engine's public methods, then through two hand-written baselines and
through per-object ``transitions`` machines. The minimal baseline is a dict lookup table, a
state field and an event tuple. The guarded one ("by hand, same records") keeps what the
engine keeps: an atomic unit a transition (a journal of undo entries), versions, numbered
audit events in each student's timeline, the overdue flag and its event, check-in rows with
the next follow-up and the open index. The final states and the number of events must agree
(for the guarded baseline also versions, follow-ups and check-ins) before any figure is
printed. Speed is
process CPU time, the median of ``--repeat`` rounds, with the garbage collector on and off
(the settings alternate round by round); the ratio to the baseline is given with its spread.

Run::

    python benchmarks/bench_workflow.py                     # 1,000,000 open interventions
    python benchmarks/bench_workflow.py --students 20000 --machines 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tierflow
from tierflow.workflow import LIFECYCLE, Engine, Roster, StaffMember

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sampling import collector_set  # beside this script; benchmarks/ is not a package

SCHOOLS = 50
DAY = dt.date(2025, 10, 6)
LATER = dt.date(2025, 11, 20)  # every weekly and biweekly follow-up has passed, and its grace
TRIGGERS = (("start", "assigned"), ("follow_up_due", "active"), ("check_in", "follow_up_due"))


def facts(students: int) -> Iterator[dict[str, Any]]:
    """Tier 2 students (3 absences in 40 days): weekly check-in and family call each."""
    for i in range(students):
        yield {
            "student_id": f"st{i:07d}",
            "school_id": f"sch{i % SCHOOLS:02d}",
            "days_enrolled": 40,
            "days_absent": 3,
        }


def roster() -> Roster:
    return Roster(
        StaffMember(f"sch{s:02d}-{role}-{k}", f"sch{s:02d}", (role,), caseload_limit=10**9)
        for s in range(SCHOOLS)
        for role in ("mentor", "counselor")
        for k in range(3)
    )


def _rss_kib() -> int:
    """Current resident set size of this process, in KiB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --- hand-written minimal baseline --------------------------------------------------------------

# The same lifecycle as a plain table, written by hand.
BASE_TABLE = {
    ("start", "assigned"): "active",
    ("follow_up_due", "active"): "follow_up_due",
    ("check_in", "follow_up_due"): "active",
    ("check_in", "active"): "active",
    ("check_in", "assigned"): "active",
    ("close", "assigned"): "closed",
    ("close", "active"): "closed",
    ("close", "follow_up_due"): "closed",
}
# Record fields: id, student, school, intervention, owner, state, follow-up, review.
STATE = 5


class Baseline:
    """What a developer would write for the same bookkeeping, with nothing extra."""

    def __init__(self) -> None:
        self.records: dict[str, list[Any]] = {}
        self.events: list[tuple[Any, ...]] = []

    def open_many(self, students: int) -> None:
        follow = {
            "weekly-checkin": DAY + dt.timedelta(weeks=1),
            "family-call": DAY + dt.timedelta(weeks=2),
        }
        review = DAY + dt.timedelta(days=21)
        n = 0
        for f in facts(students):
            sid, school = f["student_id"], f["school_id"]
            self.events.append((len(self.events) + 1, DAY, sid, "decision", "tier2"))
            for iv, role in (("weekly-checkin", "mentor"), ("family-call", "counselor")):
                n += 1
                rid = f"iv-{n:07d}"
                owner = f"{school}-{role}-{n % 3}"
                self.records[rid] = [rid, sid, school, iv, owner, "assigned", follow[iv], review]
                self.events.append((len(self.events) + 1, DAY, sid, "opened", rid, owner))

    def fire(self, rid: str, trigger: str, on: dt.date, who: str) -> None:
        record = self.records[rid]
        target = BASE_TABLE.get((trigger, record[STATE]))
        if target is None:
            raise ValueError(f"{rid} is {record[STATE]}: {trigger} not allowed")
        self.events.append(
            (len(self.events) + 1, on, record[1], trigger, rid, record[STATE], target, who)
        )
        record[STATE] = target


CADENCE = {"weekly-checkin": dt.timedelta(weeks=1), "family-call": dt.timedelta(weeks=2)}


class _Case:
    """An intervention as the guarded baseline keeps it: the fields a transition reads or sets."""

    __slots__ = (
        "ended_on",
        "id",
        "intervention",
        "next_follow_up",
        "overdue",
        "state",
        "student_id",
        "version",
    )

    def __init__(self, iid: str, student_id: str, intervention: str, follow: dt.date) -> None:
        self.id, self.student_id, self.state, self.version = iid, student_id, "assigned", 1
        self.intervention, self.next_follow_up = intervention, follow
        self.overdue = False
        self.ended_on: dt.date | None = None


def _undo_case(case: _Case, state: str, version: int, follow: dt.date, overdue: bool) -> None:
    case.state, case.version, case.next_follow_up, case.overdue = state, version, follow, overdue
    case.ended_on = None


def _undo_row(rows: list[Any], seq: int, base: GuardedBaseline) -> None:
    del rows[-1]
    base.next_seq = seq


def _undo_check_in(index: dict[str, tuple[Any, ...]], iid: str, before: tuple[Any, ...]) -> None:
    index[iid] = before


class GuardedBaseline:
    """The fastest straightforward code that keeps what the engine keeps, by hand.

    What :class:`Baseline` leaves out and the engine does for each transition: an atomic unit
    (a journal of undo entries, undone if an exception leaves it), the version counted up, an
    audit event (who, why, the rule set) numbered and kept in its student's timeline, the
    overdue flag and its event, a check-in row with the next follow-up, the open index. No
    argument checks, hooks, caseloads or owners: a floor for the engine, not an engine.
    """

    def __init__(self, ruleset: object) -> None:
        self.ruleset = ruleset
        self.cases: dict[str, _Case] = {}
        self.open: dict[str, _Case] = {}
        self.timelines: dict[str, list[Any]] = {}
        self.check_ins: dict[str, tuple[Any, ...]] = {}
        self.journal: list[tuple[Any, ...]] = []
        self.next_seq = 1

    def open_many(self, ivs: list[Any]) -> None:
        for iv in ivs:
            case = _Case(iv.id, iv.student_id, iv.intervention, iv.next_follow_up)
            self.cases[iv.id] = self.open[iv.id] = case
            self.timelines.setdefault(iv.student_id, [])

    def _event(
        self, case: _Case, on: dt.date, kind: str, move: tuple[Any, ...], who: str, why: str
    ) -> None:
        seq = self.next_seq
        self.next_seq = seq + 1
        rows = self.timelines[case.student_id]
        rows.append((seq, on, kind, case.id, *move, who, why, self.ruleset))
        self.journal.append((_undo_row, rows, seq, self))

    def fire(self, iid: str, trigger: str, on: dt.date, who: str, why: str, **changes: Any) -> None:
        mark = len(self.journal)
        try:
            case = self.cases[iid]
            before = case.state
            target = BASE_TABLE.get((trigger, before))
            if target is None:
                raise ValueError(f"{iid} is {before}: {trigger} not allowed")
            self.journal.append(
                (_undo_case, case, before, case.version, case.next_follow_up, case.overdue)
            )
            case.state, case.version = target, case.version + 1
            for name, value in changes.items():
                setattr(case, name, value)
            if target == "closed":
                case.ended_on = on
                del self.open[iid]
            self._event(case, on, "transition", (trigger, before, target), who, why)
            if changes.get("overdue"):
                self._event(case, on, "overdue", (None, None, None), "tierflow", "late")
        except BaseException:
            while len(self.journal) > mark:
                entry = self.journal.pop()
                entry[0](*entry[1:])
            raise
        del self.journal[mark:]

    def check_in(self, iid: str, on: dt.date, who: str) -> None:
        before = self.check_ins.get(iid, ())
        self.check_ins[iid] = (*before, (iid, on, who, True, "call", "", None))
        # The catalogue's cadence (mtss: weekly, biweekly); every date here is a weekday.
        follow = on + CADENCE[self.cases[iid].intervention]
        try:
            self.fire(
                iid, "check_in", on, who, "call check-in", next_follow_up=follow, overdue=False
            )
        except BaseException:
            _undo_check_in(self.check_ins, iid, before)
            raise


# --- children measuring memory in a fresh process ---------------------------------------------


def child_memory(kind: str, students: int) -> dict[str, Any]:
    gc.collect()
    before = _rss_kib()
    started = time.perf_counter()
    if kind == "engine":
        engine = Engine(tierflow.load_ruleset("mtss"), roster=roster())
        loaded = _rss_kib()  # the rule set and its compiled code are not per-intervention
        plan = engine.run(DAY, facts(students))
        opened = len(plan.opened)
        events = sum(len(engine.timeline(iv.student_id)) for iv in plan.opened[::2])
        open_count = sum(1 for _ in engine.repository.open_interventions())
        del plan
    else:
        base = Baseline()
        loaded = _rss_kib()
        base.open_many(students)
        opened = open_count = len(base.records)
        events = len(base.events)
    seconds = time.perf_counter() - started
    gc.collect()
    after = _rss_kib()
    return {
        "opened": opened,
        "open": open_count,
        "events": events,
        "kib": after - loaded,
        "total_kib": after,
        "startup_kib": loaded - before,
        "seconds": seconds,
    }


def machines(count: int) -> dict[str, Any]:
    """One ``transitions.Machine`` per intervention: creation time, memory, trigger rate."""
    import tracemalloc

    from transitions import Machine

    spec = [
        {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest}
        for t in LIFECYCLE.transitions
    ]

    class Model:
        pass

    tracemalloc.start()
    started = time.perf_counter()
    models = []
    for _ in range(count):
        model = Model()
        Machine(
            model=model,
            states=list(LIFECYCLE.states),
            transitions=spec,
            initial="assigned",
            auto_transitions=False,
        )
        models.append(model)
    create = time.perf_counter() - started
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    started = time.perf_counter()
    for model in models:
        model.start()  # type: ignore[attr-defined]
        model.follow_up_due()  # type: ignore[attr-defined]
        model.check_in()  # type: ignore[attr-defined]
        model.close()  # type: ignore[attr-defined]
    fire = time.perf_counter() - started
    assert all(m.state == "closed" for m in models)  # type: ignore[attr-defined]
    return {"count": count, "create": create, "bytes": size / count, "rate": 4 * count / fire}


# --- speed in this process ----------------------------------------------------------------------


def speed(students: int, collector: str = "on") -> dict[str, Any]:
    """One round: the engine's four transitions, then the baseline's, in process CPU time.

    ``collector`` is the garbage collector's setting during the timed parts (``"on"``,
    ``"freeze"``: what was set up before is frozen, ``"off"``).
    """
    engine = Engine(tierflow.load_ruleset("mtss"), roster=roster())
    ivs = engine.run(DAY, facts(students)).opened
    events_before = sum(len(engine.timeline(iv.student_id)) for iv in ivs[::2])
    figures: dict[str, float] = {}
    with collector_set(collector):
        started = time.process_time()
        for iv in ivs:
            engine.start(iv.id, on=DAY, by="owner")
        figures["start"] = time.process_time() - started
        started = time.process_time()
        due = engine.advance(LATER).due
        figures["advance"] = time.process_time() - started
        assert len(due) == len(ivs) and all(iv.state == "follow_up_due" for iv in ivs)
        started = time.process_time()
        for iv in ivs:
            engine.check_in(iv.id, on=LATER, by="owner", goal_met=True, contact_type="call")
        figures["check_in"] = time.process_time() - started
        started = time.process_time()
        for iv in ivs:
            engine.close(iv.id, on=LATER, by="owner", reason="plan ended")
        figures["close"] = time.process_time() - started
    events = sum(len(engine.timeline(iv.student_id)) for iv in ivs[::2]) - events_before
    states = [iv.state for iv in ivs]
    versions = [iv.version for iv in ivs]
    follow_ups = [iv.next_follow_up for iv in ivs]
    check_ins = sum(len(engine.repository.check_ins(iv.id)) for iv in ivs)

    guarded = GuardedBaseline(engine.ruleset.ref)
    guarded.open_many(ivs)
    del engine, due
    gids = list(guarded.cases)
    with collector_set(collector):
        started = time.process_time()
        for gid in gids:
            guarded.fire(gid, "start", DAY, "owner", "started by its owner")
        for gid in gids:
            guarded.fire(gid, "follow_up_due", LATER, "tierflow", "due", overdue=True)
        for gid in gids:
            guarded.check_in(gid, LATER, "owner")
        for gid in gids:
            guarded.fire(gid, "close", LATER, "owner", "plan ended")
        figures["guarded"] = time.process_time() - started
    cases = list(guarded.cases.values())
    if (
        [c.state for c in cases] != states
        or [c.version for c in cases] != versions
        or [c.next_follow_up for c in cases] != follow_ups
        or sum(len(rows) for rows in guarded.timelines.values()) != events
        or sum(map(len, guarded.check_ins.values())) != check_ins
        or guarded.open
    ):
        raise SystemExit("MISMATCH: the guarded baseline does not keep what the engine keeps")
    del guarded, cases

    base = Baseline()
    base.open_many(students)
    base_before = len(base.events)
    rids = list(base.records)
    with collector_set(collector):
        started = time.process_time()
        for trigger, _ in TRIGGERS:
            for rid in rids:
                base.fire(rid, trigger, LATER, "owner")
        for rid in rids:
            base.fire(rid, "close", LATER, "owner")
        figures["baseline"] = time.process_time() - started
    base_states = [r[STATE] for r in base.records.values()]
    # The engine also records one overdue flag per intervention (advance, past the grace period).
    if states != base_states or events != len(base.events) - base_before + len(ivs):
        raise SystemExit(
            f"MISMATCH: engine {events} events, baseline {len(base.events) - base_before}"
        )
    figures["engine"] = sum(figures[k] for k in ("start", "advance", "check_in", "close"))
    return {"transitions": 4 * len(ivs), "figures": figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500_000, help="two interventions each")
    parser.add_argument("--speed-students", type=int, default=100_000)
    parser.add_argument("--machines", type=int, default=10_000, help="transitions.Machine sample")
    parser.add_argument("--repeat", type=int, default=5, help="speed rounds (GC on, then off)")
    parser.add_argument("--memory-child", choices=["engine", "baseline"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        print(json.dumps(child_memory(args.memory_child, args.students)))
        return 0

    mem = {}
    for kind in ("engine", "baseline"):
        command = [
            sys.executable,
            __file__,
            "--memory-child",
            kind,
            "--students",
            str(args.students),
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        mem[kind] = json.loads(out)
    eng, base = mem["engine"], mem["baseline"]
    if eng["open"] != base["open"] or eng["opened"] != 2 * args.students:
        print(f"MISMATCH: engine holds {eng['open']:,} open, baseline {base['open']:,}")
        return 1
    print(f"memory: {eng['open']:,} open interventions equal in engine and baseline")
    mach = machines(args.machines)
    per_engine = eng["kib"] * 1024 / eng["open"]
    per_base = base["kib"] * 1024 / base["open"]
    print(
        f"  engine    {eng['kib'] / 1024:8,.0f} MiB held ({per_engine:,.0f} B per intervention, "
        f"events included; process total {eng['total_kib'] / 1024:,.0f} MiB; opened in "
        f"{eng['seconds']:.1f} s)"
    )
    print(
        f"  baseline  {base['kib'] / 1024:8,.0f} MiB held ({per_base:,.0f} B per intervention; "
        f"engine/baseline {per_engine / per_base:.2f}x)"
    )
    print(
        f"  one transitions.Machine per intervention: {mach['bytes']:,.0f} B each, "
        f"{mach['create'] / mach['count'] * 1e6:,.0f} us to create (x {eng['open']:,} = "
        f"{mach['bytes'] * eng['open'] / 2**30:,.1f} GiB, "
        f"{mach['create'] / mach['count'] * eng['open']:,.0f} s), for {mach['count']:,} sampled"
    )

    size = min(args.speed_students, args.students)
    rounds: dict[str, list[dict[str, float]]] = {c: [] for c in ("on", "off")}
    for _ in range(args.repeat):  # the settings alternate, round by round
        for setting in rounds:
            rounds[setting].append(speed(size, setting)["figures"])
    n = 4 * 2 * size
    per = n // 4
    print(
        f"speed: {n:,} transitions, final states and event counts equal to the baseline "
        f"(median of {args.repeat} rounds, process CPU time)"
    )
    for setting, runs in rounds.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        ratios = [r["engine"] / r["baseline"] for r in runs]
        print(f"  GC {setting}:")
        for name in ("start", "advance", "check_in", "close"):
            print(f"    engine.{name:<14}{per / med[name]:12,.0f} transitions/s")
        rates = sorted(n / r["engine"] for r in runs)
        print(
            f"    engine, all four     {n / med['engine']:12,.0f} transitions/s "
            f"({rates[0]:,.0f}-{rates[-1]:,.0f})"
        )
        print(
            f"    hand-written         {n / med['baseline']:12,.0f} transitions/s (engine takes "
            f"{statistics.median(ratios):.1f}x its time, {min(ratios):.1f}-{max(ratios):.1f}x)"
        )
        guarded = [r["engine"] / r["guarded"] for r in runs]
        print(
            f"    by hand, same records{n / med['guarded']:12,.0f} transitions/s (engine takes "
            f"{statistics.median(guarded):.1f}x its time, {min(guarded):.1f}-{max(guarded):.1f}x)"
        )
    print(f"  transitions.Machine  {mach['rate']:12,.0f} transitions/s (one machine per model)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
