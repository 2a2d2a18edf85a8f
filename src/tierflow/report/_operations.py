"""Operations: per school, who carries how many cases against their limit, and what is waiting.

:func:`operations` reads the open interventions' columns once (``Repository.cases``) and sorts
them into the work queue's buckets (:func:`tierflow.report._queue.case_items`: the overdue
follow-ups, aged in school days on each school's calendar, and the cases nobody owns), and the
legal steps of every student with one
through the legal aging the packet and the queue use (:func:`tierflow.report._aging.legal_aging`),
and sets them beside the roster (:class:`tierflow.workflow.Roster`, read from the staff file by
:func:`tierflow.runner.read_staff`):

- **caseload per owner**: open interventions each staff member owns, against their
  ``caseload_limit``; staff with no case are listed (0), and an owner the store names who is
  not on the roster is listed with no limit;
- **caseload per role**: open interventions of the role at the school, owned and unowned,
  against the sum of the limits of the school's staff filling the role (a member who fills two
  roles counts in both: their own line is the limit that binds);
- **overdue follow-ups**: how many, and the oldest's age in school days past its date;
- **unassigned cases**;
- **aging legal steps**: steps reported due and neither issued nor withdrawn, how many are past
  their deadline, and the longest wait in school days.

An intervention is counted at its own school (``school_id``), an owner at their roster
school (or, off the roster, at the school of their cases). A legal step is counted at the
school its ``legal_due`` event names, else at the school of the student's open cases.

>>> import datetime as dt
>>> from tierflow.workflow import InMemoryRepository, Intervention, Roster, StaffMember
>>> repo = InMemoryRepository()
>>> repo.add(Intervention("iv-1", "s1", "lincoln", "weekly-checkin", 2, "mentor", "ms-lee",
...                       "active", dt.date(2025, 9, 1), dt.date(2025, 10, 1), None, None))
>>> roster = Roster([StaffMember("ms-lee", "lincoln", ("mentor",), caseload_limit=2)])
>>> ops = operations(repo, roster, as_of=dt.date(2025, 10, 6))
>>> (school,) = ops.schools
>>> [(o.owner, o.open_cases, o.limit) for o in school.owners], school.overdue
([('ms-lee', 1, 2)], 1)
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.report._aging import LegalAging, legal_aging
from tierflow.report._export import Cell, csv_text, json_text
from tierflow.report._gc import pauses_collection
from tierflow.report._queue import SchoolDaysBySchool, case_items
from tierflow.workflow import Repository, Roster

__all__ = ["LegalWait", "Operations", "OwnerLoad", "RoleLoad", "SchoolOperations", "operations"]

_EVERY_FOLLOW_UP = 10**6
"""School days ahead that makes a work queue's ``upcoming`` bucket hold every later follow-up."""


@dataclass(frozen=True)
class OwnerLoad:
    """One staff member's open cases against their limit.

    Attributes:
        owner: The staff id.
        name: Their name on the roster ("" off it).
        roles: The roles they fill on the roster (empty off it).
        open_cases: Open interventions they own.
        limit: Their ``caseload_limit`` (None: not on the roster).
        overdue: How many of their cases have a follow-up past due.
    """

    owner: str
    name: str
    roles: tuple[str, ...]
    open_cases: int
    limit: int | None
    overdue: int

    @property
    def over_limit(self) -> bool:
        """More open cases than their limit (an override may put someone over)."""
        return self.limit is not None and self.open_cases > self.limit


@dataclass(frozen=True)
class RoleLoad:
    """A role's open cases at a school against the capacity of the staff who fill it.

    Attributes:
        role: The role (``mentor``).
        staff: Staff of the school who fill it.
        capacity: The sum of their caseload limits.
        open_cases: Open interventions of the role at the school with an owner.
        unassigned: Open interventions of the role at the school with none.
    """

    role: str
    staff: int
    capacity: int
    open_cases: int
    unassigned: int


