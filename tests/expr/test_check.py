"""The type checker: names, functions, arity, types, closed vocabularies, booleans."""

from __future__ import annotations

import pytest

from tierflow.expr import (
    ANY,
    BOOL,
    DATE,
    DURATION,
    NUMBER,
    STRING,
    Call,
    Compare,
    ExprProblem,
    Function,
    FunctionRegistry,
    Scope,
    Type,
    check,
    enum_of,
    list_of,
    parse,
)
from tierflow.expr._check import _a
from tierflow.facts import DEFAULT_FUNCTIONS

# Mutation testing (docs/testing.md): the whole mutmut run of expr/_check.py with this module and
# test_bounds.py (569 mutants, 2026-12-04) kills 552. Of the 17 left, 8 swap a vowel of _a's
# list, aimed at by test_the_article_follows_the_first_letter (written after the run); these 9
# change no answer:
# - _visit: the TypeError's text for a node of no known kind (the kinds above are exhaustive);
# - arith: `ANY in (lt, rt) or ...` for `and`: a type equals ANY exactly when its kind is any;
#   and `op in "XX+-XX"`: an operator is one character, never X;
# - compare: `lt.values is not None or isinstance(right, ListExpr)`: check_value returns at
#   once for a type without values;
# - call: zip(..., strict=None/False/absent): arg_types is built from node.args, same length;
#   and `param.vocabulary or param.values is None`: a parameter with fixed values (attendance
#   kind) names a vocabulary no rule set can declare, so the lookup finds nothing to replace;
# - check_constant_call: rstrip("XX.XX") for rstrip("."): no function's doc ends in a capital X.

TIER = enum_of("tier", {"tier1", "tier2", "tier3"})
GROUP = enum_of("group", {"foster", "homeless", "ell"})

SCOPE = Scope(
    names={
        "days_absent": NUMBER,
        "absence_rate": NUMBER,
        "tier_level": NUMBER,
        "student_id": STRING,
        "tier": TIER,
        "groups": list_of(GROUP),
        "as_of": DATE,
        "enrolled_on": DATE,
        "is_504": BOOL,
        "window": DURATION,
        "anything": ANY,
    },
    functions=DEFAULT_FUNCTIONS,
    vocabularies={"legal_step": frozenset({"not1", "not2", "sarb-referral"})},
)


def problems(text: str, expected: Type | None = BOOL, scope: Scope = SCOPE) -> list[ExprProblem]:
    return check(parse(text), scope, expected)


def codes(text: str, expected: Type | None = BOOL) -> list[str]:
    return [p.code for p in problems(text, expected)]


def only(text: str, expected: Type | None = BOOL) -> ExprProblem:
    found = problems(text, expected)
    assert len(found) == 1, found
    return found[0]


# --- well-typed expressions -----------------------------------------------------------------

WELL_TYPED = [
    ("days_absent >= 3", BOOL),
    ("absence_rate >= 10% and not is_504", BOOL),
    ("'foster' in groups or 'ell' not in groups", BOOL),
    ("tier == 'tier2'", BOOL),
    ("'tier2' == tier", BOOL),
    ("tier in ['tier1', 'tier3']", BOOL),
    ("tier != 'tier1'", BOOL),
    ("tier_level >= 2", BOOL),
    ("student_id == 'A123'", BOOL),
    ("as_of - enrolled_on", NUMBER),
    ("as_of - 28d", DATE),
    ("as_of + 6mo", DATE),
    ("as_of - enrolled_on >= 30", BOOL),
    ("enrolled_on < as_of - 1y", BOOL),
    ("date('2026-01-05') <= as_of", BOOL),
    ("window == 28d", BOOL),
    ("days_absent / 2 + -1 * 3", NUMBER),
    ("max(days_absent, 1, 2, 3)", NUMBER),
    ("min(1, 2)", NUMBER),
    ("abs(-days_absent)", NUMBER),
    ("round(absence_rate, 2)", NUMBER),
    ("ratio(days_absent, 0)", NUMBER),
    ("len(groups)", NUMBER),
    ("len([])", NUMBER),
    ("days_between(enrolled_on, as_of)", NUMBER),
    ("count_within('absence', 28d)", NUMBER),
    ("days_within('unexcused', window)", NUMBER),
    ("peak_count('truancy', 6mo)", NUMBER),
    ("legal_issued('not1')", BOOL),
    ("legal_count()", NUMBER),
    ("interventions_tried(2)", NUMBER),
    ("conferences_held('sart')", NUMBER),
    ("recent_count('absence', 180)", NUMBER),
    ("[1, 2, days_absent]", list_of(NUMBER)),
    ("[[1], [2, 3]]", list_of(list_of(NUMBER))),
    ("true == is_504", BOOL),
    ("1 < days_absent <= 10", BOOL),
    ("anything + 1", ANY),
    ("anything > 'x' and anything", BOOL),
    ("[1, anything]", list_of(NUMBER)),
    ("[anything, 'a']", list_of(STRING)),
    # a value of unknown type (after a reported problem) is not reported again, on either side
    ("days_absent + anything", ANY),
    ("days_absent < anything", BOOL),
    ("anything < days_absent", BOOL),
]


