"""A school day's workflow on a Dask LocalCluster of two worker processes, against one process.

Generated students at four schools are run over two days (the second two weeks later, when
reviews and follow-ups come due) by :func:`tierflow.scale.run_day_partitioned`, one facts file
a school, into one store (SQLite, and PostgreSQL when the test server is set), and by one
engine over every student in one process into another store. Every student's events must be
the same, in the same order (kind, day, intervention, states, who, why, detail), as must
the interventions and their states. On the second day one school sends no file: its follow-ups
must still be advanced (by the run's last task).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow  # two days on a cluster, each against one process: CI's second pass

import tierflow  # noqa: E402
from stores import Store, day_facts, postgres_url  # noqa: E402
from tierflow.runner import read_staff  # noqa: E402
from tierflow.scale import run_day_partitioned  # noqa: E402
from tierflow.store import SqlRepository  # noqa: E402
from tierflow.workflow import Engine, Repository  # noqa: E402

DAY1 = dt.date(2025, 10, 6)
DAY2 = dt.date(2025, 10, 20)
RULESET = "ca"


def _staff(folder: Path, schools: list[str]) -> Path:
    """One owner per school and role: who gets a case depends on caseloads alone."""
    roles = sorted({iv.owner for iv in tierflow.load_ruleset(RULESET).interventions.values()})
    rows = ["staff_id,school_id,roles,caseload_limit"]
    rows += [f"{school}-{role},{school},{role},400" for school in schools for role in roles]
    path = folder / "staff.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _by_school(facts: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in facts:
        out.setdefault(str(f["school_id"]), []).append(f)
    return out


def _write(folder: Path, name: str, facts: list[dict[str, Any]]) -> Path:
    path = folder / name
    path.write_text("".join(json.dumps(f, default=str) + "\n" for f in facts), encoding="utf-8")
    return path


def _records(repo: Repository) -> dict[str, Any]:
    """Every student's events and interventions, intervention ids replaced by catalogue ids."""
    out: dict[str, Any] = {}
    for student in sorted(repo.students()):
        ivs = repo.for_student(student)
        name = {iv.id: f"{iv.intervention}@{iv.opened_on}" for iv in ivs}
        events = [
            (
                e.at,
                e.kind,
                name.get(e.intervention_id or "", e.intervention_id),
                e.from_state,
                e.to_state,
                e.trigger,
                e.who,
                e.why,
                json.dumps(e.detail, sort_keys=True, default=str),
            )
            for e in repo.events(student)
        ]
        states = sorted(
            (name[iv.id], iv.state, iv.owner, iv.school_id, iv.next_follow_up, iv.overdue)
            for iv in ivs
        )
        out[student] = (events, states)
    return out


def _one_process(db: SqlRepository, staff: Path, days: list[list[dict[str, Any]]]) -> None:
    ruleset = tierflow.load_ruleset(RULESET)
    for on, facts in zip((DAY1, DAY2), days, strict=True):
        roster = read_staff(staff)
        db.run_batch(lambda: Engine(ruleset, repository=db, roster=roster).run(on, facts))  # noqa: B023


def _check(
    client: Any, tmp_path: Path, shared: str, single: SqlRepository, mine: Repository
) -> None:
    first = day_facts(240, DAY1, DAY1, seed=11)
    second = day_facts(240, DAY2, DAY1, seed=11)
    schools = sorted(_by_school(first))
    assert len(schools) >= 3
    staff = _staff(tmp_path, schools)
    quiet = schools[-1]  # sends no file on the second day
    second_sent = [f for f in second if f["school_id"] != quiet]
    _one_process(single, staff, [first, second_sent])

    runs = []
    for n, (on, facts) in enumerate(((DAY1, first), (DAY2, second_sent))):
        files = [
            _write(tmp_path, f"day{n}-{school}.jsonl", rows)
            for school, rows in sorted(_by_school(facts).items())
        ]
        runs.append(run_day_partitioned(client, RULESET, files, on=on, db=shared, staff=staff))
    want, got = _records(single), _records(mine)
    assert sorted(got) == sorted(want)
    for student in want:
        assert got[student] == want[student], student
    # every school of the partitions ran on both workers, and the quiet school was advanced
    assert len({p.worker for run in runs for p in run.partitions if p.worker}) == 2
    last = runs[1].partitions[-1]
    assert last.path == "" and last.events.get("overdue", 0) > 0  # the quiet school's
    assert runs[1].events["overdue"] > last.events["overdue"]  # and the others'
    assert runs[0].report.read == 240 and runs[0].report.accepted == 240


def test_a_day_on_two_workers_into_sqlite_equals_one_process(client: Any, tmp_path: Path) -> None:
    shared = tmp_path / "shared.db"
    with SqlRepository(shared) as made:  # the schema, before two workers open it at once
        made.close()
    with SqlRepository(tmp_path / "single.db") as single, SqlRepository(shared) as mine:
        url = sa.URL.create("sqlite", database=str(shared)).render_as_string()
        _check(client, tmp_path, url, single, mine)


def test_a_day_on_two_workers_into_postgresql_equals_one_process(
    client: Any, tmp_path: Path
) -> None:
    url = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    store = Store("postgresql", url, schema)
    try:
        with store.open() as mine, SqlRepository(tmp_path / "single.db") as single:
            _check(client, tmp_path, store.url, single, mine)
    finally:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def test_a_bad_record_is_rejected_with_its_file_and_line_and_the_rest_runs(
    client: Any, tmp_path: Path
) -> None:
    facts = day_facts(20, DAY1, DAY1, seed=5)
    path = tmp_path / "school.jsonl"
    lines = [json.dumps(f, default=str) for f in facts]
    lines.insert(3, '{"student_id": "broken", "days_enrolled": ')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "store.db"
    run = run_day_partitioned(client, RULESET, [path], on=DAY1, db=str(db))
    assert (run.report.read, run.report.accepted) == (21, 20)
    (reject,) = run.report.rejects
    assert reject.source == f"{path}:4"
    with SqlRepository(db) as repo:
        assert set(repo.students()) == {f["student_id"] for f in facts}