@dataclass(frozen=True)
class LegalWait:
    """A legal step due and not yet issued (or withdrawn), with how long it has waited.

    Attributes:
        student_id: The student.
        step: The step id.
        due_on: The day the engine reported it due.
        deadline: Its deadline (None: the step has none).
        waited_school_days: School days from ``due_on`` to the report's date.
        late_school_days: School days past the deadline (0 or None when not late).
    """

    student_id: str
    step: str
    due_on: dt.date | None
    deadline: dt.date | None
    waited_school_days: int | None
    late_school_days: int | None

    @property
    def overdue(self) -> bool:
        """Past its deadline."""
        return bool(self.late_school_days)


@dataclass(frozen=True)
class SchoolOperations:
    """One school's caseloads and waiting work.

    Attributes:
        school_id: The school (None: cases or steps whose records name none).
        owners: Each owner's load, by staff id.
        roles: Each role's load, by role.
        open_cases: Open interventions at the school.
        overdue: Of them, those with an owner and a follow-up past due.
        oldest_overdue_school_days: The oldest overdue follow-up's age (None: none overdue).
        unassigned: Open interventions at the school that nobody owns.
        legal: The legal steps waiting, the longest wait first.
    """

    school_id: str | None
    owners: tuple[OwnerLoad, ...]
    roles: tuple[RoleLoad, ...]
    open_cases: int
    overdue: int
    oldest_overdue_school_days: int | None
    unassigned: int
    legal: tuple[LegalWait, ...] = field(default=())

    @property
    def legal_overdue(self) -> int:
        """Legal steps past their deadline."""
        return sum(1 for w in self.legal if w.overdue)

    @property
    def oldest_legal_school_days(self) -> int | None:
        """The longest a waiting legal step has waited (None: none waits)."""
        waits = [w.waited_school_days for w in self.legal if w.waited_school_days is not None]
        return max(waits, default=None)


