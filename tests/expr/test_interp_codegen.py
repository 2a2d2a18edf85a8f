"""The reference interpreter, tracing, folding, formatting and the Python code generator.

The interpreter is the specification: on generated well-typed expressions and generated student
facts, the generated Python must compute the same value (or raise the same error), folding must
not change a value, and the canonical text must read back to the same value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.errors import DataError
from tierflow.expr import (
    BOOL,
    DATE,
    DURATION,
    NUMBER,
    STRING,
    Arith,
    Call,
    Compare,
    Const,
    Constants,
    Duration,
    EvalContext,
    Expr,
    ExprEvalError,
    ListExpr,
    Scope,
    TraceEntry,
    check,
    enum_of,
    fold,
    format_value,
    interpret,
    list_of,
    parse,
    to_python,
    unparse,
    walk,
)
from tierflow.expr._functions import add_duration, same_items, subtract_duration
from tierflow.expr._parser import MAX_DEPTH, ExprSyntaxError
from tierflow.facts import CAUSES, DEFAULT_FUNCTIONS, GROUPS
from tierflow.testing import AS_OF, student_facts

NUMBER_FACTS = (
    "days_enrolled",
    "days_absent",
    "days_excused",
    "days_unexcused",
    "days_suspended",
    "tardies",
    "tardies_over_30",
    "grade",
)
GROUP = enum_of("group", set(GROUPS))
CAUSE = enum_of("cause", set(CAUSES))
NAMES = {
    **dict.fromkeys(NUMBER_FACTS, NUMBER),
    "student_id": STRING,
    "groups": list_of(GROUP),
    "causes": list_of(CAUSE),
    "as_of": DATE,
    "flag": BOOL,
    "window": DURATION,
}
SCOPE = Scope(
    NAMES, DEFAULT_FUNCTIONS, vocabularies={"legal_step": frozenset({"not1", "not2", "not3"})}
)


def checked(text: str, scope: Scope = SCOPE) -> Expr:
    tree = parse(text)
    problems = check(tree, scope)
    assert problems == [], (text, problems)
    return tree


def compiled(tree: Expr) -> tuple[str, Any]:
    """Generate Python for ``tree`` the way the rule set generator binds it; return source, fn."""
    consts = Constants()
    names = {n: f"f_{n}" for n in NAMES}
    source = to_python(tree, names, consts, DEFAULT_FUNCTIONS)
    params = ", ".join(f"f_{n}" for n in NAMES)
    code = f"def _expr(_ctx, {params}):\n    return {source}\n"
    ns: dict[str, Any] = {
        **consts.values,
        **{f"_fn_{f.name}": f.impl for f in DEFAULT_FUNCTIONS},
        "_add_duration": add_duration,
        "_subtract_duration": subtract_duration,
        "_same_items": same_items,
        "__builtins__": {},  # the generated code needs none
    }
    exec(compile(code, "<test expr>", "exec"), ns)
    return source, ns["_expr"]


_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(NUMBER_FACTS, 0),
    "student_id": "",
    "groups": [],
    "causes": [],
}


def env_of(facts: Mapping[str, Any], as_of: dt.date) -> dict[str, Any]:
    return {
        **{n: facts.get(n, _DEFAULTS.get(n)) for n in NAMES},
        "as_of": as_of,
        "flag": bool(facts.get("days_absent", 0)),
        "window": Duration(days=28),
    }


def outcome(thunk: Any) -> tuple[str, Any]:
    try:
        value = thunk()
    except ExprEvalError as exc:  # the interpreter's error, for the exception it stands for
        return ("error", type(exc.__cause__).__name__)
    except (ArithmeticError, DataError, ValueError) as exc:
        return ("error", type(exc).__name__)
    if isinstance(value, float) and math.isnan(value):
        return ("nan", None)
    return (type(value).__name__, value)


def run_both(
    text: str, facts: Mapping[str, Any] | None = None, as_of: dt.date = AS_OF
) -> tuple[Any, Any]:
    facts = dict(facts or {})
    env = env_of(facts, as_of)
    tree = checked(text)
    ref = outcome(lambda: interpret(tree, env, EvalContext(facts, as_of), DEFAULT_FUNCTIONS))
    _, fn = compiled(tree)
    gen = outcome(lambda: fn(EvalContext(facts, as_of), *[env[n] for n in NAMES]))
    return ref, gen


# --- interpreter ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "env", "value"),
    [
        ("a * 2 >= 6 and not b", {"a": 3, "b": False}, True),
        ("a - b - c", {"a": 10, "b": 3, "c": 2}, 5),
        ("a / b", {"a": 1, "b": 4}, 0.25),
        ("-a", {"a": 2}, -2),
        ("1 < a <= 3", {"a": 3}, True),
        ("1 < a <= 3", {"a": 4}, False),
        ("a in [1, 2]", {"a": 2}, True),
        ("a not in [1, 2]", {"a": 2}, False),
        ("'x' in g", {"g": ["y", "x"]}, True),
        ("a or b", {"a": False, "b": False}, False),
        ("[a, 1]", {"a": 0}, (0, 1)),
        ("d + 1mo", {"d": dt.date(2024, 1, 31)}, dt.date(2024, 2, 29)),
        ("d - 2w", {"d": dt.date(2026, 2, 2)}, dt.date(2026, 1, 19)),
        ("d - e", {"d": dt.date(2026, 2, 2), "e": dt.date(2026, 1, 1)}, 32),
        ("10% * 50", {}, 5.0),
    ],
)
def test_interpret(text: str, env: dict[str, Any], value: Any) -> None:
    assert interpret(parse(text), env) == value


@pytest.mark.parametrize(
    ("text", "causes", "value"),
    [
        ("causes == ['health']", ["health"], True),
        ("causes == ['health']", ("health",), True),
        ("causes == ['health']", {"health"}, True),
        ("causes == ['health', 'housing']", ["housing", "health"], True),
        ("causes == ['health']", ["health", "housing"], False),
        ("causes == ['health', 'health']", ["health"], False),
        ("causes == ['health', 'food']", ["health", "health"], False),
        ("causes == []", [], True),
        ("causes != ['health']", ["health"], False),
        ("causes != ['health']", [], True),
        ("['health'] == causes", ["health"], True),
        ("causes == ['health'] == causes", ["health"], True),
        ("1 <= len(causes) and causes == ['food']", ["food"], True),
    ],
)
def test_list_equality_ignores_order_and_the_host_s_list_type(
    text: str, causes: Any, value: bool
) -> None:
    # Hosts pass lists, tuples or sets; the literal is a tuple once folded. Either way list
    # equality holds when both hold the same items, in the interpreter and in generated code.
    ref, gen = run_both(text, {"causes": causes})
    assert ref == gen == ("bool", value)
    assert interpret(checked(text), {**env_of({}, AS_OF), "causes": causes}) is value


def test_and_or_short_circuit() -> None:
    assert interpret(parse("false and 1 / 0 > 1"), {}) is False
    assert interpret(parse("true or 1 / 0 > 1"), {}) is True
    with pytest.raises(ExprEvalError) as info:
        interpret(parse("true and 1 / 0 > 1"), {})
    assert info.value.code == "expr.division_by_zero"
    assert isinstance(info.value.node, Arith) and info.value.node.pos == 9


def test_comparison_chain_stops_at_the_first_false_link() -> None:
    assert interpret(parse("2 < 1 < 1 / 0"), {}) is False


def test_trace_records_each_comparison_with_the_values_it_saw() -> None:
    tree = parse("a >= 3 and (b < 1 < c or 'x' in g)")
    trace: list[TraceEntry] = []
    result = interpret(tree, {"a": 5, "b": 2, "c": 9, "g": ("x",)}, trace=trace)
    assert result is True
    assert [(unparse(t.node), t.values, t.result) for t in trace] == [
        ("a >= 3", (5, 3), True),
        ("b < 1 < c", (2, 1), False),  # stopped at the first link: c was never read
        ("'x' in g", ("x", ("x",)), True),
    ]


def test_trace_skips_what_short_circuiting_skips() -> None:
    trace: list[TraceEntry] = []
    interpret(parse("a > 1 or b > 1"), {"a": 2, "b": 0}, trace=trace)
    assert [t.values for t in trace] == [(2, 1)]


def test_unknown_function_at_run_time() -> None:
    with pytest.raises(KeyError):
        interpret(parse("nope(1)"), {})


# --- division by zero -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["days_absent / days_enrolled", "1 / (days_absent - 3)"])
def test_division_by_zero_raises_in_both(text: str) -> None:
    ref, gen = run_both(text, {"days_absent": 3, "days_enrolled": 0})
    assert ref == gen == ("error", "ZeroDivisionError")


def test_ratio_is_zero_over_zero_in_both() -> None:
    ref, gen = run_both("ratio(days_absent, days_enrolled)", {"days_absent": 3, "days_enrolled": 0})
    assert ref == gen == ("float", 0.0)
    source, _ = compiled(checked("ratio(days_absent, days_enrolled)"))
    assert source == "(f_days_absent / f_days_enrolled if f_days_enrolled else 0.0)"


def test_ratio_of_computed_arguments_calls_the_function() -> None:
    source, _ = compiled(checked("ratio(days_absent + 1, days_enrolled - 1)"))
    assert source.startswith("_fn_ratio(")
    ref, gen = run_both(
        "ratio(days_absent + 1, days_enrolled - 1)", {"days_absent": 1, "days_enrolled": 1}
    )
    assert ref == gen == ("float", 0.0)


@pytest.mark.parametrize(
    ("text", "pos"),
    [("1 / 0", 4), ("1 / 0.0", 4), ("1 / (2 - 2)", 5), ("days_absent / (1 - 1)", 15)],
)
def test_folding_leaves_a_literal_division_by_zero_for_run_time(text: str, pos: int) -> None:
    tree = fold(checked(text))
    assert isinstance(tree, Arith) and tree.op == "/"
    with pytest.raises(ExprEvalError) as info:
        interpret(tree, {"days_absent": 1})
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    # A loader passes a list: the division fails for every student, so it is a load problem.
    found: list[Any] = []
    fold(checked(text), problems=found)
    assert [(p.code, p.pos) for p in found] == [("expr.division_by_zero", pos)]


# --- format_value -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0933333, "0.09333"),
        (3.0, "3"),
        (-2.0, "-2"),
        (0.0, "0"),
        (1e15, "1e+15"),
        (123456.7, "1.235e+05"),
        (9.9995, "10"),  # half up on the decimal: Python's .4g shows 9.999
        (0.00012345, "0.0001235"),  # .4g shows 0.0001234
        (-0.00012345, "-0.0001235"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        (float("nan"), "nan"),
        (3, "3"),
        (True, "true"),
        (False, "false"),
        ("foster", "'foster'"),
        (dt.date(2026, 2, 2), "date('2026-02-02')"),
        (Duration(days=28), "28d"),
        (Duration(months=6), "6mo"),
        ((1, 0.5, "a"), "[1, 0.5, 'a']"),
        ([], "[]"),
        (frozenset({"b", "a"}), "['a', 'b']"),
        (None, "None"),
    ],
)
def test_format_value(value: Any, text: str) -> None:
    assert format_value(value) == text


# --- unparse ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("days_absent >= 2 * 5%", "days_absent >= 0.1"),
        ("days_absent >= max(1, 2) + 3", "days_absent >= 5"),
        ("as_of > date('2024-01-31') + 1mo", "as_of > date('2024-02-29')"),
        ("student_id == 'it\\'s'", 'student_id == "it\'s"'),
        ("days_absent in [0.123456789, -1, 2]", "days_absent in [0.123456789, -1, 2]"),
        ("days_absent > -(3)", "days_absent > -3"),
        ("flag == (not true)", "flag == false"),
    ],
)
def test_unparse_of_folded_trees_reads_back(text: str, folded: str) -> None:
    tree = fold(checked(text))
    assert unparse(tree) == folded
    env = env_of({"days_absent": 2, "student_id": "it's"}, AS_OF)
    assert outcome(lambda: interpret(checked(folded), env)) == outcome(
        lambda: interpret(checked(text), env)
    )


def test_unparse_of_control_characters_reads_back() -> None:
    for value in ["a\rb", "nul\x00", "zero\u200bwidth", "tab\tnew\nline", "back\\slash", "'\""]:
        node = parse(unparse(Const(0, value)))
        assert isinstance(node, Const) and node.value == value


# --- fold -------------------------------------------------------------------------------------


def test_fold_replaces_pure_literal_subtrees() -> None:
    tree = fold(checked("max(1, 2) + 3"))
    assert isinstance(tree, Const) and tree.value == 5
    assert tree.type == NUMBER


def test_fold_keeps_comparisons_and_boolean_operators() -> None:
    tree = fold(checked("1 < 2 and not false"))
    assert unparse(tree) == "1 < 2 and true"


def test_fold_leaves_context_functions_and_names() -> None:
    for text in ("legal_count() + 1", "count_within('absence', 28d) * 2", "days_absent + 1"):
        tree = fold(checked(text))
        assert isinstance(tree, Arith)


def test_fold_turns_literal_lists_into_tuples() -> None:
    tree = fold(checked("days_absent in [1, 2, 1 + 2]"))
    assert isinstance(tree, Compare)
    right = tree.operands[1]
    assert isinstance(right, Const) and right.value == (1, 2, 3)
    assert right.type == list_of(NUMBER)
    assert isinstance(fold(checked("[days_absent, 1]")), ListExpr)


def test_fold_leaves_failing_calls_for_run_time() -> None:
    # The checker reports these (expr.invalid_argument); a host that folds anyway gets the
    # call back, to fail at run time, rather than an exception from fold.
    for text in ("date('2026-02-30') < as_of",):
        tree = parse(text)
        assert [p.code for p in check(tree, SCOPE)] == ["expr.invalid_argument"]
        tree = fold(tree)
        assert isinstance(tree, Compare)
        assert isinstance(tree.operands[0], Call)


def test_fold_uses_the_given_registry() -> None:
    empty = type(DEFAULT_FUNCTIONS)()
    tree = fold(checked("abs(-1) > 0"), empty)
    assert isinstance(tree, Compare) and isinstance(tree.operands[0], Call)


# --- to_python ------------------------------------------------------------------------------


def test_constants_are_shared_by_value_and_type() -> None:
    consts = Constants()
    assert consts.add("a") == consts.add("a") == "_k0"
    assert consts.add(1) != consts.add(1.0) != consts.add(True)
    unhashable = [1]
    assert consts.add(unhashable) == consts.add(unhashable)
    assert consts.add([1]) != consts.add(unhashable)  # unhashable values are kept by identity
    assert consts.values["_k0"] == "a"


def test_literal_lists_keep_their_length() -> None:
    # Generated code once turned every literal list into a frozenset: len([1, 1]) was 1 and
    # [1, 1] == [1] was true, against the interpreter. (List equality ignores order by design:
    # see test_list_equality_ignores_order_and_the_host_s_list_type.)
    assert run_both("len([1, 1, 2])") == (("int", 3), ("int", 3))
    assert run_both("[1, 2] == [2, 1]") == (("bool", True), ("bool", True))
    assert run_both("[1, 1] == [1]") == (("bool", False), ("bool", False))
    assert run_both("[1, 2] == [1, 2]") == (("bool", True), ("bool", True))


def test_membership_in_a_literal_list_is_a_set_lookup() -> None:
    consts = Constants()
    source = to_python(
        checked("days_absent in [1, 2]"), {"days_absent": "x"}, consts, DEFAULT_FUNCTIONS
    )
    assert source == "(x in _k0)"
    assert consts.values["_k0"] == frozenset({1, 2})


@pytest.mark.parametrize(
    ("text", "pos"),
    [
        ("days_absent < 1e999", 14),
        ("days_absent > -1e309", 15),
        ("days_absent != 1" + "0" * 300 + "1", 15),  # a whole number past 10^300
        ("days_absent > 1e-400", 14),  # would be read as 0
        ("days_absent > 0." + "0" * 330 + "1", 14),
        ("days_absent > 1e999999999999999999999%", 14),  # decimal.InvalidOperation before
        ("days_absent > 1e-999999999999999999999", 14),
        ("as_of - 36526d < as_of", 8),
        ("as_of - 5218w < as_of", 8),
        ("as_of - 1201mo < as_of", 8),
        ("as_of - 101y < as_of", 8),
        ("as_of - 99999999999999999999999999d < as_of", 8),
    ],
)
def test_a_literal_out_of_range_is_refused_at_its_column(text: str, pos: int) -> None:
    # Infinity cannot be written (1e999 was infinity; its generated code named 'inf').
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    assert (info.value.code, info.value.pos) == ("expr.out_of_range", pos)


@pytest.mark.parametrize(
    "text",
    [
        "days_absent < 1e308",
        "days_absent > -1e-320",
        "x == 0.0",
        "x == 0e999999999999",
        "x < 1" + "0" * 300,
        "as_of - 36525d < as_of",
        "as_of - 5217w < as_of",
        "as_of - 1200mo < as_of",
        "as_of - 100y < as_of",
        "x > 1e300%",
        "x > 00000000003",
    ],
)
def test_literals_at_the_bounds_are_read(text: str) -> None:
    parse(text)


def test_a_constant_past_the_largest_float_is_a_load_problem() -> None:
    text = "days_absent < " + " * ".join(["1e15"] * 21)  # 10^315: infinity as a float
    found: list[Any] = []
    fold(checked(text), problems=found)
    assert [(p.code, p.pos) for p in found] == [("expr.out_of_range", 14)]


def test_date_arithmetic_uses_the_calendar_helpers() -> None:
    source, _ = compiled(checked("as_of - 1mo"))
    assert source == "_subtract_duration(f_as_of, _k0)"
    ref, gen = run_both("as_of - 1mo", {}, dt.date(2026, 3, 31))
    assert ref == gen == ("date", dt.date(2026, 2, 28))
    assert run_both("as_of - date('2026-01-01')") == (("int", 32), ("int", 32))


def test_context_functions_take_the_context_first() -> None:
    source, _ = compiled(checked("count_within('absence', 28d) > 0"))
    assert source == "(_fn_count_within(_ctx, _k0, _k1) > 0)"


@pytest.mark.parametrize(
    "payload",
    [
        "__import__('os').system('echo pwned')",
        "'); import os; ('",
        '"); import os; ("',
        "\\'; raise SystemExit; \\'",
        "{__import__}",
        "\n__import__('os')\n",
    ],
)
def test_strings_never_reach_the_generated_source(payload: str) -> None:
    text = unparse(Const(0, payload))
    tree = checked(f"student_id == {text}")
    consts = Constants()
    source = to_python(tree, {"student_id": "f_student_id"}, consts, DEFAULT_FUNCTIONS)
    assert source == "(f_student_id == _k0)"
    assert consts.values == {"_k0": payload}
    assert run_both(f"student_id == {text}", {"student_id": payload}) == (
        ("bool", True),
        ("bool", True),
    )


def test_names_are_mapped_never_copied() -> None:
    source = to_python(
        checked("days_absent > 1"), {"days_absent": "L0"}, Constants(), DEFAULT_FUNCTIONS
    )
    assert "days_absent" not in source


def _nested_conditions(levels: int) -> str:
    # Each level costs one unit of depth but three parentheses in the generated code (or, and,
    # comparison): the most generated nesting per unit, which Python's parser caps at 200.
    text = "flag"
    for _ in range(levels):
        text = f"(flag or flag and flag == {text})"
    return text


def test_the_deepest_accepted_expressions_go_through_every_stage() -> None:
    n = MAX_DEPTH
    texts = [
        "(" * (n - 1) + "days_absent > 1" + ")" * (n - 1),
        "-" * (n - 1) + "days_absent > 1",
        "not " * (n - 1) + "flag",
        "len(" + "[" * (n - 2) + "1" + "]" * (n - 2) + ") > 0",
        "days_absent" + " + 1" * (n - 1) + " > 0",
        "days_absent" + " / 2" * (n - 1) + " > 0",
        _nested_conditions(n - 1),
    ]
    for text in texts:
        parse(text)  # within the limit
        ref, gen = run_both(text, {"days_absent": 3})
        assert ref == gen
        assert interpret(parse(unparse(checked(text))), env_of({"days_absent": 3}, AS_OF)) == (
            interpret(checked(text), env_of({"days_absent": 3}, AS_OF))
        )


# --- the property: generated code agrees with the interpreter ----------------------------------

_KINDS = ("absence", "excused", "unexcused", "suspension", "tardy", "tardy_over_30", "truancy")
_DURATIONS = ("0d", "1d", "7d", "28d", "4w", "1mo", "6mo", "1y", "window")


def _numbers(depth: int) -> st.SearchStrategy[str]:
    leaves = st.one_of(
        st.sampled_from(NUMBER_FACTS),
        st.integers(min_value=0, max_value=40).map(str),
        st.sampled_from(["0.5", "2.5", "10%", "0", "1e15", "1_000"]),
    )
    if depth <= 0:
        return leaves
    sub = _numbers(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(sub, st.sampled_from("+-*/"), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        sub.map(lambda a: f"-{a}"),
        st.lists(sub, min_size=2, max_size=3).map(
            lambda xs: f"{'min' if len(xs) % 2 else 'max'}({', '.join(xs)})"
        ),
        sub.map(lambda a: f"abs({a})"),
        st.tuples(sub, st.integers(0, 3)).map(lambda t: f"round({t[0]}, {t[1]})"),
        st.tuples(sub, sub).map(lambda t: f"ratio({t[0]}, {t[1]})"),
        st.tuples(st.sampled_from(NUMBER_FACTS), st.sampled_from(NUMBER_FACTS)).map(
            lambda t: f"ratio({t[0]}, {t[1]})"
        ),
        _lists(depth - 1).map(lambda xs: f"len({xs})"),
        st.sampled_from(["len(groups)", "len(causes)", "len([1, 1, 2])", "len([])"]),
        st.tuples(_dates(depth - 1), _dates(depth - 1)).map(
            lambda t: f"days_between({t[0]}, {t[1]})"
        ),
        st.tuples(_dates(depth - 1), _dates(depth - 1)).map(lambda t: f"({t[0]} - {t[1]})"),
        st.tuples(
            st.sampled_from(["count_within", "days_within", "peak_count"]),
            st.sampled_from(_KINDS),
            st.sampled_from(_DURATIONS),
        ).map(lambda t: f"{t[0]}('{t[1]}', {t[2]})"),
        st.just("legal_count()"),
        sub.map(lambda a: f"interventions_tried({a})"),
        st.sampled_from(["parent_conference", "sart", "x"]).map(
            lambda k: f"conferences_held('{k}')"
        ),
    )


def _lists(depth: int) -> st.SearchStrategy[str]:
    return st.lists(_numbers(max(depth, 0) - 1 if depth > 0 else 0), max_size=3).map(
        lambda xs: f"[{', '.join(xs)}]"
    )


def _dates(depth: int) -> st.SearchStrategy[str]:
    leaves = st.sampled_from(["as_of", "date('2026-01-31')", "date('2025-08-18')"])
    if depth <= 0:
        return leaves
    return st.one_of(
        leaves,
        st.tuples(_dates(depth - 1), st.sampled_from("+-"), st.sampled_from(_DURATIONS)).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
    )


def _bools(depth: int) -> st.SearchStrategy[str]:
    ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    leaves = st.one_of(
        st.sampled_from(["true", "false", "flag"]),
        st.sampled_from(sorted(GROUPS)).map(lambda g: f"'{g}' in groups"),
        st.sampled_from(sorted(CAUSES)).map(lambda c: f"'{c}' not in causes"),
        st.sampled_from(["not1", "not2", "not3"]).map(lambda s: f"legal_issued('{s}')"),
        st.sampled_from(["student_id == 'A123'", "student_id != 'B1'", "window == 4w"]),
        # A fact list against a literal one (either side), or against itself.
        st.tuples(
            st.lists(st.sampled_from(sorted(CAUSES)), max_size=3).map(
                lambda xs: "[" + ", ".join(f"'{x}'" for x in xs) + "]"
            ),
            st.sampled_from(["==", "!="]),
            st.booleans(),
        ).map(lambda t: f"causes {t[1]} {t[0]}" if t[2] else f"{t[0]} {t[1]} causes"),
        st.sampled_from(["groups == groups", "causes != causes", "len(causes) == 1 == 1"]),
    )
    if depth <= 0:
        return leaves
    num = _numbers(depth - 1)
    sub = _bools(depth - 1)
    return st.one_of(
        leaves,
        st.lists(st.tuples(ops, num), min_size=1, max_size=3).flatmap(
            lambda links: num.map(
                lambda first: "(" + first + "".join(f" {op} {x}" for op, x in links) + ")"
            )
        ),
        st.tuples(_dates(depth - 1), ops, _dates(depth - 1)).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(num, st.sampled_from(["in", "not in"]), _lists(depth)).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(_lists(depth), st.sampled_from(["==", "!="]), _lists(depth)).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        sub.map(lambda b: f"not {b}"),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(sub, min_size=2, max_size=3)).map(
            lambda t: "(" + f" {t[0]} ".join(t[1]) + ")"
        ),
        st.tuples(sub, st.sampled_from(["==", "!="]), sub).map(
            lambda t: f"(({t[0]}) {t[1]} ({t[2]}))"
        ),
    )


_EXPRS = st.one_of(_bools(3), _numbers(3), _dates(2), _lists(2))
_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@_SETTINGS
@given(text=_EXPRS, facts=student_facts(future_days=30), days=st.integers(-60, 30))
def test_generated_code_agrees_with_the_interpreter(
    text: str, facts: dict[str, Any], days: int
) -> None:
    assert set(_DEFAULTS) <= set(facts)  # the names read are facts the strategy provides
    as_of = AS_OF + dt.timedelta(days=days)
    tree = checked(text)
    env = env_of(facts, as_of)
    ref = outcome(lambda: interpret(tree, env, EvalContext(facts, as_of), DEFAULT_FUNCTIONS))
    args = [env[n] for n in NAMES]
    _, fn = compiled(tree)
    assert outcome(lambda: fn(EvalContext(facts, as_of), *args)) == ref, text
    folded = fold(checked(text))
    _, fn_folded = compiled(folded)
    assert outcome(lambda: fn_folded(EvalContext(facts, as_of), *args)) == ref, text


@pytest.mark.slow
@_SETTINGS
@given(text=_EXPRS, facts=student_facts(future_days=30))
def test_folding_preserves_meaning(text: str, facts: dict[str, Any]) -> None:
    env = env_of(facts, AS_OF)
    ref = outcome(
        lambda: interpret(checked(text), env, EvalContext(facts, AS_OF), DEFAULT_FUNCTIONS)
    )
    folded = fold(checked(text))
    assert folded.type == checked(text).type
    assert (
        outcome(lambda: interpret(folded, env, EvalContext(facts, AS_OF), DEFAULT_FUNCTIONS)) == ref
    ), text


@pytest.mark.slow
@_SETTINGS
@given(text=_EXPRS, facts=student_facts())
def test_canonical_text_means_the_same(text: str, facts: dict[str, Any]) -> None:
    env = env_of(facts, AS_OF)
    ref = outcome(
        lambda: interpret(checked(text), env, EvalContext(facts, AS_OF), DEFAULT_FUNCTIONS)
    )
    for canonical in (unparse(checked(text)), unparse(fold(checked(text)))):
        again = checked(canonical)
        assert (
            outcome(lambda t=again: interpret(t, env, EvalContext(facts, AS_OF), DEFAULT_FUNCTIONS))
            == ref
        )


def test_the_generator_reaches_every_function() -> None:
    # Guards the property above: a strategy that silently stopped producing calls would pass.
    # Derandomized: 600 random draws missed a function in one CI run (2026-12-04), and a guard
    # that fails by chance is noise; the fixed draws reach every function, so a strategy that
    # stops producing one still fails here.
    seen: set[str] = set()

    @settings(max_examples=1000, deadline=None, database=None, derandomize=True)
    @given(st.one_of(_bools(1), _numbers(1).map(lambda x: f"{x} > 0")))
    def collect(text: str) -> None:
        seen.update(n.func for n in walk(checked(text)) if isinstance(n, Call))

    collect()
    expected = {
        "min",
        "max",
        "abs",
        "round",
        "ratio",
        "len",
        "date",
        "days_between",
        "count_within",
        "days_within",
        "peak_count",
        "legal_issued",
        "legal_count",
        "interventions_tried",
        "conferences_held",
    }
    assert expected <= seen


def test_a_rule_set_compares_a_fact_list_with_a_literal_list() -> None:
    # The bug: facts arrive as Python lists, literals were folded into tuples, and
    # ["health"] == ("health",) is false in Python, so the tier below could never match.
    rs = tierflow.parse_ruleset(
        'id: t\nname: T\nversion: "1"\ntiers:\n'
        "  - {id: tier2, level: 2, when: \"causes == ['health']\"}\n"
        "  - {id: tier1, level: 1, default: true}\n"
    )
    base = {"student_id": "s", "days_enrolled": 20, "days_absent": 0}
    tiers = [
        rs.evaluate({**base, "causes": causes}, as_of=AS_OF).tier
        for causes in (["health"], ("health",), ["health", "food"], [])
    ]
    assert tiers == ["tier2", "tier2", "tier1", "tier1"]
