"""School days from district files into a store (tierflow.runner), checked against a hand run.

The expected values come from a second implementation: the engine driven day by day by hand,
as the tutorial shows a host doing it (one engine, each school day's facts from the builder, in
order, over an in-memory repository), on days listed by hand from the calendar file.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.errors import DataReport
from tierflow.ingest import facts_from_files
from tierflow.runner import (
    last_recorded_day,
    read_staff,
    run_days,
    run_facts_file,
    run_files,
    school_days,
)
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, InMemoryRepository, Repository, Roster, StaffMember

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial"
START, END = dt.date(2025, 8, 18), dt.date(2025, 10, 31)
STAFF = [
    StaffMember("ms-lee", "north-high", ("mentor", "counselor"), caseload_limit=3),
    StaffMember("ms-okafor", "north-high", ("social_worker", "attendance_team"), caseload_limit=40),
]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name in ("calendar.csv", "enrollments.csv", "events.csv"):
        shutil.copy(TUTORIAL / name, tmp_path / name)
    (tmp_path / "staff.csv").write_text(
        "staff_id,school_id,roles,caseload_limit\n"
        "ms-lee,north-high,mentor;counselor,3\n"
        "ms-okafor,north-high,social_worker;attendance_team,40\n"
    )
    return tmp_path


def _calendar_days(path: Path, start: dt.date, end: dt.date) -> list[dt.date]:
    """The calendar file's days in the range, read as text (not by tierflow's reader)."""
    lines = path.read_text().splitlines()[1:]
    days = sorted({dt.date.fromisoformat(line.split(",")[1]) for line in lines})
    return [d for d in days if start <= d <= end]


def _records(repo: Repository) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every event and intervention, as comparable rows (ids and sequence numbers left out)."""
    events = [
        (e.at, e.student_id, e.kind, e.from_state, e.to_state, e.who, e.why)
        for s in sorted(repo.students())
        for e in repo.events(s)
    ]
    ivs = [
        (iv.student_id, iv.intervention, iv.owner, iv.state, iv.opened_on, iv.next_follow_up)
        for s in sorted(repo.students())
        for iv in repo.for_student(s)
    ]
    return events, ivs


def _by_hand(ruleset: tierflow.CompiledRuleset, folder: Path, days: list[dt.date]) -> Repository:
    builder = facts_from_files(
        [folder / "calendar.csv"],
        [folder / "events.csv"],
        enrollments=[folder / "enrollments.csv"],
        school_years=ruleset.school_years,
    )
    repo = InMemoryRepository()
    engine = Engine(ruleset, repository=repo, roster=Roster(STAFF), calendars=builder.calendars)
    for day in days:
        engine.run(day, list(builder.facts(day)))
    return repo


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_range_equals_the_engine_run_day_by_day_by_hand(files: Path, store: str) -> None:
    ruleset = tierflow.load_ruleset("ca")
    days = _calendar_days(files / "calendar.csv", START, END)
    assert len(days) == 54  # the tutorial's calendar: Aug 18 to Oct 31, Labor Day off
    expected = _records(_by_hand(ruleset, files, days))
    assert len(expected[1]) >= 9  # the hand run opened the tutorial's interventions

    with SqlRepository(":memory:") if store == "sqlite" else _Memory() as repo:
        found = run_files(
            ruleset,
            repo,
            calendars=[files / "calendar.csv"],
            events=[files / "events.csv"],
            enrollments=[files / "enrollments.csv"],
            staff=files / "staff.csv",
            start=START,
            end=END,
        )
        assert [d.day for d in found.days] == days
        assert found.skipped == []
        assert _records(repo) == expected
        # The summaries count what the store holds.
        assert sum(d.recorded for d in found.days) == len(expected[0])
        assert sum(d.opened for d in found.days) == len(expected[1])
        assert found.days[-1].legal_due == 1  # r3's NOT1, as in the tutorial


class _Memory(InMemoryRepository):
    """An in-memory repository usable in a ``with`` statement, as SqlRepository is."""

    def __enter__(self) -> _Memory:
        return self

    def __exit__(self, *_: object) -> None:
        return None


def test_running_a_range_again_records_nothing(files: Path) -> None:
    ruleset = tierflow.load_ruleset("ca")
    kwargs: dict[str, Any] = {
        "calendars": [files / "calendar.csv"],
        "events": [files / "events.csv"],
        "enrollments": [files / "enrollments.csv"],
        "staff": files / "staff.csv",
        "start": START,
        "end": END,
    }
    with SqlRepository(str(files / "north.db")) as repo:
        first = run_files(ruleset, repo, **kwargs)
        heads = repo.chain_heads()
        records = _records(repo)
    last = max(d.day for d in first.days if d.recorded)
    with SqlRepository(str(files / "north.db")) as repo:
        assert last_recorded_day(repo) == last
        again = run_files(ruleset, repo, **kwargs)
        assert repo.chain_heads() == heads
        assert _records(repo) == records
    assert sum(d.recorded for d in again.days) == 0
    # Only the days from the store's last one on are run again; the rest are skipped.
    assert again.days[0].day == last
    assert again.skipped == [d for d in (x.day for x in first.days) if d < last]


