"""The rows of a store as the audit reads them, and the canonical text a chain row's hash covers.

Written by :mod:`tierflow.store._chain` (every change appends a row to its student's chain) and
read back unconverted by :mod:`tierflow.store._audit`, which recomputes each hash from
:func:`envelope_text` and compares an intervention row's columns with its body through
:func:`intervention_columns`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from tierflow.store import _codec as codec
from tierflow.workflow import CaseSummary, EventSummary, Intervention

__all__ = [
    "EVENT_REPORT_COLUMNS",
    "IV_REPORT_COLUMNS",
    "ChainRow",
    "StoredRows",
    "envelope",
    "envelope_text",
    "event_report_params",
    "event_report_values",
    "intervention_columns",
    "iv_report_params",
    "iv_report_values",
    "queue_columns",
    "queue_params",
    "read_cases",
]


EVENT_REPORT_COLUMNS = ("kind", "at", "trigger", "to_state", "tier", "step", "withdrawn", "called")
"""The events table's reporting columns (schema version 4), in this order."""
IV_REPORT_COLUMNS = ("tier_level", "state", "opened_on", "ended_on")
"""The interventions table's reporting columns (schema version 4), in this order."""


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
        report: The reporting columns (``EVENT_REPORT_COLUMNS``, schema version 4) as
            stored; empty where not read.
    """

    row: int
    student_id: str
    seq: int
    record: str
    intervention_id: str | None
    body: str
    prev_hash: str
    hash: str
    report: tuple[Any, ...] = ()


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


def event_report_params(s: EventSummary) -> dict[str, Any]:
    """The reporting columns of an event row (schema version 4) as the store writes them.

    In ``EVENT_REPORT_COLUMNS`` order: dates as ISO text, a decision's interventions as a JSON
    array (NULL for other kinds), ``withdrawn`` a boolean.
    """
    return {
        "kind": s.kind,
        "at": s.at.isoformat(),
        "trigger": s.trigger,
        "to_state": s.to_state,
        "tier": s.tier,
        "step": s.step,
        "withdrawn": s.withdrawn,
        "called": codec.dumps(list(s.called)) if s.kind == "decision" else None,
    }


def event_report_values(summary: EventSummary | None, values: tuple[Any, ...]) -> list[str]:
    """How an event row's reporting columns disagree with its body's summary (empty: agree).

    ``summary`` None: the row is not a workflow event, and every column must be NULL. A
    report selects rows by these columns: one changed outside tierflow would move an event
    into or out of a report while the body still said otherwise.
    """
    if summary is None:
        return [
            f"{n} is {v!r}, not NULL"
            for n, v in zip(EVENT_REPORT_COLUMNS, values, strict=True)
            if v is not None
        ]
    said = event_report_params(summary)
    wrong = []
    for name, value in zip(EVENT_REPORT_COLUMNS, values, strict=True):
        expected = said[name]
        if name == "withdrawn":
            ok = type(value) in (bool, int) and value in (0, 1) and bool(value) == expected
        else:
            ok = value == expected
        if not ok:
            wrong.append(f"{name} is {value!r}, its body says {expected!r}")
    return wrong


def read_cases(rows: Iterable[tuple[Any, ...]]) -> list[CaseSummary]:
    """Interventions' summaries from their columns (``Repository.cases``' order).

    A district's year is some 100,000 rows: each distinct date is parsed once, and a summary
    is made with ``tuple.__new__`` (what its class's constructor calls, less a Python frame).

    Raises:
        ValueError: A column holds what tierflow does not write (changed outside tierflow).
    """
    dates: dict[Any, dt.date | None] = {None: None}
    parse, new, make = dt.date.fromisoformat, tuple.__new__, CaseSummary
    out = []
    for iid, sid, school, kind, level, role, owner, state, opened, follow_up, ended in rows:
        if type(level) is not int or not isinstance(state, str) or opened is None:
            raise ValueError(f"intervention {iid}: tier_level, state or opened_on is missing")
        if not (isinstance(iid, str) and isinstance(sid, str) and isinstance(kind, str)):
            raise ValueError(f"id {iid!r}, student_id {sid!r} and catalog_id {kind!r} must be text")
        days = []
        for text in (opened, follow_up, ended):
            day = dates.get(text, dates)
            if day is dates:
                day = dates[text] = parse(text)
            days.append(day)
        row = (iid, sid, school, kind, level, str(role), owner, state, *days)
        out.append(new(make, row))
    return out


def iv_report_params(iv: Intervention) -> dict[str, Any]:
    """An intervention row's reporting columns (schema version 4) as the store writes them."""
    return {
        "tier_level": iv.tier_level,
        "state": iv.state,
        "opened_on": iv.opened_on.isoformat(),
        "ended_on": None if iv.ended_on is None else iv.ended_on.isoformat(),
    }


def iv_report_values(iv: Intervention, values: tuple[Any, ...]) -> list[str]:
    """How a row's reporting columns (``IV_REPORT_COLUMNS`` order) disagree with its body."""
    return [
        f"{name} is {value!r}, its body says {said!r}"
        for (name, said), value in zip(iv_report_params(iv).items(), values, strict=True)
        if value != said or type(value) is bool
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
