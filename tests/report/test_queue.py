"""Work queues on a small store whose buckets and ages are counted by hand, in memory and SQLite.

The queue's date is Monday 2025-10-06. Lincoln has no calendar (Monday to Friday); Grant's has a
holiday on Friday 2025-10-03. Ages are school days after the due date up to the queue's date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator

import pytest

from tierflow.attendance import SchoolCalendar
from tierflow.report import QUEUE_BUCKETS, WorkQueue, work_queue
from tierflow.store import SqlRepository
from tierflow.workflow import InMemoryRepository, Intervention, Repository, WorkflowEvent

MON = dt.date(2025, 10, 6)
GRANT = SchoolCalendar.from_pattern(
    "grant", dt.date(2025, 8, 25), dt.date(2026, 6, 5), holidays=[dt.date(2025, 10, 3)]
)
CALENDARS = {"grant": GRANT}


def iv(
    n: int,
    student: str,
    owner: str | None,
    follow_up: dt.date | None,
    *,
    school: str = "lincoln",
    role: str = "mentor",
    state: str = "active",
    opened: dt.date = dt.date(2025, 9, 15),
    tier: int = 2,
) -> Intervention:
    return Intervention(
        f"iv-{n:07d}",
        student,
        school,
        "weekly-checkin",
        tier,
        role,
        owner,
        state,
        opened,
        follow_up,
        None,
        None,
        ended_on=dt.date(2025, 10, 1) if state == "closed" else None,
    )


INTERVENTIONS = [
    iv(1, "s1", "ms-lee", dt.date(2025, 10, 1)),  # Wed: Thu, Fri, Mon -> overdue 3
    iv(2, "s2", "ms-lee", MON),  # due today, 0
    iv(3, "s3", "ms-lee", dt.date(2025, 10, 10), tier=3),  # Fri: Tue..Fri -> upcoming in 4
    iv(4, "s4", "ms-lee", dt.date(2025, 10, 14)),  # Tue next week: 6 school days, not listed
    iv(5, "s5", "ms-lee", dt.date(2025, 10, 2), school="grant"),  # Thu: Fri holiday, Mon -> 1
    iv(6, "s6", None, dt.date(2025, 10, 20)),  # nobody's: unassigned, in 10 school days
    iv(7, "s7", "ms-lee", None, opened=dt.date(2025, 9, 29)),  # no cadence: due since Mon, 5
    iv(8, "s8", "mr-kim", MON, role="counselor"),  # another owner's, due today
    iv(9, "s9", "ms-lee", dt.date(2025, 9, 1), state="closed"),  # closed: never listed
]


def legal(student: str, kind: str, at: dt.date, **detail: object) -> WorkflowEvent:
    return WorkflowEvent(0, at, student, kind, detail={"step": "letter1", **detail})


EVENTS = [
    # s1: due Mon 09-22, deadline Fri 10-03, not issued: 10 school days waited, overdue.
    legal(
        "s1",
        "legal_due",
        dt.date(2025, 9, 22),
        deadline=dt.date(2025, 10, 3),
        deadline_school_days=9,
        school_id="lincoln",
    ),
    # s2: due and issued: nothing awaits.
    legal("s2", "legal_due", dt.date(2025, 9, 22), school_id="lincoln"),
    legal("s2", "legal_issued", dt.date(2025, 9, 24)),
    # s3: issued, then flagged on Thu 10-02 (Fri, Mon: 2) and not resolved.
    legal(
        "s3",
        "legal_flagged",
        dt.date(2025, 10, 2),
        issued_on=dt.date(2025, 9, 10),
        why="truancies = 2 >= 3 is false",
        owner="ms-vega",
    ),
    # s99 has no open intervention: not in anyone's queue.
    legal("s99", "legal_due", dt.date(2025, 9, 22), school_id="lincoln"),
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


def rows(queue: WorkQueue) -> list[tuple[object, ...]]:
    return [(i.bucket, i.student_id, i.item, i.age_school_days) for i in queue.items]


def test_one_owners_queue_by_bucket(repo: Repository) -> None:
    queue = work_queue(repo, MON, owner="ms-lee", calendars=CALENDARS)
    assert rows(queue) == [
        ("overdue", "s7", "weekly-checkin", 5),  # opened 09-29, no cadence
        ("overdue", "s1", "weekly-checkin", 3),  # due 10-01
        ("overdue", "s5", "weekly-checkin", 1),  # due 10-02, on Grant's calendar
        ("due_today", "s2", "weekly-checkin", 0),
        ("upcoming", "s3", "weekly-checkin", -4),
        ("legal_awaiting_evidence", "s1", "letter1", 10),  # due 09-22
        ("legal_awaiting_evidence", "s3", "letter1", 2),  # flagged 10-02
    ]
    assert queue.counts() == {
        "overdue": 3,
        "due_today": 1,
        "upcoming": 1,
        "unassigned": 0,
        "legal_awaiting_evidence": 2,
    }
    s1_step, flag = queue.bucket("legal_awaiting_evidence")
    assert (s1_step.state, s1_step.deadline, s1_step.due_on) == (
        "overdue",
        dt.date(2025, 10, 3),
        dt.date(2025, 9, 22),
    )
    assert (flag.state, flag.owner, flag.due_on) == ("flagged", "ms-vega", dt.date(2025, 10, 2))


def test_a_school_and_role_queue_has_the_unassigned_and_other_owners(repo: Repository) -> None:
    queue = work_queue(repo, MON, school="lincoln", buckets=["due_today", "unassigned"])
    assert rows(queue) == [
        ("due_today", "s2", "weekly-checkin", 0),
        ("due_today", "s8", "weekly-checkin", 0),
        ("unassigned", "s6", "weekly-checkin", -10),  # Tue 10-07 to Mon 10-20
    ]
    mentors = work_queue(repo, MON, role="counselor")
    assert rows(mentors) == [("due_today", "s8", "weekly-checkin", 0)]


def test_sorts(repo: Repository) -> None:
    queue = work_queue(repo, MON, owner="ms-lee", calendars=CALENDARS)
    by_age = [(i.student_id, i.age_school_days) for i in queue.sorted("age").items]
    assert by_age == [("s1", 10), ("s7", 5), ("s1", 3), ("s3", 2), ("s5", 1), ("s2", 0), ("s3", -4)]
    by_due = [i.due_on for i in queue.sorted("due").items]
    assert by_due == sorted(by_due)  # type: ignore[type-var]
    assert [i.student_id for i in queue.sorted("student").items] == [
        "s1",
        "s1",
        "s2",
        "s3",
        "s3",
        "s5",
        "s7",
    ]
    assert queue.sorted("tier").items[0].student_id == "s3"  # the only tier 3
    with pytest.raises(ValueError, match="unknown sort 'name'"):
        queue.sorted("name")


def test_unknown_buckets_and_negative_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown bucket 'late'"):
        work_queue(InMemoryRepository(), MON, buckets=["late"])
    with pytest.raises(ValueError, match="upcoming_days"):
        work_queue(InMemoryRepository(), MON, upcoming_days=-1)


def test_json_export_holds_counts_and_items(repo: Repository) -> None:
    data = json.loads(work_queue(repo, MON, owner="ms-lee", calendars=CALENDARS).to_json())
    assert data["as_of"] == "2025-10-06" and data["owner"] == "ms-lee"
    assert list(data["counts"]) == list(QUEUE_BUCKETS)
    first = data["items"][0]
    assert (first["bucket"], first["student_id"], first["due_on"]) == (
        "overdue",
        "s7",
        "2025-09-29",
    )
    assert first["age_school_days"] == 5 and first["intervention_id"] == "iv-0000007"


def test_csv_cells_a_spreadsheet_would_run_are_neutralised() -> None:
    repo = InMemoryRepository()
    repo.add(iv(1, '=HYPERLINK("http://x")', "@ms-lee", MON, school="+lincoln"))
    repo.add(iv(2, "-2+3", "@ms-lee", dt.date(2025, 10, 8)))
    text = work_queue(repo, MON, owner="@ms-lee").to_csv()
    header, today, soon = list(csv.reader(io.StringIO(text)))
    assert header[:3] == ["bucket", "student_id", "school_id"]
    cells = dict(zip(header, today, strict=True))
    assert cells["student_id"] == '\'=HYPERLINK("http://x")'
    assert cells["owner"] == "'@ms-lee" and cells["school_id"] == "'+lincoln"
    assert dict(zip(header, soon, strict=True))["student_id"] == "'-2+3"
    # A record's value is text, the tier level too (quoted); an age the queue computed stays
    # a number: written unquoted, -2 and not '-2.
    assert '"iv-0000001","2","\'@ms-lee"' in text
    assert text.splitlines()[2].split(",")[header.index("age_school_days")] == "-2"


def test_text_lists_each_bucket(repo: Repository) -> None:
    text = work_queue(repo, MON, owner="ms-lee", calendars=CALENDARS).to_text()
    assert text.splitlines()[0] == (
        "2025-10-06 (owner ms-lee): overdue 3, due today 1, upcoming 1, unassigned 0, "
        "legal awaiting evidence 2"
    )
    assert "  2025-10-01  s1  weekly-checkin (iv-0000001)  ms-lee, 3 school days ago" in text
    assert "  2025-10-10  s3  weekly-checkin (iv-0000003)  ms-lee, in 4 school days" in text
    assert "  2025-10-02  s5  weekly-checkin (iv-0000005)  ms-lee, 1 school day ago" in text
