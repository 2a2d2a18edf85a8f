"""A day's run over 10,000 students killed with SIGKILL at random points, then run again.

Each trial copies a store (empty, or holding the first day), starts a child process running a
day on it and kills it with SIGKILL part way; a fresh process then checks what the killed one
left and runs the same day again to completion. The kill point is drawn (seeded) over the whole
run: after a random one of the day's events and a random few milliseconds more, so it lands
anywhere (inside a statement, between changes, in a commit); some trials aim at the commit of a
random chunk. After the kill and after the rerun, every student's hash chain verifies, the
replay of the events equals the stored interventions, check-ins and issued steps, no
intervention is open twice for a student and kind, and every student has a decision recorded
with none repeated. After the rerun the store holds exactly what a clean uninterrupted run of
the same days holds (every table, compared by a digest).

A host runs a big day in chunks of students, each chunk in its own batch (``run_batch``): a
kill leaves the chunks committed before it, whole, and the rerun resumes without duplicates.
Trials also kill a run that is not batched at all: there the engine makes each student's part
of the run (and each follow-up it moves) one transaction of its own (``SqlRepository.unit``), so
a change is never kept without the event that documents it, and those trials too must end with
exactly the clean run's records (``test_a_kill_between_a_change_and_its_event_keeps_neither``
kills the process right after a change, at a known point).

The trials run two (or more, one per CPU up to 4) at a time. PostgreSQL (when the test server
is reachable, see tests/stores.py) gets fewer trials: the client killed mid-transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import tierflow
from stores import Store, day_facts, one_owner_per_role, postgres_url
from tierflow._sample import generate_facts
from tierflow.store import SqlRepository, replay
from tierflow.store import _codec as codec
from tierflow.store._audit import _check_chain
from tierflow.store._schema import tables
from tierflow.workflow import OPEN_STATES, Engine, Roster, WorkflowEvent

MTSS = tierflow.load_ruleset("mtss")
DAYS = [dt.date(2026, 1, 30), dt.date(2026, 2, 6)]
N = 10_000
CHUNK = 1_000
SEED = 20260130
WORKERS = max(2, min(4, os.cpu_count() or 2))


def facts(day: dt.date) -> list[dict[str, Any]]:
    """``N`` generated students; a week later some of them missed more days."""
    return day_facts(N, day, DAYS[0])


def roster() -> Roster:
    """One owner per school and role, with room for some of the cases (the rest unassigned).

    One owner per role: a resumed unbatched run picks the same owners as an uninterrupted one.
    """
    return one_owner_per_role(MTSS, sorted({str(f["school_id"]) for f in generate_facts(3)}), 600)


def run_day(
    repo: SqlRepository,
    day: dt.date,
    *,
    batched: bool = True,
    on_event: Callable[[WorkflowEvent], None] | None = None,
    worked: Callable[[int], None] | None = None,
    committed: Callable[[int], None] | None = None,
) -> None:
    """Run ``day`` as a host runs a big day: chunks of ``CHUNK`` students, a batch each.

    Unbatched: one run over every student, each change its own transaction.
    ``worked(k)`` is called when chunk ``k``'s work is done (its batch not yet committed),
    ``committed(k)`` once it is.
    """
    students = facts(day)
    if not batched:
        engine = Engine(MTSS, repository=repo, roster=roster())
        if on_event is not None:
            engine.subscribe(on_event)
        engine.run(day, students)
        return
    for k, start in enumerate(range(0, len(students), CHUNK)):
        part = students[start : start + CHUNK]

        def work(part: list[dict[str, Any]] = part, k: int = k) -> None:
            engine = Engine(MTSS, repository=repo, roster=roster())
            if on_event is not None:
                engine.subscribe(on_event)
            engine.run(day, part)
            if worked is not None:
                worked(k)

        repo.run_batch(work)
        if committed is not None:
            committed(k)


# --- what a store holds, and whether it is consistent ----------------------------------------


def tables_of(repo: SqlRepository) -> dict[str, list[Any]]:
    """Every row tierflow keeps (not the migrations), in a stable order."""
    ivs, ci, issued, heads = (
        tables.interventions,
        tables.check_ins,
        tables.issued,
        tables.chain_heads,
    )
    with repo._engine.connect() as conn:

        def rows(statement: Any) -> list[Any]:
            return [tuple(r) for r in conn.execute(statement).all()]

        return {
            "interventions": rows(
                sa.select(
                    ivs.c.id,
                    ivs.c.student_id,
                    ivs.c.catalog_id,
                    ivs.c.is_open,
                    ivs.c.version,
                    ivs.c.body,
                ).order_by(ivs.c.pos)
            ),
            "check_ins": rows(sa.select(ci.c.intervention_id, ci.c.body).order_by(ci.c.pos)),
            "issued": [
                (s, step, str(on)) for s, step, on in rows(sa.select(issued).order_by(*issued.c))
            ],
            "heads": rows(sa.select(heads).order_by(heads.c.student_id)),
        }


def digest(value: Any) -> str:
    """A short fingerprint of JSON-able data."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check(repo: SqlRepository, day: dt.date, *, full: bool = True) -> dict[str, Any]:
    """What is wrong with the store (``problems``), and fingerprints of what it holds.

    ``full=False`` only takes the fingerprints (a store equal to a checked one needs no more).

    The checks of ``verify``, in bulk (one query a table, not a few a student): every chain
    intact up to its head; the replay of the events equal to the stored interventions (their
    indexed columns too), check-ins and issued steps. Then: at most one open intervention per
    student and kind; every student of ``day`` has a decision recorded, and no decision event
    repeats the one before it (a decision recorded twice).
    """
    rows = repo.chain_rows()
    held = tables_of(repo)
    events = [(r.student_id, r.seq, r.record, r.intervention_id, r.body, r.hash) for r in rows]
    prints = {
        "rows": len(rows),
        # SQLite numbers rows again after a rollback; PostgreSQL's sequences skip.
        "numbered": digest([[r.row, *e] for r, e in zip(rows, events, strict=True)]),
        "digest": digest([events, held]),
    }
    if not full:
        return prints
    heads = {s: (seq, h) for s, seq, h in held["heads"]}
    chains: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        chains[r.student_id].append(r)
    problems = [
        str(f)
        for s in sorted(set(chains) | set(heads))
        for f in _check_chain(s, chains[s], heads.get(s))
    ]
    state = replay(rows)
    stored = []
    for iid, sid, catalog, is_open, version, body in held["interventions"]:
        iv = codec.intervention_from_json(codec.loads(body))
        if (iv.id, iv.student_id, iv.intervention, iv.version) != (iid, sid, catalog, version):
            problems.append(f"{iid}: its indexed columns disagree with its body")
        if bool(is_open) != (iv.state in OPEN_STATES):
            problems.append(f"{iid}: is_open {is_open} but its state is {iv.state}")
        stored.append(iv)
    if stored != list(state.interventions.values()):
        differ = [iv.id for iv in stored if state.interventions.get(iv.id) != iv]
        problems.append(
            f"the replay differs from the stored interventions ({len(stored)} stored, "
            f"{len(state.interventions)} replayed; differing: {differ[:5]})"
        )
    check_ins: dict[str, list[Any]] = defaultdict(list)
    for iid, body in held["check_ins"]:
        check_ins[iid].append(codec.check_in_from_json(codec.loads(body)))
    if dict(check_ins) != state.check_ins:
        problems.append("the replay differs from the stored check-ins")
    issued: dict[str, dict[str, dt.date]] = defaultdict(dict)
    for sid, step, on in held["issued"]:
        issued[sid][step] = dt.date.fromisoformat(on)
    if dict(issued) != state.issued:
        problems.append("the replay differs from the stored issued steps")
    twice = [
        k
        for k, n in Counter(
            (iv.student_id, iv.intervention) for iv in stored if iv.state in OPEN_STATES
        ).items()
        if n > 1
    ]
    if twice:
        problems.append(f"open twice: {twice[:5]}")
    decided, repeated = 0, []
    for sid, events in state.events.items():
        decisions = [e.detail for e in events if e.kind == "decision" and e.at <= day]
        decided += bool(decisions)
        if any(a == b for a, b in itertools.pairwise(decisions)):
            repeated.append(sid)
    if repeated:
        problems.append(f"a decision recorded twice in a row: {repeated[:5]}")
    return {"problems": problems, "decided": decided, **prints}


