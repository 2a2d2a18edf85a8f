"""School-week and first-days windows, from raw attendance events through FactsBuilder.

Every expected value is counted by hand on the calendar below (written out day by day), not
read back from the functions under test.

The calendar starts Monday 2025-08-18; Monday 2025-09-01 is Labor Day. Its school days:

====  ===============  ==========
week  dates            school day
====  ===============  ==========
1     Aug 18 - Aug 22  1 - 5
2     Aug 25 - Aug 29  6 - 10
3     Sep 2 - Sep 5    11 - 14
4     Sep 8 - Sep 12   15 - 19
5     Sep 15 - Sep 19  20 - 24
6     Sep 22 - Sep 26  25 - 29
7     Sep 29 - Oct 3   30 - 34
====  ===============  ==========
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.expr import EvalContext, interpret, parse
from tierflow.facts import DEFAULT_FUNCTIONS

D = dt.date
FIRST = D(2025, 8, 18)
CAL = SchoolCalendar.from_pattern("lincoln", FIRST, D(2026, 5, 29), holidays=[D(2025, 9, 1)])
GOAL = "weeks_at_most('absence', 1) >= 3"
OLD_GOAL = "days_within('absence', 3w) <= 3"


def facts(*absent: dt.date, as_of: dt.date, entry: dt.date = FIRST, **kinds: str) -> Any:
    """Facts of student s1 absent (unexcused) on ``absent`` days, as of ``as_of``."""
    builder = FactsBuilder({"lincoln": CAL})
    builder.add_enrollment(Enrollment("s1", "lincoln", entry=entry))
    for day in absent:
        category = kinds.get(day.isoformat(), "unexcused_absence")
        builder.add_event(AttendanceEvent("s1", "lincoln", day, category))
    return builder.facts_for("s1", as_of=as_of)


def run(text: str, f: dict[str, Any], as_of: dt.date) -> Any:
    return interpret(parse(text), {}, EvalContext(f, as_of), DEFAULT_FUNCTIONS)


def test_the_calendar_is_the_one_the_tables_describe() -> None:
    days = facts(as_of=D(2025, 9, 30))["school_days"]
    assert len(days) == 31
    assert days[13] == D(2025, 9, 5) and days[29] == D(2025, 9, 29)


# --- weeks_at_most: "attend 4 of 5 days each week for 3 weeks" -------------------------------

FRI_WEEK4 = D(2025, 9, 12)


@pytest.mark.parametrize(
    ("absent", "as_of", "weeks"),
    [
        # Two absences in week 2 (2 of 5 attended... 3 of 5): weeks 4 and 3 meet, week 2 ends it.
        ((D(2025, 8, 26), D(2025, 8, 27)), FRI_WEEK4, 2),
        # One absence a week in weeks 2, 3, 4: every week meets, week 1 too.
        ((D(2025, 8, 26), D(2025, 9, 3), D(2025, 9, 9)), FRI_WEEK4, 4),
        # The bad week is week 1, before the last three.
        ((D(2025, 8, 19), D(2025, 8, 20)), FRI_WEEK4, 3),
        # Enrolled two weeks: two weeks, never three, however good.
        ((), D(2025, 8, 29), 2),
        # Wednesday of week 4: the week so far is not yet a week; weeks 3, 2, 1 are.
        ((D(2025, 9, 8),), D(2025, 9, 10), 3),
        # ...but two absences already this week end the run now.
        ((D(2025, 9, 8), D(2025, 9, 9)), D(2025, 9, 10), 0),
        # Saturday: week 4 is over and counts.
        ((), D(2025, 9, 13), 4),
        # Labor Day week has four school days; one absence still meets it.
        ((D(2025, 9, 2),), D(2025, 9, 5), 3),
        # An absence after the as-of date is not known yet.
        ((D(2025, 9, 15), D(2025, 9, 16)), FRI_WEEK4, 4),
    ],
)
def test_weeks_at_most_counts_weeks_by_hand(
    absent: tuple[dt.date, ...], as_of: dt.date, weeks: int
) -> None:
    f = facts(*absent, as_of=max(as_of, *absent) if absent else as_of)
    assert run("weeks_at_most('absence', 1)", f, as_of) == weeks


def test_a_week_of_two_of_five_fails_the_goal_the_old_window_passed() -> None:
    f = facts(D(2025, 8, 26), D(2025, 8, 27), as_of=FRI_WEEK4)
    mtss = tierflow.load_ruleset("mtss")
    assert run(OLD_GOAL, f, FRI_WEEK4) is True  # 2 absences in 3 weeks: what the goal said
    assert run(GOAL, f, FRI_WEEK4) is False
    for plan in ("attendance-plan", "wraparound-plan"):
        assert mtss.goal_met(plan, f, as_of=FRI_WEEK4) is False


def test_one_absence_a_week_meets_the_goal() -> None:
    f = facts(D(2025, 8, 26), D(2025, 9, 3), D(2025, 9, 9), as_of=FRI_WEEK4)
    assert tierflow.load_ruleset("mtss").goal_met("attendance-plan", f, as_of=FRI_WEEK4) is True


def test_two_weeks_enrolled_do_not_meet_a_three_week_goal() -> None:
    f = facts(as_of=D(2025, 8, 29))
    mtss = tierflow.load_ruleset("mtss")
    assert run(OLD_GOAL, f, D(2025, 8, 29)) is True
    assert mtss.goal_met("attendance-plan", f, as_of=D(2025, 8, 29)) is False


def test_weeks_at_most_adds_parts_of_days_and_skips_a_break() -> None:
    # Hand-written facts: week of Jan 5 has two half days (one day in all); Dec 22 - Jan 2 is a
    # break with no school days, which neither ends nor extends the run.
    f = {
        "student_id": "s2",
        "school_days": ["2025-12-15", "2025-12-19", "2026-01-05", "2026-01-06", "2026-01-09"],
        "attendance_log": [
            {"date": "2026-01-05", "kind": "excused", "days": 0.5},
            {"date": "2026-01-06", "kind": "unexcused", "days": 0.5},
            {"date": "2025-12-10", "kind": "unexcused", "days": 1.0},
            {"date": "2025-12-11", "kind": "unexcused", "days": 1.0},
        ],
    }
    as_of = D(2026, 1, 9)
    assert run("weeks_at_most('absence', 1)", f, as_of) == 2  # Jan 5 week, Dec 15 week
    assert run("weeks_at_most('absence', 0.5)", f, as_of) == 0
    assert run("weeks_at_most('unexcused', 0.5)", f, as_of) == 2
    # Thirds that make a whole day land a hair above 1.0 in binary; they are still one day.
    f["attendance_log"] = [
        {"date": "2026-01-05", "kind": "excused", "days": 1 / 3},
        {"date": "2026-01-06", "kind": "excused", "days": 1 / 3},
        {"date": "2026-01-09", "kind": "excused", "days": 1 / 3},
    ]
    assert run("weeks_at_most('absence', 1)", f, as_of) == 2
    assert run("weeks_at_most('absence', -1)", f, as_of) == 0


def test_weeks_at_most_refuses_a_limit_that_is_not_a_number() -> None:
    f = facts(as_of=FRI_WEEK4)
    ctx = EvalContext(f, FRI_WEEK4)
    with pytest.raises(tierflow.DataError) as info:
        interpret(parse("weeks_at_most('absence', x)"), {"x": float("nan")}, ctx, DEFAULT_FUNCTIONS)
    assert info.value.code == "expr.invalid_argument"


# --- first_count: "8 or more absences in the first 30 school days" ---------------------------

DAYS = facts(as_of=D(2025, 12, 12))["school_days"]


def day(n: int) -> dt.date:
    """The n-th school day (1-based), as the table in the module docstring numbers them."""
    return DAYS[n - 1]


EARLY = "first_count('absence', 30) >= 8"


@pytest.mark.parametrize(
    ("absent", "as_of", "count", "fires"),
    [
        ([1, 2, 3, 4, 5, 6, 7, 8], 40, 8, True),
        ([2, 3, 4, 5, 6, 7, 8, 31], 40, 7, False),  # 8 in days 2-31: 7 in the first 30
        ([2, 3, 4, 5, 6, 7, 8, 30], 40, 8, True),  # day 30 is in
        ([23, 24, 25, 26, 27, 28, 29, 30], 30, 8, True),  # known on day 30 itself
        ([1, 2, 3, 4, 5, 6, 7], 20, 7, False),
        ([1, 2, 3, 4, 5, 6, 7, 8], 8, 8, True),  # 8 in 8 days: already 8 of the first 30
        ([1, 2, 3, 4, 5, 6, 7, 25], 20, 7, False),  # day 25 is after the as-of date
    ],
)
def test_first_count_counts_the_first_school_days(
    absent: list[int], as_of: int, count: int, fires: bool
) -> None:
    f = facts(*[day(n) for n in absent], as_of=day(max(absent)))
    assert run("first_count('absence', 30)", f, day(as_of)) == count
    assert run(EARLY, f, day(as_of)) is fires


def test_first_count_starts_at_the_enrollment() -> None:
    # Enrolled on school day 15 (Sep 8): its first 30 school days are days 15-44.
    absent = [day(n) for n in (14, 15, 16, 17, 18, 19, 20, 21, 44)]
    f = facts(*absent[1:], as_of=day(50), entry=day(15))
    assert f["school_days"][0] == day(15)
    assert run("first_count('absence', 30)", f, day(50)) == 8
    assert run("first_count('absence', 29)", f, day(50)) == 7
    assert run("first_days('absence', 29)", f, day(50)) == 7.0


def test_first_count_counts_days_not_log_rows() -> None:
    f = {
        "student_id": "s3",
        "school_days": ["2025-08-18", "2025-08-19", "2025-08-20"],
        "attendance_log": [
            {"date": "2025-08-18", "kind": "excused", "days": 0.5},
            {"date": "2025-08-18", "kind": "unexcused", "days": 0.5},
            {"date": "2025-08-20", "kind": "tardy", "days": 0.0},
        ],
    }
    as_of = D(2025, 8, 20)
    assert run("first_count('absence', 30)", f, as_of) == 1
    assert run("first_days('absence', 30)", f, as_of) == 1.0
    assert run("first_count('tardy', 2)", f, as_of) == 0
    assert run("first_count('tardy', 3)", f, as_of) == 1
    assert run("first_count('absence', 0)", f, as_of) == 0
    assert run("first_count('absence', -5)", f, as_of) == 0


@pytest.mark.parametrize("text", ["first_count('absence', 30)", "weeks_at_most('absence', 1)"])
def test_the_new_windows_need_school_days(text: str) -> None:
    with pytest.raises(tierflow.DataError) as info:
        run(text, {"student_id": "s9", "attendance_log": []}, FRI_WEEK4)
    assert info.value.code == "facts.missing" and info.value.field == "school_days"


# --- both evaluators -------------------------------------------------------------------------


def _ruleset(metric: str) -> str:
    return f"""
