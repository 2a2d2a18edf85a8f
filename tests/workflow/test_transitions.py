"""Every declared transition through the engine's public path, and every WorkflowError it raises."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import tierflow
from tierflow.attendance import SchoolCalendar
from tierflow.errors import WorkflowError
from tierflow.workflow import (
    LIFECYCLE,
    STATES,
    Engine,
    IllegalTransitionError,
    Intervention,
    Lifecycle,
    Roster,
    StaffMember,
    TransitionDef,
)

# The lifecycle as docs/workflow.md draws it, written out by hand: the expected answers below
# come from this table, never from LIFECYCLE itself (a wrong table would agree with itself).
# (trigger, state) -> new state, in the order the triggers are declared.
TABLE = {
    ("start", "assigned"): "active",
    ("follow_up_due", "active"): "follow_up_due",
    ("check_in", "assigned"): "active",
    ("check_in", "active"): "active",
    ("check_in", "follow_up_due"): "active",
    ("meet_goal", "active"): "met_goal",
    ("meet_goal", "follow_up_due"): "met_goal",
    ("escalate", "active"): "escalated",
    ("escalate", "follow_up_due"): "escalated",
    ("close", "assigned"): "closed",
    ("close", "active"): "closed",
    ("close", "follow_up_due"): "closed",
}
TRIGGERS = ("start", "follow_up_due", "check_in", "meet_goal", "escalate", "close")
ALL_STATES = ("assigned", "active", "follow_up_due", "met_goal", "escalated", "closed")
TERMINAL = {"met_goal", "escalated", "closed"}  # "nothing leaves them"
ALLOWED = {s: tuple(t for t in TRIGGERS if (t, s) in TABLE) for s in ALL_STATES}

MONDAY = dt.date(2025, 10, 6)
CAL = SchoolCalendar.from_pattern("s", dt.date(2025, 8, 18), dt.date(2026, 5, 29))
GOOD = [{"date": "2025-09-08", "kind": "excused"}]  # nothing in the goal's four weeks
BAD = [{"date": d, "kind": "excused"} for d in ("2025-10-20", "2025-10-21", "2025-10-22")]


def facts(log: list[dict[str, str]] | None = None, **more: Any) -> dict[str, Any]:
    return {
        "student_id": "s1",
        "school_id": "s",
        "days_enrolled": 40,
        "days_absent": 3,
        "attendance_log": log or [],
        **more,
    }


def new_engine(ruleset: str = "mtss") -> Engine:
    staff = [StaffMember(f"x{i}", "s", ("mentor", "counselor", "social_worker")) for i in range(2)]
    return Engine(tierflow.load_ruleset(ruleset), roster=Roster(staff), calendars={"s": CAL})


def in_state(state: str) -> tuple[Engine, Intervention]:
    """A weekly check-in brought to ``state`` through public calls only."""
    e = new_engine()
    log = BAD if state == "escalated" else GOOD
    iv = next(i for i in e.run(MONDAY, [facts(log)]).opened if i.intervention == "weekly-checkin")
    if state == "assigned":
        return e, iv
    if state == "closed":
        e.close(iv.id, on=MONDAY, by="x0", reason="plan ended")
        return e, iv
    e.start(iv.id, on=MONDAY, by="x0")
    if state == "follow_up_due":
        e.advance(dt.date(2025, 10, 13))
    elif state in ("met_goal", "escalated"):
        assert iv.review_on is not None
        e.run(iv.review_on, [facts(log)])
    assert iv.state == state
    return e, iv


def _events(e: Engine) -> int:
    return len(e.timeline("s1"))


def _call(e: Engine, iv: Intervention, trigger: str) -> None:
    if trigger == "start":
        e.start(iv.id, on=dt.date(2025, 10, 14), by="x0")
    elif trigger == "check_in":
        e.check_in(iv.id, on=dt.date(2025, 10, 14), by="x0", goal_met=True)
    else:
        e.close(iv.id, on=dt.date(2025, 10, 14), by="x0", reason="student withdrew")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("trigger", ["start", "check_in", "close"])
def test_staff_triggers_from_every_state(trigger: str, state: str) -> None:
    e, iv = in_state(state)
    before = (iv.state, iv.version, _events(e), len(e.repository.check_ins(iv.id)))
    target = TABLE.get((trigger, state))
    if target is None:
        with pytest.raises(IllegalTransitionError) as info:
            _call(e, iv, trigger)
        err = info.value
        assert (err.intervention_id, err.state, err.trigger) == (iv.id, state, trigger)
        assert err.allowed == ALLOWED[state]
        assert iv.id in str(err) and state in str(err) and repr(trigger) in str(err)
        assert (iv.state, iv.version, _events(e), len(e.repository.check_ins(iv.id))) == before
    else:
        _call(e, iv, trigger)
        last = e.timeline("s1")[-1]
        assert iv.state == target and iv.version == before[1] + 1
        assert _events(e) == before[2] + 1
        assert (last.kind, last.trigger, last.from_state, last.to_state, last.who) == (
            "transition",
            trigger,
            state,
            target,
            "x0",
        )
        assert (iv.ended_on is not None) == (target in TERMINAL)


@pytest.mark.parametrize(
    ("state", "trigger", "target"),
    [
        ("active", "follow_up_due", "follow_up_due"),
        ("active", "meet_goal", "met_goal"),
        ("follow_up_due", "meet_goal", "met_goal"),
        ("active", "escalate", "escalated"),
        ("follow_up_due", "escalate", "escalated"),
    ],
)
def test_automatic_triggers_fire_from_runs_and_advance(
    state: str, trigger: str, target: str
) -> None:
    e, iv = in_state(state)
    log = BAD if target == "escalated" else GOOD
    assert iv.review_on is not None
    before = _events(e)
    if trigger == "follow_up_due":
        assert iv.next_follow_up is not None
        e.advance(iv.next_follow_up)
    else:
        e.run(iv.review_on, [facts(log)])
    assert iv.state == target
    fired = [ev for ev in e.timeline("s1")[before:] if ev.intervention_id == iv.id]
    assert [(ev.trigger, ev.from_state, ev.to_state, ev.who) for ev in fired] == [
        (trigger, state, target, "tierflow")
    ]
    if trigger != "follow_up_due":
        assert fired[0].facts is not None and fired[0].facts["days_absent"] == 3


def test_every_pair_not_declared_is_refused_by_the_table() -> None:
    declared = {(t.trigger, s) for t in LIFECYCLE.transitions for s in t.sources}
    for trigger in LIFECYCLE.triggers:
        for state in STATES:
            assert (LIFECYCLE.target(trigger, state) is None) == ((trigger, state) not in declared)
    assert LIFECYCLE.allowed("closed") == ()
    assert LIFECYCLE.allowed("assigned") == ("start", "check_in", "close")


def test_the_lifecycle_is_the_documented_table() -> None:
    assert tuple(STATES) == ALL_STATES
    assert tuple(LIFECYCLE.triggers) == TRIGGERS
    assert set(LIFECYCLE.terminal) == TERMINAL
    for trigger in TRIGGERS:
        for state in ALL_STATES:
            assert LIFECYCLE.target(trigger, state) == TABLE.get((trigger, state)), (trigger, state)
    for state in ALL_STATES:
        assert LIFECYCLE.allowed(state) == ALLOWED[state], state


def test_an_initial_state_that_is_not_a_state_is_refused() -> None:
    with pytest.raises(WorkflowError, match="initial state 'z' is not a state"):
        Lifecycle(("a", "b"), (TransitionDef("go", ("a",), "b", ""),), initial="z", terminal={"b"})


@pytest.mark.parametrize(
    "settings",
    [{"grace_days": -1}, {"cooldown_days": -2}, {"default_review_days": 0}],
)
def test_engine_settings_are_checked(settings: dict[str, int]) -> None:
    with pytest.raises(WorkflowError, match="must be"):
        Engine(tierflow.load_ruleset("mtss"), **settings)


def test_staff_action_errors_change_nothing() -> None:
    e, iv = in_state("active")
    before = (iv.version, _events(e))
    cases: list[tuple[str, Any]] = [
        ("no intervention 'iv-9'", lambda: e.start("iv-9", on=MONDAY, by="x0")),
        ("no intervention 'iv-9'", lambda: e.close("iv-9", on=MONDAY, by="x0", reason="r")),
        (
            "unknown contact type 'pigeon'",
            lambda: e.check_in(iv.id, on=MONDAY, by="x0", contact_type="pigeon"),
        ),
        ("unknown outcome 'great'", lambda: e.check_in(iv.id, on=MONDAY, by="x0", outcome="great")),
        (
            "predates intervention",
            lambda: e.check_in(iv.id, on=MONDAY - dt.timedelta(days=1), by="x0"),
        ),
        ("needs a reason", lambda: e.close(iv.id, on=MONDAY, by="x0", reason="")),
        ("needs a kind", lambda: e.record_conference("s1", " ", on=MONDAY, by="x0")),
    ]
    for message, call in cases:
        with pytest.raises(WorkflowError, match=message):
            call()
    assert (iv.version, _events(e)) == before and e.repository.check_ins(iv.id) == []


def _tx(sid: str, unexcused_days: list[str], **more: Any) -> dict[str, Any]:
    log = [{"date": d, "kind": "unexcused"} for d in unexcused_days]
    return {
        "student_id": sid,
        "school_id": "s",
        "days_enrolled": 90,
        "days_absent": len(log),
        "days_unexcused": len(log),
        "attendance_log": log,
        **more,
    }


def test_legal_issuing_errors_name_the_reason_and_record_nothing() -> None:
    e = new_engine("tx")
    day = dt.date(2025, 10, 20)
    facts = _tx("t1", ["2025-10-06", "2025-10-08", "2025-10-10"])
    e.run(day, [facts])
    with pytest.raises(WorkflowError, match="not student t2's"):
        e.issue_legal("t2", "parent-notice", on=day, by="clerk", facts=facts)
    with pytest.raises(WorkflowError, match="no legal step 'letter-9'; steps: parent-notice"):
        e.issue_legal("t1", "letter-9", on=day, by="clerk", facts=facts)
    with pytest.raises(WorkflowError, match="court-referral is not warranted"):
        e.issue_legal("t1", "court-referral", on=day, by="clerk", facts=facts)
    # Ten unexcused days in six months warrant a referral (TEC 25.0951), but its prerequisites
    # are missing: the measures (TEC 25.0915) and support tried. (Prevention measures themselves
    # start at the parent notice's trigger, TEC 25.0915(a-4), so they are not blocked here.)
    ten = _tx(
        "t3",
        [f"2025-09-{d:02d}" for d in (1, 3, 5, 9, 11, 15, 17, 19)] + ["2025-10-06", "2025-10-08"],
    )
    e.run(day, [ten])
    with pytest.raises(
        WorkflowError,
        match=r"court-referral cannot be issued to student t3: Truancy prevention measures .*"
        r"has not been issued; 1 supportive tier 2\+ intervention",
    ):
        e.issue_legal("t3", "court-referral", on=day, by="clerk", facts=ten)
    assert e.repository.issued("t1") == {}
    assert e.repository.issued("t3") == {}
    e.issue_legal("t1", "parent-notice", on=day, by="clerk", facts=facts)
    with pytest.raises(WorkflowError, match="already issued"):
        e.issue_legal("t1", "parent-notice", on=day, by="clerk", facts=facts)
    assert e.repository.issued("t1") == {"parent-notice": day}


def test_an_exempt_student_is_never_referred_and_the_step_is_not_reported_due() -> None:
    e = new_engine("tx")
    days = [
        f"2025-{m:02d}-{d:02d}"
        for m, d in [
            (9, 1),
            (9, 15),
            (9, 29),
            (10, 13),
            (10, 27),
            (11, 10),
            (11, 24),
            (12, 8),
            (12, 22),
        ]
    ]
    days.append("2026-01-05")
    facts = _tx("h1", days, groups=["homeless"])
    on = dt.date(2026, 1, 6)
    e.run(on, [facts])
    e.issue_legal("h1", "parent-notice", on=on, by="clerk", facts=facts)
    e.issue_legal("h1", "prevention-measures", on=on, by="clerk", facts=facts)
    plan = e.run(on, [facts])
    assert all(a.step != "court-referral" for _, a in plan.legal_due + plan.legal_blocked)
    with pytest.raises(WorkflowError, match=r"court-referral cannot be issued .*exempt"):
        e.issue_legal("h1", "court-referral", on=on, by="clerk", facts=facts)
    assert set(e.repository.issued("h1")) == {"parent-notice", "prevention-measures"}


def test_advance_with_schools_looks_only_at_those_schools() -> None:
    engine = Engine(tierflow.load_ruleset("mtss"))
    day = dt.date(2025, 10, 6)
    tier2 = {"days_enrolled": 30, "days_absent": 3}  # 10%: Tier 2 under mtss
    students = [
        {"student_id": "a1", "school_id": "lincoln", **tier2},
        {"student_id": "b1", "school_id": "roosevelt", **tier2},
        {"student_id": "n1", **tier2},  # no school
    ]
    engine.run(day, students)
    later = day + dt.timedelta(days=60)  # every follow-up of the openings has passed

    def moved(plan: Any) -> set[str]:
        return {iv.student_id for iv in plan.due}

    assert moved(engine.advance(later, schools={"lincoln"})) == {"a1"}
    assert {e.student_id for e in engine.repository.open_interventions() if e.overdue} == {"a1"}
    assert moved(engine.advance(later, schools={None})) == {"n1"}
    assert moved(engine.advance(later)) == {"a1", "b1", "n1"}
    overdue = {e.student_id for e in engine.repository.open_interventions() if e.overdue}
    assert overdue == {"a1", "b1", "n1"}
