"""The outbox: every family notice rendered, and what became of it, read from the store.

Each notice recorded by :meth:`tierflow.workflow.Engine.record_notice` is one item, with the
last delivery status its host reported (``rendered`` before any): what a clerk reads to see
which letters came back and which emails bounced. It is read with one call
(:meth:`tierflow.workflow.Repository.notice_events`) and written as text, JSON or CSV the one
way every export writes them (formula injection neutralised).

>>> import datetime as dt
>>> from tierflow.workflow import InMemoryRepository, WorkflowEvent
>>> repo = InMemoryRepository()
>>> ev = repo.append(WorkflowEvent(0, dt.date(2025, 10, 6), "s1", "notice_rendered",
...     detail={"notice": "nudge", "for": "family-call", "channel": "letter", "language": "en"}))
>>> [(i.student_id, i.notice, i.status) for i in outbox(repo).items]
[('s1', 'nudge', 'rendered')]
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from tierflow.errors import suggest
from tierflow.report._export import Cell, csv_text, json_text
from tierflow.workflow import DELIVERY_STATUSES, NoticeRecord, Repository, read_notices

__all__ = ["OUTBOX_STATUSES", "Outbox", "OutboxItem", "outbox"]

OUTBOX_STATUSES = ("rendered", *DELIVERY_STATUSES)
"""A notice's status in the outbox: ``rendered`` (nothing reported yet) or its last delivery's."""


@dataclass(frozen=True)
class OutboxItem:
    """One notice in the outbox.

    Attributes:
        student_id: The student.
        notice_seq: The ``notice_rendered`` event (what ``tierflow delivery`` names).
        on: The notice's date.
        notice: The notice's id (``ca-first-truancy-notice``).
        for_: The legal step or intervention it was for (``not1``).
        channel: ``letter``, ``email`` or ``sms``.
        language: The language it was rendered in.
        status: One of :data:`OUTBOX_STATUSES`.
        status_on: The date of its last delivery report (the notice's date before any).
        reports: How many delivery reports were recorded.
        note: The last report's note.
        school_id: The school the notice's record names (``school_id`` in its detail), if any.
    """

    student_id: str
    notice_seq: int
    on: dt.date
    notice: str
    for_: str
    channel: str
    language: str
    status: str
    status_on: dt.date
    reports: int
    note: str
    school_id: str | None

    @classmethod
    def of(cls, rec: NoticeRecord) -> OutboxItem:
        """The item of a notice record."""
        school = (rec.detail or {}).get("school_id")
        return cls(
            rec.student_id,
            rec.seq,
            rec.on,
            rec.notice,
            rec.for_,
            rec.channel,
            rec.language,
            rec.status,
            rec.status_on,
            len(rec.deliveries),
            rec.deliveries[-1].note if rec.deliveries else "",
            school if isinstance(school, str) else None,
        )


_COLUMNS = tuple(f.name for f in dataclasses.fields(OutboxItem))


@dataclass(frozen=True)
class Outbox:
    """The notices of a store, with their delivery status, oldest first.

    Attributes:
        status: The status it was read for (None: any).
        school: The school it was read for (None: any).
        items: The notices, by date, then student, then event.
    """

    status: str | None
    school: str | None
    items: tuple[OutboxItem, ...]

    def counts(self) -> dict[str, int]:
        """How many notices have each status (every status named, in order)."""
        counts = dict.fromkeys(OUTBOX_STATUSES, 0)
        for i in self.items:
            counts[i.status] = counts.get(i.status, 0) + 1
        return counts

    def summary(self) -> str:
        """One line: how many notices, and how many of each status."""
        counts = ", ".join(f"{k} {n}" for k, n in self.counts().items())
        which = ", ".join(
            f"{name} {value}"
            for name, value in (("status", self.status), ("school", self.school))
            if value is not None
        )
        n = len(self.items)
        return f"outbox ({which or 'every notice'}): {n} notice{'s' if n != 1 else ''}: {counts}"

    def to_json(self) -> str:
        """The outbox as indented JSON: its filters, counts per status and items."""
        data = {
            "status": self.status,
            "school": self.school,
            "counts": self.counts(),
            "items": [
                {
                    name: value.isoformat() if isinstance(value, dt.date) else value
                    for name, value in zip(_COLUMNS, dataclasses.astuple(i), strict=True)
                }
                for i in self.items
            ],
        }
        return json_text(data)

    def to_csv(self) -> str:
        """One row a notice, with a header; a text cell a spreadsheet would run is neutralised.

        The event number and the count of reports are numbers; every other value is text.
        """
        rows: list[tuple[Cell, ...]] = [_COLUMNS]
        rows += [tuple(dataclasses.astuple(i)) for i in self.items]
        return csv_text(rows)

    def to_text(self) -> str:
        """For people: the summary, then one line a notice."""
        lines = [self.summary()]
        for i in self.items:
            when = f" {i.status_on}" if i.reports else ""
            note = f": {i.note}" if i.note else ""
            lines.append(
                f"  {i.on}  {i.student_id}  {i.notice} for {i.for_} ({i.channel}, {i.language};"
                f" notice {i.notice_seq})  {i.status}{when}{note}"
            )
        return "\n".join(lines) + "\n"


def outbox(
    repository: Repository,
    *,
    status: str | Iterable[str] | None = None,
    school: str | None = None,
    students: Iterable[str] | None = None,
) -> Outbox:
    """The notices of a store with their last delivery status, oldest first.

    Args:
        repository: The store.
        status: Only notices whose status is this one (or one of these): ``returned`` lists
            the letters that came back; None: every notice.
        school: Only notices whose record names this school (``school_id`` in the detail
            the producer records).
        students: Only these students' notices (default: every student's).

    Raises:
        ValueError: An unknown status (with a did-you-mean).
    """
    wanted: set[str] | None = None
    if status is not None:
        wanted = {status} if isinstance(status, str) else set(status)
        for s in sorted(wanted):
            if s not in OUTBOX_STATUSES:
                hint = suggest(s, OUTBOX_STATUSES) or f"use one of {', '.join(OUTBOX_STATUSES)}"
                raise ValueError(f"unknown notice status {s!r}; {hint}")
    items = [
        OutboxItem.of(rec)
        for events in repository.notice_events(students).values()
        for rec in read_notices(events)
    ]
    items = [
        i
        for i in items
        if (wanted is None or i.status in wanted) and (school is None or i.school_id == school)
    ]
    items.sort(key=lambda i: (i.on, i.student_id, i.notice_seq))
    label = None if status is None else (status if isinstance(status, str) else ",".join(status))
    return Outbox(label, school, tuple(items))
