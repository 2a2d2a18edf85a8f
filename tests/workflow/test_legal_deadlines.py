"""Legal-step deadlines: TEC 25.0951's court referral within 10 school days of the 10th absence.

Everything starts from raw attendance events, through the FactsBuilder, into the Engine, as a
district's daily host loop would. The school days are counted by hand below.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.report import build_packet, compliance_report
from tierflow.workflow import Engine, Roster, SchoolDays, StaffMember, WorkflowEvent

D = dt.date
# Thanksgiving break: Wednesday to Friday.
HOLIDAYS = [D(2025, 11, 26), D(2025, 11, 27), D(2025, 11, 28)]
CAL = SchoolCalendar.from_pattern("lincoln", D(2025, 8, 18), D(2026, 5, 29), holidays=HOLIDAYS)
# Three in one week (the parent notice and prevention measures), then seven more: the 10th
# unexcused day within six months is Thursday 2025-11-20.
ABSENT = [
    D(2025, 9, 8),
    D(2025, 9, 9),
    D(2025, 9, 10),
    D(2025, 9, 22),
    D(2025, 10, 6),
    D(2025, 10, 20),
    D(2025, 11, 3),
    D(2025, 11, 10),
    D(2025, 11, 17),
    D(2025, 11, 20),
]
TENTH = D(2025, 11, 20)
# 10 school days after Thursday 11-20 (the day itself not counted): Fri 21 (1), Mon 24 (2),
# Tue 25 (3), Wed 26 - Fri 28 a holiday, Sat 29 - Sun 30 a weekend, Mon 12-01 (4), Tue 2 (5),
# Wed 3 (6), Thu 4 (7), Fri 5 (8), Sat 6 - Sun 7 a weekend, Mon 8 (9), Tue 9 (10).
DEADLINE = D(2025, 12, 9)
DAY_11 = D(2025, 12, 10)  # Wednesday: the 11th school day, one school day late
DAY_12 = D(2025, 12, 11)


def _facts(as_of: dt.date) -> dict[str, object]:
    builder = FactsBuilder({"lincoln": CAL})
    builder.add_enrollment(Enrollment("s1", "lincoln", D(2025, 8, 18)))
    for day in ABSENT:
        builder.add_event(AttendanceEvent("s1", "lincoln", day, "unexcused_absence"))
    facts = builder.facts_for("s1", as_of)
    assert facts is not None
    return facts


def _school_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """The school days from ``start`` to ``end``, both included (for the daily loop)."""
    out = []
    day = start
    while day <= end:
        if day.weekday() < 5 and day not in HOLIDAYS:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def _engine() -> Engine:
    """An engine that has issued the parent notice and the measures, and tried a plan."""
    roster = Roster(
        [
            StaffMember(
                "mr-ortiz",
                "lincoln",
                (
                    "attendance_officer",
                    "case_manager",
                    "mentor",
                    "counselor",
                    "social_worker",
                    "attendance_team",
                    "nurse",
                ),
            )
        ]
    )
    engine = Engine(tierflow.load_ruleset("tx"), roster=roster, calendars={"lincoln": CAL})
    plan = engine.run(D(2025, 9, 10), [_facts(D(2025, 9, 10))])
    assert {a.step for _, a in plan.legal_due} == {"parent-notice", "prevention-measures"}
    for step in ("parent-notice", "prevention-measures"):
        engine.issue_legal("s1", step, on=D(2025, 9, 10), by="clerk", facts=_facts(D(2025, 9, 10)))
    (bip,) = [iv for iv in plan.opened if iv.intervention == "behavior-improvement-plan"]
    engine.start(bip.id, on=D(2025, 9, 11), by="mr-ortiz")
    engine.check_in(bip.id, on=D(2025, 10, 1), by="mr-ortiz", outcome="no_discernible")
    return engine


def _kind(engine: Engine, kind: str) -> list[WorkflowEvent]:
    return [
        e
        for e in engine.timeline("s1")
        if e.kind == kind and (e.detail or {}).get("step") == "court-referral"
    ]


def test_the_hand_count_agrees_with_school_days() -> None:
    days = SchoolDays(CAL)
    assert days.add(TENTH, 10) == DEADLINE
    assert days.between(TENTH, DEADLINE) == 10
    assert days.between(TENTH, DAY_11) == 11


def test_tx_court_referral_has_a_ten_school_day_deadline() -> None:
    (step,) = [s for s in tierflow.load_ruleset("tx").legal_steps if s.id == "court-referral"]
    assert step.deadline_school_days == 10  # TEC 25.0951: "within 10 school days"
    assert "tec-25-0951" in step.cites


def test_due_at_the_tenth_absence_overdue_on_the_eleventh_school_day() -> None:
    engine = _engine()
    overdue_by_day = {}
    for day in _school_days(D(2025, 11, 17), DAY_12):
        plan = engine.run(day, [_facts(day)])
        due = [a.step for _, a in plan.legal_due]
        assert ("court-referral" in due) == (day >= TENTH), day
        overdue_by_day[day] = [
            (o.step, o.due_since, o.deadline, o.school_days_late) for o in plan.legal_overdue
        ]
    (due,) = _kind(engine, "legal_due")
    assert due.at == TENTH
    assert due.detail is not None
    assert due.detail["deadline"] == DEADLINE
    assert due.detail["deadline_school_days"] == 10
    assert overdue_by_day[DEADLINE] == []  # the 10th school day: still on time
    assert overdue_by_day[DAY_11] == [("court-referral", TENTH, DEADLINE, 1)]
    assert overdue_by_day[DAY_12] == [("court-referral", TENTH, DEADLINE, 2)]
    (overdue,) = _kind(engine, "legal_overdue")  # once, not at every run
    assert overdue.at == DAY_11
    assert overdue.detail == {
        "step": "court-referral",
        "due_since": TENTH,
        "deadline": DEADLINE,
        "school_days_late": 1,
    }


def test_a_run_on_a_weekend_after_the_deadline_is_not_late_yet() -> None:
    engine = _engine()
    engine.run(TENTH, [_facts(TENTH)])
    # Friday 12-05 is the 8th school day; the weekend after it adds none.
    assert engine.run(D(2025, 12, 7), [_facts(D(2025, 12, 7))]).legal_overdue == []


@pytest.mark.parametrize(
    ("on", "waited", "late"),
    [(DEADLINE, 10, 0), (DAY_11, 11, 1), (DAY_12, 12, 2)],
)
def test_issuing_records_its_lateness(on: dt.date, waited: int, late: int) -> None:
    engine = _engine()
    for day in _school_days(TENTH, on):
        engine.run(day, [_facts(day)])
    event = engine.issue_legal("s1", "court-referral", on=on, by="clerk", facts=_facts(on))
    assert event.detail is not None
    assert event.detail["due_since"] == TENTH
    assert event.detail["deadline"] == DEADLINE
    assert event.detail["waited_school_days"] == waited
    assert event.detail["late_school_days"] == late
    assert ("late" in event.why) == bool(late)
    # Once issued it is no longer due, nor overdue.
    plan = engine.run(on + dt.timedelta(days=1), [_facts(on + dt.timedelta(days=1))])
    assert plan.legal_overdue == []
    assert "court-referral" not in [a.step for _, a in plan.legal_due]


def test_steps_without_a_deadline_are_never_overdue() -> None:
    engine = _engine()
    # The parent notice has no deadline: left unissued for months it is not reported overdue.
    tx = tierflow.load_ruleset("tx")
    assert [s.id for s in tx.legal_steps if s.deadline_school_days is None] == [
        "parent-notice",
        "prevention-measures",
    ]
    fresh = Engine(tx, calendars={"lincoln": CAL})
    fresh.run(D(2025, 9, 10), [_facts(D(2025, 9, 10))])
    assert fresh.run(D(2026, 1, 20), [_facts(D(2026, 1, 20))]).legal_overdue == []
    assert not [e for e in engine.timeline("s1") if e.kind == "legal_overdue"]


def test_a_deadline_is_part_of_the_rule_set_format() -> None:
    with pytest.raises(tierflow.RulesetError):
        tierflow.parse_ruleset(
            "id: x\nname: x\nversion: '1'\ntiers: [{id: t1, level: 1, default: true}]\n"
            "legal: [{id: a, when: days_unexcused >= 3, deadline_school_days: 0}]\n"
        )
    rs = tierflow.parse_ruleset(
        "id: x\nname: x\nversion: '1'\ntiers: [{id: t1, level: 1, default: true}]\n"
        "legal: [{id: a, when: days_unexcused >= 3, deadline_school_days: 2}]\n"
    )
    engine = Engine(rs)  # Monday to Friday without a calendar
    facts = {"student_id": "s9", "days_enrolled": 30, "days_absent": 3, "days_unexcused": 3}
    engine.run(D(2025, 10, 3), [facts])  # a Friday: Mon 6 (1), Tue 7 (2) is the deadline
    assert engine.run(D(2025, 10, 7), [facts]).legal_overdue == []
    (late,) = engine.run(D(2025, 10, 8), [facts]).legal_overdue
    assert (late.due_since, late.deadline, late.school_days_late) == (
        D(2025, 10, 3),
        D(2025, 10, 7),
        1,
    )


def test_the_packet_and_the_compliance_report_show_aging() -> None:
    engine = _engine()
    for day in _school_days(TENTH, DAY_12):
        engine.run(day, [_facts(day)])
    tx, cals = engine.ruleset, {"lincoln": CAL}
    packet = build_packet(engine.repository, "s1", tx, as_of=DAY_12, calendars=cals)
    rows = {
        a.step: (
            a.due_on,
            a.deadline,
            a.issued_on,
            a.waited_school_days,
            a.late_school_days,
            a.status,
        )
        for a in packet.aging
    }
    assert rows == {
        # Issued the day they came due, without a deadline.
        "parent-notice": (D(2025, 9, 10), None, D(2025, 9, 10), 0, None, "issued"),
        "prevention-measures": (D(2025, 9, 10), None, D(2025, 9, 10), 0, None, "issued"),
        # Still due on the 12th school day: two past the deadline.
        "court-referral": (TENTH, DEADLINE, None, 12, 2, "overdue"),
    }
    report = compliance_report(engine.repository, tx, students=["s1"], as_of=DAY_12, calendars=cals)
    assert [
        (a.step, a.waited_school_days, a.late_school_days, a.status) for a in report.pending
    ] == [("court-referral", 12, 2, "overdue")]
    assert report.summary().endswith("; 1 due and not issued (1 overdue)")
    assert "overdue, 2 school days late" in report.to_html()

    engine.issue_legal("s1", "court-referral", on=DAY_12, by="clerk", facts=_facts(DAY_12))
    packet = build_packet(engine.repository, "s1", tx, as_of=DAY_12, calendars=cals)
    (referral,) = [a for a in packet.aging if a.step == "court-referral"]
    assert (
        referral.issued_on,
        referral.waited_school_days,
        referral.late_school_days,
        referral.status,
    ) == (DAY_12, 12, 2, "issued late")
    assert "issued late, 2 school days late" in packet.to_html()
    report = compliance_report(engine.repository, tx, students=["s1"], as_of=DAY_12)
    assert report.pending == ()
    (check,) = [c for c in report.steps if c.step == "court-referral"]
    assert "issued_late" in check.flags
    assert (check.due_on, check.deadline, check.waited_school_days, check.late_school_days) == (
        TENTH,
        DEADLINE,
        12,
        2,
    )
    (row,) = [
        r for r in csv.DictReader(io.StringIO(report.to_csv())) if r["step"] == "court-referral"
    ]
    assert (row["status"], row["due_on"], row["deadline"], row["late_school_days"]) == (
        "issued late",
        "2025-11-20",
        "2025-12-09",
        "2",
    )
    (data,) = [s for s in json.loads(report.to_json())["steps"] if s["step"] == "court-referral"]
    assert (data["waited_school_days"], data["late_school_days"]) == (12, 2)
