"""Operations on a small store whose caseloads, overdue counts and ages are counted by hand.

The report's date is Monday 2025-10-06. Lincoln has no calendar (Monday to Friday); Grant's has
a holiday on Friday 2025-10-03. An age is the school days after a date up to the report's date
(a follow-up due Wednesday 10-01 is 3 days overdue on Monday: Thursday, Friday, Monday).

Roster: Lincoln ms-lee (mentor, limit 2), mr-kim (mentor and counselor, limit 3), ms-ray
(counselor, limit 1); Grant mr-ode (social worker, limit 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator

import pytest

from tierflow.attendance import SchoolCalendar
from tierflow.report import Operations, operations
from tierflow.store import SqlRepository
from tierflow.workflow import (
    InMemoryRepository,
    Intervention,
    Repository,
    Roster,
    StaffMember,
    WorkflowEvent,
)

D = dt.date
MON = D(2025, 10, 6)
GRANT = SchoolCalendar.from_pattern(
    "grant", D(2025, 8, 25), D(2026, 6, 5), holidays=[D(2025, 10, 3)]
)
CALENDARS = {"grant": GRANT}
ROSTER = [
    StaffMember("ms-lee", "lincoln", ("mentor",), caseload_limit=2),
    StaffMember("mr-kim", "lincoln", ("mentor", "counselor"), caseload_limit=3),
    StaffMember("ms-ray", "lincoln", ("counselor",), caseload_limit=1),
    StaffMember("mr-ode", "grant", ("social_worker",), caseload_limit=1),
]


def iv(
    n: int,
    student: str,
    owner: str | None,
    follow_up: dt.date | None,
    *,
    school: str = "lincoln",
    role: str = "mentor",
    closed: bool = False,
) -> Intervention:
    return Intervention(
        f"iv-{n}",
        student,
        school,
        "weekly-checkin",
        2,
        role,
        owner,
        "closed" if closed else "active",
        D(2025, 9, 1),
        follow_up,
        None,
        None,
        ended_on=D(2025, 10, 1) if closed else None,
    )


INTERVENTIONS = [
    iv(1, "s1", "ms-lee", D(2025, 10, 1)),  # overdue 3
    iv(2, "s2", "ms-lee", MON),  # due today: not overdue
    iv(3, "s3", "ms-lee", D(2025, 9, 29)),  # overdue: 09-30 .. 10-03, 10-06: 5
    iv(4, "s4", "mr-kim", D(2025, 10, 20), role="counselor"),  # later
    iv(5, "s5", None, D(2025, 9, 1)),  # unassigned mentor case (not counted overdue)
    iv(6, "s6", None, D(2025, 10, 20), role="counselor"),  # unassigned counselor case
    iv(7, "s7", "mr-ode", D(2025, 10, 2), school="grant", role="social_worker"),  # Fri off: 1
    iv(8, "s8", "mr-ode", None, school="grant", role="social_worker", closed=True),
    iv(9, "s9", "mr-gone", D(2025, 10, 10)),  # an owner off the roster
]


def legal(student: str, kind: str, at: dt.date, step: str, **detail: object) -> WorkflowEvent:
    return WorkflowEvent(0, at, student, kind, detail={"step": step, **detail})


EVENTS = [
    # due Mon 09-22, deadline Mon 09-29: waited 10 school days, 5 past the deadline
    legal("s1", "legal_due", D(2025, 9, 22), "not1", school_id="lincoln", deadline=D(2025, 9, 29)),
    # due Wed 10-01, no deadline: 3
    legal("s2", "legal_due", D(2025, 10, 1), "not1", school_id="lincoln"),
    # issued: nothing waits
    legal("s3", "legal_due", D(2025, 9, 15), "not1", school_id="lincoln"),
    legal("s3", "legal_issued", D(2025, 9, 20), "not1"),
    # Grant: due Wed 10-01, deadline 10-10: Thu, (Fri off), Mon: 2, on time
    legal("s7", "legal_due", D(2025, 10, 1), "sart", school_id="grant", deadline=D(2025, 10, 10)),
    # a student with no open intervention: due Tue 09-30 on Grant's calendar: 10-01, 10-02, 10-06
    legal("s10", "legal_due", D(2025, 9, 30), "not2", school_id="grant"),
    # withdrawn: nothing waits
    legal("s11", "legal_due", D(2025, 9, 25), "not1", school_id="lincoln"),
    legal("s11", "legal_withdrawn", D(2025, 9, 30), "not1"),
    # no school recorded: Monday to Friday, Thu 10-02 -> Fri, Mon: 2
    legal("s12", "legal_due", D(2025, 10, 2), "not1"),
    # no school recorded, but an open case at Lincoln (iv-4): it waits there, Thu 10-02: 2
    legal("s4", "legal_due", D(2025, 10, 2), "not1"),
]


@pytest.fixture(params=["memory", "sqlite"])
def repo(request: pytest.FixtureRequest) -> Iterator[Repository]:
    store: Repository
    if request.param == "memory":
        store = InMemoryRepository()
        yield from _filled(store)
    else:
        with SqlRepository(":memory:") as sql:
            yield from _filled(sql)


def _filled(store: Repository) -> Iterator[Repository]:
    for i in INTERVENTIONS:
        store.add(i)
    for e in EVENTS:
        store.append(e)
    yield store


@pytest.fixture
def report(repo: Repository) -> Operations:
    return operations(repo, Roster(ROSTER), as_of=MON, calendars=CALENDARS)


def test_schools_totals_by_hand(report: Operations) -> None:
    got = [
        (
            x.school_id,
            x.open_cases,
            x.overdue,
            x.oldest_overdue_school_days,
            x.unassigned,
            len(x.legal),
            x.legal_overdue,
            x.oldest_legal_school_days,
        )
        for x in report.schools
    ]
    assert got == [
        ("grant", 1, 1, 1, 0, 2, 0, 3),
        ("lincoln", 7, 2, 5, 2, 3, 1, 10),
        (None, 0, 0, None, 0, 1, 0, 2),
    ]


def test_caseload_per_owner_against_limits(report: Operations) -> None:
    grant, lincoln, _ = report.schools
    assert [(o.owner, o.open_cases, o.limit, o.overdue, o.over_limit) for o in lincoln.owners] == [
        ("mr-gone", 1, None, 0, False),
        ("mr-kim", 1, 3, 0, False),
        ("ms-lee", 3, 2, 2, True),
        ("ms-ray", 0, 1, 0, False),
    ]
    assert [(o.owner, o.open_cases, o.limit, o.overdue) for o in grant.owners] == [
        ("mr-ode", 1, 1, 1)
    ]


def test_caseload_per_role_against_capacity(report: Operations) -> None:
    grant, lincoln, nowhere = report.schools
    # counselor: mr-kim (3) and ms-ray (1); mentor: ms-lee (2) and mr-kim (3), and mr-gone's
    # case counts as a mentor case though mr-gone adds no capacity.
    assert [(r.role, r.staff, r.capacity, r.open_cases, r.unassigned) for r in lincoln.roles] == [
        ("counselor", 2, 4, 1, 1),
        ("mentor", 2, 5, 4, 1),
    ]
    assert [(r.role, r.staff, r.capacity, r.open_cases) for r in grant.roles] == [
        ("social_worker", 1, 1, 1)
    ]
    assert nowhere.roles == ()


def test_aging_legal_steps(report: Operations) -> None:
    grant, lincoln, nowhere = report.schools
    got = [(w.student_id, w.step, w.waited_school_days, w.late_school_days) for w in lincoln.legal]
    assert got == [("s1", "not1", 10, 5), ("s2", "not1", 3, None), ("s4", "not1", 2, None)]
    assert [(w.student_id, w.waited_school_days, w.overdue) for w in grant.legal] == [
        ("s10", 3, False),
        ("s7", 2, False),
    ]
    assert [(w.student_id, w.waited_school_days) for w in nowhere.legal] == [("s12", 2)]


def test_exports(report: Operations) -> None:
    data = json.loads(report.to_json())
    assert data["as_of"] == "2025-10-06"
    assert data["schools"][1]["owners"][2] == {
        "owner": "ms-lee",
        "name": "",
        "roles": ["mentor"],
        "open_cases": 3,
        "limit": 2,
        "over_limit": True,
        "overdue": 2,
    }
    rows = list(csv.reader(io.StringIO(report.to_csv())))
    assert rows[0][:6] == ["school_id", "line", "id", "roles", "open_cases", "limit"]
    school_rows = [r for r in rows if r[1] == "school"]
    assert school_rows[1] == [
        "lincoln",
        "school",
        "lincoln",
        "",
        "7",
        "",
        "2",
        "5",
        "2",
        "3",
        "1",
        "10",
    ]
    assert ["lincoln", "owner", "ms-lee", "mentor", "3", "2", "2", "", "", "", "", ""] in rows
    text = report.to_text()
    assert "  ms-lee: 3 of 2, 2 overdue  OVER" in text
    assert "  role mentor: 4 of 5 (2 staff), 1 unassigned" in text
    assert report.summary() == (
        "2025-10-06: 3 schools, 8 open cases, 3 overdue, 2 unassigned, 6 legal steps waiting "
        "(1 past deadline), 1 owners over their limit"
    )


def test_an_empty_store_lists_the_roster() -> None:
    ops = operations(InMemoryRepository(), Roster(ROSTER), as_of=MON)
    assert [x.school_id for x in ops.schools] == ["grant", "lincoln"]
    assert all(o.open_cases == 0 for x in ops.schools for o in x.owners)


def test_a_hostile_owner_id_is_inert_in_csv() -> None:
    repo = InMemoryRepository()
    repo.add(iv(1, "s1", "=cmd|' /C calc'!A0", D(2025, 10, 1)))
    rows = list(csv.reader(io.StringIO(operations(repo, Roster(), as_of=MON).to_csv())))
    assert rows[-1][:3] == ["lincoln", "owner", "'=cmd|' /C calc'!A0"]
