"""The Repository contract: every implementation (memory, SQLite) passes the same tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import MappingProxyType

import pytest

import tierflow
from tierflow.errors import StoreError
from tierflow.workflow import CheckIn, Intervention, Repository, WorkflowEvent

D = dt.date(2025, 10, 6)
REF = tierflow.load_ruleset("mtss").ref


def make(repo: Repository, student: str = "s1", **changes: object) -> Intervention:
    iv = Intervention(
        repo.new_id(),
        student,
        "lincoln",
        "weekly-checkin",
        2,
        "mentor",
        "ms-lee",
        "assigned",
        D,
        D + dt.timedelta(days=7),
        None,
        "family-call",
    )
    return dataclasses.replace(iv, **changes)


def test_new_ids_are_unique(repo: Repository) -> None:
    ids = {repo.new_id() for _ in range(50)}
    assert len(ids) == 50


def test_an_added_intervention_reads_back_equal(repo: Repository) -> None:
    iv = make(repo, reason="tier2: rule absence")
    repo.add(iv)
    assert repo.get(iv.id) == iv
    assert repo.for_student("s1") == [iv]
    assert list(repo.open_interventions()) == [iv]


def test_an_unknown_intervention_is_a_key_error(repo: Repository) -> None:
    with pytest.raises(KeyError):
        repo.get("iv-9999999")


def test_adding_the_same_id_twice_is_refused(repo: Repository) -> None:
    iv = make(repo)
    repo.add(iv)
    with pytest.raises(StoreError, match=f"intervention {iv.id} already exists"):
        repo.add(dataclasses.replace(iv))
    assert repo.for_student("s1") == [iv]


def test_a_saved_change_is_kept_and_closes_it(repo: Repository) -> None:
    iv = make(repo)
    repo.add(iv)
    changed = dataclasses.replace(repo.get(iv.id), state="closed", ended_on=D, version=2)
    repo.save(changed, 1)
    assert repo.get(iv.id) == changed
    assert list(repo.open_interventions()) == []
    assert repo.for_student("s1") == [changed]


def test_a_stale_version_is_a_store_error_naming_the_versions(repo: Repository) -> None:
    iv = make(repo)
    repo.add(iv)
    first = dataclasses.replace(repo.get(iv.id), state="active", version=2)
    second = dataclasses.replace(iv, state="closed", version=2)
    repo.save(first, 1)
    with pytest.raises(StoreError, match=rf"{iv.id}.*version 2, .*expected (version )?1"):
        repo.save(second, 1)
    assert repo.get(iv.id).state == "active"


def test_an_update_keeps_only_the_fields_given_counts_the_version_and_closes_it(
    repo: Repository,
) -> None:
    iv = make(repo)
    repo.add(iv)
    mine = repo.get(iv.id)
    repo.update(mine, {"state": "closed", "ended_on": D})
    expected = dataclasses.replace(iv, state="closed", ended_on=D, version=2)
    assert mine == expected
    assert repo.get(iv.id) == expected
    assert list(repo.open_interventions()) == []
    repo.update(mine, {"owner": None})
    assert repo.get(iv.id) == dataclasses.replace(expected, owner=None, version=3)


def test_an_update_of_a_stale_copy_is_refused_and_changes_nothing(repo: Repository) -> None:
    iv = make(repo)
    repo.add(iv)
    stale = dataclasses.replace(repo.get(iv.id))
    repo.update(repo.get(iv.id), {"state": "active"})
    with pytest.raises(StoreError, match=rf"{iv.id}.*version 2, .*expected (version )?1"):
        repo.update(stale, {"state": "closed", "ended_on": D})
    assert (stale.state, stale.ended_on, stale.version) == ("assigned", None, 1)
    assert (repo.get(iv.id).state, repo.get(iv.id).version) == ("active", 2)
    assert [o.id for o in repo.open_interventions()] == [iv.id]


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "iv-0000099"},
        {"student_id": "s2"},
        {"version": 7},
        {"state": "active", "colour": "red"},
        {"__class__": object},
    ],
)
def test_an_update_of_a_key_the_version_or_no_field_is_refused_and_changes_nothing(
    repo: Repository, changes: dict[str, object]
) -> None:
    iv = make(repo)
    repo.add(iv)
    before = dataclasses.astuple(iv)  # the memory store's object is iv itself
    mine = repo.get(iv.id)
    with pytest.raises(StoreError, match=r"an update cannot change '"):
        repo.update(mine, changes)
    assert dataclasses.astuple(mine) == before
    assert dataclasses.astuple(repo.get(iv.id)) == before
    assert [dataclasses.astuple(i) for i in repo.for_student("s1")] == [before]
    assert repo.for_student("s2") == []


def test_updating_an_unknown_intervention_is_a_store_error(repo: Repository) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        repo.update(make(repo), {"state": "active"})


def test_saving_an_unknown_intervention_is_a_store_error(repo: Repository) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        repo.save(make(repo), 1)


def test_for_student_is_oldest_first_and_only_theirs(repo: Repository) -> None:
    a, b, c = make(repo), make(repo, "s2"), make(repo, intervention="family-call")
    for iv in (a, b, c):
        repo.add(iv)
    assert repo.for_student("s1") == [a, c]
    assert repo.for_student("s2") == [b]
    assert repo.for_student("nobody") == []


def test_events_are_numbered_in_order_and_round_trip(repo: Repository) -> None:
    detail = MappingProxyType({"next_follow_up": D, "pair": (1, "x"), "notes": ["a", None]})
    first = repo.append(
        WorkflowEvent(
            0,
            D,
            "s1",
            "decision",
            why="tier2",
            ruleset=REF,
            facts={"days_absent": 3.5, "causes": ["bus"]},
            detail=detail,
        )
    )
    other = repo.append(WorkflowEvent(0, D, "s2", "legal_due", detail={"step": "not1"}))
    second = repo.append(WorkflowEvent(0, D, "s1", "transition", "iv-1", "start", "a", "b", "m0"))
    assert 0 < first.seq < other.seq < second.seq
    assert repo.events("s1") == [first, second]
    assert repo.events("s2") == [other]
    got = repo.events("s1")[0]
    assert got.detail == detail and got.ruleset == REF and got.facts == first.facts
    assert isinstance(got.detail["next_follow_up"], dt.date)
    assert got.detail["pair"] == (1, "x")


def test_check_ins_are_kept_in_order(repo: Repository) -> None:
    iv = make(repo)
    repo.add(iv)
    ins = [
        CheckIn(iv.id, D + dt.timedelta(days=i), "m0", i % 2 == 0, note=f"n{i}") for i in range(3)
    ]
    for c in ins:
        repo.add_check_in(c)
    assert repo.check_ins(iv.id) == ins
    assert repo.check_ins("iv-other") == []


def test_issued_steps_are_kept_by_student(repo: Repository) -> None:
    repo.record_issued("s1", "not1", D)
    repo.record_issued("s1", "not2", D + dt.timedelta(days=9))
    repo.record_issued("s2", "not1", D)
    assert repo.issued("s1") == {"not1": D, "not2": D + dt.timedelta(days=9)}
    assert repo.issued("s3") == {}
