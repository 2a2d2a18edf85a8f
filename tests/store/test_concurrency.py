"""Two processes writing one store at once, and a connection dropped in the middle of a batch.

Two OS processes run the same day's batch on the same store (a SQLite file, a PostgreSQL
schema), released together by a start file: afterwards no intervention is duplicated, every
decision is present once, and every hash chain verifies. Two processes recording check-ins on
the same interventions at once lose none: each check-in is kept exactly once (a conflict undoes
the attempt and ``run_batch`` does it again). A dropped connection fails the batch with a
``StoreError``, keeps nothing of it, and running the batch again gives what an uninterrupted run
gives.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import tierflow
from stores import Store
from tierflow.errors import StoreError
from tierflow.store import SqlRepository, replay, verify
from tierflow.workflow import Engine, Roster, StaffMember, WorkflowEvent

MTSS = tierflow.load_ruleset("mtss")
DAYS = [dt.date(2025, 10, 6), dt.date(2025, 10, 20), dt.date(2025, 11, 3)]
ROLES = ("mentor", "counselor", "social_worker", "attendance_team")


def students(day: dt.date, n: int = 60) -> list[dict[str, Any]]:
    """The facts of ``n`` students on ``day``: absences grow for some, not for others."""
    week = (day - DAYS[0]).days // 7
    return [
        {
            "student_id": f"s{i:03d}",
            "school_id": "lincoln",
            "days_enrolled": 30 + 5 * week,
            "days_absent": (i % 9) + (week * (i % 3)),
        }
        for i in range(n)
    ]


def roster() -> Roster:
    return Roster(StaffMember(f"m{i}", "lincoln", ROLES, caseload_limit=400) for i in range(3))


# A child process: open the store, wait for the start file, then do its part and print what it
# did as JSON. Run as a script (not multiprocessing) so nothing of pytest is inherited.
CHILD = textwrap.dedent(
    """
    import datetime as dt, json, sys, time
    from pathlib import Path
    sys.path[:0] = [sys.argv[1], str(Path(sys.argv[1]).parent)]
    import test_concurrency as t
    from tierflow.errors import ConflictError
    from tierflow.store import SqlRepository
    from tierflow.workflow import Engine

    _, _, target, schema, start, job, arg, tag = sys.argv
    repo = SqlRepository(target, schema=schema or None)
    attempts = []
    Path(f"{start}.{tag}").touch()  # ready
    while not Path(start).exists():
        time.sleep(0.002)
    if job == "run":
        day = dt.date.fromisoformat(arg)
        def work():
            attempts.append(1)
            return Engine(t.MTSS, repository=repo, roster=t.roster()).run(day, t.students(day))
        plan = repo.run_batch(work, attempts=20)
        done = {"opened": len(plan.opened), "changes": list(plan.changes())}
    else:
        engine = Engine(t.MTSS, repository=repo, roster=t.roster())
        ids = sorted(iv.id for iv in repo.open_interventions())
        for k in range(int(arg)):
            for iid in ids:
                def work(iid=iid, k=k):
                    attempts.append(1)
                    engine.check_in(iid, on=t.DAYS[0] + dt.timedelta(days=1 + k), by="m0",
                                    note=f"{tag}-{k}")
                repo.run_batch(work, attempts=50, pause=0.01)
        done = {"checked_in": int(arg) * len(ids)}
    repo.close()
    done["attempts"] = len(attempts)
    print(json.dumps(done))
    """
)


def at_once(store: Store, tmp_path: Path, job: str, arg: str) -> list[dict[str, Any]]:
    """Run two child processes doing ``job`` on the store, released at the same moment."""
    start = tmp_path / f"start-{job}-{arg}"
    here = str(Path(__file__).parent)
    args = [here, store.target, store.schema or "", str(start), job, arg]
    children = []
    for n in range(2):
        command = [sys.executable, "-c", CHILD, *args, f"p{n}"]
        children.append(
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    ready = [Path(f"{start}.p{n}") for n in range(2)]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready):  # both opened the store (and migrated it once)
        assert time.monotonic() < deadline and all(c.poll() is None for c in children), [
            c.communicate() for c in children if c.poll() is not None
        ]
        time.sleep(0.005)
    start.touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def summary(repo: SqlRepository, ids: list[str]) -> dict[str, Any]:
    """Per student: interventions (kind, state, owner) and events (kind, why) in order.

    Intervention ids are left out: which process numbered them depends on who went first.
    """
    out = {}
    for sid in ids:
        out[sid] = (
            [(iv.intervention, iv.state, iv.owner, iv.opened_on) for iv in repo.for_student(sid)],
            [(e.kind, e.at, e.from_state, e.to_state) for e in repo.events(sid)],
        )
    return out


@functools.cache
def clean_runs(days: tuple[dt.date, ...]) -> dict[str, Any]:
    """What one process running ``days`` in turn on a fresh store keeps (see :func:`summary`)."""
    with SqlRepository(":memory:") as clean:
        for day in days:
            Engine(MTSS, repository=clean, roster=roster()).run(day, students(day))
        return summary(clean, [s["student_id"] for s in students(days[0])])


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(2))
def test_two_processes_running_the_same_days_at_once(
    store: Store, tmp_path: Path, trial: int
) -> None:
    store.open().close()  # migrated before the race (a second test races the migration too)
    retries = 0
    for n, day in enumerate(DAYS):
        results = at_once(store, tmp_path, "run", day.isoformat())
        retries += sum(r["attempts"] - 1 for r in results)
        # The day was applied once: one process made the changes, the other found none.
        assert sorted(r["opened"] for r in results)[0] == 0, results
        with store.open() as repo:
            ids = [s["student_id"] for s in students(day)]
            assert summary(repo, ids) == clean_runs(tuple(DAYS[: n + 1]))
            open_kinds = Counter(
                (iv.student_id, iv.intervention) for iv in repo.open_interventions()
            )
            assert max(open_kinds.values()) == 1
            assert verify(repo) == []
    if store.kind == "sqlite":
        assert retries == 0  # writers wait for the write lock: they never conflict
    print(f"{store.kind} trial {trial}: {len(DAYS)} days raced, {retries} retried attempts")


def test_two_processes_opening_a_new_store_at_once_migrate_it_once(
    store: Store, tmp_path: Path
) -> None:
    results = at_once(store, tmp_path, "run", DAYS[0].isoformat())
    assert sorted(r["opened"] for r in results)[0] == 0
    rows = store.sql("SELECT version FROM schema_migrations ORDER BY version")
    assert len(rows) == len({r[0] for r in rows}) >= 2


def test_two_processes_checking_in_at_once_lose_no_check_in(store: Store, tmp_path: Path) -> None:
    with store.open() as repo:
        engine = Engine(MTSS, repository=repo, roster=roster())
        engine.run(DAYS[0], students(DAYS[0], 12))
        ids = sorted(iv.id for iv in repo.open_interventions())
        for iid in ids:
            engine.start(iid, on=DAYS[0], by="m0")
    rounds = 4
    results = at_once(store, tmp_path, "check_in", str(rounds))
    assert [r["checked_in"] for r in results] == [rounds * len(ids)] * 2
    with store.open() as repo:
        for iid in ids:
            notes = Counter(c.note for c in repo.check_ins(iid))
            assert notes == {f"p{p}-{k}": 1 for p in range(2) for k in range(rounds)}, iid
            iv = repo.get(iid)
            assert iv.version == 2 + 2 * rounds  # opened 1, started 2, one per check-in
            transitions = [e for e in repo.events(iv.student_id) if e.intervention_id == iid]
            assert sum(e.trigger == "check_in" for e in transitions) == 2 * rounds
        state = replay(repo.chain_rows())
        assert all(state.interventions[iid] == repo.get(iid) for iid in ids)
        assert verify(repo) == []
    retries = sum(r["attempts"] for r in results) - 2 * rounds * len(ids)
    print(f"{store.kind}: {2 * rounds * len(ids)} check-ins at once, {retries} retried")


# --- a connection dropped in the middle of a batch ------------------------------------------


def dropper(store: Store, repo: SqlRepository) -> Callable[[], None]:
    """A function that cuts the repository's connection to its database, as a fault would."""
    if store.kind == "postgresql":
        pid = repo._conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        repo._conn.rollback()

        def terminate() -> None:
            store.sql("SELECT pg_terminate_backend(:pid)", pid=pid)

        return terminate

    def close() -> None:
        dbapi = repo._conn.connection.dbapi_connection
        assert dbapi is not None
        dbapi.close()

    return close


