"""The seed stories end to end: a host runs the engine day by day on facts built from raw events.

Dallas (seed 000): a middle-schooler at 9% missed days gets Tier 2, a weekly check-in and a
counselor's family call; the call finds a transportation problem; a bus pass is issued with a
follow-up date; attendance improves within a month and every intervention meets its goal.

Anaheim (seed 001): a student with 8 missed days gets a weekly check-in with a staff mentor and an
attendance goal; each check-in is logged with goal met or not; the review after three weeks (15
school days) finds the goal met: no escalation. The counterfactual (absences go on) escalates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.workflow import Engine, Intervention, Plan, Roster, StaffMember

EXAMPLES = Path(__file__).resolve().parents[2] / "rulesets" / "examples"
YEAR = (dt.date(2025, 8, 18), dt.date(2026, 5, 29))
BREAKS = [
    (dt.date(2025, 11, 24), dt.date(2025, 11, 28)),
    (dt.date(2025, 12, 22), dt.date(2026, 1, 2)),
]


def calendar(school: str) -> SchoolCalendar:
    return SchoolCalendar.from_pattern(school, *YEAR, holidays=[dt.date(2025, 9, 1)], breaks=BREAKS)


def builder(
    cal: SchoolCalendar, sid: str, absences: Iterable[tuple[dt.date, str, str]]
) -> FactsBuilder:
    b = FactsBuilder({cal.id: cal})
    assert b.add_enrollment(Enrollment(sid, cal.id, YEAR[0], grade=7))
    for day, category, reason in absences:
        assert b.add_event(AttendanceEvent(sid, cal.id, day, category, reason=reason or None))
    return b


def school_days(cal: SchoolCalendar, first: dt.date, last: dt.date) -> list[dt.date]:
    return [d for d in cal.days if first <= d <= last]


Owner = Callable[[dt.date, Intervention], None]


def run_days(
    engine: Engine,
    days: list[dt.date],
    facts_on: Callable[[dt.date], dict[str, Any]],
    owners: Owner,
) -> list[Plan]:
    """The host's loop: run every school day, then owners check in on what is due."""
    plans = []
    for day in days:
        plan = engine.run(day, [facts_on(day)])
        assert plan.rejected == [] and plan.unassigned == []
        for iv in plan.due:
            owners(day, iv)
        plans.append(plan)
    return plans


