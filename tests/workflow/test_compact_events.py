"""The in-memory store keeps events compactly and gives back what was appended.

Events are held as rows of shared parts and made :class:`WorkflowEvent` again on every read;
these tests hold the store to the events they built themselves, field by field.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Any, cast

import pytest

from tierflow.evaluate import RulesetRef
from tierflow.workflow import InMemoryRepository, Intervention, WorkflowEvent

D = dt.date(2025, 10, 6)
REF = RulesetRef("mtss", "General MTSS", "2025.1", "ab" * 32)
OTHER = RulesetRef("ca", "California", "2025.1", "cd" * 32)


def events() -> list[WorkflowEvent]:
    """Every field used, some shared between events and some not."""
    facts = {"student_id": "s1", "days_absent": 3}
    return [
        WorkflowEvent(0, D, "s1", "decision", why="tier2", ruleset=REF, facts=facts),
        WorkflowEvent(0, D, "s1", "opened", "iv-1", None, None, "assigned", "tierflow", "t2", REF),
        WorkflowEvent(0, D, "s2", "opened", "iv-2", None, None, "assigned", "tierflow", "t2", REF),
        WorkflowEvent(
            0, D, "s1", "transition", "iv-1", "start", "assigned", "active", "ms-lee", "", REF
        ),
        WorkflowEvent(0, D, "s1", "legal_due", why="t2", ruleset=OTHER, detail={"step": "not1"}),
        WorkflowEvent(0, D + dt.timedelta(days=1), "s1", "notice_rendered", detail={"n": 1}),
        WorkflowEvent(0, dt.datetime(2025, 10, 6, 9, 30), "s1", "note", why="tier2"),
        WorkflowEvent(0, D, "s1", "note", why=cast(Any, ["not", "hashable"])),
    ]


def rows(repo: InMemoryRepository, student_id: str) -> list[Any]:
    """The items holding a student's events (after the count and their interventions)."""
    mine = repo._students[student_id]
    return mine[mine[0] + 1 :]


def numbered(given: list[WorkflowEvent], first: int = 1) -> list[WorkflowEvent]:
    return [ev._replace(seq=first + i) for i, ev in enumerate(given)]


def test_events_read_back_equal_the_events_appended_field_by_field() -> None:
    repo = InMemoryRepository()
    given = events()
    returned = [repo.append(ev) for ev in given]
    expected = numbered(given)
    assert returned == expected
    mine = [ev for ev in expected if ev.student_id == "s1"]
    assert repo.events("s1") == mine
    assert repo.events("s2") == [expected[2]]
    assert repo.events("nobody") == []
    for got, want in zip(repo.events("s1"), mine, strict=True):
        assert type(got) is WorkflowEvent
        assert tuple(map(type, got)) == tuple(map(type, want))  # a datetime stays a datetime
        assert got.detail is want.detail and got.ruleset is want.ruleset  # as given
        if want.facts is not None:  # a dict made again: the same keys in order, same values
            assert list(got.facts.items()) == list(want.facts.items())
            assert all(g is w for g, w in zip(got.facts.values(), want.facts.values(), strict=True))


def test_a_dict_of_facts_is_kept_as_it_was_when_appended() -> None:
    repo = InMemoryRepository()
    facts: dict[Any, Any] = {"student_id": "s1", "days_absent": 3}
    repo.append(WorkflowEvent(0, D, "s1", "decision", facts=facts))
    repo.append(WorkflowEvent(0, D, "s1", "opened", "iv-1", facts=facts))
    facts["days_absent"] = 4  # changed, then appended again: the last event sees the change
    repo.append(WorkflowEvent(0, D, "s1", "opened", "iv-2", facts=facts))
    assert [e.facts for e in repo.events("s1")] == [
        {"student_id": "s1", "days_absent": 3},
        {"student_id": "s1", "days_absent": 3},
        {"student_id": "s1", "days_absent": 4},
    ]
    one, two, three = (e.facts for e in repo.events("s1"))
    assert type(one) is dict and one is two and two is not three  # as they were appended
    assert repo.events("s1")[0].facts is not one  # but every read makes its own dicts
    one["days_absent"] = 99  # and changing one changes nothing stored
    assert repo.events("s1")[0].facts == {"student_id": "s1", "days_absent": 3}
    # The first two shared one packed snapshot; the changed one has its own.
    held = rows(repo, "s1")[2::5]
    assert held[0] is held[1] and held[1] is not held[2]


