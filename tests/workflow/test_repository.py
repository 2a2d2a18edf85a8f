"""The Repository protocol's capabilities, in memory and in SQL alike: lookups and atomic units."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
from collections.abc import Iterator
from typing import Any

import pytest

import tierflow
from tierflow.errors import StoreError, TierflowError, UnknownInterventionError, WorkflowError
from tierflow.store import SqlRepository
from tierflow.workflow import (
    CheckIn,
    Engine,
    InMemoryRepository,
    Intervention,
    Repository,
    Roster,
    StaffMember,
    WorkflowEvent,
)

D = dt.date(2025, 10, 6)
MTSS = tierflow.load_ruleset("mtss")


@pytest.fixture(params=["memory", "sql"])
def repo(request: pytest.FixtureRequest) -> Iterator[Repository]:
    if request.param == "memory":
        yield InMemoryRepository()
    else:
        with SqlRepository(":memory:") as sql:
            yield sql


def test_an_unknown_id_is_a_workflow_error_and_a_key_error(repo: Repository) -> None:
    with pytest.raises(UnknownInterventionError) as info:
        repo.get("iv-404")
    error = info.value
    assert isinstance(error, WorkflowError) and isinstance(error, TierflowError)
    assert isinstance(error, KeyError)  # ``except KeyError`` around a lookup keeps working
    assert (str(error), error.intervention_id) == ("no intervention 'iv-404'", "iv-404")


def test_a_staff_action_on_an_unknown_id_names_it(repo: Repository) -> None:
    engine = Engine(MTSS, repository=repo)
    with pytest.raises(UnknownInterventionError, match=r"^no intervention 'iv-404'$"):
        engine.start("iv-404", on=D, by="x")


# --- atomic units: all of it kept, or none of it -----------------------------------------------

FACTS = {"student_id": "s1", "school_id": "lincoln", "days_enrolled": 30, "days_absent": 3}
"""Tier 2 in mtss (10% absent): opens weekly-checkin, family-call and attendance-plan."""


def roster() -> Roster:
    return Roster([StaffMember("ms-lee", "lincoln", ("mentor", "counselor"), caseload_limit=9)])


def make(repo: Repository, student: str = "s1") -> Intervention:
    return Intervention(
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


def picture(repo: Repository, students: tuple[str, ...] = ("s1", "s2")) -> dict[str, Any]:
    """Everything a reader can see of the records, as plain values (no shared objects)."""
    ivs = {s: [dataclasses.astuple(iv) for iv in repo.for_student(s)] for s in students}
    return {
        "students": repo.students(),
        "interventions": ivs,
        "open": sorted(iv.id for iv in repo.open_interventions()),
        "events": {s: [(e.kind, e.why) for e in repo.events(s)] for s in students},
        "check_ins": {i[0]: repo.check_ins(i[0]) for s in students for i in ivs[s]},
        "issued": {s: repo.issued(s) for s in students},
    }


class Boom(Exception):
    """The failure a test raises inside a unit."""


def test_an_exception_inside_a_unit_leaves_the_store_as_it_was(repo: Repository) -> None:
    first = make(repo)
    repo.add(first)
    repo.append(WorkflowEvent(0, D, "s1", "opened", first.id, why="before"))
    before = picture(repo)
    with pytest.raises(Boom), repo.unit():
        second = make(repo, "s2")
        repo.add(second)
        closed = dataclasses.replace(first, state="closed", ended_on=D, version=2)
        repo.save(closed, 1)
        reread = repo.get(first.id)
        repo.update(reread, {"owner": None, "overdue": True})
        assert (reread.owner, reread.overdue, reread.version) == (None, True, 3)
        repo.append(WorkflowEvent(0, D, "s2", "opened", second.id, why="inside"))
        repo.add_check_in(CheckIn(first.id, D, "ms-lee", True, "meeting", "", None))
        repo.record_issued("s2", "not1", D)
        assert picture(repo) != before  # the unit's writes were visible inside it
        raise Boom
    assert picture(repo) == before
    assert repo.get(first.id).state == "assigned"
    with pytest.raises(UnknownInterventionError):
        repo.get(second.id)
    assert repo.new_id() == second.id  # the ids it handed out are handed out again


def test_a_unit_that_ends_normally_keeps_every_write(repo: Repository) -> None:
    with repo.unit():
        iv = make(repo)
        repo.add(iv)
        repo.record_issued("s1", "not1", D)
    assert [i.id for i in repo.for_student("s1")] == [iv.id]
    assert (repo.issued("s1"), repo.students()) == ({"not1": D}, ["s1"])


def test_an_inner_memory_unit_undoes_only_its_own_writes() -> None:
    repo = InMemoryRepository()
    with repo.unit():
        kept = make(repo)
        repo.add(kept)
        with pytest.raises(Boom), repo.unit():
            repo.record_issued("s1", "not1", D)
            raise Boom
    assert (repo.for_student("s1"), repo.issued("s1")) == ([kept], {})


def test_memory_save_writes_a_copy_into_the_object_every_caller_holds() -> None:
    repo = InMemoryRepository()
    held = make(repo)
    repo.add(held)
    repo.save(dataclasses.replace(held, state="active", version=2), 1)
    assert (held.state, held.version) == ("active", 2)
    assert repo.get(held.id) is held
    with pytest.raises(StoreError, match="version 2, expected 1"):
        repo.save(dataclasses.replace(held, state="closed"), 1)
    assert held.state == "active"


def test_memory_update_changes_the_object_every_caller_holds_and_undoes_in_a_unit() -> None:
    repo = InMemoryRepository()
    held = make(repo)
    repo.add(held)
    fields = dataclasses.astuple(held)
    with pytest.raises(Boom), repo.unit():
        repo.update(held, {"state": "closed", "ended_on": D})
        assert (held.state, held.ended_on, held.version) == ("closed", D, 2)
        assert list(repo.open_interventions()) == []
        raise Boom
    assert dataclasses.astuple(held) == fields
    assert list(repo.open_interventions()) == [held]


def test_memory_check_ins_leave_nothing_the_collector_tracks_and_read_back_in_order() -> None:
    repo = InMemoryRepository()
    held = make(repo)
    repo.add(held)
    values = [
        (held.id, D + dt.timedelta(days=n), "ms-lee", n % 2 == 0, "call", f"n{n}", None)
        for n in range(300)
    ]
    gc.collect()
    before = len(gc.get_objects())
    for row in values:
        repo.add_check_in(CheckIn(*row))  # as the engine does: a new one each time
    gc.collect()
    # A list an intervention and a named tuple a check-in were tracked for ever: 301 more.
    assert len(gc.get_objects()) - before < 30
    assert repo.check_ins(held.id) == [CheckIn(*row) for row in values]
    assert all(type(c) is CheckIn for c in repo.check_ins(held.id))


def test_a_failed_staff_action_keeps_nothing(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = Engine(MTSS, repository=repo, roster=roster())
    iv = engine.run(D, [FACTS]).opened[0]
    before = picture(repo, ("s1",))
    append = repo.append

    def fail_on_transitions(event: WorkflowEvent) -> WorkflowEvent:
        if event.kind == "transition":
            raise Boom  # the process died between the change and its event
        return append(event)

    monkeypatch.setattr(repo, "append", fail_on_transitions)
    with pytest.raises(Boom):
        engine.start(iv.id, on=D, by="ms-lee")
    assert picture(repo, ("s1",)) == before
    assert repo.get(iv.id).state == "assigned"


def test_a_hook_that_fails_sees_its_change_kept(repo: Repository) -> None:
    engine = Engine(MTSS, repository=repo, roster=roster())
    iv = engine.run(D, [FACTS]).opened[0]
    seen: list[str] = []

    def hook(event: WorkflowEvent) -> None:
        seen.append(event.kind)
        raise Boom

    engine.subscribe(hook)
    with pytest.raises(Boom):
        engine.start(iv.id, on=D, by="ms-lee")
    assert seen == ["transition"]
    assert repo.get(iv.id).state == "active"
    assert [e.kind for e in repo.events("s1")][-1] == "transition"


# --- building an engine reads nothing ----------------------------------------------------------

PROTOCOL = frozenset(name for name in vars(Repository) if not name.startswith("_"))


class Recording(InMemoryRepository):
    """An in-memory store that notes each protocol method called on it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        if name in PROTOCOL:
            object.__getattribute__(self, "calls").append(name)
        return object.__getattribute__(self, name)


