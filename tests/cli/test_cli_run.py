"""``tierflow run``, ``advance`` and ``timeline`` (issue 14, "The command line")."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from tierflow.cli import main
from tierflow.store import SqlRepository

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("calendar.csv", "enrollments.csv", "events.csv"):
        shutil.copy(TUTORIAL / name, tmp_path / name)
    (tmp_path / "staff.csv").write_text(
        "staff_id,school_id,roles\nms-lee,north-high,mentor;counselor;social_worker\n"
    )
    return tmp_path


def _run(folder: Path, *more: str) -> list[str]:
    return [
        "run",
        "--db",
        str(folder / "north.db"),
        "-r",
        "ca",
        "--calendar",
        str(folder / "calendar.csv"),
        "--events",
        str(folder / "events.csv"),
        "--enrollments",
        str(folder / "enrollments.csv"),
        "--staff",
        str(folder / "staff.csv"),
        *more,
    ]


def test_run_json_parses_and_counts_what_the_store_holds(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    status = main(
        _run(folder, "--from", "2025-08-18", "--to", "2025-10-31", "--format", "json"), out
    )
    assert status == 0
    data = json.loads(out.getvalue())
    assert len(data["days"]) == 54  # the calendar's school days from Aug 18 to Oct 31
    assert data["skipped"] == []
    with SqlRepository(str(folder / "north.db")) as repo:
        events = sum(len(repo.events(s)) for s in repo.students())
        opened = sum(len(repo.for_student(s)) for s in repo.students())
    assert sum(sum(d["events"].values()) for d in data["days"]) == events
    assert sum(d["opened"] for d in data["days"]) == opened == 9  # the tutorial's nine
    # The bad row of the tutorial's events: located, and the run went on.
    assert [(r["source"], r["student_id"]) for r in data["rejected"]] == [
        (f"{folder / 'events.csv'}:14", "r9")
    ]
    assert "events.csv:14, student r9: event.not_enrolled" in capsys.readouterr().err


def test_run_the_same_day_twice_records_nothing(folder: Path) -> None:
    assert main(_run(folder, "--on", "2025-10-31"), io.StringIO()) == 0
    with SqlRepository(str(folder / "north.db")) as repo:
        heads = repo.chain_heads()
    out = io.StringIO()
    assert main(_run(folder, "--on", "2025-10-31", "--format", "json"), out) == 0
    again = json.loads(out.getvalue())
    assert [d["events"] for d in again["days"]] == [{}]
    with SqlRepository(str(folder / "north.db")) as repo:
        assert repo.chain_heads() == heads


def test_strict_fails_on_a_rejected_record(folder: Path) -> None:
    assert main(_run(folder, "--on", "2025-10-31", "--strict"), io.StringIO()) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--on", "2025-10-31", "--from", "2025-10-01"], "not both"),
        (["--from", "2025-10-01"], "give --on DATE, or --from DATE and --to DATE"),
        (["--from", "2025-10-31", "--to", "2025-10-01"], "is before --from"),
    ],
)
def test_run_refuses_days_that_do_not_fit(
    folder: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_run(folder, *extra), io.StringIO()) == 2
    assert message in capsys.readouterr().err


def test_run_refuses_facts_with_events_or_without_a_day(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = folder / "facts.jsonl"
    facts.write_text('{"student_id": "s1", "days_enrolled": 30, "days_absent": 6}\n')
    assert main([*_run(folder, "--on", "2025-10-31"), "--facts", str(facts)], io.StringIO()) == 2
    db = ["run", "--db", str(folder / "f.db"), "-r", "mtss", "--facts", str(facts)]
    assert main([*db, "--from", "2025-10-01", "--to", "2025-10-31"], io.StringIO()) == 2
    assert "a facts file describes one day" in capsys.readouterr().err
    assert main([*db, "--on", "2025-10-31", "--to", "x"], io.StringIO()) == 2
    assert main([*db, "--on", "2025-10-31", "--mapping", str(facts)], io.StringIO()) == 2


def test_run_a_missing_file_is_status_2(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "events.csv").unlink()
    assert main(_run(folder, "--on", "2025-10-31"), io.StringIO()) == 2
    assert "events.csv: No such file or directory" in capsys.readouterr().err


def test_run_a_bad_date_ends_with_status_1(folder: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(_run(folder, "--on", "31/10/2025"), io.StringIO())
    assert "--on must be a date YYYY-MM-DD" in str(exit_.value.code)


def test_run_from_a_facts_file(tmp_path: Path) -> None:
    facts = tmp_path / "facts.csv"
    facts.write_text("student_id,school_id,days_enrolled,days_absent\ns1,x,30,3\ns2,x,thirty,1\n")
    out = io.StringIO()
    argv = ["run", "--db", str(tmp_path / "f.db"), "-r", "mtss", "--facts", str(facts)]
    assert main([*argv, "--on", "2025-10-06", "--format", "json"], out) == 0
    data = json.loads(out.getvalue())
    assert [d["day"] for d in data["days"]] == ["2025-10-06"]
    # 10% absent: mtss's tier 2 (weekly-checkin, family-call) and its chronic-absence rule
    # (attendance-plan), as the workflow's doctest shows; nobody on a roster owns them.
    assert data["days"][0]["opened"] == 3
    assert data["days"][0]["unassigned"] == 3
    assert [(r["source"], r["student_id"]) for r in data["rejected"]] == [(f"{facts}:3", "s2")]


def test_progress_is_drawn_on_request_and_not_by_default(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_run(folder, "--from", "2025-08-18", "--to", "2025-08-22"), io.StringIO()) == 0
    quiet = capsys.readouterr().err
    assert "school days run" not in quiet
    argv = _run(folder, "--from", "2025-08-25", "--to", "2025-08-29", "--progress")
    assert main(argv, io.StringIO()) == 0
    err = capsys.readouterr().err
    # rich draws a bar that removes itself; without rich, a counting line ("5 of 5").
    assert "5" in err.split("records:")[0]


def test_advance_and_timeline_json_parse(folder: Path) -> None:
    assert main(_run(folder, "--from", "2025-08-18", "--to", "2025-09-12"), io.StringIO()) == 0
    out = io.StringIO()
    db = str(folder / "north.db")
    argv = ["advance", "--db", db, "-r", "ca", "--on", "2025-09-19", "--format", "json"]
    assert main([*argv, "--calendar", str(folder / "calendar.csv")], out) == 0
    advanced = json.loads(out.getvalue())
    assert advanced["day"] == "2025-09-19"
    # Follow-ups of Sep 10 and 12 are more than two school days late on Sep 19; the SART
    # meeting (no cadence) was due the day it opened, Sep 12, and nobody has held it (issue 14).
    assert {(d["student_id"], d["intervention"]) for d in advanced["due"] if d["overdue"]} == {
        ("r1", "weekly-checkin"),
        ("r3", "weekly-checkin"),
        ("r3", "sart-meeting"),
    }
    assert advanced["events"] == {"overdue": 3}

    out = io.StringIO()
    assert main(["timeline", "r3", "--db", db, "--format", "json"], out) == 0
    events = json.loads(out.getvalue())
    assert [e["kind"] for e in events][:2] == ["decision", "decision"]
    opened = [e for e in events if e["kind"] == "opened"]
    assert [e["intervention"] for e in opened] == [
        "weekly-checkin",
        "family-call",
        "attendance-plan",
        "sart-meeting",
    ]
    # ms-lee fills every role but the attendance team's, which the SART meeting needs.
    assert [e["detail"]["owner"] for e in opened] == ["ms-lee", "ms-lee", "ms-lee", None]
    assert events[-1]["kind"] == "overdue"


def test_timeline_of_an_unknown_student_or_store(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_run(folder, "--on", "2025-08-18"), io.StringIO()) == 0
    assert main(["timeline", "nobody", "--db", str(folder / "north.db")], io.StringIO()) == 1
    assert "no records for student 'nobody'" in capsys.readouterr().err
    assert main(["timeline", "r1", "--db", str(folder / "none.db")], io.StringIO()) == 2
    assert main(["advance", "--db", str(folder / "none.db"), "-r", "ca", "--on", "2025-09-01"]) == 2


def test_a_database_url_works_as_a_file_does(folder: Path) -> None:
    url = f"sqlite:///{folder / 'url.db'}"
    argv = _run(folder, "--on", "2025-09-12")
    argv[argv.index("--db") + 1] = url
    assert main(argv, io.StringIO()) == 0
    out = io.StringIO()
    assert main(["timeline", "r1", "--db", url], out) == 0
    lines = out.getvalue().splitlines()
    # r1's tier-2 openings of Sep 12, each with its owner (text), after the day's decision.
    assert lines[0].startswith("2025-09-12  decision  by tierflow: tier2")
    assert "opened  iv-0000001 (weekly-checkin)  assigned  owner ms-lee  by tierflow" in lines[1]