@pytest.mark.parametrize(("text", "type_"), WELL_TYPED)
def test_well_typed(text: str, type_: Type) -> None:
    tree = parse(text)
    assert check(tree, SCOPE) == []
    assert tree.type == type_


def test_types_are_annotated_on_every_node() -> None:
    tree = parse("count_within('absence', 28d) >= days_absent / 2")
    assert check(tree, SCOPE, BOOL) == []
    assert isinstance(tree, Compare)
    call, arith = tree.operands
    assert isinstance(call, Call)
    assert [a.type.kind for a in call.args] == ["string", "duration"]
    assert call.type == NUMBER and arith.type == NUMBER and tree.type == BOOL


# --- expr.unknown_name ----------------------------------------------------------------------


def test_unknown_name_suggests_the_closest() -> None:
    p = only("absense_rate >= 0.1")
    assert p.code == "expr.unknown_name"
    assert p.pos == 0
    assert p.message == "'absense_rate' is not defined"
    assert p.hint == "did you mean 'absence_rate'?"


def test_unknown_name_position_and_no_suggestion_when_nothing_is_close() -> None:
    p = only("days_absent > 1 and zzzz")
    assert (p.code, p.pos, p.hint) == ("expr.unknown_name", 20, "")


@pytest.mark.parametrize("name", ["None", "self", "os", "eval", "print", "facts", "globals"])
def test_python_names_are_just_unknown(name: str) -> None:
    assert codes(f"{name} == 1") == ["expr.unknown_name"]


def test_a_function_used_as_a_name() -> None:
    p = only("1 < max")
    assert (p.code, p.pos) == ("expr.unknown_name", 4)
    assert p.message == "'max' is a function"
    assert p.hint == "call it: max(number, number, ...) -> number"


def test_unknown_name_does_not_cascade() -> None:
    # An unknown name has type ANY, so the comparison with a string is not reported again.
    assert codes("absense_rate + 1 > 'x'") == ["expr.unknown_name"]


# --- expr.unknown_function ------------------------------------------------------------------


def test_unknown_function_suggests_a_registered_one() -> None:
    p = only("maxx(1, 2) > 1")
    assert (p.code, p.pos) == ("expr.unknown_function", 0)
    assert p.message == "no function named 'maxx'"
    assert p.hint == "did you mean 'max'?"


def test_calling_a_fact() -> None:
    p = only("1 < days_absent(1)")
    assert (p.code, p.pos) == ("expr.unknown_function", 4)
    assert p.message == "'days_absent' is not a function"


@pytest.mark.parametrize(
    "text",
    [
        "eval('1') == 1",
        "exec('import os') == 1",
        "open('/etc/passwd') == 1",
        "getattr(student_id, 'upper') == 1",
        "compile('1', 'x', 'eval') == 1",
        "globals() == 1",
        "vars() == 1",
        "system('ls') == 1",
        "breakpoint() == 1",
        "input() == 1",
        "str(1) == '1'",
        "int('1') == 1",
        "sum([1]) == 1",
    ],
)
def test_calls_outside_the_registry_are_refused(text: str) -> None:
    assert codes(text) == ["expr.unknown_function"]


def test_arguments_of_an_unknown_function_are_still_checked() -> None:
    found = problems("nope(absense_rate) > 1")
    assert [p.code for p in found] == ["expr.unknown_name", "expr.unknown_function"]


