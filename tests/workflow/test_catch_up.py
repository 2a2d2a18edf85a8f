"""A run decides a student again from what it recorded, without reading the timeline again.

When a run records something for a student that the legal ladder reads (an intervention
opened, a withdrawal, a new year's rollover, a move), it decides the student again. It used to
read the student's whole timeline a second (and third) time for that; it now folds only the
events it recorded since. These tests hold the fold to the old way: a second engine whose
catching up reads the whole timeline again, run on the same days, must record the same events
and leave the same interventions, over both school years, rollovers, moves and letters issued.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.evaluate import CompiledRuleset, parse_ruleset
from tierflow.workflow import Engine, Roster, StaffMember
from tierflow.workflow._core import Recall

Y1 = SchoolCalendar.from_pattern("lincoln", dt.date(2025, 8, 18), dt.date(2026, 6, 5))
Y2 = SchoolCalendar.from_pattern("lincoln", dt.date(2026, 8, 17), dt.date(2027, 6, 4))
BOTH = SchoolCalendar("lincoln", [*Y1.days, *Y2.days])
GRANT = SchoolCalendar("grant", BOTH.days)
DAYS = BOTH.days


def _roster(ruleset: CompiledRuleset) -> Roster:
    roles = sorted({iv.owner for iv in ruleset.interventions.values()})
    return Roster(
        [
            StaffMember(f"{school}-{role}", school, (role,))
            for school in ("lincoln", "grant")
            for role in roles
        ]
    )


def _ruleset(base: str, rollover: str, transfers: str) -> CompiledRuleset:
    return parse_ruleset(
        f"""
id: district
name: District
version: "1"
extends: {base}
school_year: {{starts: "07-01", rollover: {rollover}}}
transfers: {transfers}
""",
        name="district.yaml",
    )


def _rereading(engine: Engine) -> Engine:
    """``engine`` catching up the old way: the student's whole timeline read again."""

    def catch_up(recall: Recall) -> Recall:
        assert engine._following is not None
        return engine._recall(engine._following[0])

    engine._catch_up = catch_up  # type: ignore[method-assign]
    return engine


def _state(engine: Engine, students: list[str]) -> list[Any]:
    return [(engine.timeline(s), engine.interventions(s)) for s in students]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    truancies=st.lists(st.sampled_from(DAYS), max_size=30, unique=True),
    runs=st.lists(st.sampled_from(DAYS), min_size=1, max_size=8, unique=True),
    moved_on=st.none() | st.sampled_from(DAYS),
    rollover=st.sampled_from(["carry", "close", "restart"]),
    issue=st.booleans(),
)
def test_recorded_events_fold_as_a_second_reading_would(
    truancies: list[dt.date],
    runs: list[dt.date],
    moved_on: dt.date | None,
    rollover: str,
    issue: bool,
) -> None:
    ruleset = _ruleset("ca", rollover, "{cases: reassign}")
    calendars = {"lincoln": BOTH, "grant": GRANT}
    b = FactsBuilder(calendars)
    if moved_on is None:
        assert b.add_enrollment(Enrollment("s1", "lincoln", DAYS[0]))
    else:
        # A move to grant (a transfer in the workflow) on moved_on, or the first day.
        if moved_on > DAYS[0]:
            left = max(d for d in DAYS if d < moved_on)
            assert b.add_enrollment(Enrollment("s1", "lincoln", DAYS[0], left))
        assert b.add_enrollment(Enrollment("s1", "grant", moved_on))
    for day in truancies:
        school = "lincoln" if moved_on is None or day < moved_on else "grant"
        assert b.add_event(AttendanceEvent("s1", school, day, "unexcused_absence"))
    engines = [
        Engine(ruleset, roster=_roster(ruleset), calendars=calendars),
        _rereading(Engine(ruleset, roster=_roster(ruleset), calendars=calendars)),
    ]
    for on in sorted(runs):
        facts = b.facts_for("s1", on)
        assert facts is not None
        plans = [e.run(on, [facts]) for e in engines]
        assert plans[0].summary() == plans[1].summary()
        if issue:
            for e, plan in zip(engines, plans, strict=True):
                for _, action in plan.legal_due:
                    e.issue_legal("s1", action.step, on=on, by="clerk", facts=facts)
        assert _state(engines[0], ["s1"]) == _state(engines[1], ["s1"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    days=st.lists(
        st.tuples(
            st.sampled_from(["lincoln", "grant"]),
            st.integers(min_value=0, max_value=12),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    ),
    transfers=st.sampled_from(["{cases: keep}", "{cases: reassign}", "{on_leaving: hold}"]),
)
def test_moves_and_leavings_fold_as_a_second_reading_would(
    days: list[tuple[str, int, bool]], transfers: str
) -> None:
    ruleset = _ruleset("mtss", "carry", transfers)
    engines = [Engine(ruleset, roster=_roster(ruleset)), _rereading(Engine(ruleset))]
    engines[1].roster = _roster(ruleset)
    for n, (school, absent, enrolled) in enumerate(days):
        on = dt.date(2025, 10, 1) + dt.timedelta(days=n)
        records = [
            {
                "student_id": sid,
                "school_id": school,
                "days_enrolled": 40 + n,
                "days_absent": absent + k,
                "enrolled": enrolled or k == 1,
            }
            for k, sid in enumerate(("s1", "s2"))
        ]
        plans = [e.run(on, records) for e in engines]
        assert plans[0].summary() == plans[1].summary()
        assert _state(engines[0], ["s1", "s2"]) == _state(engines[1], ["s1", "s2"])


def test_the_rereading_engine_is_a_second_implementation() -> None:
    # The comparison above means something only if the two engines catch up differently: the
    # second reads the timeline again, the first folds what it recorded.
    ruleset = tierflow.load_ruleset("mtss")
    reads: list[str] = []
    e = _rereading(Engine(ruleset))
    repository_events = e.repository.events

    def counting(student_id: str) -> Any:
        reads.append(student_id)
        return repository_events(student_id)

    e.repository.events = counting  # type: ignore[method-assign]
    facts = {"student_id": "s1", "school_id": "x", "days_enrolled": 40, "days_absent": 8}
    e.run(dt.date(2025, 10, 1), [facts])
    folding = Engine(ruleset)
    folded_reads: list[str] = []
    folding_events = folding.repository.events

    def counting_folded(student_id: str) -> Any:
        folded_reads.append(student_id)
        return folding_events(student_id)

    folding.repository.events = counting_folded  # type: ignore[method-assign]
    folding.run(dt.date(2025, 10, 1), [facts])
    assert len(reads) > len(folded_reads) >= 1
