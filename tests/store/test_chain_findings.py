"""The audit's check of one student's chain, on hand-built rows, finding by finding.

``tests/store/test_tamper.py`` tampers with a real store and checks *that* each edit is
found; here every finding's exact position, table, key and words are checked against a
chain written by hand (hashes from hashlib, envelopes from the formula in docs/store.md), so
a changed position, a changed comparison or a dropped finding fails. The anchor check is
covered the same way.

Mutation testing (docs/testing.md) of ``store/_audit.py``: a full run killed 752 of 811
mutants with the tests before ``cf24c19``; its 59 survivors, run again with the tests added
since, leave these alive (``tests/store/test_tamper.py`` holds the store-level tests):

- unreachable through a SQL store (21): ``verify``'s finding for an events row whose
  ``student_id`` is not text (15 mutants of one ``Discrepancy``), ``_apply_intervention``
  reading a body that is not text, and the ``isinstance(..., str)`` guards on ids in
  ``_StateCheck`` (``finding``, ``interventions``, ``check_ins``, ``issued``) with the ``""``
  they fall back to: every column the audit reads is ``TEXT NOT NULL`` (SQLite hands an
  integer written there back as text, PostgreSQL refuses it);
- equivalent (16): sorting the rows to replay by the whole row tuple (its first field is the
  row number, unique) or the check-in ids without ``key=str`` (they are text);
  ``owners.get(iid, None)`` (``finding`` maps anything but text to ``""``); the ``issued``
  map's values (only membership is read); ``verify``'s sort key for chains (rows are read in
  student and position order already) and its ``timelines=False`` (only skips keeping
  timelines nobody compares); ``anchor``'s ``>=`` on two rows at one position (the audit
  reports those rows; the anchor's choice between them changes no finding);
- not killed (3): ``_apply_intervention``'s ``and``/``or`` mutants admit a ``save`` body shaped
  as an ``add`` (or the reverse); only a forger rewriting the chain with valid hashes can write
  one, and the state check still reports the intervention it builds when it differs;
- written for after that run, not yet measured (5): ``_check_chain``'s ``continue`` as
  ``break`` (3; the bad row in the middle of a chain, below) and ``verify`` given a head with
  no rows (2; ``test_a_head_whose_every_row_was_deleted_is_found``).
"""

from __future__ import annotations

import hashlib
import json

import pytest

from tierflow.errors import StoreError
from tierflow.store import Anchor, Discrepancy, replay
from tierflow.store._audit import _check_anchor, _check_chain
from tierflow.store._rows import ChainRow
from tierflow.workflow import WorkflowEvent

GENESIS = "0" * 64
BODY = '{"n":1}'


def _envelope(record: str, student: str, seq: int, body: str) -> str:
    who = json.dumps(student)
    return f'{{"body":{body},"record":{json.dumps(record)},"seq":{seq},"student_id":{who}}}'


def _sha(prev: str, text: str) -> str:
    return hashlib.sha256((prev + text).encode()).hexdigest()


def chain(student: str, n: int, *, first_row: int = 10) -> list[ChainRow]:
    """A well-formed chain of ``n`` event rows, row numbers ``first_row`` on, step 10."""
    rows, prev = [], GENESIS
    for seq in range(1, n + 1):
        body = f'{{"n":{seq}}}'
        digest = _sha(prev, _envelope("event", student, seq, body))
        rows.append(
            ChainRow(first_row + 10 * (seq - 1), student, seq, "event", None, body, prev, digest)
        )
        prev = digest
    return rows


def head(rows: list[ChainRow]) -> tuple[int, str]:
    return rows[-1].seq, rows[-1].hash


def d(seq: int, problem: str, table: str = "events", key: str = "") -> Discrepancy:
    return Discrepancy("s1", seq, problem, table, key or f"student_id=s1, seq={seq}")


def test_an_intact_chain_and_head_have_no_finding() -> None:
    rows = chain("s1", 3)
    assert _check_chain("s1", rows, head(rows)) == []
    assert _check_chain("s1", [], None) == []