@pytest.mark.parametrize("after", [1, 40, 150])
def test_a_dropped_connection_fails_the_batch_cleanly_and_it_resumes(
    store: Store, after: int
) -> None:
    with store.open() as repo:
        repo.run_batch(
            lambda: Engine(MTSS, repository=repo, roster=roster()).run(DAYS[0], students(DAYS[0]))
        )
        kept = repo.chain_rows()
        cut = dropper(store, repo)
        seen: list[WorkflowEvent] = []

        def count(event: WorkflowEvent) -> None:
            seen.append(event)
            if len(seen) == after:
                cut()

        engine = Engine(MTSS, repository=repo, roster=roster())
        engine.subscribe(count)
        with pytest.raises(StoreError, match="connection to the database was lost"):
            repo.run_batch(lambda: engine.run(DAYS[1], students(DAYS[1])))
        assert len(seen) >= after
        # Nothing of the failed batch was kept, and the store works again (a new connection).
        assert repo.chain_rows() == kept
        assert verify(repo) == []
        repo.run_batch(
            lambda: Engine(MTSS, repository=repo, roster=roster()).run(DAYS[1], students(DAYS[1]))
        )
        ids = [s["student_id"] for s in students(DAYS[0])]
        assert summary(repo, ids) == clean_runs(tuple(DAYS[:2]))
        assert verify(repo) == []


def test_a_lost_connection_outside_a_batch_is_a_store_error(store: Store) -> None:
    with store.open() as repo:
        dropper(store, repo)()
        with pytest.raises(StoreError, match="connection to the database was lost"):
            repo.append(WorkflowEvent(0, DAYS[0], "s1", "decision"))
        repo.append(WorkflowEvent(0, DAYS[0], "s1", "decision"))  # reconnected
        assert len(repo.events("s1")) == 1