# --- expr.arity -----------------------------------------------------------------------------

ARITY = [
    ("abs(1, 2)", "abs() takes 1 argument, got 2", "signature: abs(number) -> number"),
    ("abs()", "abs() takes 1 argument, got 0", ""),
    ("min(1)", "min() takes at least 2 arguments, got 1", "min(number, number, ...)"),
    ("max()", "max() takes at least 2 arguments, got 0", ""),
    ("round(1)", "round() takes 2 arguments, got 1", ""),
    ("ratio(1, 2, 3)", "ratio() takes 2 arguments, got 3", ""),
    ("len()", "len() takes 1 argument, got 0", ""),
    ("date()", "date() takes 1 argument, got 0", ""),
    ("days_between(as_of)", "days_between() takes 2 arguments, got 1", ""),
    ("count_within('absence')", "count_within() takes 2 arguments, got 1", ""),
    ("days_within('absence', 28d, 1)", "days_within() takes 2 arguments, got 3", ""),
    ("peak_count()", "peak_count() takes 2 arguments, got 0", ""),
    ("legal_issued()", "legal_issued() takes 1 argument, got 0", "legal_issued(legal_step)"),
    ("legal_count(1)", "legal_count() takes 0 arguments, got 1", "legal_count() -> number"),
    ("interventions_tried()", "interventions_tried() takes 1 argument, got 0", ""),
    ("conferences_held('sart', 1)", "conferences_held() takes 1 argument, got 2", ""),
]


@pytest.mark.parametrize(("call", "message", "hint"), ARITY)
def test_arity(call: str, message: str, hint: str) -> None:
    p = only(f"[{call}]", expected=None)
    assert p.code == "expr.arity"
    assert p.message == message
    assert p.pos == 1
    assert hint in p.hint


def test_arity_problem_still_gives_the_result_type() -> None:
    # The call has its declared type, so the comparison around it is not reported too.
    assert codes("abs(1, 2) >= 1") == ["expr.arity"]
    assert codes("legal_issued() and true") == ["expr.arity"]


# --- expr.type_mismatch ---------------------------------------------------------------------

