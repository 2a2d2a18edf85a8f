"""Work queues: what one owner, role or school has to do today, read from the store.

A queue lists the open interventions the store selects for an owner, a role or a school
(:meth:`tierflow.workflow.Repository.work_items`, indexed columns in SQL), each in one bucket:

* ``overdue``: its follow-up date is before the queue's date (aged in school days past it);
* ``due_today``: its follow-up is on the queue's date;
* ``upcoming``: its follow-up comes within ``upcoming_days`` school days after the date;
* ``unassigned``: nobody owns it (every eligible owner was full, or there was none);
* ``legal_awaiting_evidence``: a legal step of a listed student that the engine reported due
  and that was neither issued nor withdrawn (issuing it documents the notice), or an issued
  step whose grounds a correction removed and whose owner has not documented yet that it was
  rescinded or the family notified (an open correction flag);
* ``returned_notice``: a notice to a listed student's family came back (``returned``) or was
  refused (``bounced``) and neither it nor a later notice for the same step was delivered
  since: update the address or make a home visit (:mod:`tierflow.report._evidence`). Its
  count is shown only when it holds an item, so a store without an outbox reads as before.

An intervention without a cadence (a SART meeting, a home visit) has no follow-up date: it is
due from the day it opened until it is closed. Legal steps are read from the students' events
with the legal aging the packet and the compliance report use
(:func:`tierflow.report._aging.legal_aging`), on the calendar of the school each step's
``legal_due`` event names. The queue needs the store alone (no rule set): a step is named by
its id unless ``labels`` are given.

This lives with the reports, not in :mod:`tierflow.workflow`: it reuses their legal aging and
their one way of writing CSV and JSON (formula injection neutralised), which sit a layer above
the workflow.

>>> import datetime as dt
>>> from tierflow.workflow import InMemoryRepository, Intervention
>>> repo = InMemoryRepository()
>>> repo.add(Intervention("iv-1", "s1", "lincoln", "weekly-checkin", 2, "mentor", "ms-lee",
...                       "active", dt.date(2025, 9, 1), dt.date(2025, 10, 1), None, None))
>>> queue = work_queue(repo, dt.date(2025, 10, 6), owner="ms-lee")
>>> [(i.bucket, i.student_id, i.due_on, i.age_school_days) for i in queue.items]
[('overdue', 's1', datetime.date(2025, 10, 1), 3)]
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.report._aging import correction_flags, legal_aging
from tierflow.report._evidence import ACT_ON_RETURN, failed_notices, notices_as_of
from tierflow.report._export import Cell, csv_text, json_text
from tierflow.workflow import CaseSummary, Intervention, Repository, SchoolDays, read_notices

__all__ = [
    "QUEUE_BUCKETS",
    "QUEUE_SORTS",
    "SchoolDaysBySchool",
    "WorkItem",
    "WorkQueue",
    "case_items",
    "work_queue",
]

QUEUE_BUCKETS = ("overdue", "due_today", "upcoming", "unassigned", "legal_awaiting_evidence")
"""The buckets of a work queue, in the order a queue lists them."""

_SHOWN_IF_ANY = ("returned_notice",)
"""Buckets after :data:`QUEUE_BUCKETS`, counted only when they hold an item: added with the
outbox, so a queue of a store without one reads (and exports) as it always did."""
_ALL_BUCKETS = (*QUEUE_BUCKETS, *_SHOWN_IF_ANY)

QUEUE_SORTS = ("bucket", "due", "age", "student", "tier")
"""How a queue's items may be sorted (:meth:`WorkQueue.sorted`)."""

_LATEST = dt.date.max


@dataclass(frozen=True)
class WorkItem:
    """One thing to do in a work queue.

    Attributes:
        bucket: One of :data:`QUEUE_BUCKETS`, or ``returned_notice``.
        student_id: The student.
        school_id: The intervention's school, or the school the legal step's clock runs on.
        item: The catalogue id (``weekly-checkin``), or the legal step id.
        label: What to show for it (the step's label, when the queue was given labels).
        intervention_id: The intervention (None for a legal step).
        tier_level: The intervention's tier level (None for a legal step).
        owner: Its owner (None: unassigned; for a legal step due, the student's, not a
            person's; for a correction flag, who issued the step).
        owner_role: The role that owns it (None for a legal step).
        state: The lifecycle state, or ``due``, ``overdue`` (past its deadline) or
            ``flagged`` for a legal step.
        due_on: The follow-up date (the opening date without a cadence), the day a legal step
            came due, or the day a step was flagged.
        age_school_days: School days from ``due_on`` to the queue's date: 0 on the day,
            negative for a follow-up still to come (-2: in two school days).
        deadline: A legal step's deadline (None: none, or not a legal step).
    """

    bucket: str
    student_id: str
    school_id: str | None
    item: str
    label: str
    intervention_id: str | None
    tier_level: int | None
    owner: str | None
    owner_role: str | None
    state: str
    due_on: dt.date | None
    age_school_days: int | None
    deadline: dt.date | None = None