@dataclass(frozen=True)
class Operations:
    """Caseloads and waiting work per school as of a date.

    Attributes:
        as_of: The date.
        schools: One entry a school, by id (records without a school last).
    """

    as_of: dt.date
    schools: tuple[SchoolOperations, ...]

    def summary(self) -> str:
        """One line: totals over the schools."""
        s = self.schools
        over = sum(1 for x in s for o in x.owners if o.over_limit)
        return (
            f"{self.as_of}: {len(s)} schools, {sum(x.open_cases for x in s)} open cases, "
            f"{sum(x.overdue for x in s)} overdue, {sum(x.unassigned for x in s)} unassigned, "
            f"{sum(len(x.legal) for x in s)} legal steps waiting "
            f"({sum(x.legal_overdue for x in s)} past deadline), {over} owners over their limit"
        )

    def to_json(self) -> str:
        """The report as indented JSON."""
        data = {
            "as_of": self.as_of.isoformat(),
            "schools": [
                {
                    "school_id": x.school_id,
                    "open_cases": x.open_cases,
                    "overdue": x.overdue,
                    "oldest_overdue_school_days": x.oldest_overdue_school_days,
                    "unassigned": x.unassigned,
                    "legal_waiting": len(x.legal),
                    "legal_overdue": x.legal_overdue,
                    "oldest_legal_school_days": x.oldest_legal_school_days,
                    "owners": [
                        {
                            "owner": o.owner,
                            "name": o.name,
                            "roles": list(o.roles),
                            "open_cases": o.open_cases,
                            "limit": o.limit,
                            "over_limit": o.over_limit,
                            "overdue": o.overdue,
                        }
                        for o in x.owners
                    ],
                    "roles": [
                        {
                            "role": r.role,
                            "staff": r.staff,
                            "capacity": r.capacity,
                            "open_cases": r.open_cases,
                            "unassigned": r.unassigned,
                        }
                        for r in x.roles
                    ],
                    "legal": [
                        {
                            "student_id": w.student_id,
                            "step": w.step,
                            "due_on": _iso(w.due_on),
                            "deadline": _iso(w.deadline),
                            "waited_school_days": w.waited_school_days,
                            "late_school_days": w.late_school_days,
                        }
                        for w in x.legal
                    ],
                }
                for x in self.schools
            ],
        }
        return json_text(data)

    def to_csv(self) -> str:
        """One row a school, owner, role and waiting legal step (``line`` says which).

        Counts and ages are numbers; ids, names and roles are text (a formula neutralised).
        """
        header: list[Cell] = [
            "school_id",
            "line",
            "id",
            "roles",
            "open_cases",
            "limit",
            "overdue",
            "oldest_overdue_school_days",
            "unassigned",
            "legal_waiting",
            "legal_overdue",
            "oldest_legal_school_days",
        ]
        rows: list[list[Cell]] = [header]
        for x in self.schools:
            rows.append(
                [
                    x.school_id,
                    "school",
                    x.school_id,
                    None,
                    x.open_cases,
                    None,
                    x.overdue,
                    x.oldest_overdue_school_days,
                    x.unassigned,
                    len(x.legal),
                    x.legal_overdue,
                    x.oldest_legal_school_days,
                ]
            )
            for r in x.roles:
                rows.append(
                    [
                        x.school_id,
                        "role",
                        r.role,
                        r.role,
                        r.open_cases,
                        r.capacity,
                        None,
                        None,
                        r.unassigned,
                        None,
                        None,
                        None,
                    ]
                )
            for o in x.owners:
                rows.append(
                    [
                        x.school_id,
                        "owner",
                        o.owner,
                        ";".join(o.roles),
                        o.open_cases,
                        o.limit,
                        o.overdue,
                        None,
                        None,
                        None,
                        None,
                        None,
                    ]
                )
            for w in x.legal:
                rows.append(
                    [
                        x.school_id,
                        "legal",
                        f"{w.student_id} {w.step}",
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        1,
                        1 if w.overdue else 0,
                        w.waited_school_days,
                    ]
                )
        return csv_text(rows)

    def to_text(self) -> str:
        """For people: a block a school, a line an owner, a role and a legal step."""
        lines = [self.summary()]
        for x in self.schools:
            oldest = (
                f", oldest {x.oldest_overdue_school_days} school days"
                if x.oldest_overdue_school_days is not None
                else ""
            )
            lines.append(
                f"\n{x.school_id or '(no school recorded)'}: {x.open_cases} open, "
                f"{x.overdue} overdue{oldest}, {x.unassigned} unassigned, "
                f"{len(x.legal)} legal steps waiting ({x.legal_overdue} past deadline)"
            )
            for r in x.roles:
                lines.append(
                    f"  role {r.role}: {r.open_cases} of {r.capacity} ({r.staff} staff), "
                    f"{r.unassigned} unassigned"
                )
            for o in x.owners:
                limit = "no limit (not on the roster)" if o.limit is None else f"{o.limit}"
                flag = "  OVER" if o.over_limit else ""
                lines.append(f"  {o.owner}: {o.open_cases} of {limit}, {o.overdue} overdue{flag}")
            for w in x.legal:
                late = f", {w.late_school_days} past deadline" if w.overdue else ""
                lines.append(
                    f"  legal {w.step} of {w.student_id}: due {w.due_on}, "
                    f"waited {w.waited_school_days} school days{late}"
                )
        return "\n".join(lines) + "\n"


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