# Word for word, as the parser's errors (tests/expr/test_parser.py): message and hint are what a
# district developer reads. Each was written from the checker's rules by hand and read over.
DATES = "dates take durations such as 28d or 6mo"
MISMATCH = [
    # text, pos, message, hint
    ("days_absent + 'a' > 1", 14, "cannot add a number and a string ('+')", ""),
    ("days_absent * true > 1", 14, "cannot multiply a number and a bool ('*')", ""),
    ("'a' - 'b' == 'c'", 6, "cannot subtract a string and a string ('-')", ""),
    ("days_absent / 'a' > 1", 14, "cannot divide a number and a string ('/')", ""),
    ("as_of + 3 > as_of", 8, "cannot add a date and a number ('+')", DATES),
    ("as_of * 2 > as_of", 8, "cannot multiply a date and a number ('*')", DATES),
    ("as_of + as_of > as_of", 8, "cannot add a date and a date ('+')", DATES),
    ("28d + 1d == 29d", 6, "cannot add a duration and a duration ('+')", ""),
    ("3 - as_of > 1", 4, "cannot subtract a number and a date ('-')", DATES),
    ("-'a' == 'a'", 0, "cannot negate a string", ""),
    ("-is_504", 0, "cannot negate a bool", ""),
    ("not days_absent", 0, "'not' needs true/false, got a number", ""),
    (
        "days_absent and is_504",
        0,
        "'and' needs true/false on each side, got a number",
        "compare it with something, e.g. '>= 3'",
    ),
    ("is_504 or 'x'", 10, "'or' needs true/false on each side, got a string", ""),
    (
        "days_absent == 'x'",
        15,
        "cannot compare a number with a string ('==')",
        "quote strings and write numbers bare",
    ),
    (
        "tier == 2",
        8,
        "cannot compare a tier (string) with a number ('==')",
        "quote strings and write numbers bare",
    ),
    ("as_of > 3", 8, "cannot compare a date with a number ('>')", ""),
    ("'a' < 'b'", 6, "'<' orders numbers and dates, not a string", ""),
    (
        "tier < 'tier2'",
        7,
        "'<' orders numbers and dates, not a tier (string)",
        "compare tier_level instead",
    ),
    ("is_504 >= true", 10, "'>=' orders numbers and dates, not a bool", ""),
    ("28d < 4w", 6, "'<' orders numbers and dates, not a duration", ""),
    ("groups < groups", 9, "'<' orders numbers and dates, not a list of group (string)", ""),
    ("3 in days_absent", 5, "'in' needs a list on its right, got a number", ""),
    ("'x' not in student_id", 11, "'not in' needs a list on its right, got a string", ""),
    ("3 in groups", 0, "cannot look for a number in a list of group (string)", ""),
    ("[1, 'a'] == [1]", 4, "a list mixes number and string items", ""),
    (
        "abs('x') > 1",
        4,
        "argument 1 of abs() must be a number, got a string",
        "signature: abs(number) -> number",
    ),
    (
        "len(3) > 1",
        4,
        "argument 1 of len() must be a list of any, got a number",
        "signature: len(list of any) -> number",
    ),
    (
        "len(student_id) > 1",
        4,
        "argument 1 of len() must be a list of any, got a string",
        "signature: len(list of any) -> number",
    ),
    (
        "date(20260105) < as_of",
        5,
        "argument 1 of date() must be a string, got a number",
        "signature: date(string) -> date",
    ),
    (
        "days_between('2026-01-01', as_of) > 1",
        13,
        "argument 1 of days_between() must be a date, got a string",
        "signature: days_between(date, date) -> number",
    ),
    (
        "max(1, 'a', 3) > 1",
        7,
        "argument 2 of max() must be a number, got a string",
        "signature: max(number, number, ...) -> number",
    ),
    (
        "max(1, 2, 'a') > 1",
        10,
        "argument 3 of max() must be a number, got a string",
        "signature: max(number, number, ...) -> number",
    ),
    (
        "count_within('absence', 3) > 1",
        24,
        "argument 2 of count_within() must be a duration, got a number",
        "signature: count_within(attendance kind, duration) -> number",
    ),
    (
        "count_within(3, 28d) > 1",
        13,
        "argument 1 of count_within() must be an attendance kind (string), got a number",
        "signature: count_within(attendance kind, duration) -> number",
    ),
    (
        "days_within('absence', as_of) > 1",
        23,
        "argument 2 of days_within() must be a duration, got a date",
        "signature: days_within(attendance kind, duration) -> number",
    ),
    (
        "peak_count(tier_level, 28d) > 1",
        11,
        "argument 1 of peak_count() must be an attendance kind (string), got a number",
        "signature: peak_count(attendance kind, duration) -> number",
    ),
    (
        "legal_issued(1)",
        13,
        "argument 1 of legal_issued() must be a legal_step (string), got a number",
        "signature: legal_issued(legal_step) -> bool",
    ),
    (
        "interventions_tried('tier2') > 1",
        20,
        "argument 1 of interventions_tried() must be a number, got a string",
        "signature: interventions_tried(number) -> number",
    ),
    (
        "conferences_held(1) > 1",
        17,
        "argument 1 of conferences_held() must be a string, got a number",
        "signature: conferences_held(string) -> number",
    ),
    (
        "round(1.5, '2') > 1",
        11,
        "argument 2 of round() must be a number, got a string",
        "signature: round(number, number) -> number",
    ),
]


@pytest.mark.parametrize(("text", "pos", "message", "hint"), MISMATCH)
def test_type_mismatch(text: str, pos: int, message: str, hint: str) -> None:
    p = only(text)
    assert (p.code, p.pos, p.message, p.hint) == ("expr.type_mismatch", pos, message, hint)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # each link of a chain is checked, whatever the link before it found
        ("anything < 1 < 'a'", [15]),  # the first link has an unknown type
        ("1 in days_absent < 'a'", [5, 19]),  # 'in' without a list
        ("3 in groups == 'x'", [0, 15]),  # a number looked for among strings
        ("'foster' in groups == 'x'", [22]),  # a good 'in' link
        ("tier < 'tier2' < 3", [7, 17]),  # an ordering of strings
    ],
)
def test_every_link_of_a_chain_is_checked(text: str, found: list[int]) -> None:
    assert [(p.code, p.pos) for p in problems(text)] == [("expr.type_mismatch", at) for at in found]