_SORT_KEYS: dict[str, Callable[[WorkItem], tuple[Any, ...]]] = {
    "bucket": lambda i: (_ALL_BUCKETS.index(i.bucket), i.due_on or _LATEST, i.student_id, i.item),
    "due": lambda i: (i.due_on or _LATEST, _ALL_BUCKETS.index(i.bucket), i.student_id, i.item),
    "age": lambda i: (
        -(i.age_school_days if i.age_school_days is not None else -(10**9)),
        i.due_on or _LATEST,
        i.student_id,
        i.item,
    ),
    "student": lambda i: (i.student_id, i.due_on or _LATEST, i.item),
    "tier": lambda i: (
        -(i.tier_level if i.tier_level is not None else -1),
        i.due_on or _LATEST,
        i.student_id,
        i.item,
    ),
}

_COLUMNS = tuple(f.name for f in dataclasses.fields(WorkItem))


@dataclass(frozen=True)
class WorkQueue:
    """A work queue as of a date, for an owner, a role or a school (or all of them).

    Attributes:
        as_of: The queue's date.
        owner: The owner it was read for (None: any).
        role: The role (None: any).
        school: The school (None: any).
        upcoming_days: School days ahead that ``upcoming`` covers.
        items: The items, in the order asked for (by bucket, then due date, by default).
    """

    as_of: dt.date
    owner: str | None
    role: str | None
    school: str | None
    upcoming_days: int
    items: tuple[WorkItem, ...]

    def bucket(self, name: str) -> tuple[WorkItem, ...]:
        """The items of one bucket, in the queue's order."""
        return tuple(i for i in self.items if i.bucket == name)

    def counts(self) -> dict[str, int]:
        """How many items each bucket holds (every bucket named, in order).

        ``returned_notice`` is named only when it holds an item.
        """
        counts = dict.fromkeys(_ALL_BUCKETS, 0)
        for i in self.items:
            counts[i.bucket] += 1
        return {k: n for k, n in counts.items() if n or k not in _SHOWN_IF_ANY}

    def sorted(self, by: str = "bucket") -> WorkQueue:
        """The queue with its items sorted: one of :data:`QUEUE_SORTS`.

        ``bucket`` (the default: the buckets in order, each by due date), ``due`` (earliest
        first), ``age`` (the longest waiting first), ``student``, ``tier`` (highest first).
        Ties go by due date, then student, then item.

        Raises:
            ValueError: An unknown sort.
        """
        key = _SORT_KEYS.get(by)
        if key is None:
            raise ValueError(f"unknown sort {by!r}; use one of {', '.join(QUEUE_SORTS)}")
        return dataclasses.replace(self, items=tuple(sorted(self.items, key=key)))

    def summary(self) -> str:
        """One line: whose queue, and how many items each bucket holds."""
        whose = ", ".join(
            f"{name} {value}"
            for name, value in (("owner", self.owner), ("role", self.role), ("school", self.school))
            if value is not None
        )
        counts = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in self.counts().items())
        return f"{self.as_of} ({whose or 'everyone'}): {counts}"

    def to_json(self) -> str:
        """The queue as indented JSON: its filters, counts per bucket and items."""
        data = {
            "as_of": self.as_of.isoformat(),
            "owner": self.owner,
            "role": self.role,
            "school": self.school,
            "upcoming_days": self.upcoming_days,
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
        """One row an item, with a header; a text cell a spreadsheet would run is neutralised.

        Cells are written as :func:`~tierflow.report._export.csv_text` writes them: text
        quoted, and a single quote before text a spreadsheet would read as a formula
        (docs/exports.md). Ages are numbers (``-2``, computed here, stays a number); every
        value from the records is text, the tier level too.
        """
        rows: list[tuple[Cell, ...]] = [_COLUMNS]
        tier = _COLUMNS.index("tier_level")
        for i in self.items:
            row: list[Cell] = list(dataclasses.astuple(i))
            # The tier level is a record's value: written as text, as every value from the
            # records is (only what the queue computes, the age, is a number).
            row[tier] = None if i.tier_level is None else str(i.tier_level)
            rows.append(tuple(row))
        return csv_text(rows)

    def to_text(self) -> str:
        """For people: a heading a bucket, one line an item."""
        lines = [self.summary()]
        for name in _ALL_BUCKETS:
            mine = self.bucket(name)
            if not mine:
                continue
            lines.append(f"\n{name.replace('_', ' ')} ({len(mine)})")
            for i in mine:
                age = ""
                if i.age_school_days is not None and i.age_school_days > 0:
                    age = f", {_days(i.age_school_days)} ago"
                elif i.age_school_days is not None and i.age_school_days < 0:
                    age = f", in {_days(-i.age_school_days)}"
                who = i.owner if i.owner is not None else "-"
                what = i.intervention_id or i.state
                lines.append(f"  {i.due_on or '-'}  {i.student_id}  {i.label} ({what})  {who}{age}")
        return "\n".join(lines) + "\n"


def _days(n: int) -> str:
    return f"{n} school day{'s' if n != 1 else ''}"


def work_queue(
    repository: Repository,
    as_of: dt.date,
    *,
    owner: str | None = None,
    role: str | None = None,
    school: str | None = None,
    buckets: Iterable[str] = _ALL_BUCKETS,
    upcoming_days: int = 5,
    calendars: Mapping[str, SchoolCalendar] | None = None,
    labels: Mapping[str, str] | None = None,
    since: dt.date | None = None,
    sort: str = "bucket",
) -> WorkQueue:
    """The work queue of an owner, a role or a school as of a date, read from a store.

    Args:
        repository: The store.
        as_of: The queue's date.
        owner: Only this staff member's interventions (an owner has no unassigned ones).
        role: Only interventions owned by this role (``mentor``).
        school: Only interventions at this school.
        buckets: The buckets wanted (default: all of :data:`QUEUE_BUCKETS` and
            ``returned_notice``).
        upcoming_days: How many school days ahead ``upcoming`` looks.
        calendars: School calendars by id, to count school days on (Monday to Friday for a
            school without one).
        labels: Legal step labels by id (default: the ids).
        since: Leave out legal steps reported due before this day (the school year's first
            day, say); default: every step still due.
        sort: One of :data:`QUEUE_SORTS`.

    Raises:
        ValueError: An unknown bucket or sort, or a negative ``upcoming_days``.
    """
    wanted = set(buckets)
    unknown = sorted(wanted - set(_ALL_BUCKETS))
    if unknown:
        raise ValueError(f"unknown bucket {unknown[0]!r}; use {', '.join(_ALL_BUCKETS)}")
    if sort not in _SORT_KEYS:
        raise ValueError(f"unknown sort {sort!r}; use one of {', '.join(QUEUE_SORTS)}")
    if upcoming_days < 0:
        raise ValueError(f"upcoming_days must be 0 or more, got {upcoming_days}")
    cals = calendars or {}
    school_days = SchoolDaysBySchool(cals)
    open_ivs = repository.work_items(owner=owner, role=role, school=school)
    items = case_items(open_ivs, as_of, wanted, upcoming_days, school_days)
    if "legal_awaiting_evidence" in wanted:
        students = [iv.student_id for iv in open_ivs]
        items += _legal_items(repository, students, as_of, cals, labels or {}, since)
    if "returned_notice" in wanted:
        students = [iv.student_id for iv in open_ivs]
        items += _notice_items(repository, students, as_of, school_days, labels or {})
    return WorkQueue(
        as_of, owner, role, school, upcoming_days, tuple(sorted(items, key=_SORT_KEYS[sort]))
    )


class SchoolDaysBySchool:
    """Each school's :class:`SchoolDays`, made once (Monday to Friday without a calendar)."""

    def __init__(self, calendars: Mapping[str, SchoolCalendar]) -> None:
        self.calendars = calendars
        self.days: dict[str | None, SchoolDays] = {}

    def __call__(self, school_id: str | None) -> SchoolDays:
        found = self.days.get(school_id)
        if found is None:
            found = self.days[school_id] = SchoolDays(self.calendars.get(school_id or ""))
        return found


def case_items(
    cases: Iterable[Intervention | CaseSummary],
    as_of: dt.date,
    buckets: Iterable[str],
    upcoming_days: int,
    school_days: Callable[[str | None], SchoolDays],
) -> list[WorkItem]:
    """The queue items of open interventions (or their summaries) in these buckets.

    Args:
        cases: Open interventions, or their summaries (``Repository.cases``).
        as_of: The queue's date.
        buckets: The buckets wanted.
        upcoming_days: How many school days ahead ``upcoming`` looks.
        school_days: Each school's school days, by school id.
    """
    wanted = set(buckets)
    return [
        item
        for iv in cases
        if (item := _intervention_item(iv, as_of, upcoming_days, school_days(iv.school_id)))
        is not None
        and item.bucket in wanted
    ]


def _intervention_item(
    iv: Intervention | CaseSummary, as_of: dt.date, upcoming_days: int, days: SchoolDays
) -> WorkItem | None:
    """The queue item of an open intervention, or None if nothing is due within the window."""
    due = iv.next_follow_up or iv.opened_on
    age = days.between(due, as_of) if due <= as_of else -days.between(as_of, due)
    if iv.owner is None:
        bucket = "unassigned"
    elif due < as_of:
        bucket = "overdue"
    elif due == as_of:
        bucket = "due_today"
    elif -age <= upcoming_days:
        bucket = "upcoming"
    else:
        return None
    return WorkItem(
        bucket,
        iv.student_id,
        iv.school_id,
        iv.intervention,
        iv.intervention,
        iv.id,
        iv.tier_level,
        iv.owner,
        iv.owner_role,
        iv.state,
        due,
        age,
    )


def _legal_items(
    repository: Repository,
    students: list[str],
    as_of: dt.date,
    calendars: Mapping[str, SchoolCalendar],
    labels: Mapping[str, str],
    since: dt.date | None,
) -> list[WorkItem]:
    """The legal steps awaiting evidence of these students, and their open correction flags."""
    out = []
    first = since or dt.date.min
    for sid, events in repository.legal_events(students).items():
        schools = {
            str(e.detail.get("step")): e.detail.get("school_id")
            for e in events
            if e.kind == "legal_due" and e.detail is not None
        }
        for a in legal_aging(
            sid, events, labels, as_of=as_of, since=first, calendars=calendars, pending=True
        ):
            if a.issued_on is not None:
                continue  # issued: documented, nothing awaits
            school = schools.get(a.step)
            out.append(
                WorkItem(
                    "legal_awaiting_evidence",
                    sid,
                    school if isinstance(school, str) else None,
                    a.step,
                    a.label,
                    None,
                    None,
                    None,
                    None,
                    a.status,
                    a.due_on,
                    a.waited_school_days,
                    a.deadline,
                )
            )
        for f in correction_flags(sid, events, labels, as_of=as_of):
            if not f.open:
                continue
            flagged = f.flagged_on if isinstance(f.flagged_on, dt.date) else None
            out.append(
                WorkItem(
                    "legal_awaiting_evidence",
                    sid,
                    None,
                    f.step,
                    f.label,
                    None,
                    None,
                    f.owner or None,
                    None,
                    "flagged",
                    flagged,
                    None if flagged is None else SchoolDays(None).between(flagged, as_of),
                    None,
                )
            )
    return out


def _notice_items(
    repository: Repository,
    students: list[str],
    as_of: dt.date,
    school_days: Callable[[str | None], SchoolDays],
    labels: Mapping[str, str],
) -> list[WorkItem]:
    """The notices of these students that came back with nothing delivered since."""
    out = []
    for sid, events in repository.notice_events(students).items():
        for n, failure in failed_notices(notices_as_of(read_notices(events), as_of)):
            school = (n.detail or {}).get("school_id")
            school_id = school if isinstance(school, str) else None
            out.append(
                WorkItem(
                    "returned_notice",
                    sid,
                    school_id,
                    n.notice,
                    f"{n.notice} for {labels.get(n.for_, n.for_)}: {ACT_ON_RETURN}",
                    None,
                    None,
                    None,
                    None,
                    failure.status,
                    failure.on,
                    school_days(school_id).between(failure.on, as_of),
                    None,
                )
            )
    return out
