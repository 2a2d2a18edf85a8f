"""`tierflow demo` keeps the engine's records in a SQLite file; running it again changes nothing."""

from __future__ import annotations

import io
import os
import sqlite3
from pathlib import Path

import pytest

from tierflow.cli import main


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def _counts(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as conn:
        return tuple(
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("events", "interventions", "chain_heads")
        )


def _letters(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        query = 'SELECT count(*) FROM events WHERE body LIKE \'%"kind":"notice_rendered"%\''
        return int(conn.execute(query).fetchone()[0])


def test_the_demo_keeps_its_records_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    letters = tmp_path / "letters"
    status, first = run("demo", "--db", str(db), "--letters", str(letters))
    assert status == 0
    assert f"Workflow records in {db} (SQLite, tierflow.store)" in first
    assert "this run opened " in first and "One student, explained" in first
    events, interventions, students = _counts(db)
    assert events > 1_000 and interventions > 500 and students == 1_200
    # The day's run, then one outbox event per letter written after it.
    sent = _letters(db)
    run_events = events - sent
    assert (
        f"added {run_events:,} events; the store holds {run_events:,} events for 1,200 students"
    ) in first
    # Every Tier 2 student has a weekly check-in and a family call: two letters each.
    tier2 = first.split("weekly-checkin", 1)[1].split()[1]
    assert sent == 2 * int(tier2.replace(",", ""))
    assert f"wrote {sent:,} notices" in first
    folder = letters / "2026-01-30"
    assert f"  Lincoln Elementary School: {folder / 'lincoln-es' / 'school-letters.html'}" in first
    assert f"  for the mail house: {folder / 'mail-house.csv'}" in first
    # 96 of Lincoln's 400 families speak Spanish (24%): EC 48985 requires Spanish there only.
    assert "  lincoln-es must also write to families in: es (EC 48985)" in first
    assert "washington-ms must" not in first
    # The dashboard goes beside the store, named after it; it needs nothing from the network.
    dashboard = tmp_path / "demo-dashboard.html"
    assert f"one offline page): {dashboard}" in first
    page = dashboard.read_text("utf-8")
    assert "Chronic absence by school" in page and "http://" not in page
    size = db.stat().st_size
    status, second = run("demo", "--db", str(db), "--letters", str(letters))
    assert status == 0
    assert (
        "nothing changed: 2026-01-30 was already run (0 opened, 0 events added); "
        f"the store holds {events:,} events for 1,200 students"
    ) in second
    assert f"nothing new: the {sent:,} notices due were written by an earlier run" in second
    assert _counts(db) == (events, interventions, students)
    assert db.stat().st_size == size
    # The summary tables above the records are the same both times.
    assert first.split("Workflow records")[0] == second.split("Workflow records")[0]
    assert main(["audit", "verify", str(db)], io.StringIO()) == 0


def test_the_default_file_is_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("demo", "-r", "mtss")[0] == 0
    assert (tmp_path / "tierflow-demo.db").is_file()
    assert _counts(tmp_path / "tierflow-demo.db")[2] == 1_200
    assert sorted(os.listdir(tmp_path)) == [
        "tierflow-demo-dashboard.html",
        "tierflow-demo-letters",
        "tierflow-demo.db",
    ]


def test_a_demo_in_memory_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    status, out = run("demo", "--db", ":memory:")
    assert status == 0 and "Workflow records in memory (gone when the demo ends)" in out
    assert list(tmp_path.iterdir()) == []


def test_a_store_that_cannot_be_opened_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "not-a-store.db"
    bad.write_bytes(b"this is not a SQLite database, just text" * 100)
    assert run("demo", "--db", str(bad))[0] == 2
    assert "tierflow demo:" in capsys.readouterr().err