def test_a_chain_reports_each_bad_link() -> None:
    found = problems("1 < 'a' < 2")
    assert [(p.code, p.pos) for p in found] == [
        ("expr.type_mismatch", 4),
        ("expr.type_mismatch", 10),
    ]


# --- expr.unknown_value ---------------------------------------------------------------------

UNKNOWN_VALUE = [
    ("tier == 'teir2'", 8, "'teir2' is not a known tier", "did you mean 'tier2'?"),
    ("'teir2' == tier", 0, "'teir2' is not a known tier", "did you mean 'tier2'?"),
    ("tier != 'gold'", 8, "'gold' is not a known tier", "known: tier1, tier2, tier3"),
    ("tier in ['tier1', 'tier9']", 18, "'tier9' is not a known tier", "did you mean"),
    ("tier not in ['zzz']", 13, "'zzz' is not a known tier", "known: tier1, tier2, tier3"),
    ("'fostr' in groups", 0, "'fostr' is not a known group", "did you mean 'foster'?"),
    ("'x' not in groups", 0, "'x' is not a known group", "known: ell, foster, homeless"),
    (
        "count_within('absense', 28d) > 1",
        13,
        "'absense' is not a known attendance kind",
        "did you mean 'absence'?",
    ),
    ("peak_count('late', 28d) > 1", 11, "'late' is not a known attendance kind", "known: "),
    ("legal_issued('not9')", 13, "'not9' is not a known legal_step", "did you mean 'not"),
]


@pytest.mark.parametrize(("text", "pos", "message", "hint"), UNKNOWN_VALUE)
def test_unknown_value(text: str, pos: int, message: str, hint: str) -> None:
    p = only(text)
    assert p.code == "expr.unknown_value"
    assert p.pos == pos
    assert p.message == message
    assert hint in p.hint


def test_vocabulary_is_only_checked_when_the_rule_set_defines_it() -> None:
    without = Scope(SCOPE.names, DEFAULT_FUNCTIONS)
    assert problems("legal_issued('anything')", scope=without) == []
    assert codes("legal_issued('not9')") == ["expr.unknown_value"]


def test_open_strings_take_any_value() -> None:
    assert problems("conferences_held('anything at all') >= 0") == []
    assert problems("student_id == 'not-a-tier'") == []


def test_values_from_names_are_not_checked_against_vocabularies() -> None:
    # Only literals can be checked when the rule set loads.
    assert problems("tier == student_id") == []


# --- expr.not_boolean and the expected type --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pos", "message"),
    [
        (
            "as_of > date('2025-13-01')",
            13,
            "date('2025-13-01') fails for every student: month must be in 1..12",
        ),
        ("as_of > date('2026-02-29')", 13, "date('2026-02-29') fails for every student: "),
        ("as_of > date('soon')", 13, "date('soon') fails for every student: "),
    ],
)
def test_a_call_of_literals_that_always_fails_is_a_load_problem(
    text: str, pos: int, message: str
) -> None:
    p = only(text)
    assert (p.code, p.pos) == ("expr.invalid_argument", pos)
    assert p.message.startswith(message)
    assert p.hint.startswith("signature: ")


@pytest.mark.parametrize(
    "text",
    [
        "as_of > date('2024-02-29')",  # a leap day that exists
        "enrolled_on > date('2025-09-02') - 2w",
        "date('2025-09-02') > as_of",
        "round(absence_rate, 2) > 0",  # not all literals: computed per student
    ],
)
def test_calls_that_can_succeed_are_left_alone(text: str) -> None:
    assert problems(text) == []


def test_a_call_with_a_bad_argument_type_is_not_also_called() -> None:
    assert codes("as_of > date(3)") == ["expr.type_mismatch"]


def test_not_boolean_for_a_number_suggests_a_comparison() -> None:
    p = only("days_absent")
    assert (p.code, p.pos) == ("expr.not_boolean", 0)
    assert p.message == "a condition must be true or false, but this is a number"
    assert p.hint == "compare it with something, e.g. 'days_absent >= 3'"


@pytest.mark.parametrize(
    ("text", "kind"),
    [("'x'", "string"), ("as_of", "date"), ("28d", "duration"), ("groups", "list of group")],
)
def test_not_boolean_for_other_types(text: str, kind: str) -> None:
    p = only(text)
    assert p.code == "expr.not_boolean"
    assert p.message.endswith(kind) or kind in p.message
    assert p.hint == ""


