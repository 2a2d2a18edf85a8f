"""Schema version 4: each event row's reporting columns, each intervention's tier, state and
dates; what reports read from them (``summaries``, ``cases``), on every repository;
an old store migrated; a column changed outside tierflow found by the audit."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from stores import Store
from tierflow.errors import StoreError
from tierflow.store import verify
from tierflow.workflow import EventSummary, Intervention, Repository, WorkflowEvent

D = dt.date(2025, 10, 6)
D2 = dt.date(2025, 10, 8)
WEEK = dt.timedelta(days=7)


def fill(repo: Repository) -> None:
    """Two students' interventions and events of every kind a report reads."""
    iv = Intervention(
        repo.new_id(), "s1", "lincoln", "weekly-checkin", 2, "mentor", "ms-lee", "assigned", D,
        D + dt.timedelta(days=7), None, None,
    )  # fmt: skip
    repo.add(iv)
    repo.add(dataclasses.replace(iv, id=repo.new_id(), student_id="s2", owner=None))
    repo.save(dataclasses.replace(iv, state="closed", ended_on=D2, version=2), 1)
    for ev in (
        WorkflowEvent(0, D, "s1", "decision", detail={"tier": "tier2",
                      "interventions": ["weekly-checkin", "mentor"], "legal": []}),
        WorkflowEvent(0, D, "s1", "transition", iv.id, "start", "assigned", "active"),
        WorkflowEvent(0, D2, "s1", "transition", iv.id, "close", "active", "closed",
                      detail={"withdrawn": "corrected_data"}),
        WorkflowEvent(0, D2, "s1", "legal_due", detail={"step": "not1"}),
        WorkflowEvent(0, D2, "s1", "note", why='"kind":"legal_due"'),
        WorkflowEvent(0, D, "s2", "decision", detail={"tier": "tier1", "interventions": [],
                      "legal": []}),
    ):  # fmt: skip
        repo.append(ev)


# Written by hand from the events above (not by summarize): what each report column holds.
EXPECTED = {
    "s1": [
        (D, "decision", None, None, None, "tier2", None, False, ("weekly-checkin", "mentor")),
        (D, "transition", "iv", "start", "active", None, None, False, ()),
        (D2, "transition", "iv", "close", "closed", None, None, True, ()),
        (D2, "legal_due", None, None, None, None, "not1", False, ()),
    ],
    "s2": [(D, "decision", None, None, None, "tier1", None, False, ())],
}
KINDS = ("decision", "transition", "legal_due")


def plain(found: dict[str, list[EventSummary]]) -> dict[str, list[tuple[object, ...]]]:
    return {
        sid: [(s.at, s.kind, s.intervention_id and "iv", *s[5:]) for s in rows]
        for sid, rows in found.items()
    }


def test_summaries_are_the_fields_reports_read_on_every_repository(repo: Repository) -> None:
    fill(repo)
    assert plain(repo.summaries(KINDS)) == EXPECTED
    assert plain(repo.summaries(["decision"], ["s2", "nobody"])) == {"s2": EXPECTED["s2"]}
    assert repo.summaries(["rollover"]) == {}
    # Each summary's seq is the event's, as repo.events numbers it.
    seqs = [e.seq for e in repo.events("s1") if e.kind in KINDS]
    assert [s.seq for s in repo.summaries(KINDS)["s1"]] == seqs


def test_cases_are_each_intervention_s_columns_on_every_repository(repo: Repository) -> None:
    fill(repo)
    first, second = repo.for_student("s1")[0], repo.for_student("s2")[0]
    s1 = ("s1", "lincoln", "weekly-checkin", 2, "mentor", "ms-lee", "closed", D, D + WEEK, D2)
    s2 = ("s2", "lincoln", "weekly-checkin", 2, "mentor", None, "assigned", D, D + WEEK, None)
    assert [tuple(c) for c in repo.cases()] == [(first.id, *s1), (second.id, *s2)]
    assert [tuple(c) for c in repo.cases(open_only=True)] == [(second.id, *s2)]