@pauses_collection
def operations(
    repository: Repository,
    roster: Roster,
    *,
    as_of: dt.date,
    calendars: Mapping[str, SchoolCalendar] | None = None,
) -> Operations:
    """Caseloads per owner and role, overdue follow-ups, unassigned cases and legal aging.

    Args:
        repository: The store.
        roster: The staff who own interventions, with their limits.
        as_of: The report's date: follow-ups before it are overdue; legal steps are aged to it.
        calendars: School calendars by id, to count school days on (Monday to Friday for a
            school without one).
    """
    # Every open intervention is one queue item when "upcoming" reaches past any follow-up:
    # one read of the store's columns gives the caseloads, and the queue's buckets and ages.
    items = case_items(
        repository.cases(open_only=True),
        as_of,
        ("overdue", "due_today", "upcoming", "unassigned"),
        _EVERY_FOLLOW_UP,
        SchoolDaysBySchool(calendars or {}),
    )
    school_of_owner = {m.id: m.school_id for m in roster.staff.values()}
    owned: Counter[str] = Counter()
    cases: Counter[str | None] = Counter()
    role_owned: Counter[tuple[str | None, str]] = Counter()
    overdue: Counter[str | None] = Counter()
    owner_overdue: Counter[str] = Counter()
    oldest: dict[str | None, int] = {}
    unassigned: Counter[str | None] = Counter()
    role_unassigned: Counter[tuple[str | None, str]] = Counter()
    for item in items:
        school, role = item.school_id, str(item.owner_role)
        cases[school] += 1
        if item.bucket == "unassigned":
            unassigned[school] += 1
            role_unassigned[(school, role)] += 1
            continue
        owner = str(item.owner)
        owned[owner] += 1
        role_owned[(school, role)] += 1
        school_of_owner.setdefault(owner, school or "")
        if item.bucket == "overdue":
            overdue[school] += 1
            owner_overdue[owner] += 1
            age = item.age_school_days or 0
            oldest[school] = max(age, oldest.get(school, age))
    # A legal_due event names its school only when the step's facts did; otherwise the step
    # waits at the school of the student's open cases (the people who would issue it).
    school_of_student = {i.student_id: i.school_id for i in items if i.school_id}
    legal = _legal_waits(repository, as_of, calendars, school_of_student)

    schools: set[str | None] = {m.school_id for m in roster.staff.values()}
    schools |= set(cases) | set(legal) | {s or None for s in school_of_owner.values()}
    out = []
    for school in sorted(schools, key=lambda s: (s is None, s or "")):
        members = sorted(
            (o for o, s in school_of_owner.items() if (s or None) == school),
        )
        owners = []
        for o in members:
            m = roster.staff.get(o)
            owners.append(
                OwnerLoad(
                    o,
                    m.name if m else "",
                    m.roles if m else (),
                    owned[o],
                    m.caseload_limit if m else None,
                    owner_overdue[o],
                )
            )
        role_names = {r for m in roster.staff.values() if m.school_id == school for r in m.roles}
        role_names |= {r for (s, r) in role_owned if s == school}
        role_names |= {r for (s, r) in role_unassigned if s == school}
        roles = []
        for role in sorted(role_names):
            pool = roster.candidates(school, role) if school is not None else []
            roles.append(
                RoleLoad(
                    role,
                    len(pool),
                    sum(m.caseload_limit for m in pool),
                    role_owned[(school, role)],
                    role_unassigned[(school, role)],
                )
            )
        out.append(
            SchoolOperations(
                school,
                tuple(owners),
                tuple(roles),
                cases[school],
                overdue[school],
                oldest.get(school),
                unassigned[school],
                legal.get(school, ()),
            )
        )
    return Operations(as_of, tuple(out))


def _legal_waits(
    repository: Repository,
    as_of: dt.date,
    calendars: Mapping[str, SchoolCalendar] | None,
    school_of_student: Mapping[str, str] | None = None,
) -> dict[str | None, tuple[LegalWait, ...]]:
    """Every student's legal steps due and not issued, by the school their clock runs on.

    That is the school the ``legal_due`` event names, else the school of the student's open
    cases (``school_of_student``), else none.
    """
    fallback = school_of_student or {}
    by_school: dict[str | None, list[LegalWait]] = {}
    for sid, events in repository.legal_events(repository.students()).items():
        schools: dict[str, Any] = {
            str(e.detail.get("step")): e.detail.get("school_id")
            for e in events
            if e.kind == "legal_due" and e.detail is not None
        }
        aging: tuple[LegalAging, ...] = legal_aging(
            sid, events, {}, as_of=as_of, since=dt.date.min, calendars=calendars, pending=True
        )
        for a in aging:
            if a.issued_on is not None:
                continue
            school = schools.get(a.step)
            key = school if isinstance(school, str) and school else fallback.get(sid)
            by_school.setdefault(key, []).append(
                LegalWait(
                    sid, a.step, a.due_on, a.deadline, a.waited_school_days, a.late_school_days
                )
            )
    return {
        k: tuple(
            sorted(
                v,
                key=lambda w: (-(w.waited_school_days or 0), w.student_id, w.step),
            )
        )
        for k, v in by_school.items()
    }