def test_a_deleted_middle_row_is_named_and_the_next_row_found_unlinked() -> None:
    rows = chain("s1", 4)
    kept = [rows[0], rows[2], rows[3]]
    # Row 3 still links to row 2's hash (which is gone): only the skip is reported at 2, and
    # row 3's own hash is still right, so nothing more.
    assert _check_chain("s1", kept, head(rows)) == [d(2, "deleted (the chain skips seq 2)")]


def test_several_deleted_rows_are_named_as_a_range() -> None:
    rows = chain("s1", 5)
    kept = [rows[0], rows[4]]
    assert _check_chain("s1", kept, head(rows)) == [
        d(2, "deleted (the chain skips seqs 2-4)"),
        d(3, "deleted (the chain skips seqs 2-4)"),
        d(4, "deleted (the chain skips seqs 2-4)"),
    ]


def test_a_deleted_first_row_is_found() -> None:
    rows = chain("s1", 2)
    assert _check_chain("s1", rows[1:], head(rows)) == [d(1, "deleted (the chain skips seq 1)")]


def test_a_broken_link_is_found_at_the_row_that_links() -> None:
    rows = chain("s1", 3)
    body = '{"n":99}'
    edited = rows[1]._replace(
        body=body, hash=_sha(rows[1].prev_hash, _envelope("event", "s1", 2, body))
    )
    found = _check_chain("s1", [rows[0], edited, rows[2]], head(rows))
    assert found == [d(3, "edited or reordered (its link to the previous row is broken)")]


def test_an_edited_body_is_found_at_its_row() -> None:
    rows = chain("s1", 3)
    edited = rows[1]._replace(body='{"n":99}')
    assert _check_chain("s1", [rows[0], edited, rows[2]], head(rows)) == [
        d(2, "edited (event row 20: its content does not match its hash)")
    ]


def test_a_row_moved_to_another_student_does_not_hash_as_theirs() -> None:
    rows = chain("s2", 1)
    moved = [rows[0]._replace(student_id="s1")]
    assert _check_chain("s1", moved, head(moved)) == [
        d(1, "edited (event row 10: its content does not match its hash)")
    ]


def test_a_second_row_at_a_position_is_found() -> None:
    rows = chain("s1", 2)
    extra = rows[1]._replace(row=25)
    assert _check_chain("s1", [rows[0], rows[1], extra], head(rows)) == [
        d(2, "a second row at this position (row 25): added or edited")
    ]


def test_row_numbers_that_go_back_are_found() -> None:
    rows = chain("s1", 3)
    swapped = [rows[0], rows[1]._replace(row=35), rows[2]._replace(row=30)]
    assert _check_chain("s1", swapped, head(rows)) == [
        d(3, "its row number 30 is not after the previous row's 35")
    ]
    # The same row number twice is not "after" either.
    same = [rows[0], rows[1]._replace(row=10), rows[2]]
    assert _check_chain("s1", same, head(rows)) == [
        d(2, "its row number 10 is not after the previous row's 10")
    ]


def test_a_seq_that_is_not_a_whole_number_is_found_where_the_chain_expected_a_row() -> None:
    rows = chain("s1", 2)
    bad = rows[1]._replace(seq="2")  # type: ignore[arg-type]
    assert _check_chain("s1", [rows[0], bad], (2, rows[1].hash)) == [
        d(2, "seq is '2', not a whole number (row 20)"),
        d(2, "deleted (the chain ends early)"),
    ]
    not_int = rows[0]._replace(seq=True)  # a bool is an int to isinstance, not to the audit
    assert _check_chain("s1", [not_int], None)[0] == d(
        1, "seq is True, not a whole number (row 10)"
    )


def test_a_column_that_is_not_text_is_found() -> None:
    rows = chain("s1", 2)
    for bad in (
        rows[1]._replace(record=7),  # type: ignore[arg-type]
        rows[1]._replace(body=7),  # type: ignore[arg-type]
        rows[1]._replace(prev_hash=7),  # type: ignore[arg-type]
        rows[1]._replace(hash=7),  # type: ignore[arg-type]
    ):
        assert _check_chain("s1", [rows[0], bad], head(rows)) == [
            d(2, "a column holds something other than text (edited)"),
            d(2, "deleted (the chain ends early)"),
        ], bad