# --- the child processes ----------------------------------------------------------------------


@dataclass
class Trial:
    """One kill: what to run, and where to kill it.

    Attributes:
        name: For messages.
        day: Which day the killed process runs (``DAYS[day]``; day 1 on a store holding day 0).
        batched: In chunks of batches, or each change its own transaction.
        kill_event: Kill after this many events of the run...
        delay: ...and this many seconds more.
        commit_chunk: Instead: kill this chunk's batch ``delay`` seconds after its work is done
            (in the flush of the chain heads or the commit); -1 for none.
    """

    name: str
    day: int
    batched: bool = True
    kill_event: int = 0
    delay: float = 0.0
    commit_chunk: int = -1
    expect: tuple[str, str] | None = None  # the clean run's fingerprint (by name) after the rerun


CHILD = textwrap.dedent(
    """
    import datetime as dt, json, os, signal, sys, threading, time
    from pathlib import Path
    sys.path[:0] = [sys.argv[1], str(Path(sys.argv[1]).parent)]
    import test_crash as t
    from tierflow.store import SqlRepository

    _, _, target, schema, job, spec = sys.argv
    spec = json.loads(spec)
    day = t.DAYS[spec["day"]]
    repo = SqlRepository(target, schema=schema or None)
    if job == "kill" and not spec["batched"] and repo.dialect == "sqlite":
        # A commit a change: syncing each to disk would make the run 5-10 times slower, and
        # protects against a power cut, not a killed process (the journal is written anyway).
        repo._conn.connection.dbapi_connection.execute("PRAGMA synchronous = OFF")

    def kill_in(seconds):
        threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGKILL)).start()

    if job == "kill":
        seen = [0]
        def on_event(event):
            seen[0] += 1
            if seen[0] == spec["kill_event"]:
                kill_in(spec["delay"])
        def worked(k):
            if k == spec["commit_chunk"]:
                kill_in(spec["delay"])
        def committed(k):
            print(f"committed {k}", flush=True)
        t.run_day(repo, day, batched=spec["batched"], on_event=on_event, worked=worked,
                  committed=committed)
        print("finished", flush=True)
    elif job == "reference":
        events, ends, commits = [0], [0.0], []
        def on_event(event):
            events[0] += 1
        def worked(k):
            ends[0] = time.perf_counter()
        def committed(k):
            commits.append(time.perf_counter() - ends[0])
        began = time.perf_counter()
        t.run_day(repo, day, on_event=on_event, worked=worked, committed=committed)
        seconds = time.perf_counter() - began
        print(json.dumps({"events": events[0], "commits": commits, "seconds": seconds,
                          "check": t.check(repo, day)}))
    else:  # resume: check what the killed process left, run the day again, check again
        found = t.check(repo, day)
        began = time.perf_counter()
        t.run_day(repo, day)
        seconds = time.perf_counter() - began
        final = t.check(repo, day, full=spec["expect"] is None)
        if spec["expect"] is not None and final[spec["expect"][0]] != spec["expect"][1]:
            final = t.check(repo, day)  # not the clean run's records: say what is wrong too
        print(json.dumps({"found": found, "final": final, "seconds": seconds}))
    repo.close()
    """
)


