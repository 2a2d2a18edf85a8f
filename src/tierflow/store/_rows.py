"""The rows of a store as the audit reads them, and the canonical text a chain row's hash covers.

Written by :mod:`tierflow.store._chain` (every change appends a row to its student's chain) and
read back unconverted by :mod:`tierflow.store._audit`, which recomputes each hash from
:func:`envelope_text` and compares an intervention row's columns with its body through
:func:`intervention_columns`.
"""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any, NamedTuple

from tierflow.store import _codec as codec
from tierflow.workflow import Intervention

__all__ = [
    "ChainRow",
    "StoredRows",
    "envelope",
    "envelope_text",
    "intervention_columns",
    "queue_columns",
    "queue_params",
]


class ChainRow(NamedTuple):
    """One row of the events table, as stored (what the audit checks).

    Attributes:
        row: The row number (global order; a workflow event's ``seq``).
        student_id: Whose chain it belongs to.
        seq: Its position in the student's chain (1, 2, 3...).
        record: ``event``, ``intervention``, ``check_in`` or ``issued``.
        intervention_id: The intervention it concerns, if any.
        body: The record as canonical JSON text.
        prev_hash: The hash of the previous row of the chain.
        hash: sha256 of ``prev_hash`` and the row's canonical content.
    """

    row: int
    student_id: str
    seq: int
    record: str
    intervention_id: str | None
    body: str
    prev_hash: str
    hash: str


def envelope(record: str, student_id: str, seq: int, body: Any) -> str:
    """The canonical text a chain row's hash covers: its kind, place and body."""
    return codec.dumps({"body": body, "record": record, "seq": seq, "student_id": student_id})


def envelope_text(record: str, student_id: str, seq: int, body_text: str) -> str:
    """:func:`envelope` from the body's canonical text (its keys are already in sorted order).

    The stored body is that text: the audit hashes it as it stands, so a body written again
    with other spacing or key order is an edit.
    """
    return (
        f'{{"body":{body_text},"record":{encode_basestring(record)},"seq":{seq},'
        f'"student_id":{encode_basestring(student_id)}}}'
    )


def intervention_columns(
    iv: Intervention, iid: Any, student: Any, kind: Any, is_open: Any, version: Any
) -> list[str]:
    """How an intervention row's columns disagree with its body ``iv`` (empty: they agree).

    ``is_open`` as SQL reads it (``WHERE is_open``: any true value); the others exactly.
    """
    return [
        f"{name} is {value!r}, its body says {said!r}"
        for name, value, said in (
            ("id", iid, iv.id),
            ("student_id", student, iv.student_id),
            ("catalog_id", kind, iv.intervention),
            ("is_open", is_open, iv.ended_on is None),
            ("version", version, iv.version),
        )
        if (bool(value) != said if name == "is_open" else value != said or type(value) is bool)
    ]


def queue_params(iv: Intervention) -> dict[str, str | None]:
    """The work queue's columns of ``iv`` as the store writes them (a date as ISO text)."""
    follow_up = iv.next_follow_up
    return {
        "owner": iv.owner,
        "owner_role": iv.owner_role,
        "school_id": iv.school_id,
        "next_follow_up": None if follow_up is None else follow_up.isoformat(),
    }


def queue_columns(iv: Intervention, values: tuple[Any, ...]) -> list[str]:
    """How a row's work queue columns (``QUEUE_COLUMNS`` in order) disagree with its body ``iv``.

    A queue selects rows by these columns: one changed outside tierflow would move a case to
    another owner's queue, or out of every queue, while the body still said otherwise.
    """
    return [
        f"{name} is {value!r}, its body says {said!r}"
        for (name, said), value in zip(queue_params(iv).items(), values, strict=True)
        if value != said
    ]


class StoredRows(NamedTuple):
    """Every row of every table as the driver gives it (nothing converted: the audit's input).

    Attributes:
        events: The events table, by student, position and row number.
        heads: ``(student_id, seq, hash)`` of ``chain_heads``.
        interventions: ``(pos, id, student_id, catalog_id, is_open, version, body, owner,
            owner_role, school_id, next_follow_up)``, by pos.
        check_ins: ``(pos, intervention_id, body)``, by pos.
        issued: ``(student_id, step, on)``.
    """

    events: list[ChainRow]
    heads: list[tuple[Any, ...]]
    interventions: list[tuple[Any, ...]]
    check_ins: list[tuple[Any, ...]]
    issued: list[tuple[Any, ...]]