def test_dallas_tier2_check_in_family_call_bus_pass_follow_up_and_goal_met() -> None:
    cal = calendar("dallas-ms")
    misses = [
        dt.date(2025, 9, 3),
        dt.date(2025, 9, 17),
        dt.date(2025, 10, 1),
        dt.date(2025, 10, 15),
        dt.date(2025, 10, 29),
    ]
    b = builder(cal, "dallas-1", [(d, "unexcused_absence", "") for d in misses])
    roster = Roster(
        [
            StaffMember("mr-diaz", "dallas-ms", ("mentor",)),
            StaffMember("ms-okafor", "dallas-ms", ("counselor",)),
            StaffMember("mrs-hall", "dallas-ms", ("attendance_clerk",)),
        ]
    )
    engine = Engine(
        tierflow.load_ruleset(EXAMPLES / "dallas.yaml"),
        roster=roster,
        calendars={"dallas-ms": cal},
    )
    causes: list[str] = []

    def facts_on(day: dt.date) -> dict[str, Any]:
        facts = b.facts_for("dallas-1", day)
        assert facts is not None
        return facts | {"causes": causes} if causes else facts

    alert = dt.date(2025, 11, 3)
    first = facts_on(alert)
    assert round(first["days_absent"] / first["days_enrolled"], 2) == 0.09  # 9% of days missed
    plan = engine.run(alert, [first])
    opened = {iv.intervention: iv for iv in plan.opened}
    assert set(opened) == {"weekly-checkin", "family-call"}  # Tier 2, cause not yet known
    checkin, call = opened["weekly-checkin"], opened["family-call"]
    assert (checkin.owner, call.owner) == ("mr-diaz", "ms-okafor")
    assert checkin.tier_level == call.tier_level == 2

    # The counselor's family call finds the transportation problem; the mentor starts.
    day = dt.date(2025, 11, 4)
    engine.check_in(
        call.id,
        on=day,
        by="ms-okafor",
        contact_type="call",
        goal_met=False,
        note="bus route changed in October; no reliable ride in the morning",
    )
    engine.start(checkin.id, on=day, by="mr-diaz")
    causes.append("transportation")

    # The next run brings in transport support: a bus pass, owned by the attendance clerk.
    day = dt.date(2025, 11, 5)
    plan = engine.run(day, [facts_on(day)])
    (bus,) = plan.opened
    assert (bus.intervention, bus.owner) == ("transport-support", "mrs-hall")
    engine.check_in(bus.id, on=day, by="mrs-hall", contact_type="meeting", note="bus pass issued")
    assert bus.next_follow_up == cal.days[cal.days.index(day) + 5]  # the follow-up date

    def owners(today: dt.date, iv: Intervention) -> None:
        # Attendance has improved: each owner judges the period's goal met.
        assert iv.owner is not None and iv.next_follow_up is not None
        assert iv.next_follow_up in cal  # follow-ups land on school days
        engine.check_in(iv.id, on=today, by=iv.owner, goal_met=True, contact_type="meeting")

    plans = run_days(
        engine, school_days(cal, dt.date(2025, 11, 6), dt.date(2025, 12, 19)), facts_on, owners
    )
    assert all(p.escalated == [] and p.withdrawn == [] and p.legal_due == [] for p in plans)
    states = {iv.intervention: iv.state for iv in engine.interventions("dallas-1")}
    assert states == {
        "weekly-checkin": "met_goal",
        "family-call": "met_goal",
        "transport-support": "met_goal",
    }
    end = facts_on(dt.date(2025, 12, 19))
    assert end["days_absent"] / end["days_enrolled"] < 0.10  # never chronically absent

    timeline = engine.timeline("dallas-1")
    assert [ev.seq for ev in timeline] == sorted(ev.seq for ev in timeline)
    assert [ev.at for ev in timeline] == sorted(ev.at for ev in timeline)
    story = [(ev.kind, ev.intervention_id, ev.trigger) for ev in timeline[:7]]
    assert story == [
        ("decision", None, None),
        ("opened", checkin.id, None),
        ("opened", call.id, None),
        ("transition", call.id, "check_in"),
        ("transition", checkin.id, "start"),
        ("decision", None, None),
        ("opened", bus.id, None),
    ]
    met = [ev for ev in timeline if ev.trigger == "meet_goal"]
    assert {ev.intervention_id for ev in met} == {checkin.id, call.id, bus.id}
    assert all(ev.ruleset is not None and ev.ruleset.id == "example-dallas" for ev in met)
    why = {ev.intervention_id: ev.why for ev in met}
    assert why[checkin.id] == "goal met at review: Miss at most 1 day in the last 4 weeks"
    assert why[call.id].startswith("no measurable goal; the latest check-in")
    check_ins = engine.repository.check_ins(checkin.id)
    assert len(check_ins) == 2 and all(c.on in cal for c in check_ins)  # before the break


def anaheim(extra_misses: list[dt.date]) -> tuple[Engine, Intervention, list[Plan]]:
    cal = calendar("katella-hs")
    misses = [dt.date(2025, 9, d) for d in (4, 11, 18, 25)] + [dt.date(2025, 10, d) for d in (2, 9)]
    events = [(d, "excused_absence", "parent note") for d in misses]
    events += [
        (dt.date(2025, 10, 16), "unexcused_absence", ""),
        (dt.date(2025, 10, 23), "unexcused_absence", ""),
    ]
    events += [(d, "excused_absence", "parent note") for d in extra_misses]
    b = builder(cal, "anaheim-1", events)
    engine = Engine(
        tierflow.load_ruleset(EXAMPLES / "anaheim.yaml"),
        roster=Roster(
            [
                StaffMember("ms-nguyen", "katella-hs", ("mentor",), caseload_limit=15),
                StaffMember("mr-park", "katella-hs", ("counselor", "social_worker")),
            ]
        ),
        calendars={"katella-hs": cal},
    )

    def facts_on(day: dt.date) -> dict[str, Any]:
        facts = b.facts_for("anaheim-1", day)
        assert facts is not None
        return facts

    alert = dt.date(2026, 1, 12)
    assert facts_on(alert)["days_absent"] == 8
    plan = engine.run(alert, [facts_on(alert)])
    (mentor,) = plan.opened
    assert (mentor.intervention, mentor.owner, mentor.tier_level) == (
        "weekly-checkin",
        "ms-nguyen",
        2,
    )
    assert mentor.review_on == cal.days[cal.days.index(alert) + 15]  # three school weeks
    engine.start(mentor.id, on=alert, by="ms-nguyen")

    def owners(today: dt.date, iv: Intervention) -> None:
        week = [d for d in cal.days if today - dt.timedelta(days=7) < d <= today]
        missed = any(d in extra_misses for d in week)
        engine.check_in(
            iv.id,
            on=today,
            by="ms-nguyen",
            goal_met=not missed,
            contact_type="meeting",
            note="missed a day this week" if missed else "full week",
        )

    plans = run_days(
        engine, school_days(cal, dt.date(2026, 1, 13), dt.date(2026, 2, 13)), facts_on, owners
    )
    return engine, mentor, plans


