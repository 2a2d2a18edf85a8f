"""What a work queue reads from a store: open interventions by owner, role and school, and
legal events, on every repository; schema version 3 (the queue's columns) on an old store."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from stores import Store
from tierflow.errors import StoreError
from tierflow.store import verify
from tierflow.workflow import Intervention, Repository, WorkflowEvent

D = dt.date(2025, 10, 6)


def add(
    repo: Repository, student: str, owner: str | None, role: str, school: str, **more: object
) -> Intervention:
    iv = Intervention(
        repo.new_id(),
        student,
        school,
        f"{role}-kind",
        2,
        role,
        owner,
        "assigned",
        D,
        D + dt.timedelta(days=7),
        None,
        None,
    )
    iv = dataclasses.replace(iv, **more)
    repo.add(iv)
    return iv


def ids(found: list[Intervention]) -> list[str]:
    return [iv.student_id for iv in found]


def test_work_items_filter_by_owner_role_school_and_no_owner(repo: Repository) -> None:
    add(repo, "a", "ms-lee", "mentor", "lincoln")
    add(repo, "b", "mr-kim", "counselor", "lincoln")
    add(repo, "c", None, "mentor", "lincoln")
    add(repo, "d", "ms-lee", "mentor", "grant")
    add(repo, "e", "ms-lee", "mentor", "lincoln", state="closed", ended_on=D)
    assert ids(repo.work_items(owner="ms-lee")) == ["a", "d"]  # not the closed one
    assert ids(repo.work_items(role="mentor")) == ["a", "c", "d"]
    assert ids(repo.work_items(school="lincoln")) == ["a", "b", "c"]
    assert ids(repo.work_items(role="mentor", school="lincoln")) == ["a", "c"]
    assert ids(repo.work_items(unassigned=True)) == ["c"]
    assert ids(repo.work_items(owner="ms-lee", school="grant")) == ["d"]
    assert ids(repo.work_items(owner="nobody")) == []
    assert ids(repo.work_items()) == ["a", "b", "c", "d"]


def test_a_reassignment_and_a_close_move_the_row_between_queues(repo: Repository) -> None:
    iv = add(repo, "a", None, "mentor", "lincoln")
    taken = dataclasses.replace(iv, owner="ms-lee", version=2)
    repo.save(taken, 1)
    assert ids(repo.work_items(unassigned=True)) == []
    assert repo.work_items(owner="ms-lee") == [taken]
    moved = dataclasses.replace(taken, next_follow_up=D, version=3)
    repo.save(moved, 2)
    assert repo.work_items(owner="ms-lee")[0].next_follow_up == D
    repo.save(dataclasses.replace(moved, state="closed", ended_on=D, version=4), 3)
    assert repo.work_items(owner="ms-lee") == []


def test_legal_events_are_each_students_legal_events_in_order(repo: Repository) -> None:
    def event(student: str, kind: str, step: str, **detail: object) -> None:
        repo.append(WorkflowEvent(0, D, student, kind, detail={"step": step, **detail}))

    event("s1", "legal_due", "letter1")
    # A note quoting a legal event's text is not a legal event (the SQL prefilter matches it).
    repo.append(WorkflowEvent(0, D, "s1", "note", why='"kind":"legal_due"', detail={"x": 1}))
    event("s2", "legal_due", "letter1")
    event("s1", "legal_issued", "letter1")
    event("s3", "legal_due", "letter1")
    got = repo.legal_events(["s2", "s1", "nobody", "s1"])
    assert list(got) == ["s2", "s1"]
    assert [(e.kind, e.detail["step"]) for e in got["s1"] if e.detail] == [
        ("legal_due", "letter1"),
        ("legal_issued", "letter1"),
    ]
    assert [e.kind for e in got["s2"]] == ["legal_due"]


# --- schema version 3 on a store written before it ------------------------------------------


def fill(store: Store) -> None:
    """Three interventions whose queue columns are known: two owned, one unassigned."""
    with store.open() as repo:
        add(repo, "s1", "ms-lee", "mentor", "lincoln")
        add(repo, "s2", None, "counselor", "grant", next_follow_up=None)
        add(repo, "s3", "mr-kim", "counselor", "lincoln", next_follow_up=D)


def test_a_version_2_store_is_migrated_and_its_columns_filled_from_the_bodies(
    store: Store,
) -> None:
    fill(store)
    # Back to version 2 as it was: without the queue's indexes, columns and migration row.
    for index in ("owner_open", "school_role_open", "role_open"):
        store.sql(f"DROP INDEX ix_interventions_{index}")
    for column in ("owner", "owner_role", "school_id", "next_follow_up"):
        store.sql(f"ALTER TABLE interventions DROP COLUMN {column}")
    store.sql("DELETE FROM schema_migrations WHERE version = 3")
    with store.open() as repo:
        assert verify(repo) == []
        assert ids(repo.work_items(owner="ms-lee")) == ["s1"]
        assert ids(repo.work_items(unassigned=True)) == ["s2"]
        assert ids(repo.work_items(role="counselor", school="lincoln")) == ["s3"]
    rows = store.sql(
        "SELECT owner, owner_role, school_id, next_follow_up FROM interventions ORDER BY pos"
    )
    assert [tuple(r) for r in rows] == [
        ("ms-lee", "mentor", "lincoln", "2025-10-13"),
        (None, "counselor", "grant", None),
        ("mr-kim", "counselor", "lincoln", "2025-10-06"),
    ]
    versions = store.sql("SELECT version FROM schema_migrations ORDER BY version")
    assert [v for (v,) in versions] == [1, 2, 3, 4]


def test_an_owner_column_changed_outside_tierflow_is_found_and_refused(store: Store) -> None:
    fill(store)
    store.sql("UPDATE interventions SET owner = 'mr-x' WHERE student_id = 's1'")
    with store.open() as repo:
        (finding,) = verify(repo)
        assert (finding.student_id, finding.table) == ("s1", "interventions")
        assert finding.problem == "owner is 'mr-x', its body says 'ms-lee'"
        with pytest.raises(StoreError, match="owner is 'mr-x'"):
            repo.work_items(owner="mr-x")