def columns(store: Store) -> list[tuple[object, ...]]:
    return [
        tuple(r)
        for r in store.sql(
            'SELECT record, kind, "at", "trigger", to_state, tier, step, withdrawn, called '
            "FROM events ORDER BY row"
        )
    ]


def test_rows_hold_the_reporting_columns(store: Store) -> None:
    with store.open() as repo:
        fill(repo)
    rows = [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]) if r[7] is not None else None,
             r[8]) for r in columns(store)]  # fmt: skip
    assert rows == [
        ("intervention", None, None, None, None, None, None, None, None),
        ("intervention", None, None, None, None, None, None, None, None),
        ("intervention", None, None, None, None, None, None, None, None),
        ("event", "decision", "2025-10-06", None, None, "tier2", None, False,
         '["weekly-checkin","mentor"]'),
        ("event", "transition", "2025-10-06", "start", "active", None, None, False, None),
        ("event", "transition", "2025-10-08", "close", "closed", None, None, True, None),
        ("event", "legal_due", "2025-10-08", None, None, None, "not1", False, None),
        ("event", "note", "2025-10-08", None, None, None, None, False, None),
        ("event", "decision", "2025-10-06", None, None, "tier1", None, False, "[]"),
    ]  # fmt: skip
    ivs = store.sql("SELECT tier_level, state, opened_on, ended_on FROM interventions ORDER BY pos")
    assert [tuple(r) for r in ivs] == [
        (2, "closed", "2025-10-06", "2025-10-08"),
        (2, "assigned", "2025-10-06", None),
    ]


def test_a_version_3_store_is_migrated_and_its_columns_filled_from_the_bodies(
    store: Store,
) -> None:
    with store.open() as repo:
        fill(repo)
    before = columns(store)
    # Back to version 3 as it was: without the reporting columns, indexes and migration row.
    store.sql("DROP INDEX ix_events_kind_student")
    store.sql("DROP INDEX ix_interventions_catalog")
    for column in ("kind", "at", "trigger", "to_state", "tier", "step", "withdrawn", "called"):
        store.sql(f'ALTER TABLE events DROP COLUMN "{column}"')
    for column in ("tier_level", "state", "opened_on", "ended_on"):
        store.sql(f"ALTER TABLE interventions DROP COLUMN {column}")
    store.sql("DELETE FROM schema_migrations WHERE version = 4")
    with store.open() as repo:
        assert verify(repo) == []
        assert plain(repo.summaries(KINDS)) == EXPECTED
    assert columns(store) == before
    versions = store.sql("SELECT version FROM schema_migrations ORDER BY version")
    assert [v for (v,) in versions] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("tier = 'tier3' WHERE tier = 'tier2'", "tier is 'tier3', its body says 'tier2'"),
        ("withdrawn = NULL WHERE step = 'not1'", "withdrawn is None, its body says False"),
        ("kind = 'note' WHERE kind = 'legal_due'", "kind is 'note', its body says 'legal_due'"),
        ("kind = 'decision' WHERE record = 'intervention'", "kind is 'decision', not NULL"),
    ],
)
def test_a_reporting_column_changed_outside_tierflow_is_found(
    store: Store, change: str, said: str
) -> None:
    with store.open() as repo:
        fill(repo)
    store.sql(f"UPDATE events SET {change}")
    with store.open() as repo:
        found = verify(repo)
    assert found
    assert all("a reporting column disagrees with its body" in f.problem for f in found)
    assert said in found[0].problem


def test_an_intervention_reporting_column_changed_outside_tierflow_is_found(
    store: Store,
) -> None:
    with store.open() as repo:
        fill(repo)
    store.sql("UPDATE interventions SET state = 'met_goal' WHERE student_id = 's1'")
    with store.open() as repo:
        (finding,) = verify(repo)
    assert finding.table == "interventions"
    assert "state is 'met_goal', its body says 'closed'" in finding.problem