def test_other_expected_types() -> None:
    p = only("  true", expected=NUMBER)
    assert (p.code, p.pos, p.message) == ("expr.type_mismatch", 2, "expected a number, got a bool")
    assert p.hint == ""
    p = only("1", expected=list_of(STRING))
    assert p.message == "expected a list of string, got a number"
    p = only("1", expected=enum_of("attendance kind", {"absence"}))
    assert p.message == "expected an attendance kind (string), got a number"
    assert problems("days_absent * 2", expected=NUMBER) == []
    assert problems("anything", expected=NUMBER) == []
    assert problems("days_absent", expected=None) == []


def test_not_boolean_is_not_added_on_top_of_other_problems() -> None:
    assert codes("absense_rate + 1") == ["expr.unknown_name"]


# --- all problems at once ---------------------------------------------------------------------


def test_every_problem_is_reported_in_order() -> None:
    text = "absense_rate > 1 and maxx(1) > 0 and tier == 'teir2' and abs() > 1"
    found = problems(text)
    assert [(p.code, p.pos) for p in found] == [
        ("expr.unknown_name", 0),
        ("expr.unknown_function", text.index("maxx")),
        ("expr.unknown_value", text.index("'teir2'")),
        ("expr.arity", text.index("abs()")),
    ]


# --- custom registries ----------------------------------------------------------------------


def _double(x: float) -> float:
    return 2 * x


def test_custom_function_in_a_copied_registry() -> None:
    registry = DEFAULT_FUNCTIONS.copy()
    registry.register(Function("double", (NUMBER,), NUMBER, _double, "Twice x."))
    scope = Scope(SCOPE.names, registry)
    assert problems("double(days_absent) > 1", scope=scope) == []
    assert "double" not in DEFAULT_FUNCTIONS
    assert codes("double(days_absent) > 1") == ["expr.unknown_function"]


def test_an_empty_registry_knows_no_function() -> None:
    scope = Scope(SCOPE.names, FunctionRegistry())
    p = problems("max(1, 2) > 1", scope=scope)[0]
    assert p.code == "expr.unknown_function"
    assert p.hint == ""


def _split_evenly(a: float, b: float) -> float:
    if a % b:
        raise ValueError(f"{a} does not divide by {b}")
    return a / b


def test_a_call_of_several_literals_that_always_fails_is_reported_at_the_call() -> None:
    registry = DEFAULT_FUNCTIONS.copy()
    registry.register(
        Function("split", (NUMBER, NUMBER), NUMBER, _split_evenly, "a / b, when b divides a.")
    )
    scope = Scope(SCOPE.names, registry)
    assert problems("split(6, 3) > 1", scope=scope) == []
    (p,) = problems("1 < split(7, 2)", scope=scope)
    assert (p.code, p.pos) == ("expr.invalid_argument", 4)  # the call: no one argument is to blame
    assert p.message == "split(7, 2) fails for every student: 7 does not divide by 2"
    assert p.hint == "signature: split(number, number) -> number (a / b, when b divides a)"


def test_a_value_of_an_empty_vocabulary() -> None:
    # A rule set that declares no legal step has an empty vocabulary, not an open string.
    scope = Scope(SCOPE.names, DEFAULT_FUNCTIONS, vocabularies={"legal_step": frozenset()})
    (p,) = problems("legal_issued('not1')", scope=scope)
    assert (p.code, p.pos, p.message) == (
        "expr.unknown_value",
        13,
        "'not1' is not a known legal_step",
    )
    assert p.hint == (
        "there is no legal step at all: declare one with the id 'not1' first, or remove this "
        "condition"
    )


@pytest.mark.parametrize(
    ("word", "with_article"),
    [
        ("any", "an any"),
        ("enum", "an enum"),
        ("interval", "an interval"),
        ("outcome", "an outcome"),
        ("unit", "an unit"),  # by letter, not by sound: no type name says 'unit'
        ("number", "a number"),
        ("list of string", "a list of string"),
        ("", "a "),
    ],
)
def test_the_article_follows_the_first_letter(word: str, with_article: str) -> None:
    assert _a(word) == with_article