def test_a_chain_without_a_head_is_found_at_its_last_row() -> None:
    rows = chain("s1", 3)
    assert _check_chain("s1", rows, None) == [
        d(3, "the chain has no recorded head", "chain_heads", "student_id=s1")
    ]


def test_a_head_beyond_the_rows_names_every_missing_row() -> None:
    rows = chain("s1", 4)
    assert _check_chain("s1", rows[:2], head(rows)) == [
        d(3, "deleted (the chain ends early)"),
        d(4, "deleted (the chain ends early)"),
    ]
    # A head for a student with no rows at all: every row it counts is gone.
    assert _check_chain("s1", [], (2, "x")) == [
        d(1, "deleted (the chain ends early)"),
        d(2, "deleted (the chain ends early)"),
    ]


def test_a_lowered_head_is_found() -> None:
    rows = chain("s1", 3)
    assert _check_chain("s1", rows, (1, rows[0].hash)) == [
        d(
            3,
            "seq is 1, the chain ends at seq 3 (lowered: every later write to this chain would "
            "be refused)",
            "chain_heads",
            "student_id=s1",
        )
    ]


def test_a_head_one_short_is_the_lowered_head_not_a_changed_hash() -> None:
    rows = chain("s1", 3)
    found = _check_chain("s1", rows, (2, rows[2].hash))
    assert [f.problem[:10] for f in found] == ["seq is 2, "]


def test_a_head_whose_hash_changed_is_found() -> None:
    rows = chain("s1", 2)
    assert _check_chain("s1", rows, (2, "f" * 64)) == [
        d(2, "edited (the chain's last hash changed)")
    ]


def test_a_head_whose_seq_is_not_a_whole_number_is_found() -> None:
    rows = chain("s1", 2)
    assert _check_chain("s1", rows, ("2", rows[1].hash)) == [
        d(2, "seq is '2', not a whole number", "chain_heads", "student_id=s1")
    ]


def test_the_anchor_names_a_chain_cut_short_rewritten_or_gone() -> None:
    s1, s2, s3 = chain("s1", 3), chain("s2", 2), chain("s3", 1)
    saved = Anchor({"s1": (3, s1[2].hash), "s2": (2, s2[1].hash), "s3": (1, s3[0].hash)})
    now = {
        "s1": s1[:2],  # cut short
        "s2": [s2[0], s2[1]._replace(hash="e" * 64)],  # rewritten
    }
    assert _check_anchor(saved, now) == [
        Discrepancy(
            "s1",
            3,
            "the anchor saw the chain end at seq 3; it now ends at seq 2 (cut short or rolled "
            "back since the anchor)",
            "events",
            "student_id=s1, seq=3",
        ),
        Discrepancy(
            "s2",
            2,
            "the row at seq 2 is not the one the anchor saw (its hash changed): the chain was "
            "rewritten since the anchor",
            "events",
            "student_id=s2, seq=2",
        ),
        Discrepancy(
            "s3",
            1,
            "the anchor saw a chain of 1 rows; it is gone",
            "events",
            "student_id=s3, seq=1",
        ),
    ]
    assert _check_anchor(saved, {"s1": s1, "s2": s2, "s3": s3}) == []
    # A chain that grew since the anchor still holds the row the anchor saw: no finding.
    grown = chain("s1", 5)
    assert _check_anchor(Anchor({"s1": (3, grown[2].hash)}), {"s1": grown}) == []


def test_a_bad_row_in_the_middle_does_not_stop_the_check_of_the_rows_after_it() -> None:
    rows = chain("s1", 3)
    edited = rows[2]._replace(body='{"n":99}')  # found only if the check goes on past row 2
    for bad, problem in (
        (rows[1]._replace(seq="2"), "seq is '2', not a whole number (row 20)"),
        (rows[1]._replace(body=7), "a column holds something other than text (edited)"),
    ):
        assert _check_chain("s1", [rows[0], bad, edited], head(rows)) == [
            d(2, problem),
            d(2, "deleted (the chain skips seq 2)"),
            d(3, "edited (event row 30: its content does not match its hash)"),
        ]
    second = rows[1]._replace(row=25)
    assert _check_chain("s1", [rows[0], rows[1], second, edited], head(rows)) == [
        d(2, "a second row at this position (row 25): added or edited"),
        d(3, "edited (event row 30: its content does not match its hash)"),
    ]


