"""California truancy occasions (EC 48260) from raw events through FactsBuilder and ca.

EC 48260(a): a pupil is truant when "absent from school without a valid excuse three full days in
one school year or tardy or absent for more than a 30-minute period during the schoolday without
a valid excuse on three occasions in one school year, or any combination thereof". So a day is
one occasion at most, whatever its events; time recorded as excused is never an occasion; a
half-day unexcused absence (180 of 360 minutes) is one occasion, not half a day. Every expected
count below is worked out by hand from that text; none is read off the code.

The calendar is September 2025 (22 weekdays, 2025-09-01 a Monday), 360-minute days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.spec import AttendancePolicy

AS_OF = dt.date(2025, 9, 30)
MONDAYS_TO_FRIDAYS = (2, 3, 4, 5, 8, 9, 10, 11, 12, 15)  # school days, for events


def _build(events: list[AttendanceEvent], **policy: Any) -> dict[str, Any]:
    cal = SchoolCalendar.from_pattern("a", dt.date(2025, 9, 1), AS_OF)
    builder = FactsBuilder({"a": cal}, policy=AttendancePolicy(**policy))
    builder.add_enrollment(Enrollment("s1", "a", cal.first_day))
    for event in events:
        assert builder.add_event(event), builder.report.rejects
    facts = builder.facts_for("s1", AS_OF)
    assert facts is not None
    return facts


def _ev(day: int, category: str, **kw: Any) -> AttendanceEvent:
    return AttendanceEvent("s1", "a", dt.date(2025, 9, day), category, **kw)


def _truancies(facts: dict[str, Any]) -> float:
    """The count ca.yaml's NOT letters read: its metric ``days_unexcused + tardies_over_30``."""
    return float(facts["days_unexcused"] + facts["tardies_over_30"])


def _ca_legal_due(facts: dict[str, Any]) -> tuple[str, ...]:
    return tierflow.load_ruleset("ca").evaluate(facts, as_of=AS_OF).legal_due


def _truancy_rows(facts: dict[str, Any]) -> int:
    """What ``count_within('truancy', ...)`` counts: rows of kind unexcused or tardy_over_30."""
    return sum(1 for r in facts["attendance_log"] if r["kind"] in ("unexcused", "tardy_over_30"))


def test_six_half_day_unexcused_absences_are_six_occasions() -> None:
    # Each is 180 minutes without a valid excuse: six occasions (the statute), not three days.
    events = [_ev(d, "unexcused_absence", duration=0.5) for d in MONDAYS_TO_FRIDAYS[:6]]
    facts = _build(events)
    assert facts["truancy_occasions"] == 6
    assert facts["days_unexcused"] == 3.0  # full-day equivalents, for the rates, as documented
    assert facts["days_absent"] == 3.0
    assert _truancies(facts) == 6.0
    assert _truancy_rows(facts) == 6


def test_two_three_hour_unexcused_departures_are_two_occasions_and_no_letter() -> None:
    events = [
        _ev(d, "early_departure", minutes=180.0, reason="Unexcused") for d in MONDAYS_TO_FRIDAYS[:2]
    ]
    facts = _build(events)
    assert facts["truancy_occasions"] == 2
    assert facts["days_unexcused"] == 1.0  # 2 x 180 / 360
    assert _truancies(facts) == 2.0  # two occasions, each once
    assert _truancy_rows(facts) == 2  # one row per date
    assert "not1" not in _ca_legal_due(facts)  # three truancies are needed


def test_three_excused_45_minute_departures_are_no_occasion() -> None:
    events = [
        _ev(d, "early_departure", minutes=45.0, reason="Absent excused")
        for d in MONDAYS_TO_FRIDAYS[:3]
    ]
    facts = _build(events)
    assert facts["days_excused"] == pytest.approx(3 * 45 / 360)
    assert (facts["truancy_occasions"], facts["tardies_over_30"], facts["days_unexcused"]) == (
        0,
        0.0,
        0.0,
    )
    assert _truancy_rows(facts) == 0
    assert "not1" not in _ca_legal_due(facts)


