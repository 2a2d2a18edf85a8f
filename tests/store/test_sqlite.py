"""What only a durable store does: reopen, migrate, resume runs, refuse what it cannot keep."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import tierflow
import tierflow.workflow
from tierflow.errors import StoreError
from tierflow.store import SqliteRepository, replay, verify
from tierflow.store._schema import SCHEMA_VERSION
from tierflow.workflow import Engine, Roster, StaffMember, WorkflowEvent

D = dt.date(2025, 10, 6)
MTSS = tierflow.load_ruleset("mtss")
STUDENTS = [
    {"student_id": f"s{i}", "school_id": "lincoln", "days_enrolled": 30, "days_absent": i}
    for i in range(8)
]


def engine(repo: SqliteRepository) -> Engine:
    roster = Roster([StaffMember("ms-lee", "lincoln", ("mentor", "counselor"), caseload_limit=6)])
    return Engine(MTSS, repository=repo, roster=roster)


def test_importing_tierflow_does_not_import_sqlalchemy() -> None:
    import subprocess
    import sys

    code = "import sys, tierflow, tierflow.workflow; print('sqlalchemy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_records_survive_reopening_and_ids_go_on(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    with SqliteRepository(path) as repo:
        plan = engine(repo).run(D, STUDENTS)
        opened = {iv.id for iv in plan.opened}
        timelines = {s["student_id"]: repo.events(s["student_id"]) for s in STUDENTS}
    assert opened
    with SqliteRepository(path) as repo:
        assert {s["student_id"]: repo.events(s["student_id"]) for s in STUDENTS} == timelines
        assert repo.new_id() not in opened
        assert max(opened) < repo.new_id()


def test_rerunning_a_day_on_a_reopened_file_creates_no_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    with SqliteRepository(path) as repo:
        engine(repo).run(D, STUDENTS)
        rows = repo.chain_rows()
    with SqliteRepository(path) as repo:
        again = engine(repo)
        plan = again.run(D, STUDENTS)
        assert plan.opened == [] and plan.changes() == (0, 0, 0, 0)
        assert repo.chain_rows() == rows
        for s in STUDENTS:
            ivs = again.interventions(s["student_id"])
            assert len({iv.intervention for iv in ivs}) == len(ivs)
        assert verify(repo) == []


def test_a_reopened_engine_counts_caseloads_from_the_store(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    with SqliteRepository(path) as repo:
        first = engine(repo)
        first.run(D, STUDENTS)
        load = dict(first.roster.load)
    with SqliteRepository(path) as repo:
        assert dict(engine(repo).roster.load) == load


def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    SqliteRepository(path).close()
    SqliteRepository(path).close()
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT version FROM schema_migrations").fetchall()
    assert rows == [(v,) for v in range(1, SCHEMA_VERSION + 1)]


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    SqliteRepository(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_migrations VALUES (99, 'future', '2030-01-01')")
    with pytest.raises(StoreError, match="schema is version 99, newer"):
        SqliteRepository(path)


def test_a_value_it_cannot_keep_is_refused_and_nothing_written() -> None:
    with SqliteRepository() as repo:
        with pytest.raises(StoreError, match="cannot store a value of type object"):
            repo.append(WorkflowEvent(0, D, "s1", "decision", facts={"x": object()}))
        with pytest.raises(StoreError, match="mapping key of type int"):
            repo.append(WorkflowEvent(0, D, "s1", "decision", detail={1: "x"}))
        assert repo.events("s1") == [] and repo.chain_rows() == []


def test_a_check_in_for_an_unknown_intervention_is_refused() -> None:
    with SqliteRepository() as repo, pytest.raises(StoreError, match=r"iv-404.*does not exist"):
        repo.add_check_in(tierflow.workflow.CheckIn("iv-404", D, "m0"))


@pytest.mark.parametrize(
    "value",
    [D, dt.datetime(2025, 1, 2, 3, 4), (1, (2, "x")), frozenset({"a", "b"}), float("inf"),
     {"$t": "looks like a tag", "v": [D]}, [None, True, 1.5, "é"]],
)  # fmt: skip
def test_values_round_trip_exactly(value: Any) -> None:
    with SqliteRepository() as repo:
        repo.append(WorkflowEvent(0, D, "s1", "decision", detail={"value": value}))
        (got,) = repo.events("s1")
    assert got.detail == {"value": value}
    assert type(got.detail["value"]) is type(value)


def test_replay_rebuilds_the_stored_state() -> None:
    with SqliteRepository() as repo:
        eng = engine(repo)
        plan = eng.run(D, STUDENTS)
        iv = plan.opened[0]
        eng.start(iv.id, on=D, by="ms-lee")
        eng.check_in(iv.id, on=D + dt.timedelta(days=1), by="ms-lee", goal_met=True, note="ok")
        eng.close(plan.opened[1].id, on=D + dt.timedelta(days=2), by="ms-lee", reason="moved")
        state = replay(repo.chain_rows())
        stored = [iv for s in STUDENTS for iv in repo.for_student(s["student_id"])]
        assert sorted(state.interventions) == sorted(iv.id for iv in stored)
        assert any(iv.state == "closed" for iv in stored)
        for s in STUDENTS:
            sid = s["student_id"]
            assert [state.interventions[i.id] for i in repo.for_student(sid)] == repo.for_student(
                sid
            )
            assert state.events.get(sid, []) == repo.events(sid)
        assert state.check_ins[iv.id] == repo.check_ins(iv.id)


def test_a_batch_keeps_the_same_records_as_single_changes(tmp_path: Path) -> None:
    with SqliteRepository(tmp_path / "one.db") as one, SqliteRepository(tmp_path / "b.db") as b:
        engine(one).run(D, STUDENTS)
        with b.batch():
            engine(b).run(D, STUDENTS)
        assert b.chain_rows() == one.chain_rows()
        assert verify(b) == []


def test_a_failed_batch_leaves_nothing_and_the_day_reruns_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    with SqliteRepository(path) as repo:
        with pytest.raises(RuntimeError, match="crash"), repo.batch():
            engine(repo).run(D, STUDENTS)
            assert repo.chain_rows()  # visible inside the batch
            raise RuntimeError("crash part way")
        assert repo.chain_rows() == [] and list(repo.open_interventions()) == []
    with SqliteRepository(path) as repo:
        with repo.batch():
            plan = engine(repo).run(D, STUDENTS)
        assert plan.opened and verify(repo) == []
        rows = repo.chain_rows()
    with SqliteRepository(tmp_path / "clean.db") as clean:
        engine(clean).run(D, STUDENTS)
        assert [r.hash for r in clean.chain_rows()] == [r.hash for r in rows]


def test_a_refused_change_inside_a_batch_undoes_only_itself() -> None:
    with SqliteRepository() as repo:
        with repo.batch():
            plan = engine(repo).run(D, STUDENTS)
            iv = plan.opened[0]
            with pytest.raises(StoreError, match="expected version 7"):
                repo.save(iv, 7)
            with pytest.raises(StoreError, match="already exists"):
                repo.add(iv)
        assert repo.get(iv.id) == iv
        assert verify(repo) == []


def test_batches_do_not_nest() -> None:
    with SqliteRepository() as repo, repo.batch():
        inner = repo.batch()
        with pytest.raises(StoreError, match="already open"):
            inner.__enter__()
