"""Progress monitoring on a small calendar whose weekly rates and goal values are counted by hand.

Lincoln's calendar runs Monday 2025-09-01 to Friday 2025-10-31, Monday to Friday, with Labor
Day (2025-09-01) off and a break from 2025-09-15 to 2025-09-19. Student s1 is enrolled from the
first day and misses:

=========  ==============================  ====================
date       event                           days absent
=========  ==============================  ====================
Wed 09-03  unexcused absence               1
Thu 09-04  excused, half a day             0.5
Tue 09-09  suspension (out of school)      1 (counted by default)
Tue 09-23  unexcused absence               1
Wed 09-24  unexcused absence               1
=========  ==============================  ====================

Weeks (Monday: school days, days absent, rate; cumulative days and absences, rate):

- 09-01: 4 (Tue-Fri), 1.5, 1 - 1.5/4 = 0.625; 4, 1.5 -> 0.625
- 09-08: 5, 1, 0.8; 9, 2.5 -> 1 - 2.5/9
- 09-15: the break, 0 school days: no rate; cumulative unchanged, 1 - 2.5/9
- 09-22: 5, 2, 0.6; 14, 4.5 -> 1 - 4.5/14
- 09-29, 10-06, 10-13, 10-20: 5, 0, 1.0 each; 19, 24, 29, 34 days, 4.5 -> 1 - 4.5/n
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.report import Progress, progress
from tierflow.spec import AttendancePolicy
from tierflow.workflow import CheckIn, InMemoryRepository, Intervention, WorkflowEvent

D = dt.date
CAL = SchoolCalendar.from_pattern(
    "lincoln",
    D(2025, 9, 1),
    D(2025, 10, 31),
    holidays=[D(2025, 9, 1)],
    breaks=[(D(2025, 9, 15), D(2025, 9, 19))],
)
THROUGH = D(2025, 10, 24)
MTSS = tierflow.load_ruleset("mtss")


def builder(policy: AttendancePolicy | None = None) -> FactsBuilder:
    b = FactsBuilder({"lincoln": CAL}, policy=policy)
    assert b.add_enrollment(Enrollment("s1", "lincoln", D(2025, 9, 1)))
    for day, category, duration in [
        (D(2025, 9, 3), "unexcused_absence", None),
        (D(2025, 9, 4), "excused_absence", 0.5),
        (D(2025, 9, 9), "suspension_out", None),
        (D(2025, 9, 23), "unexcused_absence", None),
        (D(2025, 9, 24), "unexcused_absence", None),
    ]:
        assert b.add_event(AttendanceEvent("s1", "lincoln", day, category, duration=duration))
    return b


def _iv(iid: str, kind: str, opened: dt.date, ended: dt.date | None = None) -> Intervention:
    return Intervention(
        iid,
        "s1",
        "lincoln",
        kind,
        2,
        "mentor",
        "ms-lee",
        "closed" if ended else "active",
        opened,
        None,
        None,
        None,
        ended_on=ended,
    )


def store() -> InMemoryRepository:
    repo = InMemoryRepository()
    repo.add(_iv("iv-1", "weekly-checkin", D(2025, 9, 10)))
    repo.add(_iv("iv-2", "attendance-plan", D(2025, 10, 6), D(2025, 10, 22)))
    repo.add(_iv("iv-3", "family-call", D(2025, 10, 6)))

    def decision(on: dt.date, tier: str) -> None:
        detail = {"tier": tier, "interventions": [], "legal": []}
        repo.append(WorkflowEvent(0, on, "s1", "decision", detail=detail))

    decision(D(2025, 9, 10), "tier2")
    repo.append(
        WorkflowEvent(0, D(2025, 9, 10), "s1", "opened", "iv-1", detail={"intervention": "x"})
    )
    repo.append(
        WorkflowEvent(0, D(2025, 9, 11), "s1", "transition", "iv-1", "start", "assigned", "active")
    )
    decision(D(2025, 9, 12), "tier2")  # the same tier: no change shown
    decision(D(2025, 9, 26), "tier3")
    repo.append(WorkflowEvent(0, D(2025, 9, 29), "s1", "legal_due", detail={"step": "not1"}))
    repo.append(
        WorkflowEvent(0, D(2025, 10, 2), "s1", "transition", "iv-1", "check_in", "active", "active")
    )  # not a second start
    repo.append(
        WorkflowEvent(0, D(2025, 10, 30), "s1", "legal_issued", detail={"step": "not1"})
    )  # after the report's date: not shown
    repo.add_check_in(CheckIn("iv-1", D(2025, 9, 17), "ms-lee", goal_met=None))  # the break
    repo.add_check_in(CheckIn("iv-1", D(2025, 9, 23), "ms-lee", goal_met=False))
    repo.add_check_in(CheckIn("iv-1", D(2025, 10, 21), "ms-lee", goal_met=True))
    return repo


@pytest.fixture(scope="module")
def report() -> Progress:
    return progress(store(), builder(), "s1", through=THROUGH, ruleset=MTSS)


def test_weekly_and_cumulative_rates_by_hand(report: Progress) -> None:
    got = [(w.week, w.school_days, w.days_absent, w.rate, w.cumulative_rate) for w in report.weeks]
    expected = [
        (D(2025, 9, 1), 4, 1.5, 0.625, 0.625),
        (D(2025, 9, 8), 5, 1.0, 0.8, 1 - 2.5 / 9),
        (D(2025, 9, 15), 0, 0.0, None, 1 - 2.5 / 9),
        (D(2025, 9, 22), 5, 2.0, 0.6, 1 - 4.5 / 14),
        (D(2025, 9, 29), 5, 0.0, 1.0, 1 - 4.5 / 19),
        (D(2025, 10, 6), 5, 0.0, 1.0, 1 - 4.5 / 24),
        (D(2025, 10, 13), 5, 0.0, 1.0, 1 - 4.5 / 29),
        (D(2025, 10, 20), 5, 0.0, 1.0, 1 - 4.5 / 34),
    ]
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g[:4] == e[:4]
        assert g[4] == pytest.approx(e[4])
    assert report.school_year == "2025-2026"


def test_the_last_cumulative_rate_is_the_facts_days_absent() -> None:
    facts = builder().facts_for("s1", THROUGH)
    assert facts is not None
    final = 1 - facts["days_absent"] / facts["days_enrolled"]
    assert progress(store(), builder(), "s1", through=THROUGH).weeks[-1].cumulative_rate == (
        pytest.approx(final)
    )


def test_the_policy_decides_whether_a_suspension_is_absence() -> None:
    p = progress(
        store(),
        builder(AttendancePolicy(suspensions_count_as_absence=False)),
        "s1",
        through=THROUGH,
    )
    assert p.weeks[1].days_absent == 0.0
    assert p.weeks[1].rate == 1.0


def test_a_week_cut_by_the_report_date() -> None:
    p = progress(store(), builder(), "s1", through=D(2025, 9, 24))  # a Wednesday
    assert (p.weeks[-1].week, p.weeks[-1].school_days, p.weeks[-1].days_absent) == (
        D(2025, 9, 22),
        3,
        2.0,
    )
    assert p.weeks[-1].rate == pytest.approx(1 - 2 / 3)


def test_events_on_their_weeks(report: Progress) -> None:
    got = [(e.week, e.on, e.kind, e.what, e.detail, e.intervention_id) for e in report.events]
    assert got == [
        (D(2025, 9, 8), D(2025, 9, 10), "tier", "tier2", "", None),
        (D(2025, 9, 8), D(2025, 9, 10), "opened", "x", "", "iv-1"),
        (D(2025, 9, 8), D(2025, 9, 11), "started", "weekly-checkin", "", "iv-1"),
        (D(2025, 9, 15), D(2025, 9, 17), "check_in", "weekly-checkin", "goal not recorded", "iv-1"),
        (D(2025, 9, 22), D(2025, 9, 23), "check_in", "weekly-checkin", "goal not met", "iv-1"),
        (D(2025, 9, 22), D(2025, 9, 26), "tier", "tier3", "from tier2", None),
        (D(2025, 9, 29), D(2025, 9, 29), "legal", "not1", "legal_due", None),
        (D(2025, 10, 20), D(2025, 10, 21), "check_in", "weekly-checkin", "goal met", "iv-1"),
        (D(2025, 10, 20), D(2025, 10, 22), "ended", "attendance-plan", "closed", "iv-2"),
    ]
    assert [w.tier for w in report.weeks] == [None, "tier2", "tier2", "tier3", *["tier3"] * 4]
    assert [e.kind for e in report.events_of(D(2025, 9, 15))] == ["check_in"]


def test_the_goal_line_of_a_days_within_goal(report: Progress) -> None:
    """weekly-checkin: days_within('absence', 4w) <= 1, read at each week's last school day.

    The window is the 28 days before that day (the day itself in): 09-12 sees 09-03, 09-04
    (half) and 09-09: 2.5; 09-26 sees all five: 4.5; 10-03 sees 09-09, 09-23, 09-24: 3;
    10-10 and 10-17 see 09-23 and 09-24: 2; 10-24 sees none: 0, met.
    """
    (line,) = [g for g in report.goals if g.intervention_id == "iv-1"]
    assert (line.text, line.kind, line.period, line.at_most) == (
        "Miss at most 1 day in the last 4 weeks",
        "absence",
        "28d",
        1.0,
    )
    assert [(p.week, p.on, p.value, p.met) for p in line.points] == [
        (D(2025, 9, 8), D(2025, 9, 12), 2.5, False),
        (D(2025, 9, 22), D(2025, 9, 26), 4.5, False),
        (D(2025, 9, 29), D(2025, 10, 3), 3.0, False),
        (D(2025, 10, 6), D(2025, 10, 10), 2.0, False),
        (D(2025, 10, 13), D(2025, 10, 17), 2.0, False),
        (D(2025, 10, 20), D(2025, 10, 24), 0.0, True),
    ]


def test_a_goal_of_another_form_keeps_its_text_and_has_no_line(report: Progress) -> None:
    (plan,) = [g for g in report.goals if g.intervention_id == "iv-2"]
    assert plan.text == "Attend at least 4 of 5 days per week for 3 consecutive weeks"
    assert (plan.at_most, plan.kind, plan.points) == (None, None, ())
    assert "no numeric line" in plan.note
    assert "iv-3" not in {g.intervention_id for g in report.goals}  # family-call: no goal


def test_without_a_rule_set_the_goals_are_left_out_and_said_so() -> None:
    p = progress(store(), builder(), "s1", through=THROUGH)
    assert p.goals == ()
    assert any("no rule set" in n for n in p.notes)


def test_a_student_without_enrollment() -> None:
    p = progress(InMemoryRepository(), builder(), "nobody", through=THROUGH)
    assert (p.weeks, p.events) == ((), ())
    assert p.notes == ("no enrollment in school year 2025-2026 by 2025-10-24",)


def test_exports(report: Progress) -> None:
    rows = list(csv.reader(io.StringIO(report.to_csv())))
    assert rows[0][:6] == ["week", "school_days", "days_absent", "rate", "cumulative_rate", "tier"]
    assert len(rows) == 1 + len(report.weeks)
    assert rows[1][:5] == ["2025-09-01", "4", "1.5", "0.6250", "0.6250"]
    assert rows[3][3] == ""  # the break: no rate
    assert rows[2][6] == (
        "2025-09-10 tier tier2; 2025-09-10 opened x (iv-1); "
        "2025-09-11 started weekly-checkin (iv-1)"
    )
    assert rows[2][7] == "iv-1: 2.5 <= 1 not met"
    data = json.loads(report.to_json())
    assert data["weeks"][1]["rate"] == 0.8
    assert data["goals"][0]["points"][-1] == {
        "week": "2025-10-20",
        "on": "2025-10-24",
        "value": 0.0,
        "met": True,
    }
    text = report.to_text()
    assert "2025-09-01  4 days  absent 1.5  rate 62.5%  year 62.5%  -" in text
    assert "2025-09-15  no school days  tier2" in text
    assert "<td>2025-09-01</td>" in report.to_html()


def test_hostile_text_stays_inert() -> None:
    repo = InMemoryRepository()
    detail = {"tier": "=HYPERLINK(1)<script>", "interventions": [], "legal": []}
    repo.append(WorkflowEvent(0, D(2025, 9, 10), "s1", "decision", detail=detail))
    p = progress(repo, builder(), "s1", through=THROUGH)
    rows = list(csv.reader(io.StringIO(p.to_csv())))
    assert rows[2][5] == "'=HYPERLINK(1)<script>"
    assert "<script>" not in p.to_html()
