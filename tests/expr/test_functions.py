"""The function registry: every built-in function, its window edges and its empty cases."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierflow.errors import DataError
from tierflow.expr import (
    NUMBER,
    Duration,
    EvalContext,
    ExprEvalError,
    Function,
    FunctionRegistry,
    interpret,
    parse,
)
from tierflow.expr._functions import add_duration, subtract_duration
from tierflow.facts import ATTENDANCE_KINDS, DEFAULT_FUNCTIONS

AS_OF = dt.date(2026, 2, 2)  # a Monday
D = dt.date


def log(*records: tuple[dt.date, str] | tuple[dt.date, str, float]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        out.append({"date": r[0].isoformat(), "kind": r[1], "days": r[2] if len(r) > 2 else 1.0})
    return out


def run(text: str, facts: dict[str, Any] | None = None, as_of: dt.date = AS_OF) -> Any:
    return interpret(parse(text), {}, EvalContext(facts or {}, as_of), DEFAULT_FUNCTIONS)


# --- the registry ---------------------------------------------------------------------------


def test_builtin_names() -> None:
    assert [f.name for f in DEFAULT_FUNCTIONS] == sorted(
        [
            "abs",
            "conferences_attempted",
            "conferences_held",
            "contacts",
            "count_within",
            "date",
            "days_between",
            "days_within",
            "first_count",
            "first_days",
            "hours",
            "intervention_tried",
            "interventions_tried",
            "interventions_with_outcome",
            "legal_count",
            "legal_issued",
            "len",
            "max",
            "min",
            "month_days",
            "peak_count",
            "peak_month_days",
            "peak_month_hours",
            "ratio",
            "recent_count",
            "recent_days",
            "round",
            "weeks_at_most",
        ]
    )


@pytest.mark.parametrize(
    ("name", "signature"),
    [
        ("min", "min(number, number, ...) -> number"),
        ("len", "len(list of any) -> number"),
        ("count_within", "count_within(attendance kind, duration) -> number"),
        ("legal_issued", "legal_issued(legal_step) -> bool"),
        ("legal_count", "legal_count() -> number"),
        ("date", "date(string) -> date"),
    ],
)
def test_signatures(name: str, signature: str) -> None:
    fn = DEFAULT_FUNCTIONS.get(name)
    assert fn is not None
    assert fn.signature == signature


def test_context_functions_say_what_they_read() -> None:
    for fn in DEFAULT_FUNCTIONS:
        assert bool(fn.reads) == fn.context, fn.name


def test_attendance_kind_vocabulary_is_the_kinds_table() -> None:
    fn = DEFAULT_FUNCTIONS.get("count_within")
    assert fn is not None
    assert fn.params[0].values == frozenset(ATTENDANCE_KINDS)


def _one(x: float) -> float:
    return x


def test_register_refuses_duplicates_and_bad_names() -> None:
    registry = FunctionRegistry()
    registry.register(Function("f", (NUMBER,), NUMBER, _one, "f"))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Function("f", (NUMBER,), NUMBER, _one, "f"))
    # "\ufb01" (the ligature fi) and "caf\u00e9" are Python identifiers, but NFKC folds the
    # first into "fi": generated code would call another function.
    for bad in ("_f", "__import__", "a b", "a.b", "1f", "", "\ufb01", "caf\u00e9", "f\n"):
        with pytest.raises(ValueError, match="invalid function name"):
            registry.register(Function(bad, (NUMBER,), NUMBER, _one, "bad"))
    assert [f.name for f in registry] == ["f"]


def test_copy_is_independent() -> None:
    copy = DEFAULT_FUNCTIONS.copy()
    copy.register(Function("extra", (), NUMBER, lambda: 1, "one"))
    assert "extra" in copy and "extra" not in DEFAULT_FUNCTIONS
    assert DEFAULT_FUNCTIONS.get("extra") is None


def test_eval_context_caches_each_view_once() -> None:
    ctx = EvalContext({}, AS_OF)
    calls: list[int] = []

    def build() -> int:
        calls.append(1)
        return 42

    assert ctx.cached("k", build) == 42
    assert ctx.cached("k", build) == 42
    assert calls == [1]


# --- pure functions ---------------------------------------------------------------------------

PURE = [
    ("min(3, 1, 2)", 1),
    ("max(3, 1, 2)", 3),
    ("min(1.5, 2)", 1.5),
    ("max(-1, -2)", -1),
    ("abs(-2.5)", 2.5),
    ("abs(0)", 0),
    ("round(2.675, 2)", 2.68),  # Python's round gives 2.67 (the binary value is below)
    ("round(2.5, 0)", 3.0),  # half up, not to the even neighbour
    ("round(-2.5, 0)", -3.0),  # a half goes away from zero, as in a spreadsheet
    ("round(0.0995, 3)", 0.1),
    ("round(1234.5, -2)", 1200.0),
    ("round(1250, -2)", 1300),
    ("round(7, 2)", 7),
    ("round(1.26, 1.9)", 1.3),  # digits are truncated to an int
    ("ratio(1, 4)", 0.25),
    ("ratio(3, 0)", 0.0),
    ("ratio(0, 0)", 0.0),
    ("ratio(-3, 2)", -1.5),
    ("len([])", 0),
    ("len([1, 1, 2])", 3),
    ("len(['a', 'b'])", 2),
    ("date('2026-02-02')", dt.date(2026, 2, 2)),
    ("days_between(date('2026-01-01'), date('2026-02-02'))", 32),
    ("days_between(date('2026-02-02'), date('2026-01-01'))", -32),
    ("days_between(date('2024-02-28'), date('2024-03-01'))", 2),
]


@pytest.mark.parametrize(("text", "value"), PURE)
def test_pure_functions(text: str, value: Any) -> None:
    result = interpret(parse(text), {})
    assert result == value
    assert type(result) is type(value)


def test_round_is_half_up_on_the_decimal_as_written() -> None:
    # Python's round(0.125, 2) is 0.12 (half to even); a district expects 0.13.
    assert interpret(parse("round(0.125, 2)"), {}) == 0.13
    assert interpret(parse("round(9.95, 1)"), {}) == 10.0
    assert interpret(parse("round(x, -350)"), {"x": 1e300}) == 0.0
    assert interpret(parse("round(1.5, x)"), {"x": 1e18}) == 1.5


@pytest.mark.parametrize(
    ("x", "digits", "value"),
    [
        (10**40 + 1, -1, 10**40),  # Decimal's 28 digits refused this (InvalidOperation)
        (10**40 + 5, -1, 10**40 + 10),
        (-(10**40) - 5, -1, -(10**40) - 10),
        (1250, -2, 1300),
        (49, -2, 0),
        (7, -500, 0),
        (7, 1e309, 7),  # more places than a whole number has
        (2.5, -1e309, 0.0),
        (2.25, 1e300, 2.25),
    ],
)
def test_round_takes_any_number_of_places(x: float, digits: float, value: float) -> None:
    # Expected values by hand: half away from zero at the place.
    got = interpret(parse("round(x, n)"), {"x": x, "n": digits})
    assert got == value and type(got) is type(value)


def test_round_refuses_a_place_count_that_is_not_a_number() -> None:
    with pytest.raises(ExprEvalError) as info:
        interpret(parse("round(x, n)"), {"x": 1.5, "n": math.nan})
    assert info.value.code == "expr.invalid_argument"
    assert isinstance(info.value.__cause__, ValueError)


def test_date_rejects_bad_text_at_run_time() -> None:
    for text in ("date('2026-02-30')", "date('yesterday')", "date('')"):
        with pytest.raises(ValueError):
            interpret(parse(text), {})


@pytest.mark.parametrize(
    ("day", "span", "forward", "back"),
    [
        (D(2026, 2, 2), Duration(days=28), D(2026, 3, 2), D(2026, 1, 5)),
        (D(2024, 1, 31), Duration(months=1), D(2024, 2, 29), D(2023, 12, 31)),
        (D(2024, 3, 31), Duration(months=1), D(2024, 4, 30), D(2024, 2, 29)),
        (D(2024, 2, 29), Duration(months=12), D(2025, 2, 28), D(2023, 2, 28)),
        (D(2026, 2, 2), Duration(months=1, days=3), D(2026, 3, 5), D(2025, 12, 30)),
        (D(2026, 2, 2), Duration(), D(2026, 2, 2), D(2026, 2, 2)),
    ],
)
def test_calendar_arithmetic(day: dt.date, span: Duration, forward: dt.date, back: dt.date) -> None:
    assert add_duration(day, span) == forward
    assert subtract_duration(day, span) == back


# --- count_within / days_within -------------------------------------------------------------


def test_count_within_window_edges() -> None:
    # 28d ending on the as-of date is (Jan 5, Feb 2]: Jan 5 is out, Jan 6 and Feb 2 are in.
    facts = {
        "attendance_log": log(
            (D(2026, 1, 5), "excused"),
            (D(2026, 1, 6), "excused"),
            (D(2026, 2, 2), "unexcused"),
            (D(2026, 2, 3), "unexcused"),  # after the as-of date: never counts
        )
    }
    assert run("count_within('absence', 28d)", facts) == 2
    assert run("count_within('absence', 4w)", facts) == 2
    assert run("count_within('absence', 29d)", facts) == 3
    assert run("count_within('absence', 0d)", facts) == 0
    assert run("count_within('absence', 1d)", facts) == 1
    assert run("count_within('absence', 1y)", facts) == 3


def test_count_within_months_follow_the_calendar() -> None:
    # 1mo before Mar 31 is Feb 28 (2026 is not a leap year): (Feb 28, Mar 31].
    facts = {"attendance_log": log((D(2026, 2, 28), "excused"), (D(2026, 3, 1), "excused"))}
    assert run("count_within('absence', 1mo)", facts, D(2026, 3, 31)) == 1
    assert run("count_within('absence', 31d)", facts, D(2026, 3, 31)) == 1
    assert run("count_within('absence', 32d)", facts, D(2026, 3, 31)) == 2


@pytest.mark.parametrize(
    ("kind", "count"),
    [
        ("absence", 3),
        ("excused", 1),
        ("unexcused", 1),
        ("suspension", 1),
        ("tardy", 2),
        ("tardy_over_30", 1),
        ("truancy", 2),  # unexcused absences and tardies over 30 minutes (CA EC 48260)
    ],
)
def test_count_within_by_kind(kind: str, count: int) -> None:
    facts = {
        "attendance_log": log(
            (D(2026, 1, 26), "excused"),
            (D(2026, 1, 27), "unexcused"),
            (D(2026, 1, 28), "suspension"),
            (D(2026, 1, 29), "tardy"),
            (D(2026, 1, 30), "tardy_over_30"),
        )
    }
    assert run(f"count_within('{kind}', 28d)", facts) == count


def test_days_within_adds_partial_days() -> None:
    facts = {
        "attendance_log": log(
            (D(2026, 1, 20), "excused", 0.5),
            (D(2026, 1, 21), "unexcused", 1.0),
            (D(2026, 1, 22), "unexcused", 0.5),
            (D(2025, 12, 1), "unexcused", 1.0),
        )
    }
    assert run("days_within('absence', 28d)", facts) == 2.0
    assert run("count_within('absence', 28d)", facts) == 3
    assert run("days_within('unexcused', 28d)", facts) == 1.5
    assert run("days_within('tardy', 28d)", facts) == 0


@pytest.mark.parametrize("fn", ["count_within", "days_within", "peak_count"])
def test_window_functions_on_an_empty_log(fn: str) -> None:
    assert run(f"{fn}('absence', 28d)", {"attendance_log": []}) == 0


@pytest.mark.parametrize("fn", ["count_within", "days_within", "peak_count"])
def test_window_functions_need_the_log(fn: str) -> None:
    with pytest.raises(DataError) as info:
        run(f"{fn}('absence', 28d)", {"student_id": "S1"})
    assert info.value.code == "facts.missing"


def test_window_functions_report_a_malformed_log() -> None:
    with pytest.raises(DataError) as info:
        run("count_within('absence', 28d)", {"attendance_log": [{"date": "nope"}]})
    assert info.value.code == "facts.invalid"


def test_context_function_without_a_context() -> None:
    with pytest.raises(ValueError, match="needs an evaluation context"):
        interpret(parse("legal_count()"), {}, None, DEFAULT_FUNCTIONS)


def test_the_log_is_parsed_once_per_context() -> None:
    ctx = EvalContext({"attendance_log": log((D(2026, 1, 30), "excused"))}, AS_OF)
    tree = parse("count_within('absence', 28d) + peak_count('absence', 28d)")
    assert interpret(tree, {}, ctx, DEFAULT_FUNCTIONS) == 2
    first = ctx.cached("log", lambda: None)
    interpret(tree, {}, ctx, DEFAULT_FUNCTIONS)
    assert ctx.cached("log", lambda: None) is first


# --- peak_count -----------------------------------------------------------------------------


def test_peak_count_finds_the_busiest_window() -> None:
    facts = {
        "attendance_log": log(
            (D(2025, 9, 1), "excused"),
            (D(2025, 9, 2), "excused"),
            (D(2025, 9, 3), "unexcused"),
            (D(2025, 11, 10), "excused"),
            (D(2026, 1, 30), "excused"),
        )
    }
    assert run("peak_count('absence', 28d)", facts) == 3
    assert run("peak_count('absence', 1d)", facts) == 1
    assert run("peak_count('unexcused', 28d)", facts) == 1
    assert run("peak_count('absence', 1y)", facts) == 5


def test_peak_count_window_edges() -> None:
    # Two records 28 days apart never share a 28-day window; 27 days apart they do.
    apart = {"attendance_log": log((D(2026, 1, 1), "excused"), (D(2026, 1, 29), "excused"))}
    assert run("peak_count('absence', 28d)", apart) == 1
    assert run("peak_count('absence', 29d)", apart) == 2
    near = {"attendance_log": log((D(2026, 1, 1), "excused"), (D(2026, 1, 28), "excused"))}
    assert run("peak_count('absence', 28d)", near) == 2


def test_peak_count_ignores_records_after_the_as_of_date() -> None:
    facts = {
        "attendance_log": log(
            (D(2026, 1, 30), "excused"),
            (D(2026, 2, 3), "excused"),
            (D(2026, 2, 4), "excused"),
        )
    }
    assert run("peak_count('absence', 28d)", facts) == 1


def test_peak_count_zero_length_period_is_zero() -> None:
    # It used to run off the end of its list (IndexError) when any record matched.
    facts = {"attendance_log": log((D(2026, 1, 5), "excused"), (D(2026, 1, 6), "excused"))}
    assert run("peak_count('absence', 0d)", facts) == 0
    assert run("peak_count('absence', 0mo)", facts) == 0


def test_counts_are_of_days_not_log_rows() -> None:
    # "Days or parts of days" (TEC 25.0951; docs/conditions.md): a date logged as a tardy and a
    # tardy over 30 minutes is one day of 'tardy', and a day split into an excused and an
    # unexcused half is one day of 'absence' (each counted 2 before: rows, not days).
    tardies = {"attendance_log": log((D(2026, 1, 5), "tardy"), (D(2026, 1, 5), "tardy_over_30"))}
    assert run("peak_count('tardy', 1d)", tardies) == 1
    assert run("count_within('tardy', 4w)", tardies, D(2026, 1, 9)) == 1
    halves = {
        "school_days": ["2025-09-29", "2025-09-30", "2025-10-01", "2025-10-02", "2025-10-03"],
        "attendance_log": log((D(2025, 10, 1), "excused", 0.5), (D(2025, 10, 1), "unexcused", 0.5)),
    }
    as_of = D(2025, 10, 3)
    assert run("count_within('absence', 4w)", halves, as_of) == 1
    assert run("peak_count('absence', 4w)", halves, as_of) == 1
    assert run("recent_count('absence', 5)", halves, as_of) == 1
    assert run("days_within('absence', 4w)", halves, as_of) == 1.0  # the parts still add up


_KINDS = sorted({k for kinds in ATTENDANCE_KINDS.values() for k in kinds})


@settings(max_examples=200, deadline=None)
@given(
    records=st.lists(
        st.tuples(
            st.dates(min_value=D(2025, 8, 1), max_value=D(2026, 3, 1)),
            st.sampled_from(_KINDS),
        ),
        max_size=25,
    ),
    kind=st.sampled_from(sorted(ATTENDANCE_KINDS)),
    days=st.integers(min_value=0, max_value=60),
    months=st.integers(min_value=0, max_value=3),
)
def test_peak_count_is_the_best_count_within_over_every_day(
    records: list[tuple[dt.date, str]], kind: str, days: int, months: int
) -> None:
    facts = {"attendance_log": log(*records)}
    period = f"{months}mo" if months else f"{days}d"
    peak = run(f"peak_count('{kind}', {period})", facts)
    ends = {r[0] for r in records if r[0] <= AS_OF}
    best = max((run(f"count_within('{kind}', {period})", facts, end) for end in ends), default=0)
    assert peak == best


# --- history functions ------------------------------------------------------------------------

HISTORY = {
    "history": {
        "legal_steps": [
            {"step": "not1", "issued_on": "2025-10-01"},
            {"step": "not2", "issued_on": "2026-02-02"},
            {"step": "not3", "issued_on": "2026-02-03"},
        ],
        "interventions": [
            {"intervention": "call", "tier_level": 1, "started_on": "2025-09-15"},
            {"intervention": "checkin", "tier_level": 2, "started_on": "2026-01-10"},
            {"intervention": "sart", "tier_level": 3, "started_on": "2026-02-02"},
            {"intervention": "court", "tier_level": 3, "started_on": "2026-03-01"},
        ],
        "conferences": [
            {"kind": "parent_conference", "held_on": "2025-11-01"},
            {"kind": "parent_conference", "held_on": "2026-02-02"},
            {"kind": "sart", "held_on": "2026-02-10"},
        ],
    }
}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("legal_issued('not1')", True),
        ("legal_issued('not2')", True),  # issued on the as-of date
        ("legal_issued('not3')", False),  # issued the day after
        ("legal_issued('sarb-referral')", False),
        ("legal_count()", 2),
        ("interventions_tried(1)", 3),
        ("interventions_tried(2)", 2),  # tier level equal to the minimum counts
        ("interventions_tried(3)", 1),  # the one started after the as-of date does not
        ("interventions_tried(4)", 0),
        ("interventions_tried(2.5)", 1),
        ("interventions_tried(0)", 3),
        ("conferences_held('parent_conference')", 2),
        ("conferences_held('sart')", 0),  # held after the as-of date
        ("conferences_held('other')", 0),
    ],
)
def test_history_functions(text: str, value: Any) -> None:
    assert run(text, HISTORY) == value


def test_interventions_tried_skips_what_the_catalogue_marks_unsupportive() -> None:
    # The legal prerequisite counts supportive interventions only; so does the function, so a
    # condition written with it means the same as the step's 'requires'.
    ctx = EvalContext(HISTORY, AS_OF, frozenset({"call", "sart"}))
    assert interpret(parse("interventions_tried(1)"), {}, ctx, DEFAULT_FUNCTIONS) == 1
    assert interpret(parse("interventions_tried(3)"), {}, ctx, DEFAULT_FUNCTIONS) == 0


def test_history_functions_the_day_before() -> None:
    assert run("legal_issued('not2')", HISTORY, D(2026, 2, 1)) is False
    assert run("legal_count()", HISTORY, D(2025, 9, 30)) == 0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("legal_issued('not1')", False),
        ("legal_count()", 0),
        ("interventions_tried(1)", 0),
        ("conferences_held('sart')", 0),
    ],
)
def test_history_functions_without_a_history(text: str, value: Any) -> None:
    assert run(text, {}) == value
    assert run(text, {"history": {}}) == value


def test_malformed_history_is_a_data_error() -> None:
    with pytest.raises(DataError) as info:
        run("legal_count()", {"history": {"legal_steps": [{"step": "not1"}]}})
    assert info.value.code == "facts.invalid"


# --- calendar-aware window functions ---------------------------------------------------------

SCHOOL_DAYS = [D(2026, 1, 26), D(2026, 1, 27), D(2026, 1, 29), D(2026, 1, 30), D(2026, 2, 2)]


def _window_facts() -> dict[str, Any]:
    return {
        "school_days": [d.isoformat() for d in SCHOOL_DAYS] + ["2026-02-03"],
        "minutes_per_day": 360,
        "attendance_log": log(
            (D(2025, 12, 1), "excused", 1.0),
            (D(2025, 12, 2), "excused", 1.0),
            (D(2025, 12, 3), "unexcused", 0.5),
            (D(2026, 1, 27), "excused", 0.5),
            (D(2026, 1, 29), "unexcused", 1.0),
            (D(2026, 2, 2), "unexcused", 1.0),
            (D(2026, 2, 3), "unexcused", 1.0),
        ),
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("recent_count('absence', 3)", 2),  # Jan 29, Jan 30, Feb 2
        ("recent_count('absence', 4)", 3),  # from Jan 27
        ("recent_count('absence', 100)", 3),  # every enrolled school day so far
        ("recent_count('absence', 0)", 0),
        ("recent_count('absence', -1)", 0),
        ("recent_days('absence', 4)", 2.5),
        ("month_days('absence')", 1.0),  # February so far
        ("peak_month_days('absence')", 2.5),  # December
        ("peak_month_days('tardy')", 0),
        ("hours('unexcused')", 2.5 * 6),
        ("first_count('absence', 2)", 1),  # Jan 26, Jan 27
        ("first_count('absence', 3)", 2),  # to Jan 29
        ("first_count('absence', 100)", 3),  # up to the as-of date: not Feb 3
        ("first_days('absence', 3)", 1.5),
        # Weeks: Feb 2's week is under way (1 day so far); Jan 26's has 1.5 days; December's
        # absences fall in weeks with no school day enrolled.
        ("weeks_at_most('absence', 1)", 0),
        ("weeks_at_most('absence', 1.5)", 1),
        ("weeks_at_most('absence', 0.5)", 0),
        ("weeks_at_most('excused', 0.5)", 1),
        ("peak_month_hours('absence')", 2.5 * 6),
    ],
)
def test_calendar_window_functions(text: str, value: float) -> None:
    assert run(text, _window_facts()) == value


def test_recent_count_with_no_school_days_yet() -> None:
    facts = {"school_days": [], "attendance_log": log((D(2026, 1, 5), "excused"))}
    assert run("recent_count('absence', 10)", facts) == 0


@pytest.mark.parametrize(
    ("text", "facts", "code"),
    [
        ("recent_count('absence', 5)", {"attendance_log": []}, "facts.missing"),
        (
            "recent_count('absence', 5)",
            {"school_days": ["x"], "attendance_log": []},
            "facts.invalid",
        ),
        ("hours('absence')", {"attendance_log": []}, "facts.missing"),
        ("first_count('absence', 5)", {"attendance_log": []}, "facts.missing"),
        (
            "first_days('absence', 5)",
            {"school_days": ["2026-01-05"], "attendance_log": 3},
            "facts.invalid",
        ),
        ("weeks_at_most('absence', 1)", {"school_days": 7, "attendance_log": []}, "facts.invalid"),
        ("hours('absence')", {"attendance_log": [], "minutes_per_day": 0}, "facts.invalid"),
        ("hours('absence')", {"attendance_log": [], "minutes_per_day": True}, "facts.invalid"),
        (
            "peak_month_hours('absence')",
            {"attendance_log": [], "minutes_per_day": "x"},
            "facts.invalid",
        ),
    ],
)
def test_calendar_window_functions_name_missing_facts(
    text: str, facts: dict[str, Any], code: str
) -> None:
    with pytest.raises(DataError) as info:
        run(text, {"student_id": "S9", **facts})
    assert info.value.code == code
