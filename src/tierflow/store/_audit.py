"""Replaying the events table, and verifying its hash chains against tampering."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from tierflow.store import _codec as codec
from tierflow.store._sqlite import ChainRow, SqlRepository, envelope
from tierflow.workflow import CheckIn, Intervention, WorkflowEvent

__all__ = ["Finding", "Replayed", "replay", "verify"]


@dataclass
class Replayed:
    """The state the events describe, rebuilt from them alone.

    Attributes:
        interventions: Every intervention by id, in the order they were added.
        check_ins: Check-ins by intervention id, in order.
        issued: Legal steps issued, by student.
        events: Workflow events by student, in order.
    """

    interventions: dict[str, Intervention] = field(default_factory=dict)
    check_ins: dict[str, list[CheckIn]] = field(default_factory=dict)
    issued: dict[str, dict[str, dt.date]] = field(default_factory=dict)
    events: dict[str, list[WorkflowEvent]] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """A row of the events table that is not as it was written, or a state that disagrees.

    Attributes:
        student_id: Whose chain.
        seq: The row's position in the student's chain (for a deleted row: where it was).
        problem: What is wrong, in words.
    """

    student_id: str
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"student {self.student_id}, seq {self.seq}: {self.problem}"


def replay(rows: Iterable[ChainRow]) -> Replayed:
    """Rebuild interventions, check-ins, issued steps and timelines from chain rows.

    Rows are applied in row order (the order they were written).
    """
    out = Replayed()
    for r in sorted(rows, key=lambda r: r.row):
        body = codec.loads(r.body)
        if r.record == "event":
            out.events.setdefault(r.student_id, []).append(codec.event_from_json(body, r.row))
        elif r.record == "check_in":
            check_in = codec.check_in_from_json(body)
            out.check_ins.setdefault(check_in.intervention_id, []).append(check_in)
        elif r.record == "issued":
            out.issued.setdefault(r.student_id, {})[body["step"]] = codec.from_json(body["on"])
        elif body["op"] == "add":
            iv = codec.intervention_from_json(body["state"])
            out.interventions[iv.id] = iv
        else:
            iv = out.interventions[body["id"]]
            changes = {k: codec.from_json(v) for k, v in body["changes"].items()}
            out.interventions[iv.id] = dataclasses.replace(iv, **changes)
    return out


def _check_chain(
    student_id: str, rows: list[ChainRow], head: tuple[int, str] | None
) -> list[Finding]:
    found: list[Finding] = []
    prev_hash, expected = codec.GENESIS, 1
    for r in rows:
        if r.seq > expected:
            gap = f"seq {expected}" if r.seq == expected + 1 else f"seqs {expected}-{r.seq - 1}"
            for missing in range(expected, r.seq):
                found.append(Finding(student_id, missing, f"deleted (the chain skips {gap})"))
        elif r.prev_hash != prev_hash:
            found.append(
                Finding(
                    student_id,
                    r.seq,
                    "edited or reordered (its link to the previous row is broken)",
                )
            )
        if (
            codec.chain_hash(
                r.prev_hash, envelope(r.record, r.student_id, r.seq, codec.loads(r.body))
            )
            != r.hash
        ):
            found.append(
                Finding(
                    student_id,
                    r.seq,
                    f"edited ({r.record} row {r.row}: its content does not match its hash)",
                )
            )
        prev_hash, expected = r.hash, r.seq + 1
    if head is not None:
        last, last_hash = head
        if last >= expected:
            for missing in range(expected, last + 1):
                found.append(Finding(student_id, missing, "deleted (the chain ends early)"))
        elif last_hash != prev_hash:
            found.append(
                Finding(student_id, expected - 1, "edited (the chain's last hash changed)")
            )
    elif rows:
        found.append(Finding(student_id, rows[-1].seq, "the chain has no recorded head"))
    return found


def verify(repository: SqlRepository) -> list[Finding]:
    """Check every student's hash chain, and the current state against the replayed events.

    An edited row no longer matches its hash (or breaks the link to the next row); a deleted
    row leaves a gap in the student's positions, or a chain shorter than its recorded head.
    Each finding names the student and the position. When every chain is intact, the
    current-state tables are compared with the replayed events, and an edit the events do not
    explain is reported too (at the student's last position).

    Returns:
        The findings, by student and position; empty when nothing was tampered with.
    """
    rows = repository.chain_rows()
    heads = repository.chain_heads()
    by_student: dict[str, list[ChainRow]] = {}
    for r in rows:
        by_student.setdefault(r.student_id, []).append(r)
    found: list[Finding] = []
    for student in sorted(set(by_student) | set(heads)):
        found.extend(_check_chain(student, by_student.get(student, []), heads.get(student)))
    if found:
        return found
    state = replay(rows)
    for student in repository.students():
        last = heads.get(student, (0, ""))[0]
        ivs = repository.for_student(student)
        replayed = [iv for iv in state.interventions.values() if iv.student_id == student]
        if ivs != replayed:
            found.append(
                Finding(student, last, "its interventions differ from the replayed events")
            )
        elif any(repository.check_ins(iv.id) != state.check_ins.get(iv.id, []) for iv in ivs):
            found.append(Finding(student, last, "its check-ins differ from the replayed events"))
        if repository.issued(student) != state.issued.get(student, {}):
            found.append(Finding(student, last, "its issued steps differ from the replayed events"))
    return found
