"""Replaying the events table, verifying the whole store against it, and anchoring its chains.

What :func:`verify` checks, row by row and column by column (docs/store.md says the same, and
what no check inside a store can see):

* ``events``: every column of every row. Each student's chain runs 1, 2, 3... with no gap or
  repeat; each row's hash covers its kind, student, position and body, and links to the
  previous row's hash; row numbers grow along the chain; each body is a record as tierflow
  writes it (known fields of the right types) and its ``intervention_id`` column repeats it.
* ``chain_heads``: one per chain, naming its last position and hash.
* ``interventions``, ``check_ins``, ``issued``: every row and column equals what replaying the
  events gives (bodies, ``is_open``, ``catalog_id``, ``version``, the work queue's ``owner``,
  ``owner_role``, ``school_id`` and ``next_follow_up``, order), and no row is
  missing or extra.
* With an :class:`Anchor` saved earlier: every chain still holds the row the anchor saw at its
  end (no chain was cut short, rolled back or rewritten since).

The module is a little over 500 lines on purpose: replay and verification walk the same rows
with the same per-table checks, and a reviewer of tamper evidence should read them in one place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tierflow.errors import StoreError
from tierflow.store import _codec as codec
from tierflow.store._rows import (
    ChainRow,
    StoredRows,
    envelope_text,
    event_report_values,
    intervention_columns,
    iv_report_values,
    queue_columns,
)
from tierflow.store._schema import QUEUE_COLUMNS
from tierflow.store._sql import SqlRepository
from tierflow.workflow import CheckIn, Intervention, WorkflowEvent, summarize

__all__ = ["Anchor", "Discrepancy", "Replayed", "anchor", "replay", "verify"]


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
class Discrepancy:
    """A row of the store that is not as tierflow wrote it.

    Attributes:
        student_id: Whose records ("" when the row names no student tierflow knows).
        seq: The position in the student's chain it concerns: the row's own for ``events``
            (for a deleted row, where it was), else the chain's last (0: no chain).
        problem: What is wrong, in words.
        table: The table holding the row: ``events``, ``chain_heads``, ``interventions``,
            ``check_ins`` or ``issued``.
        key: Which row of it, as ``column=value`` pairs (``student_id=s1, seq=3``).
    """

    student_id: str
    seq: int
    problem: str
    table: str = "events"
    key: str = ""

    def __str__(self) -> str:
        where = f"student {self.student_id}, seq {self.seq}" if self.student_id else "no student"
        if self.table == "events":
            return f"{where}: {self.problem}"
        return f"{where}: {self.table} row {self.key}: {self.problem}"


@dataclass(frozen=True)
class Anchor:
    """Every student's chain head at one moment, to keep outside the store.

    A store can check itself only against itself: someone able to write it can cut a chain
    short and copy the earlier hash into ``chain_heads``, or rewrite a chain consistently. An
    anchor saved where they cannot write (printed, mailed, in another system) makes that
    visible: ``verify(repo, anchor=saved)`` reports every chain that no longer holds the row
    the anchor saw at its end.

    >>> import datetime as dt
    >>> from tierflow.store import SqlRepository, anchor, verify
    >>> repo = SqlRepository(":memory:")
    >>> repo.record_issued("s1", "letter1", dt.date(2025, 10, 6))
    >>> saved = anchor(repo).to_json()  # keep this text elsewhere
    >>> verify(repo, anchor=Anchor.from_json(saved))
    []

    Attributes:
        heads: Each student's last position and its hash.
    """

    heads: Mapping[str, tuple[int, str]]

    @property
    def digest(self) -> str:
        """A sha256 over every head (students in order): a short fingerprint of the anchor.

        Keep it apart from the anchor's text: an anchor whose heads were edited no longer
        matches it, and :meth:`from_json` refuses one that disagrees with its own digest.
        """
        text = codec.dumps(sorted([s, seq, h] for s, (seq, h) in self.heads.items()))
        return hashlib.sha256(text.encode()).hexdigest()

    def to_json(self) -> str:
        """The anchor as JSON text: its digest and every head (``{"s1": [12, "ab12..."]}``)."""
        heads = {s: [seq, h] for s, (seq, h) in sorted(self.heads.items())}
        return codec.dumps({"digest": self.digest, "heads": heads, "tierflow_anchor": 1})

    @classmethod
    def from_json(cls, text: str) -> Anchor:
        """Read an anchor back from :meth:`to_json`'s text.

        Raises:
            StoreError: The text is not an anchor, or its heads do not match its digest.
        """
        try:
            data = codec.loads(text)
        except (ValueError, RecursionError) as exc:
            raise StoreError(f"not a tierflow anchor: not JSON ({exc})") from exc
        if not isinstance(data, dict) or data.get("tierflow_anchor") != 1:
            raise StoreError("not a tierflow anchor (no 'tierflow_anchor': 1)")
        heads, digest = data.get("heads"), data.get("digest")
        if not isinstance(heads, dict) or not all(
            isinstance(v, list)
            and len(v) == 2
            and type(v[0]) is int
            and v[0] >= 1
            and isinstance(v[1], str)
            for v in heads.values()
        ):
            raise StoreError("not a tierflow anchor: 'heads' must map students to [seq, hash]")
        found = cls({s: (seq, h) for s, (seq, h) in heads.items()})
        if found.digest != digest:
            raise StoreError(
                f"the anchor was changed: its heads give digest {found.digest}, it says {digest}"
            )
        return found


def anchor(repository: SqlRepository) -> Anchor:
    """Every student's chain head now, to keep off-line and check with :func:`verify` later.

    The heads are read from the chains themselves (each student's last row), in one read.
    Take an anchor after a :func:`verify` that found nothing: it vouches for what it saw.
    """
    last: dict[str, tuple[int, str]] = {}
    for r in repository.stored_rows().events:
        ok = type(r.seq) is int and isinstance(r.hash, str)
        if ok and (r.student_id not in last or r.seq > last[r.student_id][0]):
            last[r.student_id] = (r.seq, r.hash)
    return Anchor(last)


def replay(rows: Iterable[ChainRow]) -> Replayed:
    """Rebuild interventions, check-ins, issued steps and timelines from chain rows.

    Rows are applied in row order (the order they were written).

    Raises:
        StoreError: A row is not a record as tierflow writes it (:func:`verify` says which).
    """
    out = Replayed()
    for r in sorted(rows, key=lambda r: r.row):
        _apply(out, r)
    return out


def _apply(out: Replayed, r: ChainRow, *, timelines: bool = True) -> WorkflowEvent | None:
    """Apply one chain row to ``out`` (workflow events only checked unless ``timelines``).

    Returns the workflow event a row of record ``event`` holds (None for other records).

    Raises:
        codec.Unreadable: The row is not a record as tierflow writes it; ``out`` is unchanged.
    """
    if r.record == "event":
        ev = codec.read_event(r.body, r.row)
        if ev.student_id != r.student_id:
            raise codec.Unreadable(f"the event is about student {ev.student_id}")
        _same_column(r, ev.intervention_id)
        if timelines:
            out.events.setdefault(r.student_id, []).append(ev)
        return ev
    if r.record == "check_in":
        check_in = codec.read_check_in(r.body)
        owner = out.interventions.get(check_in.intervention_id)
        if owner is None or owner.student_id != r.student_id:
            raise codec.Unreadable(
                f"a check-in for {check_in.intervention_id}, which no row of this chain added"
            )
        _same_column(r, check_in.intervention_id)
        out.check_ins.setdefault(check_in.intervention_id, []).append(check_in)
    elif r.record == "issued":
        step, on = codec.read_issued(r.body)
        _same_column(r, None)
        out.issued.setdefault(r.student_id, {})[step] = on
    elif r.record == "intervention":
        _apply_intervention(out, r)
    else:
        raise codec.Unreadable(f"'record' is {r.record!r}, not a kind tierflow writes")
    return None


def _apply_intervention(out: Replayed, r: ChainRow) -> None:
    body = codec.loads(r.body) if isinstance(r.body, str) else None
    op = body.get("op") if isinstance(body, dict) else None
    if op == "add" and isinstance(body, dict) and set(body) == {"op", "state"}:
        iv = codec.read_intervention(body["state"])
        if iv.id in out.interventions:
            raise codec.Unreadable(f"it adds {iv.id} a second time")
    elif op == "save" and isinstance(body, dict):
        if set(body) != {"op", "id", "expected_version", "changes"}:
            raise codec.Unreadable("the change has fields tierflow does not write")
        before = out.interventions.get(body["id"])
        if before is None or before.student_id != r.student_id:
            raise codec.Unreadable(f"it changes {body['id']!r}, which no row of this chain added")
        iv = codec.read_changes(before, body["changes"])
    else:
        raise codec.Unreadable("the body is not an intervention added or changed")
    if iv.student_id != r.student_id:
        raise codec.Unreadable(f"the intervention is student {iv.student_id}'s")
    _same_column(r, iv.id)
    out.interventions[iv.id] = iv


def _same_column(r: ChainRow, said: str | None) -> None:
    if r.intervention_id != said:
        raise codec.Unreadable(
            f"its intervention_id column is {r.intervention_id!r}, its body says {said!r}"
        )


def _event_key(student: str, seq: object) -> str:
    return f"student_id={student}, seq={seq}"


def _check_chain(
    student_id: str, rows: list[ChainRow], head: tuple[Any, Any] | None
) -> list[Discrepancy]:
    """The findings on one student's chain (rows in position order) and its head."""
    found: list[Discrepancy] = []

    def finding(seq: int, problem: str, table: str = "events", key: str = "") -> None:
        found.append(
            Discrepancy(student_id, seq, problem, table, key or _event_key(student_id, seq))
        )

    prev_hash, expected, prev_row = codec.GENESIS, 1, None
    for r in rows:
        if type(r.seq) is not int:
            finding(expected, f"seq is {r.seq!r}, not a whole number (row {r.row})")
            continue
        texts = (r.record, r.body, r.prev_hash, r.hash)
        if not all(isinstance(t, str) for t in texts):
            finding(r.seq, "a column holds something other than text (edited)")
            continue
        if r.seq < expected:
            finding(r.seq, f"a second row at this position (row {r.row}): added or edited")
            continue
        if r.seq > expected:
            gap = f"seq {expected}" if r.seq == expected + 1 else f"seqs {expected}-{r.seq - 1}"
            for missing in range(expected, r.seq):
                finding(missing, f"deleted (the chain skips {gap})")
        elif r.prev_hash != prev_hash:
            finding(r.seq, "edited or reordered (its link to the previous row is broken)")
        if prev_row is not None and r.row <= prev_row:
            finding(r.seq, f"its row number {r.row} is not after the previous row's {prev_row}")
        text = envelope_text(r.record, student_id, r.seq, r.body)
        if codec.chain_hash(r.prev_hash, text) != r.hash:
            finding(r.seq, f"edited ({r.record} row {r.row}: its content does not match its hash)")
        prev_hash, expected, prev_row = r.hash, r.seq + 1, r.row
    key = f"student_id={student_id}"
    if head is None:
        if rows:
            finding(expected - 1, "the chain has no recorded head", "chain_heads", key)
        return found
    last, last_hash = head
    if type(last) is not int:
        finding(expected - 1, f"seq is {last!r}, not a whole number", "chain_heads", key)
    elif last >= expected:
        for missing in range(expected, last + 1):
            finding(missing, "deleted (the chain ends early)")
    elif last < expected - 1:
        finding(
            expected - 1,
            f"seq is {last}, the chain ends at seq {expected - 1} (lowered: every later "
            "write to this chain would be refused)",
            "chain_heads",
            key,
        )
    elif last_hash != prev_hash:
        finding(expected - 1, "edited (the chain's last hash changed)")
    return found


def verify(
    repository: SqlRepository,
    *,
    anchor: Anchor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Discrepancy]:
    """Check every row and column of the store against its hash chains.

    The events table is checked row by row (see the module's documentation); the
    current-state tables are compared column by column with what the intact chains replay to.
    A row tierflow cannot read is a finding, never an exception. All tables are read in one
    transaction (a writer running meanwhile does not cause findings). Linear in the store's
    size.

    Args:
        repository: The store.
        anchor: Chain heads saved earlier (see :func:`anchor`): also report each chain that
            no longer holds the row the anchor saw at its end (cut short, rolled back or
            rewritten since).
        progress: Called with (steps done, steps in all) as the work goes on: each student's
            chain is checked, then replayed, so there are two steps a student. A progress
            display's hook (``tierflow audit verify`` draws a bar with it); it must not raise.

    Returns:
        The findings, by table, student and position; empty when nothing was tampered with.
    """
    stored = repository.stored_rows()
    by_student: dict[str, list[ChainRow]] = {}
    found: list[Discrepancy] = []
    for r in stored.events:
        if isinstance(r.student_id, str):
            by_student.setdefault(r.student_id, []).append(r)
        else:
            found.append(
                Discrepancy("", 0, f"student_id is {r.student_id!r}", "events", f"row={r.row}")
            )
    heads: dict[str, tuple[Any, Any]] = {}
    for student, seq, digest in stored.heads:
        heads[str(student)] = (seq, digest)
    broken: set[str] = set()
    students = sorted(set(by_student) | set(heads))
    steps = len(students) + len(by_student)
    for done, student in enumerate(students, 1):
        if progress is not None:
            progress(done, steps)
        chain = by_student.get(student, [])
        chain.sort(key=lambda r: (type(r.seq) is not int, r.seq if type(r.seq) is int else 0))
        problems = _check_chain(student, chain, heads.get(student))
        if problems:
            broken.add(student)
            found.extend(problems)
    if anchor is not None:
        found.extend(_check_anchor(anchor, by_student))
    state = Replayed()
    for done, (student, chain) in enumerate(sorted(by_student.items()), len(students) + 1):
        if progress is not None:
            progress(done, steps)
        if student in broken:
            continue
        for r in chain:
            try:
                ev = _apply(state, r, timelines=False)  # nothing to compare them with: the rows
            except (codec.Unreadable, ValueError, RecursionError) as exc:
                broken.add(student)
                found.append(
                    Discrepancy(
                        student,
                        r.seq,
                        f"not a record tierflow writes ({r.record} row {r.row}): {exc}",
                        "events",
                        _event_key(student, r.seq),
                    )
                )
                break
            wrong = event_report_values(None if ev is None else summarize(ev), r.report)
            if wrong:  # the row is intact; a report reading the column would be misled
                found.append(
                    Discrepancy(
                        student,
                        r.seq,
                        f"a reporting column disagrees with its body ({r.record} row {r.row}): "
                        + "; ".join(wrong),
                        "events",
                        _event_key(student, r.seq),
                    )
                )
    last = {s: len(chain) for s, chain in by_student.items()}
    found.extend(_StateCheck(state, stored, broken, last).run())
    return found


def _check_anchor(saved: Anchor, by_student: Mapping[str, list[ChainRow]]) -> list[Discrepancy]:
    found = []
    for student, (seq, digest) in sorted(saved.heads.items()):
        rows = by_student.get(student, [])
        at = [r for r in rows if r.seq == seq]
        ends = max((r.seq for r in rows if type(r.seq) is int), default=0)
        if not at:
            problem = (
                f"the anchor saw the chain end at seq {seq}; it now ends at seq {ends} "
                "(cut short or rolled back since the anchor)"
                if rows
                else f"the anchor saw a chain of {seq} rows; it is gone"
            )
        elif at[0].hash != digest:
            problem = (
                f"the row at seq {seq} is not the one the anchor saw (its hash changed): "
                "the chain was rewritten since the anchor"
            )
        else:
            continue
        found.append(Discrepancy(student, seq, problem, "events", _event_key(student, seq)))
    return found


class _StateCheck:
    """Compares the current-state tables with the replayed events, column by column."""

    def __init__(
        self, state: Replayed, stored: StoredRows, broken: set[str], last: Mapping[str, int]
    ) -> None:
        self.state = state
        self.stored = stored
        self.broken = broken
        self.last = last
        self.found: list[Discrepancy] = []

    def finding(self, student: object, table: str, key: str, problem: str) -> None:
        sid = student if isinstance(student, str) else ""
        if sid in self.broken:
            return  # its chain is reported already: replaying it proves nothing
        self.found.append(Discrepancy(sid, self.last.get(sid, 0), problem, table, key))

    def run(self) -> list[Discrepancy]:
        self.interventions()
        self.check_ins()
        self.issued()
        return self.found

    def interventions(self) -> None:
        replayed = self.state.interventions
        seen: dict[str, list[str]] = {}
        width = len(QUEUE_COLUMNS)
        for _pos, iid, student, kind, is_open, version, body, *more in self.stored.interventions:
            queue, report = tuple(more[:width]), tuple(more[width:])
            key = f"id={iid}"
            iv = replayed.get(iid) if isinstance(iid, str) else None
            if iv is None:
                self.finding(student, "interventions", key, "no event added it")
                continue
            seen.setdefault(iv.student_id, []).append(iv.id)
            wrong = intervention_columns(iv, iid, student, kind, is_open, version)
            wrong += queue_columns(iv, queue)
            wrong += iv_report_values(iv, report)
            if is_open not in (0, 1):
                wrong.append(f"is_open is {is_open!r}, not a boolean")
            try:
                if codec.read_intervention(body) != iv:
                    wrong.append("its body differs from the replayed events")
            except codec.Unreadable as exc:
                wrong.append(f"its body cannot be read: {exc}")
            if wrong:
                self.finding(iv.student_id, "interventions", key, "; ".join(wrong))
        order: dict[str, list[str]] = {}
        for iv in replayed.values():
            order.setdefault(iv.student_id, []).append(iv.id)
        for student, ids in order.items():
            present = seen.get(student, [])
            kept = set(present)
            missing = [i for i in ids if i not in kept]
            for iid in missing:
                self.finding(student, "interventions", f"id={iid}", "deleted (the events add it)")
            if not missing and present != ids:
                self.finding(
                    student,
                    "interventions",
                    f"student_id={student}",
                    f"out of order (pos gives {', '.join(present)}; the events {', '.join(ids)})",
                )

    def check_ins(self) -> None:
        stored: dict[Any, list[Any]] = {}
        for _pos, iid, body in self.stored.check_ins:
            stored.setdefault(iid, []).append(body)
        replayed = self.state.check_ins
        owners = {iid: student for _pos, iid, student, *_ in self.stored.interventions}
        for iid in sorted(set(stored) | set(replayed), key=str):
            iv = self.state.interventions.get(iid) if isinstance(iid, str) else None
            key = f"intervention_id={iid}"
            if iv is None:
                self.finding(
                    owners.get(iid, ""),
                    "check_ins",
                    key,
                    "a check-in for an intervention no event adds",
                )
                continue
            student = iv.student_id
            bodies, expected = stored.get(iid, []), replayed.get(iid, [])
            for n, body in enumerate(bodies):
                try:
                    got: CheckIn | None = codec.read_check_in(body)
                except codec.Unreadable as exc:
                    self.finding(student, "check_ins", key, f"check-in {n + 1}: {exc}")
                    got = None
                if got is not None and (n >= len(expected) or got != expected[n]):
                    self.finding(
                        student,
                        "check_ins",
                        key,
                        f"check-in {n + 1} of {len(bodies)} differs from the replayed events "
                        f"(which hold {len(expected)})",
                    )
            if len(bodies) < len(expected):
                self.finding(
                    student,
                    "check_ins",
                    key,
                    f"{len(expected) - len(bodies)} of its {len(expected)} check-ins deleted",
                )

    def issued(self) -> None:
        replayed = self.state.issued
        stored: dict[tuple[Any, Any], Any] = {}
        for student, step, on in self.stored.issued:
            stored[student, step] = on
            key = f"student_id={student}, step={step}"
            expected = replayed.get(student, {}).get(step) if isinstance(student, str) else None
            when = _date(on)
            if expected is None:
                self.finding(student, "issued", key, "no event of the student's chain issued it")
            elif when != expected:
                self.finding(student, "issued", key, f"'on' is {on!r}, the events say {expected}")
        for student, steps in replayed.items():
            for step in steps:
                if (student, step) not in stored:
                    self.finding(
                        student,
                        "issued",
                        f"student_id={student}, step={step}",
                        "deleted (the events issue it)",
                    )


def _date(value: object) -> dt.date | None:
    """A date column as the driver gives it (a date, or ISO text on SQLite)."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None
