"""A new school year and a move between schools, from raw events through the Engine (issue 11).

California counts truancy "in one school year" (EC 48260, 48262): a student truant in May and
again in September gets a first notice (NOT1) again in September, never a second one on last
year's letter; open supports are carried, closed or restarted as the rule set says; a step
reported due in May and never issued is withdrawn when the new year starts. A student who moves
to another school of the district keeps their cases, now with the new school's staff; one who
leaves the district has them closed (or held) with the reason recorded.

Dates by hand: 2025-26 runs 2025-08-18 to 2026-06-05 (Monday to Friday, no holidays), 2026-27
from 2026-08-17. The school year starts on July 1 (ca.yaml, EC 37200).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.errors import WorkflowError
from tierflow.evaluate import parse_ruleset
from tierflow.workflow import OPEN_STATES, Engine, Roster, StaffMember

CA = tierflow.load_ruleset("ca")
Y1 = SchoolCalendar.from_pattern("lincoln", dt.date(2025, 8, 18), dt.date(2026, 6, 5))
Y2 = SchoolCalendar.from_pattern("lincoln", dt.date(2026, 8, 17), dt.date(2027, 6, 4))
BOTH = SchoolCalendar("lincoln", [*Y1.days, *Y2.days])
OTHER = SchoolCalendar.from_pattern("grant", dt.date(2025, 8, 18), dt.date(2026, 6, 5))
MAY = [dt.date(2026, 5, d) for d in (11, 12, 13)]  # Monday to Wednesday: 3 truancies
SEPT = [dt.date(2026, 9, d) for d in (1, 2, 3)]  # Tuesday to Thursday of 2026-27


def _roster() -> Roster:
    roles = sorted({iv.owner for iv in CA.interventions.values()})
    return Roster(
        [
            StaffMember(f"{school}-{role}", school, (role,))
            for school in ("lincoln", "grant")
            for role in roles
        ]
    )


def _builder(days: list[dt.date]) -> FactsBuilder:
    b = FactsBuilder({"lincoln": BOTH, "grant": OTHER})
    assert b.add_enrollment(Enrollment("s1", "lincoln", dt.date(2025, 8, 18), dt.date(2026, 6, 5)))
    assert b.add_enrollment(Enrollment("s1", "lincoln", dt.date(2026, 8, 17)))
    for day in days:
        assert b.add_event(AttendanceEvent("s1", "lincoln", day, "unexcused_absence"))
    return b


def _facts(b: FactsBuilder, day: dt.date) -> dict[str, Any]:
    facts = b.facts_for("s1", day)
    assert facts is not None
    return facts


def _ruleset(rollover: str) -> tierflow.CompiledRuleset:
    return parse_ruleset(
        f"""
