"""What a durable store does, on SQLite and PostgreSQL alike: reopen, migrate, resume runs,
refuse what it cannot keep, batch all or nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

import tierflow
import tierflow.workflow
from stores import Store
from tierflow.errors import StoreError
from tierflow.store import SqlRepository, replay, verify
from tierflow.store._schema import SCHEMA_VERSION
from tierflow.workflow import Engine, Roster, StaffMember, WorkflowEvent

D = dt.date(2025, 10, 6)
MTSS = tierflow.load_ruleset("mtss")
STUDENTS = [
    {"student_id": f"s{i}", "school_id": "lincoln", "days_enrolled": 30, "days_absent": i}
    for i in range(8)
]


def engine(repo: SqlRepository) -> Engine:
    roster = Roster([StaffMember("ms-lee", "lincoln", ("mentor", "counselor"), caseload_limit=6)])
    return Engine(MTSS, repository=repo, roster=roster)


def test_records_survive_reopening_and_ids_go_on(store: Store) -> None:
    with store.open() as repo:
        plan = engine(repo).run(D, STUDENTS)
        opened = {iv.id for iv in plan.opened}
        timelines = {s["student_id"]: repo.events(s["student_id"]) for s in STUDENTS}
    assert opened
    with store.open() as repo:
        assert {s["student_id"]: repo.events(s["student_id"]) for s in STUDENTS} == timelines
        assert repo.new_id() not in opened
        assert max(opened) < repo.new_id()


def test_rerunning_a_day_on_a_reopened_store_creates_no_duplicates(store: Store) -> None:
    with store.open() as repo:
        engine(repo).run(D, STUDENTS)
        rows = repo.chain_rows()
    with store.open() as repo:
        again = engine(repo)
        plan = again.run(D, STUDENTS)
        assert plan.opened == [] and plan.changes() == (0, 0, 0, 0)
        assert repo.chain_rows() == rows
        for s in STUDENTS:
            ivs = again.interventions(s["student_id"])
            assert len({iv.intervention for iv in ivs}) == len(ivs)
        assert verify(repo) == []


def test_a_reopened_engine_counts_caseloads_from_the_store(store: Store) -> None:
    with store.open() as repo:
        first = engine(repo)
        first.run(D, STUDENTS)
        load = dict(first.roster.load)
    with store.open() as repo:
        assert dict(engine(repo).roster.load) == load


def test_migrations_are_recorded_once(store: Store) -> None:
    store.open().close()
    store.open().close()
    rows = store.sql("SELECT version FROM schema_migrations ORDER BY version")
    assert [tuple(r) for r in rows] == [(v,) for v in range(1, SCHEMA_VERSION + 1)]


def test_a_newer_schema_is_refused(store: Store) -> None:
    store.open().close()
    store.sql("INSERT INTO schema_migrations VALUES (99, 'future', '2030-01-01')")
    with pytest.raises(StoreError, match="schema is version 99, newer"):
        store.open()


def test_a_second_open_intervention_of_a_kind_is_refused(store: Store) -> None:
    with store.open() as repo:
        iv = engine(repo).run(D, STUDENTS).opened[0]
        twin = dataclasses.replace(iv, id=repo.new_id(), owner=None, version=1)
        with pytest.raises(StoreError, match="same row first"):
            repo.add(twin)
        closed = repo.get(iv.id)
        closed.state, closed.ended_on, closed.version = "closed", D, closed.version + 1
        repo.save(closed, closed.version - 1)
        repo.add(twin)  # the first one has ended: a new one may open
        assert [i.id for i in repo.for_student(iv.student_id) if i.intervention == iv.intervention][
            -1
        ] == twin.id
        assert verify(repo) == []


def test_a_value_it_cannot_keep_is_refused_and_nothing_written(store: Store) -> None:
    with store.open() as repo:
        with pytest.raises(StoreError, match="cannot store a value of type object"):
            repo.append(WorkflowEvent(0, D, "s1", "decision", facts={"x": object()}))
        with pytest.raises(StoreError, match="mapping key of type int"):
            repo.append(WorkflowEvent(0, D, "s1", "decision", detail={1: "x"}))
        assert repo.events("s1") == [] and repo.chain_rows() == []


def test_a_check_in_for_an_unknown_intervention_is_refused(store: Store) -> None:
    with store.open() as repo, pytest.raises(StoreError, match=r"iv-404.*does not exist"):
        repo.add_check_in(tierflow.workflow.CheckIn("iv-404", D, "m0"))


@pytest.mark.parametrize(
    "value",
    [
        D,
        dt.datetime(2025, 1, 2, 3, 4),
        (1, (2, "x")),
        frozenset({"a", "b"}),
        float("inf"),
        {"$t": "looks like a tag", "v": [D]},
        [None, True, 1.5, "é"],
    ],
)
def test_values_round_trip_exactly(store: Store, value: Any) -> None:
    with store.open() as repo:
        repo.append(WorkflowEvent(0, D, "s1", "decision", detail={"value": value}))
        (got,) = repo.events("s1")
    assert got.detail == {"value": value}
    assert type(got.detail["value"]) is type(value)


def test_replay_rebuilds_the_stored_state(store: Store) -> None:
    with store.open() as repo:
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


def test_a_batch_keeps_the_same_records_as_single_changes(store: Store) -> None:
    with SqlRepository(":memory:") as one, store.open() as b:
        engine(one).run(D, STUDENTS)
        with b.batch():
            engine(b).run(D, STUDENTS)
        assert [r[1:] for r in b.chain_rows()] == [r[1:] for r in one.chain_rows()]
        assert verify(b) == []


def test_a_failed_batch_leaves_nothing_and_the_day_reruns_cleanly(store: Store) -> None:
    with store.open() as repo:
        with pytest.raises(RuntimeError, match="crash"), repo.batch():
            engine(repo).run(D, STUDENTS)
            assert repo.chain_rows()  # visible inside the batch
            raise RuntimeError("crash part way")
        assert repo.chain_rows() == [] and list(repo.open_interventions()) == []
    with store.open() as repo:
        with repo.batch():
            plan = engine(repo).run(D, STUDENTS)
        assert plan.opened and verify(repo) == []
        rows = repo.chain_rows()
    with SqlRepository(":memory:") as clean:
        engine(clean).run(D, STUDENTS)
        assert [r.hash for r in clean.chain_rows()] == [r.hash for r in rows]


def test_a_refused_change_inside_a_batch_undoes_only_itself(store: Store) -> None:
    with store.open() as repo:
        with repo.batch():
            plan = engine(repo).run(D, STUDENTS)
            iv = plan.opened[0]
            with pytest.raises(StoreError, match="expected version 7"):
                repo.save(iv, 7)
            with pytest.raises(StoreError, match="already exists"):
                repo.add(iv)
        assert repo.get(iv.id) == iv
        assert verify(repo) == []


def test_batches_do_not_nest(store: Store) -> None:
    with store.open() as repo, repo.batch():
        inner = repo.batch()
        with pytest.raises(StoreError, match="already open"):
            inner.__enter__()


def test_run_batch_returns_what_the_work_returned_and_keeps_it(store: Store) -> None:
    with store.open() as repo:
        plan = repo.run_batch(lambda: engine(repo).run(D, STUDENTS))
        assert plan.opened and verify(repo) == []
    with store.open() as repo:
        assert repo.run_batch(lambda: engine(repo).run(D, STUDENTS)).changes() == (0, 0, 0, 0)


def test_the_cli_takes_a_database_url(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    from tierflow.cli import main

    with store.open() as repo:
        engine(repo).run(D, STUDENTS)
        rows = len(repo.chain_rows())
    assert main(["audit", "verify", store.url]) == 0
    out = capsys.readouterr().out
    assert out.endswith(f"ok, {rows:,} rows in {len(STUDENTS)} student chains verified\n")
    assert main(["export", "packet", "s5", "--db", store.url, "--format", "json"]) == 0
    assert '"student_id": "s5"' in capsys.readouterr().out


def test_a_url_is_printed_without_its_password(capsys: pytest.CaptureFixture[str]) -> None:
    from tierflow.cli import main

    url = "postgresql://tierflow:s3cret@127.0.0.1:1/records?connect_timeout=1"
    assert main(["audit", "verify", url]) == 2
    err = capsys.readouterr().err
    assert "cannot open the store postgresql+psycopg://tierflow:***@127.0.0.1:1/records" in err
    assert "s3cret" not in err
