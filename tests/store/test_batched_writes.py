"""A batch's inserts held back and sent together (PostgreSQL), and the rows they are given.

Inside a batch on PostgreSQL, event and intervention inserts wait and go to the server in
one pipeline before the batch's next read, with row numbers the batch reserved. These tests
hold what that must not change: a read sees what the batch wrote, rows grow along each
student's chain even when another writer numbered rows of the same student meanwhile, an id
another writer took first fails the batch as a conflict with nothing kept, and adding one id
twice is refused at once. They run on SQLite too, where nothing is held back.

A run also hands the store its next students (``Repository.prefetch``), whose records a batch
reads in a few queries: the answers must be those of reads one at a time, the batch's own
writes included, and a damaged chain is still reported.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from stores import Store
from tierflow.errors import ConflictError, StoreError
from tierflow.store import SqlRepository, verify
from tierflow.workflow import Intervention, WorkflowEvent

D = dt.date(2025, 10, 6)


def _event(sid: str, n: int) -> WorkflowEvent:
    return WorkflowEvent(0, D, sid, "decision", why=f"run {n}", detail={"tier": "tier2"})


def _iv(iid: str, sid: str) -> Intervention:
    return Intervention(iid, sid, "lincoln", "weekly-checkin", 2, "mentor", None, "assigned", D,
                        None, None, None)  # fmt: skip


def test_a_read_inside_the_batch_sees_what_the_batch_wrote(store: Store) -> None:
    with store.open() as repo, repo.batch():
        written = [repo.append(_event("s1", n)) for n in range(3)]
        iid = repo.new_id()
        repo.add(_iv(iid, "s1"))
        assert [e.seq for e in repo.events("s1")] == [e.seq for e in written]
        assert [iv.id for iv in repo.for_student("s1")] == [iid]
        assert repo.get(iid).student_id == "s1"
    with store.open() as repo:
        assert [e.why for e in repo.events("s1")] == ["run 0", "run 1", "run 2"]


def test_rows_grow_along_a_chain_another_writer_extended_meanwhile(postgres: Store) -> None:
    # PostgreSQL only: on SQLite the batch holds the write lock, so nobody writes meanwhile.
    attempts: list[int] = []
    with postgres.open() as mine, postgres.open() as other:

        def work() -> None:
            attempts.append(len(attempts) + 1)
            mine.append(_event("s0", 0))  # the batch reserves its row numbers here
            if len(attempts) == 1:
                other.append(_event("s1", 1))  # committed at once, numbered above them
            mine.append(_event("s1", 2))

        mine.run_batch(work)
        events, others = mine.events("s1"), mine.events("s0")
    # The first attempt conflicted (its snapshot had not seen the other writer's row) and
    # kept nothing; the second numbered its row above the other writer's, in chain order.
    assert attempts == [1, 2]
    assert [e.why for e in events] == ["run 1", "run 2"]
    assert events[0].seq < events[1].seq, [e.seq for e in events]
    assert [e.why for e in others] == ["run 0"]


def test_an_id_another_writer_took_first_fails_the_batch_as_a_conflict(postgres: Store) -> None:
    with postgres.open() as mine, postgres.open() as other:
        with pytest.raises(ConflictError), mine.batch():
            iid = mine.new_id()
            mine.append(_event("s1", 0))
            other.add(_iv(iid, "s2"))  # committed at once, with the id this batch made
            mine.add(_iv(iid, "s1"))
            mine.events("s1")  # a later read (or the commit) sends the insert
        assert mine.events("s1") == []  # nothing of the batch was kept
        assert [iv.student_id for iv in mine.for_student("s2")] == ["s2"]


def test_reserved_ids_let_two_batches_add_interventions_at_once(postgres: Store) -> None:
    # Two writers in open batches at once, as two partitions of a day are: numbering on from
    # the largest stored id, both would take iv-0000001 and the second commit would conflict.
    with (
        postgres.open(reserved_ids=True) as one,
        postgres.open(reserved_ids=True) as two,
        one.batch(),
    ):
        with two.batch():
            theirs = [two.new_id() for _ in range(3)]
            for n, iid in enumerate(theirs):
                two.add(_iv(iid, f"b{n}"))
        mine = [one.new_id() for _ in range(3)]
        for n, iid in enumerate(mine):
            one.add(_iv(iid, f"a{n}"))
    assert not set(mine) & set(theirs)
    with postgres.open() as repo:
        stored = {iv.id for s in ("a0", "a1", "a2", "b0", "b1", "b2") for iv in repo.for_student(s)}
        assert stored == set(mine) | set(theirs)
        # and a writer numbering the default way goes on after every one of them
        after = repo.new_id()
    assert after > max(mine + theirs)


def test_without_reserved_ids_two_batches_at_once_take_the_same_ids(postgres: Store) -> None:
    # What reserved_ids is for: the default numbering gives both writers the same ids.
    with (
        postgres.open() as one,
        postgres.open() as two,
        pytest.raises(ConflictError),
        one.batch(),
    ):
        mine = one.new_id()
        with two.batch():
            theirs = two.new_id()
            two.add(_iv(theirs, "b0"))
        assert mine == theirs
        # The other writer committed that id first: sending this insert fails the batch. (Had
        # this insert been sent first, the other writer's would have waited on this
        # uncommitted one, in this same thread, for ever.)
        one.add(_iv(mine, "a0"))
        one.events("a0")


def test_adding_one_id_twice_in_a_batch_is_refused_at_once(store: Store) -> None:
    with store.open() as repo:
        with repo.batch():
            iid = repo.new_id()
            repo.add(_iv(iid, "s1"))
            with pytest.raises(StoreError, match="already exists"):
                repo.add(_iv(iid, "s1"))
            repo.append(_event("s1", 0))  # the refusal wrote nothing: the batch goes on
        assert [iv.id for iv in repo.for_student("s1")] == [iid]
        assert len(repo.events("s1")) == 1


def _fill(repo: SqlRepository, students: list[str]) -> None:
    for n, sid in enumerate(students):
        repo.add(_iv(repo.new_id(), sid))
        repo.append(_event(sid, n))
        if n % 2:
            repo.record_issued(sid, "not1", D)


def test_prefetched_reads_answer_as_reads_one_at_a_time(store: Store) -> None:
    students = [f"s{n}" for n in range(7)]
    with store.open() as repo:
        _fill(repo, students)
        alone = {s: (repo.events(s), repo.issued(s), repo.for_student(s)) for s in students}
        with repo.batch():
            repo.prefetch([*students, "nobody"])
            ahead = {s: (repo.events(s), repo.issued(s), repo.for_student(s)) for s in students}
            assert ahead == alone
            assert repo.events("nobody") == [] and repo.for_student("nobody") == []
            # The batch's own writes join what it read ahead, as a read would find them.
            added = repo.append(_event("s1", 99))
            repo.record_issued("s1", "not2", D)
            repo.append(_event("nobody", 1))
            assert repo.events("s1") == [*alone["s1"][0], added]
            assert repo.issued("s1") == {"not1": D, "not2": D}
        assert repo.events("s1") == [*alone["s1"][0], added]
        assert repo.issued("s1") == {"not1": D, "not2": D}
        assert [e.why for e in repo.events("nobody")] == ["run 1"]
        assert verify(repo) == []  # every chain, head and reporting column still agrees


def test_a_run_reads_its_students_ahead_not_one_at_a_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tierflow
    from tierflow.store import _chain
    from tierflow.workflow import Engine, Roster, StaffMember

    facts = [
        {"student_id": f"s{n}", "school_id": "lincoln", "days_enrolled": 40,
         "days_absent": 3 + n % 5, "grade": 5}
        for n in range(30)
    ]  # fmt: skip
    staff = Roster([StaffMember("ms-lee", "lincoln", ("mentor", "counselor", "attendance"))])
    ruleset = tierflow.load_ruleset("mtss")
    with store.open() as repo:
        with repo.batch():
            Engine(ruleset, repository=repo, roster=staff).run(D, facts)
        names: list[str] = []
        run = _chain.ChainStore._exec

        def counting(self: _chain.ChainStore, name: str, *many: Any, **params: Any) -> Any:
            names.append(name)
            return run(self, name, *many, **params)

        monkeypatch.setattr(_chain.ChainStore, "_exec", counting)
        with repo.batch():
            Engine(ruleset, repository=repo, roster=staff).run(D + dt.timedelta(days=7), facts)
    # Read ahead: no statement reads one student's events, steps, interventions or head.
    assert not {"timeline", "iv_bodies", "head"} & set(names), sorted(set(names))


def test_a_prefetch_outside_a_batch_keeps_nothing(store: Store) -> None:
    with store.open() as repo, store.open() as other:
        _fill(repo, ["s1"])
        repo.prefetch(["s1"])
        other.append(_event("s1", 5))  # another writer, after the prefetch
        assert [e.why for e in repo.events("s1")] == ["run 0", "run 5"]


def test_a_damaged_chain_read_ahead_is_still_reported_when_written(store: Store) -> None:
    with store.open() as repo:
        _fill(repo, ["s1"])
    store.sql("UPDATE chain_heads SET seq = seq + 5 WHERE student_id = 's1'")
    with store.open() as repo, pytest.raises(StoreError, match="inconsistent"), repo.batch():
        repo.prefetch(["s1"])
        repo.append(_event("s1", 1))