id: district
name: District
version: "1"
extends: ca
school_year: {{starts: "07-01", rollover: {rollover}}}
""",
        name="district.yaml",
    )


def _may(rollover: str = "carry") -> tuple[Engine, FactsBuilder]:
    """NOT1 issued on 2026-05-14 and tier 2 supports opened; nothing since."""
    b = _builder([*MAY, *SEPT])
    e = Engine(_ruleset(rollover), roster=_roster(), calendars={"lincoln": BOTH})
    on = dt.date(2026, 5, 14)
    plan = e.run(on, [_facts(b, on)])
    assert plan.opened, "3 absences of 61 school days put the student in tier 2"
    e.issue_legal("s1", "not1", on=on, by="clerk", facts=_facts(b, on))
    return e, b


def test_not1_is_due_again_in_the_new_year_and_never_not2_on_last_years_letter() -> None:
    e, b = _may()
    before = dt.date(2026, 8, 31)  # the new year, before its truancies
    facts = _facts(b, before)
    assert (facts["days_unexcused"], facts["school_year"]) == (0, 2027)
    assert facts["prior_year_days_unexcused"] == 3
    plan = e.run(before, [facts])
    assert plan.legal_due == [] and plan.legal_blocked == []

    on = dt.date(2026, 9, 3)  # the third truancy of 2026-27
    plan = e.run(on, [_facts(b, on)])
    assert [a.step for _, a in plan.legal_due] == ["not1"]
    e.issue_legal("s1", "not1", on=on, by="clerk", facts=_facts(b, on))
    with pytest.raises(WorkflowError, match=r"already issued .* in school year 2026-2027"):
        e.issue_legal("s1", "not1", on=on, by="clerk", facts=_facts(b, on))
    # The timeline keeps both years' letters.
    issued = [ev.at for ev in e.timeline("s1") if ev.kind == "legal_issued"]
    assert issued == [dt.date(2026, 5, 14), dt.date(2026, 9, 3)]


def test_carry_keeps_open_supports_and_records_it_once() -> None:
    e, b = _may("carry")
    open_before = {iv.id for iv in e.interventions("s1") if iv.state in OPEN_STATES}
    on = dt.date(2026, 8, 17)
    plan = e.run(on, [_facts(b, on)])
    assert {iv.id for iv in plan.rolled_over} == open_before
    assert {iv.id for iv in e.interventions("s1") if iv.state in OPEN_STATES} >= open_before
    (event,) = [ev for ev in e.timeline("s1") if ev.kind == "rollover"]
    assert event.detail is not None
    assert (event.detail["year"], event.detail["rollover"]) == (2027, "carry")
    assert sorted(event.detail["interventions"]) == sorted(open_before)
    again = e.run(dt.date(2026, 8, 18), [_facts(b, dt.date(2026, 8, 18))])
    assert again.rolled_over == []
    assert len([ev for ev in e.timeline("s1") if ev.kind == "rollover"]) == 1


def test_close_ends_open_supports_with_the_year_as_the_reason() -> None:
    e, b = _may("close")
    opened = [iv for iv in e.interventions("s1") if iv.state in OPEN_STATES]
    on = dt.date(2026, 8, 17)
    plan = e.run(on, [_facts(b, on)])
    assert {iv.id for iv in plan.rolled_over} == {iv.id for iv in opened}
    for iv in opened:
        now = e.repository.get(iv.id)
        assert (now.state, now.ended_on) == ("closed", on)
    whys = [ev.why for ev in e.timeline("s1") if ev.kind == "transition" and ev.at == on]
    assert whys and all("school year 2025-2026 ended" in why for why in whys)


def test_restart_closes_and_reopens_what_this_year_still_warrants() -> None:
    e, b = _may("restart")
    kinds = {iv.intervention for iv in e.interventions("s1") if iv.state in OPEN_STATES}
    on = dt.date(2026, 9, 3)  # 3 absences in 14 school days: above tier 1 again this year
    facts = _facts(b, on)
    decision = e.ruleset.evaluate(facts, as_of=on)
    assert decision.tier != "tier1" and decision.interventions
    plan = e.run(on, [facts])
    assert {iv.intervention for iv in plan.rolled_over} == kinds
    # Closed at the year's start, and opened again at once (no cool-down) where warranted.
    assert {iv.intervention for iv in plan.opened} == {i.id for i in decision.interventions}


def test_a_step_due_in_may_and_never_issued_is_withdrawn_when_the_year_starts() -> None:
    b = _builder([*MAY, *SEPT])
    e = Engine(CA, roster=_roster(), calendars={"lincoln": BOTH})
    on = dt.date(2026, 5, 14)
    assert [a.step for _, a in e.run(on, [_facts(b, on)]).legal_due] == ["not1"]
    plan = e.run(dt.date(2026, 8, 17), [_facts(b, dt.date(2026, 8, 17))])
    assert plan.legal_withdrawn == [("s1", "not1")]
    (ev,) = [ev for ev in e.timeline("s1") if ev.kind == "legal_withdrawn"]
    assert "school year 2025-2026 ended" in ev.why and "starts again" in ev.why


def test_a_transfer_moves_cases_to_the_new_schools_staff() -> None:
    b = FactsBuilder({"lincoln": Y1, "grant": OTHER})
    assert b.add_enrollment(Enrollment("s1", "lincoln", dt.date(2025, 8, 18), dt.date(2025, 10, 3)))
    assert b.add_enrollment(Enrollment("s1", "grant", dt.date(2025, 10, 6)))
    for day in (dt.date(2025, 9, 8), dt.date(2025, 9, 9), dt.date(2025, 9, 10)):
        assert b.add_event(AttendanceEvent("s1", "lincoln", day, "unexcused_absence"))
    e = Engine(CA, roster=_roster(), calendars={"lincoln": Y1, "grant": OTHER})
    on = dt.date(2025, 9, 12)
    plan = e.run(on, [b.facts_for("s1", on)])
    assert plan.opened
    assert all(iv.owner == f"lincoln-{iv.owner_role}" for iv in plan.opened)
    moved_on = dt.date(2025, 10, 8)
    facts = b.facts_for("s1", moved_on)
    assert facts is not None and facts["school_id"] == "grant"
    # Counts of the school year follow the student: Lincoln's three days are still there.
    assert facts["days_unexcused"] == 3
    plan = e.run(moved_on, [facts])
    assert len(plan.transferred) == len(
        [iv for iv in e.interventions("s1") if iv.state in OPEN_STATES]
    )
    for iv in plan.transferred:
        assert (iv.school_id, iv.owner) == ("grant", f"grant-{iv.owner_role}")
    events = [ev for ev in e.timeline("s1") if ev.kind == "transferred"]
    assert {ev.intervention_id for ev in events} == {iv.id for iv in plan.transferred}
    assert all(ev.detail is not None and ev.detail["from_school"] == "lincoln" for ev in events)
    # Lincoln's staff carry nothing any more; a second run moves nothing.
    assert all(e.roster.load[f"lincoln-{r}"] == 0 for r in ("mentor", "counselor"))
    assert e.run(moved_on, [facts]).transferred == []


def test_leaving_the_district_closes_open_cases_with_the_reason() -> None:
    b = FactsBuilder({"lincoln": Y1})
    assert b.add_enrollment(Enrollment("s1", "lincoln", dt.date(2025, 8, 18), dt.date(2025, 10, 3)))
    for day in (dt.date(2025, 9, 8), dt.date(2025, 9, 9), dt.date(2025, 9, 10)):
        assert b.add_event(AttendanceEvent("s1", "lincoln", day, "unexcused_absence"))
    e = Engine(CA, roster=_roster(), calendars={"lincoln": Y1})
    e.run(dt.date(2025, 9, 12), [b.facts_for("s1", dt.date(2025, 9, 12))])
    gone = b.facts_for("s1", dt.date(2025, 10, 10))
    assert gone is not None and gone["enrolled"] is False
    plan = e.run(dt.date(2025, 10, 10), [gone])
    assert plan.left and all(iv.state == "closed" for iv in plan.left)
    assert not [iv for iv in e.interventions("s1") if iv.state in OPEN_STATES]
    whys = {ev.why for ev in e.timeline("s1") if ev.kind == "transition"}
    assert any("no longer enrolled as of 2025-10-10" in why for why in whys)


def _hand(school: str, **more: Any) -> dict[str, Any]:
    """Facts a host computes itself: 3 absences of 40 days (7.5%): mtss tier 2."""
    return {"student_id": "s1", "school_id": school, "days_enrolled": 40, "days_absent": 3, **more}


def _mtss(transfers: str) -> Engine:
    ruleset = parse_ruleset(
        f"""
