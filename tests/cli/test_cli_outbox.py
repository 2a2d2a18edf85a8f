"""``tierflow outbox`` and ``tierflow delivery`` on a SQLite store holding two notices."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

import tierflow
from tierflow.cli import main
from tierflow.cli._outbox import _STATUSES
from tierflow.report import OUTBOX_STATUSES
from tierflow.store import SqlRepository
from tierflow.workflow import Engine

MON = dt.date(2025, 10, 6)


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "records.db")
    with SqlRepository(path) as repo:
        engine = Engine(tierflow.load_ruleset("ca"), repository=repo)
        for sid, language in (("s1", "es"), ("s2", "en")):
            engine.record_notice(
                sid,
                on=MON,
                by="tierflow",
                notice="ca-first-truancy-notice",
                for_="not1",
                source_seq=None,
                channel="letter",
                language=language,
                content_sha256="c" * 64,
                template_sha256="7" * 64,
            )
    return path


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out), out.getvalue()


def test_the_statuses_written_out_are_the_librarys() -> None:
    assert _STATUSES == OUTBOX_STATUSES


def test_delivery_records_a_report_and_the_outbox_shows_it(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--db", db, "--by", "clerk"]
    status, text = run("delivery", "s1", "1", "returned", "--on", "2025-10-14", *common,
                       "--note", "moved")  # fmt: skip
    assert status == 0
    assert text == (
        "s1  2025-10-14  notice_delivery  by clerk: ca-first-truancy-notice for not1: returned; "
        "moved\n"
    )
    status, text = run("delivery", "s2", "2", "delivered", "--on", "2025-10-09", *common,
                       "--format", "json")  # fmt: skip
    (ev,) = json.loads(text)["events"]
    assert (ev["kind"], ev["who"], ev["detail"]["status"], ev["detail"]["notice_seq"]) == (
        "notice_delivery",
        "clerk",
        "delivered",
        2,
    )
    status, text = run("outbox", "--db", db)
    assert status == 0
    assert text.splitlines() == [
        "outbox (every notice): 2 notices: rendered 0, sent 0, delivered 1, returned 1, "
        "bounced 0, read 0",
        "  2025-10-06  s1  ca-first-truancy-notice for not1 (letter, es; notice 1)  returned "
        "2025-10-14: moved",
        "  2025-10-06  s2  ca-first-truancy-notice for not1 (letter, en; notice 2)  delivered "
        "2025-10-09",
    ]
    status, text = run("outbox", "--db", db, "--status", "returned", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["student_id"], r["status"], r["note"]) for r in rows] == [
        ("s1", "returned", "moved")
    ]
    assert "1 notice" in capsys.readouterr().err  # the summary, beside the data


def test_a_refused_delivery_exits_1_and_records_nothing(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--db", db, "--by", "clerk", "--on", "2025-10-07"]
    assert run("delivery", "s1", "1", "deliverd", *common) == (1, "")
    assert "did you mean 'delivered'" in capsys.readouterr().err
    assert run("delivery", "s1", "2", "sent", *common)[0] == 1  # s2's notice
    assert "student s1 has no notice 2" in capsys.readouterr().err
    assert run("delivery", "s1", "1", "sent", "--db", db, "--by", "x", "--on", "2025-10-05") == (
        1,
        "",
    )
    assert "predates the notice" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="--on must be a date"):
        run("delivery", "s1", "1", "sent", "--db", db, "--by", "x", "--on", "monday")
    with SqlRepository(db) as repo:
        assert [e.kind for e in repo.events("s1")] == ["notice_rendered"]


def test_a_missing_store_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "none.db")
    assert run("outbox", "--db", missing)[0] == 2
    assert "tierflow outbox: no database file" in capsys.readouterr().err
    assert run("delivery", "s1", "1", "sent", "--db", missing, "--by", "x")[0] == 2
    assert "tierflow delivery: no database file" in capsys.readouterr().err


def test_a_control_character_in_a_note_is_escaped_on_the_terminal(db: str) -> None:
    common = ["--db", db, "--by", "clerk", "--on", "2025-10-07"]
    assert run("delivery", "s1", "1", "bounced", *common, "--note", "x\x1b[2Jy")[0] == 0
    status, text = run("outbox", "--db", db, "--status", "bounced")
    assert status == 0 and "\x1b" not in text and "x\\x1b[2Jy" in text