def test_a_kind_column_that_hides_a_legal_event_is_refused_when_read(store: Store) -> None:
    with store.open() as repo:
        fill(repo)
    store.sql("UPDATE events SET kind = 'legal_due' WHERE kind = 'note'")
    with store.open() as repo, pytest.raises(StoreError, match="its body says 'note'"):
        repo.legal_events(["s1"])


def test_a_case_column_a_report_cannot_read_is_refused(store: Store) -> None:
    with store.open() as repo:
        fill(repo)
    store.sql("UPDATE interventions SET opened_on = 'soon' WHERE student_id = 's2'")
    with store.open() as repo, pytest.raises(StoreError, match="soon"):
        repo.cases()


@pytest.mark.parametrize("by_student", [0, 2_000])
def test_legal_events_are_the_same_read_by_kind_or_by_student(
    store: Store, monkeypatch: pytest.MonkeyPatch, by_student: int
) -> None:
    # 0: every list of students counts as many (one read by kind, picked in Python).
    import tierflow.store._sql as sql

    monkeypatch.setattr(sql, "_BY_STUDENT", by_student)
    with store.open() as repo:
        fill(repo)
        repo.append(WorkflowEvent(0, D2, "s2", "legal_issued", detail={"step": "not1"}))
        found = repo.legal_events(["s2", "nobody", "s1"])
        assert list(found) == ["s2", "s1"]  # in the order asked
        assert [(e.kind, e.detail and e.detail["step"]) for e in found["s1"]] == [
            ("legal_due", "not1")
        ]  # not the note quoting "legal_due"
        assert [e.kind for e in found["s2"]] == ["legal_issued"]
        assert list(repo.legal_events(["s1"])) == ["s1"]


def test_firsts_keeps_each_intervention_s_first_transition_into_each_state(
    repo: Repository,
) -> None:
    def move(at: dt.date, iid: str, trigger: str, to: str, **detail: str) -> None:
        repo.append(
            WorkflowEvent(0, at, "s1", "transition", iid, trigger, "x", to, detail=detail or None)
        )

    day = [D + dt.timedelta(days=n) for n in range(20)]
    repo.append(WorkflowEvent(0, day[0], "s1", "decision", detail={"tier": "tier2"}))
    move(day[1], "iv-a", "start", "active")  # kept
    move(day[7], "iv-a", "due", "follow_up_due")  # kept
    move(day[8], "iv-a", "check_in", "active")
    move(day[14], "iv-a", "due", "follow_up_due")
    move(day[5], "iv-b", "start", "active")  # recorded first, but not the earliest
    move(day[3], "iv-b", "start", "active")  # kept: the earliest date, recorded later
    move(day[9], "iv-b", "close", "closed")  # kept
    move(day[9], "iv-b", "close", "closed", withdrawn="corrected_data")  # kept: a withdrawal
    kept = [
        (s.at, s.intervention_id, s.to_state, s.withdrawn)
        for s in repo.summaries(["decision", "transition"], firsts=True)["s1"]
    ]
    # Written by hand from the moves above, in the order they were recorded.
    assert kept == [
        (day[0], None, None, False),
        (day[1], "iv-a", "active", False),
        (day[7], "iv-a", "follow_up_due", False),
        (day[3], "iv-b", "active", False),
        (day[9], "iv-b", "closed", False),
        (day[9], "iv-b", "closed", True),
    ]
    assert len(repo.summaries(["transition"])["s1"]) == 8  # without firsts: every one


def test_firsts_breaks_a_same_day_tie_by_the_order_recorded(repo: Repository) -> None:
    # Eight events first, so the two moves are seq 9 and 10: compared as text, "10" < "9".
    for n in range(8):
        repo.append(WorkflowEvent(0, D, "s2", "decision", detail={"tier": f"tier{n % 3 + 1}"}))
    on = D + dt.timedelta(days=3)
    for trigger in ("start", "check_in"):
        repo.append(WorkflowEvent(0, on, "s2", "transition", "iv-c", trigger, "x", "active"))
    kept = [(s.seq, s.trigger) for s in repo.summaries(["transition"], firsts=True)["s2"]]
    assert kept == [(9, "start")]  # the first recorded of the two on that day