# --- replaying rows: each way a row is not a record tierflow writes --------------------------


def _store_rows() -> tuple[list[ChainRow], list[WorkflowEvent]]:
    """The rows of a small real store: s0's interventions opened and one started and checked."""
    import datetime as dt

    import tierflow
    from tierflow.store import SqlRepository
    from tierflow.workflow import Engine, Roster, StaffMember

    on = dt.date(2025, 10, 6)
    with SqlRepository(":memory:") as repo:
        engine = Engine(
            tierflow.load_ruleset("mtss"),
            repository=repo,
            roster=Roster([StaffMember("ms-lee", "lincoln", ("mentor", "counselor"))]),
        )
        facts = {"student_id": "s0", "school_id": "lincoln", "days_enrolled": 30, "days_absent": 4}
        plan = engine.run(on, [facts])
        engine.start(plan.opened[0].id, on=on, by="ms-lee")
        engine.check_in(plan.opened[0].id, on=on, by="ms-lee", goal_met=False)
        return repo.chain_rows(), repo.events("s0")


def _replay_error(rows: list[ChainRow]) -> str:
    with pytest.raises(StoreError) as caught:
        replay(rows)
    return str(caught.value)


def _first(rows: list[ChainRow], record: str, op: str = "") -> int:
    return next(i for i, r in enumerate(rows) if r.record == record and op in r.body)


def test_replay_names_each_kind_of_row_tierflow_does_not_write() -> None:
    rows, timeline = _store_rows()
    assert replay(rows).events == {"s0": timeline}  # intact: the timeline as the store reads it
    i = _first(rows, "event")
    moved = [*rows[:i], rows[i]._replace(student_id="s9"), *rows[i + 1 :]]
    assert _replay_error(moved) == "the event is about student s0"
    c = _first(rows, "check_in")
    iid = rows[c].intervention_id
    stray = [*rows[:c], rows[c]._replace(student_id="s9"), *rows[c + 1 :]]
    assert _replay_error(stray) == f"a check-in for {iid}, which no row of this chain added"
    kind = [*rows[:i], rows[i]._replace(record="note"), *rows[i + 1 :]]
    assert _replay_error(kind) == "'record' is 'note', not a kind tierflow writes"
    a = _first(rows, "intervention", '"op":"add"')
    twice = [*rows, rows[a]._replace(row=10_000)]
    assert _replay_error(twice) == f"it adds {rows[a].intervention_id} a second time"
    not_iv = [*rows[:a], rows[a]._replace(body="[]"), *rows[a + 1 :]]
    assert _replay_error(not_iv) == "the body is not an intervention added or changed"
    theirs = [*rows[:a], rows[a]._replace(student_id="s9"), *rows[a + 1 :]]
    assert _replay_error(theirs) == "the intervention is student s0's"
    s = _first(rows, "intervention", '"op":"save"')
    body = json.loads(rows[s].body)
    extra = rows[s]._replace(body=json.dumps({**body, "extra": 1}))
    assert _replay_error([*rows[:s], extra, *rows[s + 1 :]]) == (
        "the change has fields tierflow does not write"
    )
    unknown = rows[s]._replace(body=json.dumps({**body, "id": "iv-zzz"}))
    assert _replay_error([*rows[:s], unknown, *rows[s + 1 :]]) == (
        "it changes 'iv-zzz', which no row of this chain added"
    )


def test_the_anchor_says_a_chain_with_no_whole_seq_now_ends_at_0() -> None:
    rows = [chain("s1", 1)[0]._replace(seq="x")]  # type: ignore[arg-type]
    (finding,) = _check_anchor(Anchor({"s1": (1, "a" * 64)}), {"s1": rows})
    assert finding.problem.startswith("the anchor saw the chain end at seq 1; it now ends at seq 0")