def child(store: Store, job: str, trial: Trial) -> subprocess.Popen[str]:
    """Start a child process doing ``job`` on the store."""
    command = [
        sys.executable,
        "-c",
        CHILD,
        str(Path(__file__).parent),
        store.target,
        store.schema or "",
        job,
        json.dumps(asdict(trial)),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    """What a reference or resume child printed (it must succeed)."""
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


@dataclass
class Outcome:
    """What a trial found."""

    trial: Trial
    killed: bool  # False: the run finished before the kill came
    chunks: int  # chunks the killed process saw committed
    found: dict[str, Any]
    final: dict[str, Any]
    seconds: float  # the whole trial


def run_trial(store: Store, trial: Trial) -> Outcome:
    """Kill a run of the trial's day on the store, then run the day again in a fresh process."""
    began = time.perf_counter()
    killed = child(store, "kill", trial)
    out, err = killed.communicate(timeout=600)
    assert killed.returncode in (0, -signal.SIGKILL), f"{trial.name}: {err}"
    resumed = finish(child(store, "resume", trial))
    return Outcome(
        trial,
        killed.returncode == -signal.SIGKILL,
        out.count("committed"),
        resumed["found"],
        resumed["final"],
        time.perf_counter() - began,
    )


# --- the reference: clean runs ----------------------------------------------------------------


@dataclass
class Reference:
    """Clean runs: the starting stores and what each day ends with."""

    starts: list[Path]  # DAYS[k] starts from starts[k]
    info: list[dict[str, Any]]  # the clean run of DAYS[k] (events, commit times, check)
    ends: list[Path]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """An empty store, the clean run of day 0 on it and of day 1 after it (each one process)."""
    folder = tmp_path_factory.mktemp("crash")
    empty = folder / "empty.db"
    SqlRepository(empty).close()  # migrated
    starts, info, ends = [empty], [], []
    for k in range(len(DAYS)):
        end = folder / f"day{k}.db"
        shutil.copy(starts[k], end)
        info.append(finish(child(Store("sqlite", str(end)), "reference", Trial("clean", k))))
        assert info[k]["check"]["problems"] == []
        assert info[k]["check"]["decided"] == N
        ends.append(end)
        starts.append(end)
    return Reference(starts[: len(DAYS)], info, ends)


def trials(reference: Reference, rng: random.Random) -> list[Trial]:
    """20 kills on SQLite: chunked runs of both days, commits aimed at, unbatched runs."""
    out = []
    for n in range(14):
        day = n % 2
        out.append(
            Trial(
                f"chunks day {day} #{n}",
                day,
                kill_event=rng.randint(1, reference.info[day]["events"]),
                delay=rng.uniform(0, 0.03),
            )
        )
    for n in range(3):
        day = n % 2
        chunk = rng.randrange(len(reference.info[day]["commits"]))
        took = reference.info[day]["commits"][chunk]
        out.append(
            Trial(
                f"commit of chunk {chunk}, day {day}",
                day,
                commit_chunk=chunk,
                delay=rng.uniform(0, took),
            )
        )
    for trial in out:
        trial.expect = ("numbered", reference.info[trial.day]["check"]["numbered"])
    for n in range(3):
        out.append(
            Trial(
                f"unbatched day 0 #{n}",
                0,
                batched=False,
                kill_event=rng.randint(1, reference.info[0]["events"]),
                delay=rng.uniform(0, 0.03),
            )
        )
    return out


def assert_consistent(outcome: Outcome, clean: dict[str, Any]) -> None:
    """What must hold after the kill, and after the rerun, in any mode.

    A rerun that ends with the clean run's records (the same fingerprint) holds what the clean
    run holds, checked once in the reference; any other is checked in full.
    """
    name = outcome.trial.name
    assert outcome.found["problems"] == [], f"{name}: after the kill"
    final = outcome.final
    if "problems" not in final:
        assert outcome.trial.expect is not None
        assert final[outcome.trial.expect[0]] == outcome.trial.expect[1]
        final = clean
    assert final["problems"] == [], f"{name}: after the rerun"
    assert final["decided"] == N, f"{name}: a student has no decision"


def difference(store: Store, clean: Path) -> str:
    """Where a trial's store first differs from the clean run's (for a failure message)."""
    with store.open() as repo, SqlRepository(clean) as ref:
        got, want = tables_of(repo), tables_of(ref)
        got["events"] = [tuple(r) for r in repo.chain_rows()]
        want["events"] = [tuple(r) for r in ref.chain_rows()]
    for name in want:
        for n, (a, b) in enumerate(zip(got[name], want[name], strict=False)):
            if a != b:
                return f"{name} row {n}: {a!r:.300} instead of {b!r:.300}"
        if len(got[name]) != len(want[name]):
            return f"{name}: {len(got[name])} rows instead of {len(want[name])}"
    return "the same rows (only the digest differs?)"


# minutes of CPU in child processes: CI runs it (-m slow), the default run leaves it out
@pytest.mark.slow
def test_a_day_killed_at_random_points_resumes_to_a_clean_runs_records(
    reference: Reference, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    planned = trials(reference, rng)
    stores = []
    for n, trial in enumerate(planned):
        path = tmp_path / f"trial{n}.db"
        shutil.copy(reference.starts[trial.day], path)
        stores.append(Store("sqlite", str(path)))
    began = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(run_trial, stores, planned))
    took = time.perf_counter() - began
    for outcome, store in zip(outcomes, stores, strict=True):
        trial, clean = outcome.trial, reference.info[outcome.trial.day]["check"]
        print(
            f"{trial.name}: {'killed' if outcome.killed else 'finished before the kill'}, "
            f"{outcome.chunks} chunks committed, {outcome.found['rows']:,} rows found, "
            f"{outcome.seconds:.1f} s"
        )
        assert_consistent(outcome, clean)
        assert outcome.final["numbered"] == clean["numbered"], (
            f"{trial.name}: {difference(store, reference.ends[trial.day])}"
        )
    assert sum(o.killed for o in outcomes) >= len(outcomes) - 2, "most kills came too late"
    print(f"{len(outcomes)} trials in {took:.1f} s ({WORKERS} at a time)")


# minutes of CPU in child processes: CI runs it (-m slow), the default run leaves it out
@pytest.mark.slow
def test_postgresql_a_client_killed_mid_transaction_resumes_to_a_clean_runs_records(
    reference: Reference,
) -> None:
    url = postgres_url()
    rng = random.Random(SEED + 1)
    clean = reference.info[0]["check"]
    planned = [
        Trial(
            f"postgresql chunks day 0 #{n}",
            0,
            kill_event=rng.randint(1, reference.info[0]["events"]),
            delay=rng.uniform(0, 0.03),
            expect=("digest", clean["digest"]),
        )
        for n in range(3)
    ]
    stores = [Store("postgresql", url, f"t_{uuid.uuid4().hex[:16]}") for _ in planned]
    try:
        for store in stores:
            store.open().close()  # migrated before the kill
        with ThreadPoolExecutor(WORKERS) as pool:
            outcomes = list(pool.map(run_trial, stores, planned))
    finally:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            for store in stores:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE'))
        engine.dispose()
    for outcome in outcomes:
        found = outcome.found["rows"]
        print(
            f"{outcome.trial.name}: killed {outcome.killed}, {outcome.chunks} chunks "
            f"committed, {found:,} rows found, {outcome.seconds:.1f} s"
        )
        assert_consistent(outcome, clean)


# --- the gap of unbatched runs, exactly ----------------------------------------------------


class Crash(BaseException):
    """The process dying right after a change was written, before its event."""


@pytest.mark.parametrize("method", ["add", "save"])
def test_a_kill_between_a_change_and_its_event_keeps_neither(method: str) -> None:
    few = facts(DAYS[0])[:60]
    days = [DAYS[0], DAYS[0] + dt.timedelta(days=28)]  # a month on: follow-ups overdue
    upto = days if method == "save" else days[:1]
    with SqlRepository(":memory:") as clean, SqlRepository(":memory:") as repo:
        for day in upto:
            Engine(MTSS, repository=clean, roster=roster()).run(day, few)
        if method == "save":
            Engine(MTSS, repository=repo, roster=roster()).run(days[0], few)
        real = getattr(repo, method)
        calls = []

        def then_die(*args: Any) -> None:
            real(*args)
            calls.append(args)
            if len(calls) == 3:
                raise Crash

        setattr(repo, method, then_die)
        with pytest.raises(Crash):
            Engine(MTSS, repository=repo, roster=roster()).run(upto[-1], few)
        setattr(repo, method, real)
        Engine(MTSS, repository=repo, roster=roster()).run(upto[-1], few)  # the rerun
        assert check(repo, upto[-1])["problems"] == []
        assert [r[1:] for r in repo.chain_rows()] == [r[1:] for r in clean.chain_rows()]