id: windows
name: Windows
version: "1"
metrics:
  - {{id: m, expr: "{metric}"}}
tiers:
  - {{id: tier3, level: 3, when: "{EARLY}"}}
  - {{id: tier2, level: 2, when: "not ({GOAL}) and m >= 0"}}
  - {{id: tier1, level: 1, default: true}}
"""


_EARLY_RS = tierflow.parse_ruleset(_ruleset("first_days('unexcused', 10)"), name="w.yaml")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    absent=st.sets(st.integers(min_value=1, max_value=60), max_size=20),
    as_of=st.integers(min_value=1, max_value=70),
    excused=st.sets(st.integers(min_value=1, max_value=60), max_size=10),
)
def test_compiled_equals_reference_on_built_facts(
    absent: set[int], as_of: int, excused: set[int]
) -> None:
    kinds = {day(n).isoformat(): "excused_absence" for n in excused}
    f = facts(*[day(n) for n in absent | excused], as_of=day(70), **kinds)
    on = day(as_of)
    compiled = _EARLY_RS.evaluate(f, as_of=on).to_dict()
    assert _EARLY_RS.reference_evaluate(f, as_of=on).to_dict() == compiled
    # And the hand count: absences among the first 30 school days up to the as-of date.
    expected_early = len({n for n in absent | excused if n <= min(30, as_of)}) >= 8
    assert (compiled["tier"] == "tier3") is expected_early
