"""How large a whole number an expression can compute: known answers worked out by hand.

A fact that is a whole number is assumed up to 2^53 (every integer a float holds exactly); a
name that is not a fact (a metric, ``tier_level``) has the bound it is given. Each expected
bound below is the arithmetic of those assumptions, written out: ``x + 3`` can be as large as
2^53 + 3, ``x * 3`` as 3 * 2^53, a fraction is never a whole number (bound 0), a difference of
two dates is at most the 3,652,058 days from 0001-01-01 to 9999-12-31.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tierflow.expr import DATE, NUMBER, STRING, Const, Expr, Scope, check, list_of, parse, unparse
from tierflow.expr._bounds import MAX_WHOLE, check_literal, too_large_message, whole_bound

# Mutation testing (docs/testing.md): the whole mutmut run of expr/_bounds.py with this module
# and test_parser.py (173 mutants, 2026-12-04) killed 155; with the tests written for its 18
# survivors (min by name, 0 * inf, the digit and exponent cuts, underscores, 24 characters
# shown) it kills 166. The 7 left change no answer a checked rule set can reach:
# - check_literal: lstrip("XX0XX") for lstrip("0"): a literal holds no X (the tokenizer);
# - check_literal: a 5-digit exponent taking the short path too (>= 5 for > 5): an exponent of
#   10^4 or more is out of range both ways (a mantissa under MAX_LENGTH, 4,000 characters,
#   cannot bring it back);
# - whole_bound: the type "any" (spelt otherwise, or a name of that type bounded as a fact or
#   as 1): the checker types a node "any" only when it reports a problem, and whole_bound runs
#   on trees without problems (names and functions are declared with concrete types);
# - whole_bound: the last "return 0.0" as 1.0: every node typed number is a constant, a name,
#   a negation, arithmetic or a call, each handled above it.

FACT = 2.0**53
DAYS_0001_TO_9999 = float((dt.date(9999, 12, 31) - dt.date(1, 1, 1)).days)
NAMES = {"x": NUMBER, "y": NUMBER, "m": NUMBER, "d": DATE, "e": DATE, "s": STRING}
NAMES_LISTS = {**NAMES, "g": list_of(STRING)}


def checked(text: str, bounds: dict[str, float] | None = None) -> Expr:
    """The tree, typed by the checker (whose own bound check may object: that is tested below)."""
    tree = parse(text)
    problems = check(tree, Scope(NAMES_LISTS, bounds=bounds or {}))
    assert [p for p in problems if p.code != "expr.out_of_range"] == [], text
    return tree


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        ("12345", 12345.0),
        ("-7", 7.0),  # a bound is of the absolute value
        ("0", 0.0),
        ("2.5", 0.0),  # a fraction is not a whole number
        ("10%", 0.0),
        ("x", FACT),
        ("-x", FACT),
        ("x + 3", FACT + 3),
        ("x - 3", FACT + 3),  # x may be -2^53: |x - 3| up to 2^53 + 3
        ("x + y", 2 * FACT),
        ("x * 3", 3 * FACT),
        ("x * y", FACT * FACT),
        ("x * 0.5", 0.0),  # a fraction times anything is a fraction
        ("0.5 * x", 0.0),
        ("x / 2", 0.0),
        ("x * 0", 0.0),  # 0 * anything stays 0
        ("min(x, 3)", FACT),  # a bound of |min|: the larger of the bounds (x may be -2^53)
        ("max(3, 7)", 7.0),
        ("max(3, x, 9)", FACT),
        ("abs(x * 2)", 2 * FACT),
        ("round(x, 0)", 2 * FACT),  # half up: at most twice the value
        ("round(x / 3, 0)", 0.0),
        ("ratio(x, y)", 0.0),
        ("len(g)", FACT),  # a count: an input, as a fact is
        ("days_between(d, e)", DAYS_0001_TO_9999),
        ("d - e", DAYS_0001_TO_9999),
        ("(d - e) * 2", 2 * DAYS_0001_TO_9999),
        ("x > 3", 0.0),  # a truth value
        ("s", 0.0),
        ("d", 0.0),
        ("d + 3d", 0.0),
    ],
)
def test_bounds_by_hand(text: str, bound: float) -> None:
    assert whole_bound(checked(text), {}) == (bound, None)


def test_names_that_are_not_facts_have_the_bound_given() -> None:
    assert whole_bound(checked("m"), {"m": 5.0}) == (5.0, None)
    assert whole_bound(checked("min(m, 3)"), {"m": 5.0}) == (5.0, None)
    assert whole_bound(checked("max(2, m)"), {"m": 5.0}) == (5.0, None)
    assert whole_bound(checked("m * 4 + x"), {"m": 5.0}) == (20.0 + FACT, None)
    assert whole_bound(checked("x"), {"m": 5.0}) == (FACT, None)


def test_a_whole_constant_of_a_thousand_bits_is_unbounded() -> None:
    # Folding can make a constant no literal may write: 2^999 has 1,000 bits, past every
    # float, so its bound is infinity; 2^998 (999 bits) is still a float.
    node = checked("1")
    assert isinstance(node, Const)
    node.value = 2**998
    assert whole_bound(node, {}) == (float(2**998), node)
    node.value = 2**999
    assert whole_bound(node, {}) == (float("inf"), node)


def test_the_first_node_past_the_limit_is_the_innermost_leftmost() -> None:
    big = {"m": 1e200}
    bound, at = whole_bound(checked("m * m * 2 + 1", big), big)
    assert bound == float("inf") and at is not None and unparse(at) == "m * m"
    _, at = whole_bound(checked("(m + 1) * (m * m)", big), big)
    assert at is not None and unparse(at) == "m * m" and at.pos == 11  # its first operand
    _, at = whole_bound(checked("m * m + m * m", big), big)
    assert at is not None and at.pos == 0
    # inside what is not a number (a comparison, a function of dates), children still count
    _, at = whole_bound(checked("x > 1 and m * m > 0", big), big)
    assert at is not None and (unparse(at), at.pos) == ("m * m", 10)
    _, at = whole_bound(checked("-(m * m) < 0", big), big)
    assert at is not None and unparse(at) == "m * m"
    _, at = whole_bound(checked("max(1, m * m) > 0", big), big)
    assert at is not None and unparse(at) == "m * m"
    _, at = whole_bound(checked("m * m in [1, 2]", big), big)
    assert at is not None and unparse(at) == "m * m"
    assert whole_bound(checked("m * 1000", big), big) == (1e203, None)
    # a fraction times an unbounded product is a fraction (0), not 0 * inf (NaN)
    bound, at = whole_bound(checked("0.5 * (m * m)", big), big)
    assert bound == 0.0 and at is not None and unparse(at) == "m * m"
    bound, at = whole_bound(checked("(m * m) * 0.5", big), big)
    assert bound == 0.0 and at is not None and unparse(at) == "m * m"


def test_the_limit_itself_is_allowed_and_agrees_with_literals() -> None:
    # 10^300 is the largest whole number a rule may write (check_literal accepts it) and so
    # the largest it may compute: the two checks must draw the line at the same place.
    limit = "1" + "0" * 300
    assert check_literal(limit) == ""
    assert whole_bound(checked(f"x < {limit}"), {}) == (0.0, None)
    assert whole_bound(checked(limit), {})[1] is None
    assert whole_bound(checked("m"), {"m": float(MAX_WHOLE)})[1] is None
    bound, at = whole_bound(checked("m"), {"m": 1e301})
    assert bound == 1e301 and at is not None


def test_check_reports_the_node_past_the_limit() -> None:
    problems = check(parse("x > 0 and m * m > 0"), Scope(NAMES, bounds={"m": 1e200}))
    assert [(p.code, p.pos) for p in problems] == [("expr.out_of_range", 10)]
    assert problems[0].message == (
        "this can compute a whole number of more than 10^308 (with whole-number facts up to "
        "2^53); a rule set computes whole numbers up to 10^300"
    )
    assert problems[0].hint == (
        "a rate is ratio(a, b); a product of many facts or metrics grows without limit"
    )


@pytest.mark.parametrize(
    ("bound", "size"),
    [(1e301, "about 10^301"), (5e305, "about 10^305"), (float("inf"), "more than 10^308")],
)
def test_too_large_message_names_the_power_of_ten(bound: float, size: str) -> None:
    assert too_large_message(bound) == (
        f"this can compute a whole number of {size} (with whole-number facts up to 2^53); "
        "a rule set computes whole numbers up to 10^300"
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1" + "0" * 300 + "1", "a whole number in a rule is at most 10^300"),
        ("1e309", "it is larger than the largest float (about 1.8e308)"),
        ("1e-400", "it is nonzero but smaller than the smallest float (about 4.9e-324)"),
        ("1e99999999", "it is larger than the largest float (about 1.8e308)"),
        ("1e-99999999", "it is nonzero but smaller than the smallest float (about 4.9e-324)"),
        ("1e-323%", "it is nonzero but smaller than the smallest float (about 4.9e-324)"),
        ("1" + "0" * 301, "a whole number in a rule is at most 10^300"),  # 10^301
        ("2" + "0" * 300, "a whole number in a rule is at most 10^300"),  # 301 digits, > 10^300
        ("1_" + "0" * 301, "a whole number in a rule is at most 10^300"),  # underscores too
        ("99e999999", "it is larger than the largest float (about 1.8e308)"),  # past Decimal's
        ("0" * 19 + "1e309", "it is larger than the largest float (about 1.8e308)"),  # 24: whole
        ("0" * 20 + "1e309", "it is larger than the largest float (about 1.8e308)"),  # 25: cut
    ],
)
def test_literals_refused_and_why(text: str, why: str) -> None:
    # up to 24 characters a literal is shown whole, then its first 12 and last 8
    shown = text if len(text) <= 24 else f"{text[:12]}...{text[-8:]} ({len(text)} characters)"
    assert check_literal(text) == f"the number {shown} is out of range: {why}"


@pytest.mark.parametrize(
    "text",
    [
        "1" + "0" * 300,
        "0" * 50 + "1" + "0" * 300,  # leading zeros are not digits of the value
        "9" * 300,
        "1_000",
        "1e308",
        "1.7e308",
        "1e-323",  # a subnormal float, not zero
        "1e-321%",
        "0.0",
        "0e999999999999",
        "00.000",
        "1e2%",
        "1E+5",
    ],
)
def test_literals_accepted(text: str) -> None:
    assert check_literal(text) == ""
