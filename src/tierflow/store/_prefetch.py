"""Reading a chunk of students' records in a few queries, for a batch to answer reads from.

A day's run reads, for each student, the interventions, the events, the legal steps issued
and (at its first write) the chain head: four statements a student, each a round trip on
PostgreSQL. :meth:`tierflow.store.SqlRepository.prefetch`, which the engine calls with its next
students, reads them for up to 500 students in four queries (:func:`read_ahead`); the batch
keeps the rows and answers each student's reads from them until the student is written to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tierflow.store._schema import tables
from tierflow.store._statements import iv_row

__all__ = ["CHUNK", "Ahead", "read_ahead"]

CHUNK = 500
"""Students a query names at most (a bound on its parameters)."""


@dataclass
class Ahead:
    """A chunk of students' rows, by student.

    Attributes:
        heads: The chain head (seq, hash) of each student that has one.
        last: The last seq in the events table of each student that has events.
        interventions: Each student's intervention rows (as ``iv_row``), by position.
        timelines: Each student's ``event`` and ``issued`` rows (row, body), by seq.
    """

    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    last: dict[str, int] = field(default_factory=dict)
    interventions: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    timelines: dict[tuple[str, str], list[tuple[int, str]]] = field(default_factory=dict)


def read_ahead(conn: sa.Connection, student_ids: Sequence[str]) -> Ahead:
    """The rows of up to :data:`CHUNK` students, in four queries."""
    if len(student_ids) > CHUNK:
        raise ValueError(f"at most {CHUNK} students a query, got {len(student_ids)}")
    ev, heads, ivs = tables.events, tables.chain_heads, tables.interventions
    ids = list(student_ids)
    ahead = Ahead()
    for sid, seq, digest in conn.execute(
        sa.select(heads.c.student_id, heads.c.seq, heads.c.hash).where(heads.c.student_id.in_(ids))
    ):
        ahead.heads[sid] = (seq, digest)
    for sid, seq in conn.execute(
        sa.select(ev.c.student_id, sa.func.max(ev.c.seq))
        .where(ev.c.student_id.in_(ids))
        .group_by(ev.c.student_id)
    ):
        ahead.last[sid] = seq
    for row in conn.execute(
        sa.select(*iv_row(ivs)).where(ivs.c.student_id.in_(ids)).order_by(ivs.c.pos)
    ):
        ahead.interventions.setdefault(row[2], []).append(tuple(row))
    for sid, record, number, body in conn.execute(
        sa.select(ev.c.student_id, ev.c.record, ev.c.row, ev.c.body)
        .where(ev.c.student_id.in_(ids), ev.c.record.in_(("event", "issued")))
        .order_by(ev.c.student_id, ev.c.seq)
    ):
        ahead.timelines.setdefault((sid, record), []).append((number, body))
    return ahead
