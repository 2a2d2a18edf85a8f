"""One way to report a bad record: a DataReport every reader fills, and DataError.with_source."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tierflow import DataError, DataReport
from tierflow.ingest import facts_from_files, read_calendars, read_events, read_groups, read_people

EVENTS = (
    "student_id,school_id,date,category\n"
    "s1,lincoln,2025-09-08,unexcused_absence\n"
    "s2,lincoln,2025-13-01,tardy\n"  # no month 13
    "s3,lincoln,2025-09-09,tardy\n"
)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_with_source_fills_only_what_the_error_does_not_know() -> None:
    bare = DataError("facts.missing", "days_enrolled is missing", field="days_enrolled")
    placed = bare.with_source("facts.csv", 3, "s1")
    assert (placed.code, placed.reason, placed.field) == (
        "facts.missing",
        "days_enrolled is missing",
        "days_enrolled",
    )
    assert (placed.source, placed.student_id) == ("facts.csv:3", "s1")
    assert str(placed) == "facts.csv:3, student s1: facts.missing: days_enrolled is missing"
    # What the error knew is kept: the deeper place is the more precise one.
    again = placed.with_source("record 9", student="s9")
    assert (again.source, again.student_id) == ("facts.csv:3", "s1")
    assert bare.with_source("record 2").source == "record 2"
    assert bare.with_source().source is None


def test_report_counts_add_up_and_group_by_code() -> None:
    report = DataReport()
    report.accept()
    report.accept()
    report.reject(DataError("ingest.invalid_date", "x", source="a:2"))
    report.reject(DataError("ingest.invalid_date", "y", source="a:3"))
    report.reject(DataError("event.duplicate", "z", source="a:4"))
    assert (report.read, report.accepted, report.rejected) == (5, 2, 3)
    assert report.by_code() == {"ingest.invalid_date": 2, "event.duplicate": 1}
    assert report.summary() == (
        "read 5, accepted 2, rejected 3 (event.duplicate 1, ingest.invalid_date 2)"
    )


def test_a_streaming_reader_reports_a_bad_record_and_reads_on(tmp_path: Path) -> None:
    path = _write(tmp_path / "events.csv", EVENTS)
    report = DataReport()
    assert [e.student_id for e in read_events(path, report=report)] == ["s1", "s3"]
    # The reader counts what it refuses; whoever takes the rest counts those.
    assert (report.read, report.accepted, report.rejected) == (1, 0, 1)
    (reject,) = report.rejects
    assert (reject.code, reject.source, reject.student_id) == (
        "ingest.invalid_date",
        f"{path}:3",
        "s2",
    )


def test_a_streaming_reader_without_a_report_raises_the_first_bad_record(tmp_path: Path) -> None:
    path = _write(tmp_path / "events.csv", EVENTS)
    read = read_events(path)
    assert next(read).student_id == "s1"
    with pytest.raises(DataError) as info:
        next(read)
    assert (info.value.code, info.value.source) == ("ingest.invalid_date", f"{path}:3")
    groups = _write(tmp_path / "groups.csv", "student_id,groups\n,foster\n")
    with pytest.raises(DataError, match=r"ingest\.missing_value"):
        list(read_groups(groups))


def test_calendar_and_people_files_count_every_record(tmp_path: Path) -> None:
    cal = _write(
        tmp_path / "calendar.csv",
        "calendar_id,date\nlincoln,2025-09-08\nlincoln,someday\nlincoln,2025-09-09\n",
    )
    found = read_calendars(cal)
    assert (found.report.read, found.report.accepted, found.report.rejected) == (3, 2, 1)
    assert found.report.rejects[0].source == f"{cal}:3"
    assert len(found.calendars["lincoln"]) == 2
    shared = DataReport()
    assert read_calendars(cal, report=shared).report is shared
    roster = _write(
        tmp_path / "people.csv",
        "student_id,name\ns1,Ann Lee\n,No Id\ns1,Ann Again\ns2,Bo Ray\n",
    )
    people = read_people(roster)
    assert sorted(people.people) == ["s1", "s2"]
    assert (people.report.read, people.report.accepted, people.report.rejected) == (3, 2, 1)
    assert people.report.ignored == [
        f"{roster}:4, student s1: listed again; the first record ({roster}:2) is kept"
    ]


def test_facts_from_files_counts_the_files_in_the_builder_report(tmp_path: Path) -> None:
    cal = _write(
        tmp_path / "calendar.csv",
        "calendar_id,date\n" + "".join(f"lincoln,2025-09-{d:02d}\n" for d in (8, 9, 10)),
    )
    events = _write(tmp_path / "events.csv", EVENTS)
    calendar_report = DataReport()
    builder = facts_from_files(
        [cal], [events], assume_full_year=True, calendar_report=calendar_report
    )
    # 3 events: s2's date is refused by the reader, s1 and s3 are taken by the builder.
    assert builder.report.summary() == "read 3, accepted 2, rejected 1 (ingest.invalid_date 1)"
    assert (calendar_report.read, calendar_report.accepted) == (3, 3)
    facts = {f["student_id"]: f for f in builder.facts(dt.date(2025, 9, 10))}
    assert (facts["s1"]["days_absent"], facts["s3"]["days_absent"]) == (1.0, 0.0)
