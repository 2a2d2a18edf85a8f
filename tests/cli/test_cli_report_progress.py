"""``tierflow report progress`` and ``tierflow report operations`` on files and a SQLite store.

The calendar is Monday 2025-09-01 to Friday 2025-09-12, every weekday; s1 misses Wednesday
09-03 (unexcused) and is enrolled from the first day: week 09-01 is 4 of 5 days (0.8), week
09-08 5 of 5 (1.0), and the year to date 9 of 10 (0.9).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from tierflow.cli import main
from tierflow.store import SqlRepository
from tierflow.workflow import Intervention, WorkflowEvent

D = dt.date


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    days = [D(2025, 9, 1) + dt.timedelta(days=i) for i in range(12)]
    cal = tmp_path / "cal.csv"
    cal.write_text(
        "calendar_id,date\n" + "".join(f"lincoln,{d}\n" for d in days if d.weekday() < 5)
    )
    events = tmp_path / "events.csv"
    events.write_text(
        "student_id,school_id,date,category\ns1,lincoln,2025-09-03,unexcused_absence\n"
    )
    enrollments = tmp_path / "enrollments.csv"
    enrollments.write_text("student_id,school_id,entry_date\ns1,lincoln,2025-09-01\n")
    staff = tmp_path / "staff.csv"
    staff.write_text("staff_id,school_id,roles,caseload_limit\nms-lee,lincoln,mentor,1\n")
    db = tmp_path / "records.db"
    with SqlRepository(db) as repo:
        for n, student in ((1, "s1"), (2, "s2")):
            repo.add(
                Intervention(
                    f"iv-{n}",
                    student,
                    "lincoln",
                    "weekly-checkin",
                    2,
                    "mentor",
                    "ms-lee",
                    "active",
                    D(2025, 9, 8),
                    D(2025, 9, 10),
                    None,
                    None,
                )
            )
        repo.append(
            WorkflowEvent(
                0,
                D(2025, 9, 8),
                "s1",
                "opened",
                "iv-1",
                to_state="active",
                detail={"intervention": "weekly-checkin"},
            )
        )
    return {
        "cal": str(cal),
        "events": str(events),
        "enrollments": str(enrollments),
        "staff": str(staff),
        "db": str(db),
    }


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["report", *args], out=out)
    return status, out.getvalue(), err.getvalue()


def progress_args(files: dict[str, str], *more: str) -> list[str]:
    return [
        "progress",
        "s1",
        "--db",
        files["db"],
        "--calendar",
        files["cal"],
        "--events",
        files["events"],
        "--enrollments",
        files["enrollments"],
        "--through",
        "2025-09-12",
        *more,
    ]


def test_progress_as_text(files: dict[str, str]) -> None:
    status, out, err = run(*progress_args(files))
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "s1, 2025-2026, through 2025-09-12",
        "note: no rule set given: the interventions' goals are not shown",
        "2025-09-01  5 days  absent 1  rate 80.0%  year 80.0%  -",
        "2025-09-08  5 days  absent 0  rate 100.0%  year 90.0%  -",
        "    2025-09-08 opened weekly-checkin (iv-1)",
    ]


def test_progress_with_a_rule_set_draws_the_goal_line(files: dict[str, str]) -> None:
    status, out, _ = run(*progress_args(files, "--ruleset", "mtss", "--format", "json"))
    data = json.loads(out)
    assert status == 0
    (goal,) = data["goals"]
    # opened Monday 09-08; at Friday 09-12 the 28 days before hold the absence of 09-03
    assert (goal["at_most"], goal["points"]) == (
        1.0,
        [{"week": "2025-09-08", "on": "2025-09-12", "value": 1.0, "met": True}],
    )


def test_progress_without_enrollments_assumes_the_whole_year(files: dict[str, str]) -> None:
    args = progress_args(files, "--format", "csv")
    i = args.index("--enrollments")
    del args[i : i + 2]
    status, out, _ = run(*args)
    rows = list(csv.reader(io.StringIO(out)))
    assert status == 0
    assert [r[:5] for r in rows[1:]] == [
        ["2025-09-01", "5", "1", "0.8000", "0.8000"],
        ["2025-09-08", "5", "0", "1.0000", "0.9000"],
    ]


def test_progress_to_a_file_and_bad_input(files: dict[str, str], tmp_path: Path) -> None:
    page = tmp_path / "s1.html"
    assert run(*progress_args(files, "--format", "html", "-o", str(page)))[0] == 0
    assert "<td>2025-09-08</td>" in page.read_text(encoding="utf-8")
    with pytest.raises(SystemExit, match="--through must be a date"):
        run(*[a if a != "2025-09-12" else "soon" for a in progress_args(files)])
    args = progress_args(files)
    args[args.index(files["db"])] = str(tmp_path / "none.db")
    status, _, err = run(*args)
    assert status == 2
    assert "no database file" in err


def test_operations(files: dict[str, str]) -> None:
    base = ["operations", "--db", files["db"], "--staff", files["staff"], "--as-of", "2025-09-12"]
    status, out, err = run(*base)
    assert (status, err) == (0, "")
    # two cases of ms-lee (limit 1), both due Wednesday 09-10: Thursday, Friday: 2 school days
    assert "  ms-lee: 2 of 1, 2 overdue  OVER" in out
    assert "lincoln: 2 open, 2 overdue, oldest 2 school days, 0 unassigned" in out
    status, out, err = run(*base, "--format", "json", "--calendar", files["cal"])
    assert status == 0
    assert json.loads(out)["schools"][0]["oldest_overdue_school_days"] == 2
    assert err.startswith("2025-09-12: 1 schools, 2 open cases, 2 overdue")