def test_the_protocol_declares_what_the_engine_and_reports_call() -> None:
    assert {
        "new_id",
        "add",
        "get",
        "save",
        "update",
        "for_student",
        "open_interventions",
        "append",
        "events",
        "add_check_in",
        "check_ins",
        "issued",
        "record_issued",
        "students",
        "unit",
        "work_items",
        "legal_events",
        "notice_events",
        "summaries",
        "cases",
        "prefetch",
    } == PROTOCOL


def test_building_an_engine_reads_nothing_and_caseloads_are_read_once_on_first_use() -> None:
    repo = Recording()
    Engine(MTSS, repository=repo, roster=roster()).run(D, [FACTS])  # three open, ms-lee's
    repo.calls.clear()
    engine = Engine(MTSS, repository=repo, roster=roster())
    assert repo.calls == []
    assert engine.roster.load["ms-lee"] == 3
    assert engine.roster.load["ms-lee"] == 3
    assert repo.calls == ["open_interventions"]


def test_a_first_close_on_a_reopened_store_releases_one_case() -> None:
    repo = InMemoryRepository()
    Engine(MTSS, repository=repo, roster=roster()).run(D, [FACTS])  # three open, ms-lee's
    engine = Engine(MTSS, repository=repo, roster=roster())
    first = repo.for_student("s1")[0]
    engine.close(first.id, on=D, by="ms-lee", reason="the family moved away")
    assert engine.roster.load["ms-lee"] == 2
