"""The no-flapping rule: what stops an intervention from opening again, and what lets it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import tierflow
from tierflow.attendance import SchoolCalendar
from tierflow.workflow import Engine, InMemoryRepository, Intervention, Roster, StaffMember

CAL = SchoolCalendar.from_pattern("s", dt.date(2025, 8, 18), dt.date(2026, 5, 29))
MONDAY = dt.date(2025, 10, 6)
ROLES = ("mentor", "counselor", "social_worker")


def engine(repository: InMemoryRepository | None = None, **kw: Any) -> Engine:
    return Engine(
        tierflow.load_ruleset("mtss"),
        repository=repository,
        roster=Roster([StaffMember("x", "s", ROLES, caseload_limit=5)]),
        calendars={"s": CAL},
        **kw,
    )


def tier2(absences: list[str], absent: float = 3, enrolled: int = 40) -> dict[str, Any]:
    return {
        "student_id": "s1",
        "school_id": "s",
        "days_enrolled": enrolled,
        "days_absent": absent,
        "attendance_log": [{"date": d, "kind": "excused"} for d in absences],
    }


def tier1() -> dict[str, Any]:
    return {"student_id": "s1", "school_id": "s", "days_enrolled": 60, "days_absent": 0}


def kind(e: Engine, name: str) -> list[Intervention]:
    return [iv for iv in e.interventions("s1") if iv.intervention == name]


def later(day: dt.date, school_days: int) -> dt.date:
    return CAL.days[CAL.days.index(day) + school_days]


def met_checkin(e: Engine) -> Intervention:
    e.run(MONDAY, [tier2(["2025-09-08"])])
    (checkin,) = kind(e, "weekly-checkin")
    e.start(checkin.id, on=MONDAY, by="x")
    assert checkin.review_on is not None
    e.run(checkin.review_on, [tier2(["2025-09-08"])])
    assert checkin.state == "met_goal"
    return checkin


def test_a_goal_met_is_not_reopened_while_it_holds_and_is_after_a_relapse() -> None:
    e = engine()
    checkin = met_checkin(e)
    assert checkin.ended_on is not None
    day = later(checkin.ended_on, 30)  # long past the cool-down, still tier 2 by rate
    assert e.run(day, [tier2(["2025-09-08"])]).opened == []
    relapse = [d.isoformat() for d in CAL.days[CAL.days.index(day) - 3 : CAL.days.index(day)]]
    reopened = e.run(day, [tier2(relapse, absent=6)]).opened
    assert [iv.intervention for iv in reopened if iv.intervention == "weekly-checkin"] == [
        "weekly-checkin"
    ]


def test_a_goal_less_intervention_met_reopens_only_after_the_student_left_the_tier() -> None:
    e = engine()
    e.run(MONDAY, [tier2([])])
    (call,) = kind(e, "family-call")
    e.check_in(call.id, on=MONDAY, by="x", goal_met=True)
    assert call.review_on is not None
    e.run(call.review_on, [tier2([])])
    assert call.state == "met_goal" and call.ended_on is not None
    day = later(call.ended_on, 15)
    e.run(day, [tier2([])])
    assert len(kind(e, "family-call")) == 1  # still tier 2 all along: the result stands
    e.run(later(day, 1), [tier1()])  # the student leaves tier 2 ...
    e.run(later(day, 2), [tier2([])])  # ... and comes back
    assert [iv.state for iv in kind(e, "family-call")] == ["met_goal", "assigned"]


def test_an_escalated_intervention_is_not_reopened_while_its_successor_is_open() -> None:
    e = engine(cooldown_days=0)
    bad = ["2025-10-20", "2025-10-21", "2025-10-22"]
    e.run(MONDAY, [tier2(bad)])
    (checkin,) = kind(e, "weekly-checkin")
    e.start(checkin.id, on=MONDAY, by="x")
    assert checkin.review_on is not None
    e.run(checkin.review_on, [tier2(bad)])
    (visit,) = kind(e, "home-visit")
    assert checkin.state == "escalated" and visit.escalated_from == checkin.id
    day = later(checkin.review_on, 5)
    e.run(day, [tier2(bad)])
    assert len(kind(e, "weekly-checkin")) == 1
    e.close(visit.id, on=day, by="x", reason="family moved within the district")
    e.run(later(day, 1), [tier2(bad)])
    assert [iv.state for iv in kind(e, "weekly-checkin")] == ["escalated", "assigned"]


def test_a_closed_intervention_reopens_after_the_cool_down_only() -> None:
    e = engine(cooldown_days=3)
    e.run(MONDAY, [tier2([])])
    (checkin,) = kind(e, "weekly-checkin")
    e.close(checkin.id, on=MONDAY, by="x", reason="family declined")
    assert e.run(later(MONDAY, 2), [tier2([])]).opened == []
    assert [iv.intervention for iv in e.run(later(MONDAY, 3), [tier2([])]).opened] == [
        "weekly-checkin"
    ]


def test_an_engine_on_a_reopened_store_resumes_without_repeating_itself() -> None:
    repository = InMemoryRepository()
    first = engine(repository)
    first.run(MONDAY, [tier2([])])
    first.record_conference("s1", "parent_conference", on=MONDAY, by="x")
    events = len(first.timeline("s1"))
    second = engine(repository)
    assert second.roster.load["x"] == 2  # the open caseload is counted again
    plan = second.run(MONDAY, [tier2([])])
    assert plan.opened == [] and len(second.timeline("s1")) == events
    history = second.with_history(tier2([]))["history"]
    assert history["conferences"] == [{"kind": "parent_conference", "held_on": MONDAY}]


def test_a_student_hovering_at_five_percent_gets_one_decision_not_twenty() -> None:
    """Issue 11: 5.0% / 4.9% alternating got 20 decision events in 20 runs.

    mtss enters Tier 2 at 5% and keeps a student there while the rate is at least 4% (its
    tier's stay_while); the engine passes the last decision's tier as previous_tier. By hand:
    the first run (5.0%) enters Tier 2 and is recorded; every later run, 5.0% by entry or 4.9%
    by staying, is the same decision, so nothing more is recorded.
    """
    e = engine()
    day = MONDAY
    for run in range(20):
        absent = 5.0 if run % 2 == 0 else 4.9
        facts = {"student_id": "s1", "school_id": "s", "days_enrolled": 100, "days_absent": absent}
        e.run(day, [facts])
        day += dt.timedelta(days=1)
    decisions = [ev for ev in e.timeline("s1") if ev.kind == "decision"]
    assert [ev.detail["tier"] for ev in decisions if ev.detail] == ["tier2"]
    # A host's own previous tier wins over the engine's record.
    facts = {
        "student_id": "s1",
        "school_id": "s",
        "days_enrolled": 100,
        "days_absent": 4.9,
        "previous_tier": "tier1",
    }
    assert e.ruleset.evaluate(e.with_history(facts), as_of=day).tier == "tier1"
    del facts["previous_tier"]
    assert e.ruleset.evaluate(e.with_history(facts), as_of=day).tier == "tier2"