def test_an_earlier_day_after_a_later_one_is_skipped_not_written_out_of_order() -> None:
    ruleset = tierflow.load_ruleset("mtss")
    facts = [{"student_id": "s1", "school_id": "x", "days_enrolled": 30, "days_absent": 6}]
    repo = InMemoryRepository()
    run_days(ruleset, repo, lambda _day: facts, [dt.date(2025, 10, 6)])
    before = _records(repo)
    assert run_days(ruleset, repo, lambda _day: facts, [dt.date(2025, 10, 3)]) == []
    assert _records(repo) == before


def test_a_bad_row_is_reported_with_file_line_and_student_and_the_run_goes_on(
    files: Path,
) -> None:
    events = files / "events.csv"
    lines = events.read_text().splitlines()
    # Line 3 of the file: r1's second absence, with a date that is no date.
    lines[2] = lines[2].replace("2025-09-17", "2025-09-31")
    events.write_text("\n".join(lines) + "\n")
    with SqlRepository(":memory:") as repo:
        found = run_files(
            tierflow.load_ruleset("ca"),
            repo,
            calendars=[files / "calendar.csv"],
            events=[events],
            enrollments=[files / "enrollments.csv"],
            start=START,
            end=END,
        )
        opened_for = {iv.student_id for s in repo.students() for iv in repo.for_student(s)}
    bad = [r for r in found.report.rejects if r.code == "ingest.invalid_date"]
    assert [(r.source, r.student_id) for r in bad] == [(f"{events}:3", "r1")]
    assert len(found.days) == 54
    assert {"r1", "r3"} <= opened_for  # both students' interventions still opened
    assert found.report.read == found.report.accepted + found.report.rejected


def test_a_student_the_engine_cannot_evaluate_is_reported_once_with_its_line(
    tmp_path: Path,
) -> None:
    facts = tmp_path / "facts.jsonl"
    facts.write_text(
        '{"student_id": "s1", "school_id": "x", "days_enrolled": 30, "days_absent": 6}\n'
        '{"student_id": "s2", "school_id": "x", "days_enrolled": "sixty", "days_absent": 2}\n'
    )
    report = DataReport()
    repo = InMemoryRepository()
    days = run_facts_file(
        tierflow.load_ruleset("mtss"), repo, facts, on=dt.date(2025, 10, 6), report=report
    )
    assert [d.rejected for d in days] == [1]
    assert [(r.source, r.student_id) for r in report.rejects] == [
        (f"{facts}:2 (on 2025-10-06)", "s2")
    ]
    assert (report.read, report.accepted) == (2, 1)
    assert repo.for_student("s1") and not repo.for_student("s2")


def test_school_days_are_the_union_of_the_calendars_in_the_range() -> None:
    a = tierflow.attendance.SchoolCalendar("a", [dt.date(2025, 9, 1), dt.date(2025, 9, 3)])
    b = tierflow.attendance.SchoolCalendar("b", [dt.date(2025, 9, 3), dt.date(2025, 9, 5)])
    assert school_days({"a": a, "b": b}, dt.date(2025, 9, 2), dt.date(2025, 9, 30)) == [
        dt.date(2025, 9, 3),
        dt.date(2025, 9, 5),
    ]


def test_the_staff_file_reads_csv_and_json_and_reports_bad_records(tmp_path: Path) -> None:
    (tmp_path / "staff.json").write_text(
        '[{"staff_id": "c1", "school_id": "x", "roles": "counselor", "caseload_limit": 2},'
        ' {"staff_id": "c2", "school_id": "x", "roles": "counselor", "caseload_limit": -1},'
        ' {"staff_id": "", "school_id": "x", "roles": "mentor"}]'
    )
    report = DataReport()
    roster = read_staff(tmp_path / "staff.json", report=report)
    assert [(m.id, m.caseload_limit) for m in roster.candidates("x", "counselor")] == [("c1", 2)]
    assert [(r.code, r.source, r.field) for r in report.rejects] == [
        ("staff.invalid", f"{tmp_path / 'staff.json'}[1]", "caseload_limit"),
        ("staff.invalid", f"{tmp_path / 'staff.json'}[2]", None),
    ]
    assert (report.read, report.accepted) == (3, 1)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=st.sets(st.integers(min_value=1, max_value=53), max_size=6))
def test_a_range_cut_into_runs_anywhere_equals_one_run(files: Path, cuts: set[int]) -> None:
    # However a district splits the year into runs (nightly, weekly, a back-fill), the store
    # ends the same: each run starts where the store's records stopped.
    ruleset = tierflow.load_ruleset("ca")
    builder = facts_from_files(
        [files / "calendar.csv"],
        [files / "events.csv"],
        enrollments=[files / "enrollments.csv"],
        school_years=ruleset.school_years,
    )
    days = _calendar_days(files / "calendar.csv", START, END)
    whole, pieces = InMemoryRepository(), InMemoryRepository()
    run_days(ruleset, whole, builder.facts, days, roster=Roster(STAFF))
    roster = Roster(STAFF)
    bounds = [0, *sorted(cuts), len(days)]
    for a, b in itertools.pairwise(bounds):
        run_days(ruleset, pieces, builder.facts, days[a:b], roster=roster)
    assert _records(pieces) == _records(whole)
