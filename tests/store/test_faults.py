"""A full disk in the middle of a day's run: the batch fails cleanly and the day resumes.

SQLite's ``PRAGMA max_page_count`` caps the file's size, so a write past it fails with
``SQLITE_FULL`` exactly as a full disk does. The cap is set between what the store held before
the day and what the whole day needs, so the day runs out of space part way: the batch fails
with a :class:`~tierflow.errors.StoreError` that names the store and says the disk is full,
nothing of that batch is kept (batches committed before it are), and once there is room again
running the same day gives exactly the records of a run that never failed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

import tierflow
from stores import day_facts, one_owner_per_role
from tierflow.errors import ConflictError, StoreError
from tierflow.store import SqlRepository, verify
from tierflow.workflow import Engine, Roster, WorkflowEvent

MTSS = tierflow.load_ruleset("mtss")
DAYS = [dt.date(2026, 1, 30), dt.date(2026, 2, 6)]
N = 400


def facts(day: dt.date) -> list[dict[str, Any]]:
    """``N`` generated students; a week later some missed more days."""
    return day_facts(N, day, DAYS[0], seed=7)


def roster() -> Roster:
    return one_owner_per_role(MTSS, sorted({str(f["school_id"]) for f in facts(DAYS[0])}), 40)


def run_day(repo: SqlRepository, day: dt.date, chunk: int | None, seen: list[Any]) -> None:
    """Run ``day`` the way a host runs a big day: chunks of students, each in its own batch."""
    students = facts(day)
    size = chunk or len(students)
    for start in range(0, len(students), size):
        part = students[start : start + size]

        def work(part: list[dict[str, Any]] = part) -> None:
            engine = Engine(MTSS, repository=repo, roster=roster())
            engine.subscribe(seen.append)
            engine.run(day, part)

        repo.run_batch(work)


def pages(repo: SqlRepository) -> int:
    """The file's size in pages."""
    return int(repo._conn.exec_driver_sql("PRAGMA page_count").scalar_one())


def cap_pages(repo: SqlRepository, limit: int) -> None:
    """Cap the file at ``limit`` pages: past it a write fails as on a full disk.

    The cap belongs to the connection (SQLite does not keep it in the file); the store keeps
    one connection open, set here outside any transaction.
    """
    dbapi = repo._conn.connection.dbapi_connection
    assert dbapi is not None and not repo._conn.in_transaction()
    got = dbapi.execute(f"PRAGMA max_page_count = {int(limit)}").fetchone()[0]
    assert got == limit, f"SQLite set max_page_count to {got}, not {limit}"


def half_way(day1: Path, both: Path) -> tuple[int, int]:
    """The pages of the store before day 2, and a cap half way to what day 2 needs."""
    with SqlRepository(day1) as repo:
        before = pages(repo)
    with SqlRepository(both) as repo:
        after = pages(repo)
    assert after - before >= 8, "day 2 writes too little to run out of space part way"
    return before, before + (after - before) // 2


def records(repo: SqlRepository) -> dict[str, Any]:
    """Everything the store holds, comparable across stores."""
    return {
        "events": [r[1:] for r in repo.chain_rows()],
        "heads": repo.chain_heads(),
        "interventions": {s: repo.for_student(s) for s in repo.students()},
        "issued": {s: repo.issued(s) for s in repo.students()},
    }


@pytest.fixture(scope="module")
def clean(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, dict[int | None, dict[str, Any]]]:
    """A store holding day 1, one holding both days, and the records of both days by chunking.

    Each chunk's run ends by advancing every open intervention's follow-ups, other students'
    too (an intervention without a cadence is due, and soon overdue, from its opening day), so
    a day run in chunks numbers some events differently from the day in one batch: a day that
    failed part way is compared with the same day run the same way without failing.
    """
    folder = tmp_path_factory.mktemp("full-disk")
    day1, both = folder / "day1.db", folder / "both.db"
    with SqlRepository(day1) as repo:
        run_day(repo, DAYS[0], None, [])
    expected = {}
    for chunk in (100, None):  # the one-batch store stays as both.db
        shutil.copy(day1, both)
        with SqlRepository(both) as repo:
            run_day(repo, DAYS[1], chunk, [])
            assert verify(repo) == []
            expected[chunk] = records(repo)
    return day1, both, expected


@pytest.mark.parametrize("chunk", [None, 100], ids=["one batch", "chunks of 100"])
def test_a_full_disk_fails_the_batch_cleanly_and_the_day_resumes(
    clean: tuple[Path, Path, dict[int | None, dict[str, Any]]], tmp_path: Path, chunk: int | None
) -> None:
    day1, both, by_chunk = clean
    expected = by_chunk[chunk]
    _, cap = half_way(day1, both)
    path = tmp_path / "records.db"
    shutil.copy(day1, path)
    with SqlRepository(path) as repo:
        cap_pages(repo, cap)
        seen: list[WorkflowEvent] = []
        with pytest.raises(StoreError) as failed:
            run_day(repo, DAYS[1], chunk, seen)
        message = str(failed.value)
        assert not isinstance(failed.value, ConflictError)  # not retried: retrying cannot help
        assert message.startswith(f"store {path}")
        assert "database or disk is full" in message
        assert "the disk is full, or the database reached its size limit" in message
        assert "nothing of the batch was kept" in message
        assert seen, "the day failed before it wrote anything"
        # Nothing of the failed batch is kept: what the store holds is day 1 and the chunks
        # committed before the failure, each whole, and it verifies.
        assert verify(repo) == []
        kept = records(repo)
        clean_rows = {(e[0], e[1]): e for e in expected["events"]}
        assert all(clean_rows.get((e[0], e[1])) == e for e in kept["events"])
        with SqlRepository(day1) as first:
            if chunk is None:
                assert kept == records(first)
            else:  # some chunks of the day were committed before the one that failed
                assert len(first.chain_rows()) < len(kept["events"]) < len(expected["events"])
    # Room again (the cap is gone with the connection): the same day, run again by the next
    # job, ends exactly as a run that never failed.
    with SqlRepository(path) as repo:
        run_day(repo, DAYS[1], chunk, [])
        assert records(repo) == expected
        assert verify(repo) == []


def test_a_day_rerun_on_the_same_store_object_numbers_as_a_clean_run(
    clean: tuple[Path, Path, dict[int | None, dict[str, Any]]], tmp_path: Path
) -> None:
    day1, both, by_chunk = clean
    expected = by_chunk[None]
    _, cap = half_way(day1, both)
    path = tmp_path / "records.db"
    shutil.copy(day1, path)
    with SqlRepository(path) as repo:
        cap_pages(repo, cap)
        with pytest.raises(StoreError, match="database or disk is full"):
            run_day(repo, DAYS[1], None, [])
        cap_pages(repo, 1 << 30)
        run_day(repo, DAYS[1], None, [])
        assert verify(repo) == []
        assert records(repo) == expected