def test_packed_facts_keep_their_key_types_and_other_mappings_are_kept_as_given() -> None:
    repo = InMemoryRepository()
    proxy = MappingProxyType({"a": 1})
    repo.append(WorkflowEvent(0, D, "s1", "note", facts={1: "x", 2.5: None}))
    repo.append(WorkflowEvent(0, D, "s1", "note", facts={True: "x", 2.5: None}))
    repo.append(WorkflowEvent(0, D, "s1", "note", facts=proxy))
    first, second, third = (e.facts for e in repo.events("s1"))
    assert first is not None and second is not None
    assert [type(k) for k in first] == [int, float] and [type(k) for k in second] == [bool, float]
    assert third is proxy


def test_the_filtered_reads_see_the_same_events() -> None:
    repo = InMemoryRepository()
    expected = [repo.append(ev) for ev in events()]
    assert repo.legal_events(["s1", "s2"]) == {"s1": [expected[4]]}
    assert repo.notice_events() == {"s1": [expected[5]]}
    summaries = repo.summaries({"opened", "transition"})
    assert {sid: [s.seq for s in rows] for sid, rows in summaries.items()} == {
        "s1": [2, 4],
        "s2": [3],
    }


def test_alike_events_share_their_common_part() -> None:
    repo = InMemoryRepository()
    given = events()
    for ev in given:
        repo.append(ev)
    first, second = rows(repo, "s1"), rows(repo, "s2")
    # s1's opening (the second row) and s2's (the first) differ only in student and id.
    assert first[5 + 4] is second[4]
    # A date and a datetime of the same day are not alike; nor are two rule sets.
    assert first[4] is not first[6 * 5 + 4]
    assert len({id(first[i]) for i in range(4, len(first), 5)}) == 7


def test_an_undone_unit_leaves_the_events_and_their_numbers_as_they_were() -> None:
    repo = InMemoryRepository()
    first, *rest = events()
    repo.append(first)
    before = {sid: list(mine) for sid, mine in repo._students.items()}
    with pytest.raises(ZeroDivisionError), repo.unit():
        for ev in rest:
            repo.append(ev)
        assert len(repo.events("s1")) == len(rest)
        raise ZeroDivisionError
    assert repo._students == before and repo.students() == ["s1"]
    assert repo.events("s1") == numbered([first])
    assert repo.append(rest[1]) == numbered([rest[1]], first=2)[0]  # numbered where it left off


def intervention(repo: InMemoryRepository, student_id: str) -> Intervention:
    return Intervention(
        repo.new_id(),
        student_id,
        "lincoln",
        "weekly-checkin",
        2,
        "mentor",
        "ms-lee",
        "assigned",
        D,
        None,
        None,
        None,
    )


def test_interventions_and_events_interleaved_stay_apart_and_undo_in_order() -> None:
    repo = InMemoryRepository()
    decision, opened, *_ = events()
    repo.append(decision)
    first = intervention(repo, "s1")
    repo.add(first)
    repo.append(opened)
    with pytest.raises(ZeroDivisionError), repo.unit():
        second = intervention(repo, "s1")
        repo.add(second)
        repo.append(decision)
        third = intervention(repo, "s1")
        repo.add(third)
        other = intervention(repo, "s2")
        repo.add(other)
        assert repo.for_student("s1") == [first, second, third]
        assert [e.seq for e in repo.events("s1")] == [1, 2, 3]
        assert repo.students() == ["s1", "s2"]
        raise ZeroDivisionError
    assert repo.for_student("s1") == [first] and repo.for_student("s2") == []
    assert repo.events("s1") == numbered([decision, opened])
    assert repo.students() == ["s1"]
    assert [iv.id for iv in repo.open_interventions()] == [first.id]
