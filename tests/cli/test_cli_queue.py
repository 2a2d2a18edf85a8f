"""``tierflow queue``: a work queue from a SQLite store, as text, JSON and CSV."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from tierflow.cli import main
from tierflow.cli._queue import _BUCKETS, _SORTS
from tierflow.report import QUEUE_BUCKETS, QUEUE_SORTS
from tierflow.store import SqlRepository
from tierflow.workflow import Intervention

MON = dt.date(2025, 10, 6)


def iv(n: int, student: str, owner: str | None, follow_up: dt.date, **more: str) -> Intervention:
    return Intervention(
        f"iv-{n:07d}",
        student,
        more.get("school", "lincoln"),
        "weekly-checkin",
        2,
        more.get("role", "mentor"),
        owner,
        "active",
        dt.date(2025, 9, 15),
        follow_up,
        None,
        None,
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "records.db"
    with SqlRepository(path) as repo:
        repo.add(iv(1, "s1", "ms-lee", dt.date(2025, 10, 1)))  # Wed: overdue 3 school days
        repo.add(iv(2, "s2", "ms-lee", MON))  # due today
        repo.add(iv(3, "s3", None, dt.date(2025, 10, 8)))  # unassigned
        repo.add(iv(4, "=cmd|x", "mr-kim", MON, role="counselor"))  # a hostile id
    return str(path)


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["queue", *args], out=out)
    return status, out.getvalue(), err.getvalue()


def test_the_choices_are_the_librarys() -> None:
    assert (_BUCKETS, _SORTS) == (QUEUE_BUCKETS, QUEUE_SORTS)


def test_one_owners_queue_as_text(db: str) -> None:
    status, out, _ = run("--db", db, "--as-of", "2025-10-06", "--owner", "ms-lee")
    assert status == 0
    assert out.splitlines() == [
        "2025-10-06 (owner ms-lee): overdue 1, due today 1, upcoming 0, unassigned 0, "
        "legal awaiting evidence 0",
        "",
        "overdue (1)",
        "  2025-10-01  s1  weekly-checkin (iv-0000001)  ms-lee, 3 school days ago",
        "",
        "due today (1)",
        "  2025-10-06  s2  weekly-checkin (iv-0000002)  ms-lee",
    ]


def test_a_schools_queue_as_json_with_a_bucket(db: str) -> None:
    status, out, err = run(
        "--db", db, "--as-of", "2025-10-06", "--school", "lincoln", "--bucket", "unassigned",
        "--format", "json",
    )  # fmt: skip
    assert status == 0
    data = json.loads(out)
    assert [(i["bucket"], i["student_id"], i["age_school_days"]) for i in data["items"]] == [
        ("unassigned", "s3", -2)  # Tue, Wed
    ]
    assert "unassigned 1" in err


def test_csv_neutralises_a_formula_and_sorts(db: str) -> None:
    status, out, _ = run(
        "--db", db, "--as-of", "2025-10-06", "--role", "counselor", "--format", "csv",
        "--sort", "student",
    )  # fmt: skip
    assert status == 0
    header, row = list(csv.reader(io.StringIO(out)))
    assert dict(zip(header, row, strict=True))["student_id"] == "'=cmd|x"


def test_exit_statuses(db: str, tmp_path: Path) -> None:
    assert run("--db", str(tmp_path / "none.db"), "--owner", "x")[0] == 2
    with pytest.raises(SystemExit) as usage:  # argparse's own usage error
        run("--db", db, "--bucket", "late")
    assert usage.value.code == 2
    with pytest.raises(SystemExit, match="--as-of must be a date"):
        run("--db", db, "--as-of", "Monday")
    with pytest.raises(SystemExit, match="--upcoming-days must be 0 or more"):
        run("--db", db, "--upcoming-days", "-1")


def test_a_database_url_is_taken_as_the_other_commands_take_it(db: str) -> None:
    status, out, _ = run("--db", f"sqlite:///{db}", "--as-of", "2025-10-06", "--owner", "ms-lee")
    assert status == 0
    assert out.startswith("2025-10-06 (owner ms-lee): overdue 1, due today 1,")
