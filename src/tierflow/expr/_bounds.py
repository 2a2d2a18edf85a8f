"""How big the numbers of a rule set may be, and the load-time check that keeps them so.

Python's whole numbers have no size limit: a rule set whose metrics square a number sixteen
times (``m1 = x * x``, ``m2 = m1 * m1``...) builds a number of millions of digits for every
student, and each evaluation takes minutes. A date moved by ``99999999999d`` leaves the
calendar. So the language bounds what a rule set may write and compute, and checks it when the
rule set is loaded:

- a number literal is a whole number up to :data:`MAX_WHOLE`, or a float that is neither
  infinity nor a nonzero number that would be read as 0;
- a duration literal is at most a hundred years (:data:`MAX_DURATION_DAYS` days,
  :data:`MAX_DURATION_MONTHS` months);
- a whole number an expression computes from facts no larger than :data:`WHOLE_FACT` stays
  within :data:`MAX_WHOLE` (:func:`whole_bound` follows ``+``, ``-``, ``*`` and the functions
  through every metric). Division and ``ratio`` give fractions (floats), which cannot grow
  without limit: they reach infinity at worst.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

from tierflow.expr._ast import Arith, BoolOp, Call, Compare, Const, Expr, ListExpr, Name, Neg, Not

__all__ = [
    "DATE_SPAN_DAYS",
    "MAX_DURATION_DAYS",
    "MAX_DURATION_MONTHS",
    "MAX_WHOLE",
    "WHOLE_FACT",
    "check_literal",
    "too_large_message",
    "whole_bound",
]

MAX_DURATION_DAYS = 36_525
"""The longest duration written in days or weeks: a hundred years of days."""

MAX_DURATION_MONTHS = 1_200
"""The longest duration written in months or years: a hundred years."""

WHOLE_FACT = 2**53
"""The size of whole-number facts the load-time bound assumes (every integer a float holds)."""

MAX_WHOLE = 10**300
"""The largest whole number an expression may compute from facts up to :data:`WHOLE_FACT`."""

DATE_SPAN_DAYS = 3_652_058
"""Days from 0001-01-01 to 9999-12-31: the most a difference of two dates can be."""


def check_literal(text: str) -> str:
    """Return why number literal ``text`` (digits, ``.``, exponent, ``%``) is refused, or ``""``.

    A whole number (digits only) may be up to :data:`MAX_WHOLE`; any other number must be a
    float that means what it says: not so large that it is infinity, not so small (and
    nonzero) that it is 0.

    >>> check_literal("10%"), check_literal("1_000"), check_literal("0.0"), check_literal("1e308")
    ('', '', '', '')
    >>> check_literal("1e309")
    'the number 1e309 is out of range: it is larger than the largest float (about 1.8e308)'
    >>> check_literal("1e-999999999999999999999%").split(": ")[1]
    'it is nonzero but smaller than the smallest float (about 4.9e-324)'
    >>> check_literal("1" + "0" * 301)[:51]
    'the number 100000000000...00000000 (302 characters)'
    """
    body = text.replace("_", "").lower()
    percent = body.endswith("%")
    body = body.removesuffix("%")
    mantissa, _, exponent = body.partition("e")
    shown = text if len(text) <= 24 else f"{text[:12]}...{text[-8:]} ({len(text)} characters)"
    if set(mantissa) <= {"0", "."}:
        return ""  # zero, written any way
    if body.isdigit():
        digits = body.lstrip("0")
        if len(digits) <= 300 or (len(digits) == 301 and int(digits) <= MAX_WHOLE):
            return ""
        return f"the number {shown} is out of range: a whole number in a rule is at most 10^300"
    if len(exponent.lstrip("+-").lstrip("0")) > 5:  # 10^±99999 and beyond (Decimal refuses some)
        small = exponent.startswith("-")
    else:
        value = float(Decimal(body).scaleb(-2 if percent else 0))
        if value != 0 and not math.isinf(value):
            return ""
        small = value == 0
    if small:
        why = "it is nonzero but smaller than the smallest float (about 4.9e-324)"
    else:
        why = "it is larger than the largest float (about 1.8e308)"
    return f"the number {shown} is out of range: {why}"


_LIMIT = float(MAX_WHOLE)
"""MAX_WHOLE as the float bounds are compared with. float(10**300) rounds up, so comparing a
bound with the integer would refuse the literal 10^300 that :func:`check_literal` accepts."""


def _size(bound: float) -> str:
    if math.isinf(bound):
        return "more than 10^308"
    return f"about 10^{math.floor(math.log10(bound))}"


def whole_bound(node: Expr, names: Mapping[str, float]) -> tuple[float, Expr | None]:
    """Bound the absolute value of a whole number ``node`` may compute.

    Args:
        node: A type-checked expression.
        names: The bound of each name that is not a fact (metrics, ``tier_level``); a fact's
            bound is :data:`WHOLE_FACT`.

    Returns:
        The bound (0 when the value is never a whole number: a fraction, a date, a string, a
        truth value), and the first node (innermost, leftmost) whose bound passes
        :data:`MAX_WHOLE`, or None.

    >>> from tierflow.expr import NUMBER, Scope, check, parse, unparse
    >>> def checked(text):
    ...     tree = parse(text)
    ...     assert not check(tree, Scope({"x": NUMBER, "m": NUMBER}))
    ...     return tree
    >>> whole_bound(checked("x * 3 + 1"), {})[0] == 3 * 2.0**53 + 1
    True
    >>> whole_bound(checked("x / 3"), {})
    (0.0, None)
    >>> bound, at = whole_bound(checked("m * m * 2 + 1"), {"m": 1e200})
    >>> bound, unparse(at)
    (inf, 'm * m')
    """
    worst: list[Expr] = []

    def go(n: Expr) -> float:
        bound = _bound(n)
        if bound > _LIMIT and not worst:
            worst.append(n)
        return bound

    def _bound(n: Expr) -> float:
        if n.type.kind not in ("number", "any"):
            for child in _children(n):
                go(child)
            return 0.0
        if isinstance(n, Const):
            v = n.value
            if isinstance(v, int) and not isinstance(v, bool):
                return float(abs(v)) if v.bit_length() < 1000 else math.inf
            return 0.0
        if isinstance(n, Name):
            return names.get(n.name, float(WHOLE_FACT)) if n.type.kind == "number" else 0.0
        if isinstance(n, Neg):
            return go(n.operand)
        if isinstance(n, Arith):
            left, right = go(n.left), go(n.right)
            if n.left.type.kind == "date":
                return float(DATE_SPAN_DAYS)
            if n.op == "/":
                return 0.0
            if n.op == "*":
                return left * right if left and right else 0.0
            return left + right
        if isinstance(n, Call):
            args = [go(a) for a in n.args]
            return _call_bound(n, args)
        return 0.0

    bound = go(node)
    return bound, (worst[0] if worst else None)


def _call_bound(n: Call, args: list[float]) -> float:
    """The bound of a call's result from its arguments' bounds (by name: the built-ins)."""
    if n.func in ("min", "max"):
        return max(args)
    if n.func == "abs":
        return args[0]
    if n.func == "round":
        return 2 * args[0]  # a half rounds up to at most twice the value, or to 0
    if n.func == "ratio":
        return 0.0
    if n.func == "days_between":
        return float(DATE_SPAN_DAYS)
    return float(WHOLE_FACT)  # counts and host functions: an input, like a fact


def _children(n: Expr) -> list[Expr]:
    if isinstance(n, ListExpr):
        return n.items
    if isinstance(n, (Neg, Not)):
        return [n.operand]
    if isinstance(n, Arith):
        return [n.left, n.right]
    if isinstance(n, Compare):
        return n.operands
    if isinstance(n, BoolOp):
        return n.values
    if isinstance(n, Call):
        return n.args
    return []


def too_large_message(bound: float) -> str:
    """Say that a computation can pass :data:`MAX_WHOLE` (its bound is ``bound``).

    >>> too_large_message(1e400).split(";")[0]
    'this can compute a whole number of more than 10^308 (with whole-number facts up to 2^53)'
    """
    return (
        f"this can compute a whole number of {_size(bound)} (with whole-number facts up to "
        f"2^53); a rule set computes whole numbers up to 10^300"
    )
