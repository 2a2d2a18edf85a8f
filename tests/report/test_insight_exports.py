"""Hostile values in every text field of the progress and operations exports stay inert.

Each field a store row or a district file gives these reports (student, school, staff and
step ids, roles, catalogue ids, tiers) holds a spreadsheet formula trigger and HTML tags. The
CSV is read back with the ``csv`` module and each cell checked the way a spreadsheet decides
what is a formula (OWASP, "CSV Injection"); the progress page is read back with
``html.parser`` and must hold no element but the template's; JSON parses back to the values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from html.parser import HTMLParser

from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.report import operations, progress
from tierflow.workflow import (
    CheckIn,
    InMemoryRepository,
    Intervention,
    Roster,
    StaffMember,
    WorkflowEvent,
)

D = dt.date
TAGS = '<script>alert(1)</script><img src=x onerror="alert(2)">'
STUDENT, SCHOOL, OWNER, ROLE, KIND, STEP, TIER = (
    f"{t}{name}(A1) {TAGS}"
    for t, name in zip(
        ("=", "+", "-", "@", "\t", " =", "\uff1d"),
        ("student", "school", "owner", "role", "kind", "step", "tier"),
        strict=True,
    )
)


def _is_formula(cell: str) -> bool:
    if not cell or cell[0] == "'":
        return False
    rest = cell.lstrip(" \"'")
    return cell[0] in "=+-@\t\r\n\0\uff1d" or rest[:1] in ("=", "+", "-", "@", "\uff1d")


def _store() -> InMemoryRepository:
    repo = InMemoryRepository()
    repo.add(
        Intervention(
            "iv-1",
            STUDENT,
            SCHOOL,
            KIND,
            2,
            ROLE,
            OWNER,
            "active",
            D(2025, 9, 8),
            D(2025, 9, 10),
            None,
            None,
        )
    )
    detail = {"tier": TIER, "interventions": [], "legal": []}
    repo.append(WorkflowEvent(0, D(2025, 9, 8), STUDENT, "decision", detail=detail))
    repo.append(
        WorkflowEvent(0, D(2025, 9, 8), STUDENT, "opened", "iv-1", detail={"intervention": KIND})
    )
    repo.append(
        WorkflowEvent(
            0, D(2025, 9, 9), STUDENT, "legal_due", detail={"step": STEP, "school_id": SCHOOL}
        )
    )
    repo.add_check_in(CheckIn("iv-1", D(2025, 9, 9), OWNER, goal_met=True))
    return repo


def test_progress_exports() -> None:
    cal = SchoolCalendar.from_pattern(SCHOOL, D(2025, 9, 1), D(2025, 9, 12))
    b = FactsBuilder({SCHOOL: cal})
    assert b.add_enrollment(Enrollment(STUDENT, SCHOOL, D(2025, 9, 1)))
    assert b.add_event(AttendanceEvent(STUDENT, SCHOOL, D(2025, 9, 2), "unexcused_absence"))
    report = progress(_store(), b, STUDENT, through=D(2025, 9, 12))
    cells = [c for row in csv.reader(io.StringIO(report.to_csv())) for c in row]
    assert [c for c in cells if _is_formula(c)] == []
    assert "'" + TIER in cells
    assert json.loads(report.to_json())["events"][0]["what"] == TIER

    class Page(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: set[str] = set()

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.add(tag)

    page = Page()
    page.feed(report.to_html())
    assert page.tags <= {"html", "head", "meta", "title", "style", "body", "h1", "ul", "li"} | {
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "br",
    }


def test_operations_exports() -> None:
    roster = Roster([StaffMember(OWNER, SCHOOL, (ROLE,), caseload_limit=1)])
    report = operations(_store(), roster, as_of=D(2025, 9, 12))
    rows = list(csv.reader(io.StringIO(report.to_csv())))
    assert [c for row in rows for c in row if _is_formula(c)] == []
    assert {"'" + SCHOOL, "'" + OWNER, "'" + ROLE} <= {c for row in rows for c in row}
    data = json.loads(report.to_json())
    assert data["schools"][0]["owners"][0]["owner"] == OWNER
    assert data["schools"][0]["legal"][0]["step"] == STEP
