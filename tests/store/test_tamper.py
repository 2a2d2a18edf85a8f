"""Every way of changing a store outside tierflow is a finding of verify, never a traceback.

One test per tampering class, on SQLite and PostgreSQL alike: each edits rows with plain SQL,
asserts the finding (table, row, what is wrong) and, where the engine reads what was changed,
that it refuses to act on it with a StoreError naming the row, not a "safe to retry"
ConflictError that would refuse every later write forever.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

import tierflow
from stores import Store
from tierflow.errors import ConflictError, StoreError
from tierflow.store import Anchor, Discrepancy, SqlRepository, anchor, replay, verify
from tierflow.workflow import Engine, Roster, StaffMember

D = dt.date(2025, 10, 6)
LATER = dt.date(2025, 11, 17)
FACTS = [
    {"student_id": f"s{i}", "school_id": "lincoln", "days_enrolled": 30, "days_absent": 3 + i}
    for i in range(3)
]


def engine(repo: SqlRepository) -> Engine:
    roster = Roster([StaffMember("ms-lee", "lincoln", ("mentor", "counselor"))])
    return Engine(tierflow.load_ruleset("mtss"), repository=repo, roster=roster)


@pytest.fixture
def db(store: Store) -> Store:
    """Three students: interventions opened (s0's started, with a check-in), a legal step."""
    with store.open() as repo:
        plan = engine(repo).run(D, FACTS)
        iv = next(iv for iv in plan.opened if iv.student_id == "s0")
        engine(repo).start(iv.id, on=D, by="ms-lee")
        engine(repo).check_in(iv.id, on=D + dt.timedelta(days=2), by="ms-lee", goal_met=False)
        repo.record_issued("s1", "letter1", D)
        assert verify(repo) == []
    return store


def sql(db: Store, statement: str, *args: object) -> list[tuple[Any, ...]]:
    """Run ``statement`` on the database, its ``?`` placeholders bound to ``args`` in order."""
    names = iter(range(len(args)))
    text = re.sub(r"\?", lambda _: f":p{next(names)}", statement)
    return [tuple(r) for r in db.sql(text, **{f"p{i}": a for i, a in enumerate(args)})]


def found(db: Store, saved: Anchor | None = None) -> list[Discrepancy]:
    with db.open() as repo:
        return verify(repo, anchor=saved)


def last_seq(db: Store, student: str) -> int:
    """The last position of a student's chain, read with SQL (a state finding names it)."""
    ((seq,),) = sql(db, "SELECT max(seq) FROM events WHERE student_id=?", student)
    return int(seq)


def where(findings: list[Discrepancy]) -> list[tuple[str, str, str]]:
    """Each finding's student, table and row, in order."""
    return [(f.student_id, f.table, f.key) for f in findings]


def refused(db: Store, act: Callable[[SqlRepository], object], *named: str) -> None:
    """``act`` fails with a StoreError that is not a ConflictError, naming what it names."""
    with db.open() as repo, pytest.raises(StoreError) as caught:
        act(repo)
    assert not isinstance(caught.value, ConflictError), caught.value
    text = str(caught.value)
    assert "inconsistent" in text and "audit verify" in text, text
    for part in named:
        assert part in text, text


def open_iv(db: Store, student: str) -> tuple[str, int]:
    """The id and version of a student's first open intervention."""
    ((iid, version),) = sql(
        db,
        "SELECT id, version FROM interventions WHERE student_id=? AND is_open=? "
        "ORDER BY pos LIMIT 1",
        student,
        True,
    )
    return str(iid), int(version)


def sqlite_only(db: Store) -> None:
    """PostgreSQL refuses a value of the wrong type in a column: only SQLite stores one."""
    if db.kind != "sqlite":
        pytest.skip("PostgreSQL refuses this edit itself (a typed column)")


def due_follow_ups(db: Store) -> int:
    with db.open() as repo:
        return len(engine(repo).advance(LATER).due)


# --- interventions: the columns outside the body -------------------------------------------


def test_is_open_cleared_is_found_and_the_run_refuses(db: Store) -> None:
    before = due_follow_ups(db)
    iid, _ = open_iv(db, "s2")
    sql(db, "UPDATE interventions SET is_open=? WHERE id=?", False, iid)
    (finding,) = found(db)
    assert where([finding]) == [("s2", "interventions", f"id={iid}")]
    assert "is_open is" in finding.problem and "its body says True" in finding.problem
    refused(db, lambda repo: engine(repo).run(LATER, FACTS), f"interventions row id={iid}")
    assert due_follow_ups(db) == before - 1  # what verify exists to catch: advance cannot see it


def test_catalog_id_changed_is_found_and_refused(db: Store) -> None:
    iid, _ = open_iv(db, "s1")
    sql(db, "UPDATE interventions SET catalog_id='something-else' WHERE id=?", iid)
    assert where(found(db)) == [("s1", "interventions", f"id={iid}")]
    assert "catalog_id is 'something-else'" in found(db)[0].problem
    refused(db, lambda repo: repo.for_student("s1"), f"id={iid}", "catalog_id")


def test_a_lowered_version_is_found_and_not_a_conflict_forever(db: Store) -> None:
    iid, version = open_iv(db, "s0")
    sql(db, "UPDATE interventions SET version=? WHERE id=?", version - 1, iid)
    (finding,) = found(db)
    assert where([finding]) == [("s0", "interventions", f"id={iid}")]
    assert f"version is {version - 1}, its body says {version}" in finding.problem
    for _ in range(2):  # the same answer every time: not a conflict that a retry could clear
        refused(db, lambda repo: engine(repo).close(iid, on=D, by="ms-lee", reason="x"), iid)


def test_an_intervention_row_without_an_event_is_found(db: Store) -> None:
    ((body,),) = sql(db, "SELECT body FROM interventions WHERE student_id='s2' LIMIT 1")
    fake = json.loads(str(body)) | {"id": "iv-9999999", "intervention": "counselor-meeting"}
    sql(
        db,
        "INSERT INTO interventions (id, student_id, catalog_id, is_open, version, body) "
        "VALUES ('iv-9999999', 's2', 'counselor-meeting', ?, 1, ?)",
        True,
        json.dumps(fake),
    )
    assert where(found(db)) == [("s2", "interventions", "id=iv-9999999")]
    assert found(db)[0].problem == "no event added it"


def test_a_deleted_intervention_row_is_found(db: Store) -> None:
    iid, _ = open_iv(db, "s1")
    sql(db, "DELETE FROM interventions WHERE id=?", iid)
    assert found(db) == [
        Discrepancy(
            "s1", last_seq(db, "s1"), "deleted (the events add it)", "interventions", f"id={iid}"
        )
    ]


def test_an_intervention_body_that_is_not_json_is_found_and_refused(db: Store) -> None:
    iid, _ = open_iv(db, "s2")
    sql(db, "UPDATE interventions SET body='{not json' WHERE id=?", iid)
    assert where(found(db)) == [("s2", "interventions", f"id={iid}")]
    assert "not JSON" in found(db)[0].problem
    refused(db, lambda repo: repo.for_student("s2"), f"id={iid}", "not JSON")


def test_an_extra_key_in_an_intervention_body_is_found_and_refused(db: Store) -> None:
    iid, _ = open_iv(db, "s2")
    ((body,),) = sql(db, "SELECT body FROM interventions WHERE id=?", iid)
    data = json.loads(str(body)) | {"extra": 1}
    sql(db, "UPDATE interventions SET body=? WHERE id=?", json.dumps(data), iid)
    assert where(found(db)) == [("s2", "interventions", f"id={iid}")]
    assert "fields tierflow does not write: extra" in found(db)[0].problem
    refused(db, lambda repo: repo.get(iid), f"id={iid}", "extra")


def test_a_version_that_is_not_a_number_is_found(db: Store) -> None:
    sqlite_only(db)
    iid, _ = open_iv(db, "s2")
    sql(db, "UPDATE interventions SET version='two' WHERE id=?", iid)
    assert "version is 'two'" in found(db)[0].problem
    refused(db, lambda repo: repo.get(iid), f"id={iid}")


# --- check-ins and issued steps --------------------------------------------------------------


def test_a_fake_check_in_is_found(db: Store) -> None:
    iid, _ = open_iv(db, "s1")
    sql(
        db,
        "INSERT INTO check_ins (intervention_id, body) VALUES (?, ?)",
        iid,
        json.dumps(
            {
                "intervention_id": iid,
                "on": {"$t": "date", "v": "2025-10-07"},
                "by": "ms-lee",
                "goal_met": True,
                "contact_type": "meeting",
                "note": "",
                "outcome": "positive",
            }
        ),
    )
    assert found(db) == [
        Discrepancy(
            "s1",
            last_seq(db, "s1"),
            "check-in 1 of 1 differs from the replayed events (which hold 0)",
            "check_ins",
            f"intervention_id={iid}",
        )
    ]


def test_a_deleted_check_in_is_found(db: Store) -> None:
    ((iid,),) = sql(db, "SELECT intervention_id FROM check_ins")
    sql(db, "DELETE FROM check_ins")
    assert found(db) == [
        Discrepancy(
            "s0",
            last_seq(db, "s0"),
            "1 of its 1 check-ins deleted",
            "check_ins",
            f"intervention_id={iid}",
        )
    ]


def test_a_check_in_for_no_intervention_is_found(db: Store) -> None:
    sql(db, "INSERT INTO check_ins (intervention_id, body) VALUES ('iv-none', '{}')")
    assert found(db) == [
        Discrepancy(
            "",
            0,
            "a check-in for an intervention no event adds",
            "check_ins",
            "intervention_id=iv-none",
        )
    ]
    assert str(found(db)[0]) == (
        "no student: check_ins row intervention_id=iv-none: a check-in for an intervention no "
        "event adds"
    )


def test_a_legal_step_for_a_student_without_a_chain_is_found_and_ignored(db: Store) -> None:
    sql(db, "INSERT INTO issued (student_id, step, \"on\") VALUES ('s9', 'not2', ?)", D)
    assert found(db) == [
        Discrepancy(
            "s9",
            0,
            "no event of the student's chain issued it",
            "issued",
            "student_id=s9, step=not2",
        )
    ]
    with db.open() as repo:
        assert repo.issued("s9") == {}  # the engine reads the chain, not the forged row


def test_a_deleted_legal_step_is_found_and_still_known(db: Store) -> None:
    sql(db, "DELETE FROM issued WHERE student_id='s1'")
    assert found(db) == [
        Discrepancy(
            "s1",
            last_seq(db, "s1"),
            "deleted (the events issue it)",
            "issued",
            "student_id=s1, step=letter1",
        )
    ]
    with db.open() as repo:
        assert repo.issued("s1") == {"letter1": D}  # not issued a second time


# --- chain heads ---------------------------------------------------------------------------


def test_a_lowered_chain_head_is_found_and_not_a_conflict_forever(db: Store) -> None:
    ((seq,),) = sql(db, "SELECT seq FROM chain_heads WHERE student_id='s1'")
    sql(db, "UPDATE chain_heads SET seq=? WHERE student_id='s1'", int(seq) - 1)
    (finding,) = found(db)
    assert (finding.student_id, finding.table, finding.key, finding.seq) == (
        "s1",
        "chain_heads",
        "student_id=s1",
        seq,
    )
    assert f"seq is {int(seq) - 1}, the chain ends at seq {seq}" in finding.problem
    for _ in range(2):
        refused(db, lambda repo: repo.record_issued("s1", "letter2", D), "chain_heads", "s1")


def test_a_deleted_chain_head_is_found_and_refused(db: Store) -> None:
    sql(db, "DELETE FROM chain_heads WHERE student_id='s2'")
    assert where(found(db)) == [("s2", "chain_heads", "student_id=s2")]
    refused(db, lambda repo: repo.record_issued("s2", "letter1", D), "chain_heads", "s2")


# --- the events table ----------------------------------------------------------------------


def test_an_event_body_that_is_not_json_is_found(db: Store) -> None:
    sql(db, "UPDATE events SET body='not json' WHERE student_id='s0' AND seq=1")
    (finding,) = found(db)
    assert (finding.student_id, finding.seq, finding.table) == ("s0", 1, "events")
    assert "does not match its hash" in finding.problem
    refused(db, lambda repo: repo.events("s0"), "events row student_id=s0")


def test_a_seq_that_is_not_a_number_is_found(db: Store) -> None:
    sqlite_only(db)
    sql(db, "UPDATE events SET seq='two' WHERE student_id='s0' AND seq=2")
    problems = [(f.student_id, f.seq, f.problem) for f in found(db)]
    assert problems[0] == ("s0", 2, "deleted (the chain skips seq 2)")
    assert any(
        re.fullmatch(r"seq is 'two', not a whole number \(row \d+\)", p) for _, _, p in problems
    )


def test_swapped_row_numbers_are_found(db: Store) -> None:
    (a, b) = sql(db, "SELECT row FROM events WHERE student_id='s0' AND seq IN (2, 3) ORDER BY seq")
    sql(db, "UPDATE events SET row=? WHERE row=?", -1, a[0])
    sql(db, "UPDATE events SET row=? WHERE row=?", a[0], b[0])
    sql(db, "UPDATE events SET row=? WHERE row=?", b[0], -1)
    (finding,) = found(db)
    assert (finding.student_id, finding.seq) == ("s0", 3)
    assert f"its row number {a[0]} is not after the previous row's {b[0]}" in finding.problem


def test_a_changed_intervention_id_column_is_found(db: Store) -> None:
    ((seq,),) = sql(
        db, "SELECT min(seq) FROM events WHERE student_id='s2' AND intervention_id IS NOT NULL"
    )
    sql(db, "UPDATE events SET intervention_id='iv-other' WHERE student_id='s2' AND seq=?", seq)
    (finding,) = found(db)
    assert (finding.student_id, finding.seq, finding.table) == ("s2", seq, "events")
    assert "intervention_id column is 'iv-other'" in finding.problem


def test_a_row_moved_to_another_chain_is_found(db: Store) -> None:
    ((last,),) = sql(db, "SELECT max(seq) FROM events WHERE student_id='s1'")
    sql(db, "UPDATE events SET student_id='s2', seq=? WHERE student_id='s1' AND seq=?", 999, last)
    assert {(f.student_id, f.table) for f in found(db)} == {
        ("s1", "events"),
        ("s2", "events"),
        ("s2", "chain_heads"),
    }


def rechain(db: Store, student: str, edit: Callable[[int, dict[str, Any]], None]) -> None:
    """Rewrite a student's chain as someone holding the store could: every hash recomputed."""
    prev = "0" * 64
    rows = sql(
        db, "SELECT row, seq, record, body FROM events WHERE student_id=? ORDER BY seq", student
    )
    for row, seq, record, body in rows:
        data = json.loads(str(body))
        edit(int(seq), data)
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        envelope = json.dumps(
            {"body": data, "record": record, "seq": seq, "student_id": student},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        digest = hashlib.sha256((prev + envelope).encode()).hexdigest()
        sql(
            db, "UPDATE events SET body=?, prev_hash=?, hash=? WHERE row=?", text, prev, digest, row
        )
        prev = digest
    sql(db, "UPDATE chain_heads SET hash=? WHERE student_id=?", prev, student)


def test_a_consistently_rewritten_body_that_tierflow_cannot_read_is_found(db: Store) -> None:
    rechain(db, "s0", lambda seq, data: data.update(extra=1) if seq == 1 else None)
    (finding,) = found(db)
    assert (finding.student_id, finding.seq, finding.table) == ("s0", 1, "events")
    assert finding.key == "student_id=s0, seq=1"
    assert "not a record tierflow writes" in finding.problem and "extra" in finding.problem


def test_a_rewritten_intervention_is_found_in_the_state_it_disagrees_with(db: Store) -> None:
    def owner(seq: int, data: dict[str, Any]) -> None:
        if data.get("op") == "add":
            data["state"]["owner"] = "mr-x"

    rechain(db, "s2", owner)
    rows = sql(db, "SELECT id, owner FROM interventions WHERE student_id='s2'")
    assert found(db) == [
        Discrepancy(
            "s2",
            last_seq(db, "s2"),
            # The owner is in the body and, since schema version 3, in the work queue's
            # column, which the replayed events disagree with too.
            f"owner is {was!r}, its body says 'mr-x'; its body differs from the replayed events",
            "interventions",
            f"id={iid}",
        )
        for iid, was in rows
    ]


# --- the hash itself, against the formula in docs/store.md ---------------------------------
# Expected digests come from hashlib and hand-written JSON here, never from tierflow's own
# chain_hash or envelope: a chain_hash that ignored prev_hash would agree with itself.

GENESIS = "0" * 64  # docs/store.md: the first row of a chain links to 64 zeros


def envelope_by_hand(record: str, student: str, seq: int, body: str) -> str:
    """The row's canonical JSON as docs/store.md states it: kind, student, position, body."""
    who = json.dumps(student)
    return f'{{"body":{body},"record":{json.dumps(record)},"seq":{seq},"student_id":{who}}}'


def sha(prev: str, envelope: str) -> str:
    return hashlib.sha256((prev + envelope).encode()).hexdigest()


def test_chain_hash_known_answer() -> None:
    from tierflow.store._codec import chain_hash

    envelope = (
        '{"body":{"on":"2025-10-06","step":"letter1"},"record":"issued","seq":1,"student_id":"s1"}'
    )
    assert chain_hash(GENESIS, envelope) == sha(GENESIS, envelope)
    # the previous hash is part of what is hashed: another link, another digest
    other = "f" * 64
    assert chain_hash(other, envelope) == sha(other, envelope) != sha(GENESIS, envelope)
    # the literal digest, so a change to the formula in both places still shows
    assert sha("", "abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )  # FIPS 180-2 test vector for sha256("abc")


def test_every_stored_hash_follows_the_documented_formula(db: Store) -> None:
    rows = sql(
        db,
        "SELECT student_id, seq, record, body, prev_hash, hash FROM events "
        "ORDER BY student_id, seq",
    )
    heads = dict(sql(db, "SELECT student_id, hash FROM chain_heads"))
    prev: dict[str, str] = {}
    for student, seq, record, body, prev_hash, digest in rows:
        assert prev_hash == prev.get(student, GENESIS)
        assert digest == sha(prev_hash, envelope_by_hand(record, student, seq, body))
        prev[student] = digest
    assert heads == prev and len(rows) > 6


def test_an_edit_relinked_to_the_next_row_is_found_at_the_next_row(db: Store) -> None:
    # the forger edits row 2, recomputes its hash by the formula, and relinks row 3 to it:
    # row 3's own hash covers its link, so it no longer matches
    ((row2, record, prev, body),) = sql(
        db, "SELECT row, record, prev_hash, body FROM events WHERE student_id='s0' AND seq=2"
    )
    data = json.loads(str(body))
    data["forged"] = True
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    forged = sha(str(prev), envelope_by_hand(str(record), "s0", 2, text))
    sql(db, "UPDATE events SET body=?, hash=? WHERE row=?", text, forged, row2)
    sql(db, "UPDATE events SET prev_hash=? WHERE student_id='s0' AND seq=3", forged)
    (finding,) = found(db)
    assert (finding.student_id, finding.seq) == ("s0", 3)
    assert "does not match its hash" in finding.problem


def test_a_forgery_hashing_each_row_alone_is_found(db: Store) -> None:
    # what a chain_hash ignoring prev_hash would accept: row 2 edited and hashed over its own
    # text only, row 3 relinked to that hash (two rows edited, every link consistent)
    ((row2, record, body),) = sql(
        db, "SELECT row, record, body FROM events WHERE student_id='s0' AND seq=2"
    )
    data = json.loads(str(body))
    data["forged"] = True
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    alone = hashlib.sha256(envelope_by_hand(str(record), "s0", 2, text).encode()).hexdigest()
    sql(db, "UPDATE events SET body=?, hash=? WHERE row=?", text, alone, row2)
    sql(db, "UPDATE events SET prev_hash=? WHERE student_id='s0' AND seq=3", alone)
    assert [(f.student_id, f.seq) for f in found(db)] == [("s0", 2), ("s0", 3)]


# --- what only an anchor kept elsewhere shows ----------------------------------------------


def test_a_cut_off_chain_passes_alone_and_is_found_with_an_anchor(db: Store) -> None:
    with db.open() as repo:
        saved = Anchor.from_json(anchor(repo).to_json())  # as a host keeps it, off-line
    ((last,),) = sql(db, "SELECT max(seq) FROM events WHERE student_id='s1'")
    ((prev,),) = sql(db, "SELECT prev_hash FROM events WHERE student_id='s1' AND seq=?", last)
    sql(db, "DELETE FROM events WHERE student_id='s1' AND seq=?", last)
    sql(db, "DELETE FROM issued WHERE student_id='s1'")  # the legal step it recorded
    sql(db, "UPDATE chain_heads SET seq=?, hash=? WHERE student_id='s1'", last - 1, prev)
    assert found(db) == []  # consistent: nothing inside the store can tell
    (finding,) = found(db, saved)
    assert (finding.student_id, finding.seq, finding.table) == ("s1", last, "events")
    assert f"now ends at seq {last - 1}" in finding.problem


def test_a_rewritten_chain_is_found_with_an_anchor(db: Store) -> None:
    with db.open() as repo:
        saved = anchor(repo)
    rechain(db, "s1", lambda seq, data: data.update(why="rewritten") if "why" in data else None)
    assert found(db) == []
    assert [(f.student_id, "rewritten" in f.problem) for f in found(db, saved)] == [("s1", True)]


def test_a_deleted_chain_is_found_with_an_anchor(db: Store) -> None:
    with db.open() as repo:
        saved = anchor(repo)
    for table in ("events", "chain_heads", "interventions", "issued"):
        sql(db, f"DELETE FROM {table} WHERE student_id='s1'")
    assert found(db) == []
    assert [(f.student_id, "gone" in f.problem) for f in found(db, saved)] == [("s1", True)]


def test_an_edited_anchor_is_refused(db: Store) -> None:
    with db.open() as repo:
        data = json.loads(anchor(repo).to_json())
    data["heads"]["s1"][0] -= 1
    with pytest.raises(StoreError, match="the anchor was changed"):
        Anchor.from_json(json.dumps(data))
    with pytest.raises(StoreError, match="not a tierflow anchor"):
        Anchor.from_json("[1]")


def test_the_anchor_digest_is_a_sha256_of_the_heads(db: Store) -> None:
    heads = {
        s: (int(q), str(h)) for s, q, h in sql(db, "SELECT student_id, seq, hash FROM chain_heads")
    }
    text = json.dumps(sorted([s, q, h] for s, (q, h) in heads.items()), separators=(",", ":"))
    with db.open() as repo:
        assert anchor(repo).heads == heads
        assert anchor(repo).digest == hashlib.sha256(text.encode()).hexdigest()


def test_replay_of_an_unreadable_row_is_a_store_error(db: Store) -> None:
    with db.open() as repo:
        rows = repo.chain_rows()
    bad = [r._replace(body="[]") if r.record == "intervention" else r for r in rows]
    with pytest.raises(StoreError):
        replay(bad)


def test_interventions_out_of_their_order_are_found(db: Store) -> None:
    (a, b, *_) = sql(db, "SELECT id, pos FROM interventions WHERE student_id='s2' ORDER BY pos")
    sql(db, "UPDATE interventions SET pos=? WHERE id=?", -1, a[0])
    sql(db, "UPDATE interventions SET pos=? WHERE id=?", a[1], b[0])
    sql(db, "UPDATE interventions SET pos=? WHERE id=?", b[1], a[0])
    ids = [i for (i,) in sql(db, "SELECT id FROM interventions WHERE student_id='s2' ORDER BY id")]
    swapped = [b[0], a[0], *[i for i in ids if i not in (a[0], b[0])]]
    assert found(db) == [
        Discrepancy(
            "s2",
            last_seq(db, "s2"),
            f"out of order (pos gives {', '.join(swapped)}; the events {', '.join(ids)})",
            "interventions",
            "student_id=s2",
        )
    ]


def test_an_is_open_that_is_not_a_boolean_is_found(db: Store) -> None:
    sqlite_only(db)
    iid, _ = open_iv(db, "s2")
    sql(db, "UPDATE interventions SET is_open=2 WHERE id=?", iid)
    (finding,) = found(db)
    assert (finding.student_id, finding.table, finding.key) == ("s2", "interventions", f"id={iid}")
    assert finding.problem.endswith("is_open is 2, not a boolean")


def test_a_check_in_body_that_is_not_json_is_found_once(db: Store) -> None:
    ((iid,),) = sql(db, "SELECT intervention_id FROM check_ins")
    sql(db, "UPDATE check_ins SET body='{not json'")
    (finding,) = found(db)
    assert (finding.student_id, finding.seq, finding.table, finding.key) == (
        "s0",
        last_seq(db, "s0"),
        "check_ins",
        f"intervention_id={iid}",
    )
    assert finding.problem.startswith("check-in 1: ")


@pytest.mark.parametrize(
    ("heads", "why"),
    [
        ([], "'heads' must map students to [seq, hash]"),
        ({"s1": [1, "a", "b"]}, "'heads' must map students to [seq, hash]"),
        ({"s1": "1a"}, "'heads' must map students to [seq, hash]"),
        ({"s1": [0, "a"]}, "'heads' must map students to [seq, hash]"),
        ({"s1": ["1", "a"]}, "'heads' must map students to [seq, hash]"),
        ({"s1": [1, 2]}, "'heads' must map students to [seq, hash]"),
    ],
)
def test_an_anchor_with_malformed_heads_is_refused(heads: Any, why: str) -> None:
    text = json.dumps({"tierflow_anchor": 1, "heads": heads, "digest": "x"})
    with pytest.raises(StoreError) as caught:
        Anchor.from_json(text)
    assert str(caught.value) == f"not a tierflow anchor: {why}"


def test_an_anchor_of_one_row_chains_is_read_back() -> None:
    heads = {"s1": (1, "a" * 64)}
    assert Anchor.from_json(Anchor(heads).to_json()).heads == heads


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not a tierflow anchor: not JSON"),
        ('{"heads": {}}', "not a tierflow anchor (no 'tierflow_anchor': 1)"),
    ],
)
def test_text_that_is_not_an_anchor_is_refused(text: str, message: str) -> None:
    with pytest.raises(StoreError) as caught:
        Anchor.from_json(text)
    assert str(caught.value).startswith(message)


def test_a_closed_intervention_is_not_a_finding(db: Store) -> None:
    iid, _ = open_iv(db, "s2")
    with db.open() as repo:
        engine(repo).close(iid, on=D, by="ms-lee", reason="moved")
    assert sql(db, "SELECT is_open FROM interventions WHERE id=?", iid) == [(False,)]
    assert found(db) == []


def test_two_wrong_columns_of_a_row_are_one_finding(db: Store) -> None:
    iid, version = open_iv(db, "s1")
    sql(db, "UPDATE interventions SET catalog_id='x', version=? WHERE id=?", version + 5, iid)
    (finding,) = found(db)
    assert finding.problem.endswith(f"; version is {version + 5}, its body says {version}")
    assert finding.problem.startswith("catalog_id is 'x', its body says ")


def test_every_intervention_row_of_a_student_deleted_is_found(db: Store) -> None:
    ids = [i for (i,) in sql(db, "SELECT id FROM interventions WHERE student_id='s1' ORDER BY pos")]
    sql(db, "DELETE FROM interventions WHERE student_id='s1'")
    last = last_seq(db, "s1")
    assert found(db) == [
        Discrepancy("s1", last, "deleted (the events add it)", "interventions", f"id={i}")
        for i in ids
    ]


def test_one_of_two_check_ins_deleted_is_counted(db: Store) -> None:
    ((iid,),) = sql(db, "SELECT intervention_id FROM check_ins")
    with db.open() as repo:
        engine(repo).check_in(iid, on=D + dt.timedelta(days=9), by="ms-lee", goal_met=False)
    ((pos,),) = sql(db, "SELECT max(pos) FROM check_ins")
    sql(db, "DELETE FROM check_ins WHERE pos=?", pos)
    (finding,) = found(db)
    assert finding.problem == "1 of its 2 check-ins deleted"


def test_a_stray_check_in_does_not_hide_the_findings_after_it(db: Store) -> None:
    ((iid,),) = sql(db, "SELECT intervention_id FROM check_ins")
    sql(db, "DELETE FROM check_ins")
    sql(db, "INSERT INTO check_ins (intervention_id, body) VALUES ('iv-!', '{}')")  # sorts first
    assert where(found(db)) == [
        ("", "check_ins", "intervention_id=iv-!"),
        ("s0", "check_ins", f"intervention_id={iid}"),
    ]


def test_a_head_whose_every_row_was_deleted_is_found(db: Store) -> None:
    last = last_seq(db, "s2")
    sql(db, "DELETE FROM events WHERE student_id='s2'")
    chain = [f for f in found(db) if f.table == "events"]
    assert chain == [
        Discrepancy("s2", n, "deleted (the chain ends early)", "events", f"student_id=s2, seq={n}")
        for n in range(1, last + 1)
    ]


def test_the_anchor_skips_a_row_whose_seq_is_not_a_number(db: Store) -> None:
    sqlite_only(db)
    last = last_seq(db, "s0")
    ((prev,),) = sql(db, "SELECT hash FROM events WHERE student_id='s0' AND seq=?", last - 1)
    sql(db, "UPDATE events SET seq='two' WHERE student_id='s0' AND seq=?", last)
    with db.open() as repo:
        assert anchor(repo).heads["s0"] == (last - 1, prev)


def test_verify_reports_its_progress_two_steps_a_student(db: Store) -> None:
    calls: list[tuple[int, int]] = []
    with db.open() as repo:
        assert verify(repo, progress=lambda done, total: calls.append((done, total))) == []
    # Three students: each is checked, then replayed (docs/store.md), so 6 steps in all.
    assert calls[-1] == (6, 6)
    assert {total for _, total in calls} == {6}
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