def test_an_excused_long_tardy_is_no_occasion_and_an_unexcused_one_is() -> None:
    facts = _build([_ev(2, "tardy", minutes=45.0, reason="excused"), _ev(3, "tardy", minutes=45)])
    assert (facts["tardies"], facts["truancy_occasions"], facts["tardies_over_30"]) == (2, 1, 1.0)
    kinds = sorted((r["date"].day, r["kind"]) for r in facts["attendance_log"])
    assert kinds == [(2, "tardy"), (3, "tardy_over_30")]


def test_any_combination_makes_three_and_a_day_counts_once() -> None:
    events = [
        _ev(2, "unexcused_absence"),  # a full day: 1
        _ev(3, "tardy", minutes=45.0),  # late 45 minutes, no excuse: 1
        _ev(4, "tardy", minutes=45.0),  # late 45 minutes and left 60 minutes early, both
        _ev(4, "early_departure", minutes=60.0, reason="Unexcused"),  # unexcused: 1, not 2
        _ev(5, "tardy", minutes=20.0),  # 20 minutes is not more than 30: 0
        _ev(8, "excused_absence"),  # excused: 0
        _ev(9, "early_departure", minutes=120.0, reason="Absent excused"),  # excused: 0
    ]
    facts = _build(events)
    assert facts["truancy_occasions"] == 3
    assert facts["days_unexcused"] == pytest.approx(1 + 60 / 360)
    assert _truancies(facts) == pytest.approx(3.0)
    assert facts["tardies"] == 3  # the 3rd, 4th and 5th
    assert _truancy_rows(facts) == 3
    log = facts["attendance_log"]
    assert len({(r["date"], r["kind"]) for r in log}) == len(log)  # one row per date per kind
    assert "not1" in _ca_legal_due(facts)


def test_whole_day_counting_keeps_one_occasion_per_day() -> None:
    # absent_day_threshold 0.5: the half days become whole unexcused days, still one each.
    events = [_ev(d, "unexcused_absence", duration=0.5) for d in MONDAYS_TO_FRIDAYS[:3]]
    events.append(_ev(15, "early_departure", minutes=60.0, reason="Unexcused"))
    facts = _build(events, absent_day_threshold=0.5)
    # Three whole unexcused days; the 60-minute departure is below half a day, so no absent day,
    # but it is an occasion all the same.
    assert (facts["days_unexcused"], facts["tardies_over_30"]) == (3.0, 1.0)
    assert facts["truancy_occasions"] == 4
    assert _truancy_rows(facts) == 4


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["unexcused_absence", "partial", "early_departure"]),
            st.integers(31, 400),  # every one longer than 30 minutes: an occasion each
        ),
        min_size=1,
        max_size=len(MONDAYS_TO_FRIDAYS),
    )
)
def test_the_ca_sum_is_exactly_the_number_of_occasions(events: list[tuple[str, int]]) -> None:
    # Each event is alone on its day, unexcused and longer than 30 minutes, so the statute
    # counts exactly len(events) occasions; ca's `truancies >= 3` must see that number exactly,
    # not 2.9999999999999996 from adding fractions of a day.
    facts = _build(
        [
            _ev(day, category, minutes=float(minutes), reason="Unexcused")
            for day, (category, minutes) in zip(MONDAYS_TO_FRIDAYS, events, strict=False)
        ]
    )
    assert facts["truancy_occasions"] == len(events)
    assert facts["days_unexcused"] + facts["tardies_over_30"] >= len(events)
    assert facts["days_unexcused"] + facts["tardies_over_30"] == pytest.approx(len(events))


def test_count_within_truancy_counts_each_day_once() -> None:
    rs = tierflow.parse_ruleset(
        """
id: window-demo
name: Truancy window
version: "1"
extends: mtss
rules:
  - id: three-in-four-weeks
    when: count_within('truancy', 4w) >= 3
    assign: [family-call]
""",
        name="window-demo.yaml",
    )
    two_days = [_ev(d, "early_departure", minutes=180.0, reason="Unexcused") for d in (22, 23)]
    assert "three-in-four-weeks" not in rs.evaluate(_build(two_days), as_of=AS_OF).rules
    three_days = [*two_days, _ev(24, "tardy", minutes=31.0)]
    assert "three-in-four-weeks" in rs.evaluate(_build(three_days), as_of=AS_OF).rules