id: district
name: District
version: "1"
extends: mtss
transfers: {transfers}
""",
        name="district.yaml",
    )
    return Engine(ruleset, roster=_roster())


def test_keep_leaves_the_named_owner_and_records_the_move() -> None:
    e = _mtss("{cases: keep}")
    opened = e.run(dt.date(2025, 10, 1), [_hand("lincoln")]).opened
    owners = {iv.id: iv.owner for iv in opened}
    plan = e.run(dt.date(2025, 10, 2), [_hand("grant")])
    assert {iv.id: iv.owner for iv in plan.transferred} == owners
    assert all(iv.school_id == "grant" for iv in plan.transferred)
    assert all(
        "kept with lincoln-" in ev.why for ev in e.timeline("s1") if ev.kind == "transferred"
    )


def test_hold_keeps_cases_open_and_records_the_leaving_once() -> None:
    e = _mtss("{on_leaving: hold}")
    opened = e.run(dt.date(2025, 10, 1), [_hand("lincoln")]).opened
    for day in (2, 3):
        plan = e.run(dt.date(2025, 10, day), [_hand("lincoln", enrolled=False)])
        assert plan.left == []
    assert all(e.repository.get(iv.id).state in OPEN_STATES for iv in opened)
    (left,) = [ev for ev in e.timeline("s1") if ev.kind == "left"]
    assert left.detail is not None and sorted(left.detail["interventions"]) == sorted(
        iv.id for iv in opened
    )


def test_a_transfer_to_a_full_school_leaves_the_case_unassigned_and_says_why() -> None:
    e = _mtss("{cases: reassign}")
    e.roster = Roster(
        [StaffMember(f"lincoln-{r}", "lincoln", (r,)) for r in ("mentor", "counselor")]
    )
    e.run(dt.date(2025, 10, 1), [_hand("lincoln")])
    plan = e.run(dt.date(2025, 10, 2), [_hand("grant")])
    assert plan.transferred and all(iv.owner is None for iv in plan.transferred)
    assert {u.reason for u in plan.unassigned} == {
        "no mentor on the roster of school grant",
        "no counselor on the roster of school grant",
    }
    assert e.roster.load["lincoln-mentor"] == 0


TX = tierflow.load_ruleset("tx")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    last_year=st.lists(st.sampled_from(Y1.days), max_size=40, unique=True),
    offset=st.integers(min_value=0, max_value=len(Y2.days) - 1),
)
def test_no_legal_step_is_ever_due_from_events_before_the_current_school_year(
    last_year: list[dt.date], offset: int
) -> None:
    """Invariant (issue 11): last year's absences, letters and supports bring nothing this year."""
    b = _builder(last_year)
    as_of = Y2.days[offset]
    for ruleset in (CA, TX):
        e = Engine(ruleset, roster=_roster(), calendars={"lincoln": BOTH})
        end = Y1.last_day
        e.run(end, [_facts(b, end)])
        for _, action in e.run(end, [_facts(b, end)]).legal_due:
            e.issue_legal("s1", action.step, on=end, by="clerk", facts=_facts(b, end))
        plan = e.run(as_of, [_facts(b, as_of)])
        assert plan.legal_due == [] and plan.legal_blocked == [], (ruleset.id, as_of)