def test_anaheim_weekly_mentor_check_ins_reviewed_after_three_weeks_without_escalation() -> None:
    engine, mentor, plans = anaheim(extra_misses=[dt.date(2026, 1, 14)])
    assert mentor.state == "met_goal" and mentor.ended_on == mentor.review_on
    assert all(p.escalated == [] and p.opened == [] for p in plans)
    logged = engine.repository.check_ins(mentor.id)
    assert [c.goal_met for c in logged] == [False, True]  # each check-in logged, met or not
    assert [c.on.weekday() for c in logged] == [0, 0]  # weekly, on Mondays
    (review,) = [ev for ev in engine.timeline("anaheim-1") if ev.trigger == "meet_goal"]
    assert review.why == (
        "goal met at review: Miss no more than 1 day in the three weeks before the review"
    )
    assert review.facts is not None and review.facts["days_absent"] == 9


def test_anaheim_counterfactual_absences_go_on_and_the_review_escalates() -> None:
    more = [dt.date(2026, 1, 14), dt.date(2026, 1, 21), dt.date(2026, 1, 28)]
    engine, mentor, plans = anaheim(extra_misses=more)
    assert mentor.state == "escalated"
    opened = [iv for p in plans for iv in p.opened]
    # Ten absences make the student chronically absent: the playbook adds a success plan.
    assert [iv.intervention for iv in opened] == ["attendance-plan", "home-visit"]
    escalation = opened[1]
    assert (escalation.intervention, escalation.escalated_from) == ("home-visit", mentor.id)
    assert escalation.reason.startswith(
        f"escalated from weekly-checkin ({mentor.id}): goal not met"
    )
    assert [c.goal_met for c in engine.repository.check_ins(mentor.id)] == [False, False]


def test_dallas_bus_pass_from_the_barrier_the_counselor_recorded_at_the_check_in() -> None:
    """Issue 14: the same story, the cause recorded by staff instead of injected into facts."""
    cal = calendar("dallas-ms")
    misses = [dt.date(2025, m, d) for m, d in ((9, 3), (9, 17), (10, 1), (10, 15), (10, 29))]
    b = builder(cal, "dallas-1", [(d, "unexcused_absence", "") for d in misses])
    engine = Engine(
        tierflow.load_ruleset(EXAMPLES / "dallas.yaml"),
        roster=Roster(
            [
                StaffMember("mr-diaz", "dallas-ms", ("mentor",)),
                StaffMember("ms-okafor", "dallas-ms", ("counselor",)),
                StaffMember("mrs-hall", "dallas-ms", ("attendance_clerk",)),
            ]
        ),
        calendars={"dallas-ms": cal},
    )

    def facts_on(day: dt.date) -> dict[str, Any]:
        facts = b.facts_for("dallas-1", day)
        assert facts is not None and not facts.get("causes")  # the host names no cause
        return facts

    plan = engine.run(dt.date(2025, 11, 3), [facts_on(dt.date(2025, 11, 3))])
    call = next(iv for iv in plan.opened if iv.intervention == "family-call")
    day = dt.date(2025, 11, 4)
    engine.check_in(call.id, on=day, by="ms-okafor", contact_type="call", note="bus route changed")
    barrier = engine.record_barrier(
        "dallas-1", "transportation", on=day, by="ms-okafor", intervention_id=call.id
    )
    # A run dated before the barrier was learnt does not see it (replaying an earlier day).
    assert engine.run(dt.date(2025, 11, 3), [facts_on(dt.date(2025, 11, 3))]).opened == []
    day = dt.date(2025, 11, 5)
    plan = engine.run(day, [facts_on(day)])
    (bus,) = plan.opened
    assert (bus.intervention, bus.owner) == ("transport-support", "mrs-hall")
    decision = [ev for ev in engine.timeline("dallas-1") if ev.kind == "decision"][-1]
    assert decision.facts is not None and decision.facts["causes"] == ["transportation"]
    assert decision.facts["causes_recorded"] == {
        "transportation": {"event": barrier.seq, "by": "ms-okafor", "on": "2025-11-04"}
    }
    # Recorded once, it stays a fact: the next days open nothing more.
    assert engine.run(dt.date(2025, 11, 6), [facts_on(dt.date(2025, 11, 6))]).opened == []
