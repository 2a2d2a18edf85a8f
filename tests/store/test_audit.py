"""Tamper evidence: an edited or deleted row of the events table is found and named.

On SQLite and PostgreSQL alike: the rows are changed with plain SQL, outside tierflow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
from pathlib import Path

import pytest

import tierflow
from stores import Store
from tierflow.cli import main
from tierflow.store import Discrepancy, SqlRepository, verify
from tierflow.workflow import Engine, Roster, StaffMember

D = dt.date(2025, 10, 6)


@pytest.fixture
def db(store: Store) -> Store:
    """A store with a run, a check-in and a legal step for a few students."""
    with store.open() as repo:
        roster = Roster([StaffMember("ms-lee", "lincoln", ("mentor", "counselor"))])
        engine = Engine(tierflow.load_ruleset("mtss"), repository=repo, roster=roster)
        plan = engine.run(
            D,
            [
                {
                    "student_id": f"s{i}",
                    "school_id": "lincoln",
                    "days_enrolled": 30,
                    "days_absent": 3 + i,
                }
                for i in range(3)
            ],
        )
        iv = plan.opened[0]
        engine.start(iv.id, on=D, by="ms-lee")
        engine.check_in(iv.id, on=D + dt.timedelta(days=2), by="ms-lee", goal_met=False)
        repo.record_issued("s1", "letter1", D)
        assert verify(repo) == []
    return store


def sql(db: Store, statement: str, *args: object) -> list[tuple[object, ...]]:
    """Run ``statement`` on the database, its ``?`` placeholders bound to ``args`` in order."""
    names = iter(range(len(args)))
    text = re.sub(r"\?", lambda _: f":p{next(names)}", statement)
    return [tuple(r) for r in db.sql(text, **{f"p{i}": a for i, a in enumerate(args)})]


def findings(db: Store) -> list[Discrepancy]:
    with db.open() as repo:
        return verify(repo)


def test_an_edited_why_is_named(db: Store) -> None:
    ((row, seq, body),) = sql(
        db,
        "SELECT row, seq, body FROM events WHERE student_id='s0' AND record='event' "
        'AND body LIKE \'%"kind":"opened"%\' ORDER BY seq LIMIT 1',
    )
    data = json.loads(str(body))
    data["why"] = "nothing to see here"
    sql(db, "UPDATE events SET body=? WHERE row=?", json.dumps(data), row)
    found = findings(db)
    assert found[0].student_id == "s0" and found[0].seq == seq
    assert "edited" in found[0].problem
    assert str(found[0]).startswith(f"student s0, seq {seq}: edited")


def test_an_edit_with_a_recomputed_hash_still_breaks_the_chain(db: Store) -> None:
    row, record, prev, body = sql(
        db, "SELECT row, record, prev_hash, body FROM events WHERE student_id='s0' AND seq=2"
    )[0]
    data = json.loads(str(body))
    data["forged"] = True
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # the hash by docs/store.md's formula, from hashlib (not tierflow's own chain_hash)
    envelope = json.dumps(
        {"body": data, "record": record, "seq": 2, "student_id": "s0"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    forged = hashlib.sha256((str(prev) + envelope).encode()).hexdigest()
    sql(db, "UPDATE events SET body=?, hash=? WHERE row=?", canonical, forged, row)
    assert [(f.student_id, f.seq) for f in findings(db)] == [("s0", 3)]
    # The same body with other spacing is not the text the hash was made from: an edit there.
    sql(db, "UPDATE events SET body=? WHERE row=?", json.dumps(data), row)
    assert [(f.student_id, f.seq) for f in findings(db)] == [("s0", 2), ("s0", 3)]


def test_a_deleted_row_is_named(db: Store) -> None:
    sql(db, "DELETE FROM events WHERE student_id='s1' AND seq=2")
    found = findings(db)
    assert [(f.student_id, f.seq) for f in found] == [("s1", 2)]
    assert "deleted" in found[0].problem


def test_a_deleted_last_row_is_named(db: Store) -> None:
    ((last,),) = sql(db, "SELECT max(seq) FROM events WHERE student_id='s2'")
    sql(db, "DELETE FROM events WHERE student_id='s2' AND seq=?", last)
    assert [(f.student_id, f.seq, "deleted" in f.problem) for f in findings(db)] == [
        ("s2", last, True)
    ]


def test_an_edited_current_state_is_found(db: Store) -> None:
    sql(db, "UPDATE issued SET \"on\"='2020-01-01' WHERE student_id='s1'")
    found = findings(db)
    assert [(f.student_id, f.table, f.key) for f in found] == [
        ("s1", "issued", "student_id=s1, step=letter1")
    ]
    assert "the events say 2025-10-06" in found[0].problem


def test_an_edited_intervention_state_is_found(db: Store) -> None:
    ((iid, body),) = sql(db, "SELECT id, body FROM interventions WHERE student_id='s2' LIMIT 1")
    data = json.loads(str(body))
    data["owner"] = "someone-else"
    sql(db, "UPDATE interventions SET body=? WHERE id=?", json.dumps(data), iid)
    assert [(f.student_id, f.table, f.key, "body differs" in f.problem) for f in findings(db)] == [
        ("s2", "interventions", f"id={iid}", True)
    ]


def test_a_file_name_with_url_characters(tmp_path: Path) -> None:
    path = tmp_path / "odd?name#1.db"
    with SqlRepository(path) as repo:
        repo.record_issued("s1", "not1", D)
    with SqlRepository(path) as repo:
        assert repo.issued("s1") == {"not1": D}
    assert path.is_file()


def test_cli_audit_verify(db: Store) -> None:
    where = db.target if db.kind == "sqlite" else db.url
    out = io.StringIO()
    assert main(["audit", "verify", where], out) == 0
    assert "ok" in out.getvalue() and "student chains verified" in out.getvalue()
    sql(db, "DELETE FROM events WHERE student_id='s1' AND seq=1")
    out = io.StringIO()
    assert main(["audit", "verify", where], out) == 1
    assert f"{where}: student s1, seq 1: deleted" in out.getvalue()


def test_cli_audit_anchor_then_verify_finds_a_chain_cut_short(
    db: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = db.target if db.kind == "sqlite" else db.url
    saved = tmp_path / "anchor.json"
    assert main(["audit", "anchor", where, "-o", str(saved)], io.StringIO()) == 0
    digest = json.loads(saved.read_text())["digest"]
    assert f"digest: {digest}" in capsys.readouterr().err
    out = io.StringIO()
    assert main(["audit", "verify", where, "--anchor", str(saved)], out) == 0
    # Cut off the end of s2's chain and point its head at the row before, as one who can write
    # to the database would: the chain itself still links.
    ((seq,),) = sql(db, "SELECT MAX(seq) FROM events WHERE student_id='s2'")
    last = int(str(seq))
    ((prev,),) = sql(db, "SELECT hash FROM events WHERE student_id='s2' AND seq=?", last - 1)
    sql(db, "DELETE FROM events WHERE student_id='s2' AND seq=?", last)
    sql(db, "UPDATE chain_heads SET seq=?, hash=? WHERE student_id='s2'", last - 1, prev)
    out = io.StringIO()
    assert main(["audit", "verify", where, "--anchor", str(saved)], out) == 1
    assert f"student s2, seq {last}: the anchor saw the chain end at seq {last}" in out.getvalue()
    # An anchor whose heads were edited is refused (its digest no longer matches), status 2.
    data = json.loads(saved.read_text())
    data["heads"]["s2"][0] = last - 1
    saved.write_text(json.dumps(data))
    assert main(["audit", "verify", where, "--anchor", str(saved)], io.StringIO()) == 2
    assert "tierflow audit verify: " in capsys.readouterr().err


def test_cli_audit_verify_without_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", str(tmp_path / "none.db")], io.StringIO()) == 2
    assert "no database file" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
