"""The slow reference interpreter, the unparser and constant folding.

The interpreter walks the tree node by node. It is the specification the generated code must
agree with (a property test checks that), and it powers explanations: given a trace list it
records every comparison it evaluated with the values it saw. An operation that fails for the
values it met (a division by zero, a date moved off the calendar, a number too large for a
fraction, a function refusing its argument) raises :class:`ExprEvalError` naming the node.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tierflow.errors import DataError
from tierflow.expr._ast import (
    Arith,
    BoolOp,
    Call,
    Compare,
    Const,
    Expr,
    ExprProblem,
    ListExpr,
    Name,
    Neg,
    Not,
)
from tierflow.expr._functions import (
    PURE_FUNCTIONS,
    EvalContext,
    FunctionRegistry,
    add_duration,
    same_items,
    subtract_duration,
)
from tierflow.expr._types import Duration

__all__ = ["ExprEvalError", "TraceEntry", "fold", "format_value", "interpret", "unparse"]


class ExprEvalError(DataError):
    """An operation of an expression failed for the values it met.

    The code is ``expr.division_by_zero``, ``expr.out_of_range`` (a number or a date beyond
    what Python holds) or ``expr.invalid_argument`` (a function refused its argument). A
    compiled rule set turns it into a :class:`~tierflow.DataError` naming the student and where
    the expression is written; the Python exception it stands for is its ``__cause__``.

    Attributes:
        node: The operation that failed.
    """

    def __init__(self, code: str, message: str, node: Expr) -> None:
        super().__init__(code, message)
        self.node = node


def _failure(node: Arith | Call, exc: Exception) -> ExprEvalError:
    """The :class:`ExprEvalError` for ``exc``, raised by evaluating ``node``."""
    text = unparse(node)
    if isinstance(exc, ZeroDivisionError):
        return ExprEvalError(
            "expr.division_by_zero",
            f"{text} divides by zero (use ratio(a, b) for rates)",
            node,
        )
    if isinstance(exc, ArithmeticError) or isinstance(node, Arith):
        return ExprEvalError("expr.out_of_range", f"{text} is out of range: {exc}", node)
    return ExprEvalError("expr.invalid_argument", f"{text} failed: {exc}", node)


@dataclass(frozen=True)
class TraceEntry:
    """One comparison the interpreter evaluated: its operands' values and its result."""

    node: Compare
    values: tuple[Any, ...]
    result: bool


_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}


_LISTS = (list, tuple, set, frozenset)


def _compare(op: str, a: Any, b: Any) -> bool:
    if op in ("==", "!=") and isinstance(a, _LISTS) and isinstance(b, _LISTS):
        return same_items(a, b) == (op == "==")
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    if op == ">=":
        return bool(a >= b)
    if op == "in":
        return a in b
    return a not in b


def _arith(op: str, a: Any, b: Any) -> Any:
    if isinstance(a, dt.date):
        if isinstance(b, Duration):
            return add_duration(a, b) if op == "+" else subtract_duration(a, b)
        return (a - b).days
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b


def interpret(
    node: Expr,
    env: Mapping[str, Any],
    ctx: EvalContext | None = None,
    functions: FunctionRegistry = PURE_FUNCTIONS,
    trace: list[TraceEntry] | None = None,
) -> Any:
    """Evaluate ``node`` by walking the tree.

    Args:
        node: A type-checked expression.
        env: Values of the names in scope.
        ctx: The evaluation context, for context functions.
        functions: Where calls are looked up (default: the pure functions only; pass
            :data:`tierflow.facts.DEFAULT_FUNCTIONS` for the window and history functions).
        trace: If given, every evaluated comparison is appended to it.

    Raises:
        ExprEvalError: An operation failed for these values.

    >>> from tierflow.expr._parser import parse
    >>> interpret(parse("a * 2 >= 6 and not b"), {"a": 3, "b": False})
    True
    >>> try:
    ...     interpret(parse("a / (b - 3)"), {"a": 1, "b": 3})
    ... except ExprEvalError as exc:
    ...     print(exc.code, unparse(exc.node), type(exc.__cause__).__name__)
    expr.division_by_zero a / (b - 3) ZeroDivisionError
    """

    def ev(n: Expr) -> Any:
        if isinstance(n, Const):
            return n.value
        if isinstance(n, Name):
            return env[n.name]
        if isinstance(n, ListExpr):
            return tuple(ev(i) for i in n.items)
        if isinstance(n, Neg):
            return -ev(n.operand)
        if isinstance(n, Not):
            return not ev(n.operand)
        if isinstance(n, Arith):
            left, right = ev(n.left), ev(n.right)
            try:
                return _arith(n.op, left, right)
            except (ArithmeticError, ValueError) as exc:
                raise _failure(n, exc) from exc
        if isinstance(n, BoolOp):
            if n.op == "and":
                return all(ev(v) for v in n.values)
            return any(ev(v) for v in n.values)
        if isinstance(n, Compare):
            left = ev(n.operands[0])
            seen = [left]
            result = True
            for op, right_node in zip(n.ops, n.operands[1:], strict=True):
                right = ev(right_node)
                seen.append(right)
                if not _compare(op, left, right):
                    result = False
                    break
                left = right
            if trace is not None:
                trace.append(TraceEntry(n, tuple(seen), result))
            return result
        if isinstance(n, Call):
            fn = functions.get(n.func)
            if fn is None:
                raise KeyError(n.func)
            args = [ev(a) for a in n.args]
            if fn.context:
                if ctx is None:
                    raise ValueError(f"{n.func}() needs an evaluation context")
                args.insert(0, ctx)
            try:
                return fn.impl(*args)
            except DataError:
                raise  # a fact the function reads is malformed: already names it
            except (ArithmeticError, ValueError, TypeError) as exc:
                raise _failure(n, exc) from exc
        raise TypeError(f"unknown node {n!r}")  # pragma: no cover - exhaustive above

    return ev(node)


_EXACT_BITS = 3_000
"""Whole numbers up to 2^3000 (903 digits) are shown in full; larger ones in e-notation."""


def format_value(value: Any, digits: int = 4) -> str:
    """Render a value the way a rule would write it.

    A number shows at most ``digits`` significant digits, rounded half up on the decimal number
    as written (9.9995 shows as 10, as a person rounds it; Python's formatting rounds the binary
    value, a little below, and shows 9.999). Only the text is rounded: conditions compare exact
    values.

    >>> format_value(0.0933333), format_value(3.0), format_value("foster"), format_value(True)
    ('0.09333', '3', "'foster'", 'true')
    >>> format_value(9.9995), format_value(0.00012345), format_value(0.0999996, digits=7)
    ('10', '0.0001235', '0.0999996')
    >>> format_value(12345), format_value(7 * 10**5000)
    ('12345', '7.000e+5000')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        if math.isfinite(value):
            exact = Decimal(repr(value))
            place = exact.adjusted() - digits + 1
            exponent = exact.as_tuple().exponent  # an int for a finite number
            if isinstance(exponent, int) and exponent < place:  # more digits: round half up
                value = float(exact.quantize(Decimal(1).scaleb(place), rounding=ROUND_HALF_UP))
        return f"{value:.{digits}g}"
    if isinstance(value, int) and value.bit_length() > _EXACT_BITS:
        # str() refuses more than 4,300 digits (and would print them all): the leading ones
        return f"{Decimal(value):.{digits - 1}e}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dt.date):
        return f"date({value.isoformat()!r})"
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return "[" + ", ".join(format_value(v, digits) for v in items) + "]"
    return str(value)


_ESCAPED = {"\\": "\\\\", "\n": "\\n", "\t": "\\t"}


def _quote(text: str) -> str:
    # Not repr(): it writes escapes (\r, \x00, \u200b) the parser does not know.
    quote = '"' if "'" in text and '"' not in text else "'"
    body = "".join(_ESCAPED.get(ch, "\\" + ch if ch == quote else ch) for ch in text)
    return quote + body + quote


def _const_text(value: Any) -> str:
    """Render a literal as text the parser reads back to the same value."""
    if isinstance(value, float):
        if math.isnan(value):
            return "(1e999 - 1e999)"  # the language has no NaN literal; this folds back to one
        if math.isinf(value):
            return "1e999" if value > 0 else "-1e999"
        return repr(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_const_text(v) for v in value) + "]"
    return format_value(value)


def unparse(node: Expr, parent: int = 0) -> str:
    """Render a tree back into canonical expression text.

    >>> from tierflow.expr._parser import parse
    >>> unparse(parse("(a+b)*2 >= 10%   and not(c)"))
    '(a + b) * 2 >= 0.1 and not c'
    """
    if isinstance(node, Const):
        return _const_text(node.value)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, ListExpr):
        return "[" + ", ".join(unparse(i) for i in node.items) + "]"
    if isinstance(node, Call):
        return f"{node.func}(" + ", ".join(unparse(a) for a in node.args) + ")"
    if isinstance(node, Neg):
        text, prec = "-" + unparse(node.operand, _PRECEDENCE["neg"]), _PRECEDENCE["neg"]
    elif isinstance(node, Not):
        text, prec = "not " + unparse(node.operand, _PRECEDENCE["not"]), _PRECEDENCE["not"]
    elif isinstance(node, Arith):
        prec = _PRECEDENCE[node.op]
        right_prec = prec + 1  # left-associative: a - (b - c) keeps its parentheses
        text = f"{unparse(node.left, prec)} {node.op} {unparse(node.right, right_prec)}"
    elif isinstance(node, BoolOp):
        prec = _PRECEDENCE[node.op]
        text = f" {node.op} ".join(unparse(v, prec + 1) for v in node.values)
    elif isinstance(node, Compare):
        prec = _PRECEDENCE["cmp"]
        parts = [unparse(node.operands[0], prec + 1)]
        for op, operand in zip(node.ops, node.operands[1:], strict=True):
            parts.append(f"{op} {unparse(operand, prec + 1)}")
        text = " ".join(parts)
    else:  # pragma: no cover - exhaustive above
        raise TypeError(f"unknown node {node!r}")
    return f"({text})" if prec < parent else text


def fold(
    node: Expr,
    functions: FunctionRegistry = PURE_FUNCTIONS,
    problems: list[ExprProblem] | None = None,
) -> Expr:
    """Replace every sub-tree made only of literals and pure functions by its value.

    Call only on type-checked trees; types are kept. A sub-tree that would fail for every
    student is left as it is; if ``problems`` is given, it is reported there (the loader makes
    it a load problem): a division by a literal zero (``expr.division_by_zero``), a constant
    out of range such as ``date('9999-12-31') + 1d`` or a product of literals past the largest
    float (``expr.out_of_range``), a pure function refusing its constant arguments
    (``expr.invalid_argument``).

    >>> from tierflow.expr._parser import parse
    >>> fold(parse("days_absent >= 2 * 5%")).operands[1].value
    0.1
    >>> found = []
    >>> _ = fold(parse("x / (2 - 2)"), problems=found)
    >>> found[0].code, found[0].pos
    ('expr.division_by_zero', 5)
    """

    def is_const(n: Expr) -> bool:
        return isinstance(n, Const)

    def go(n: Expr) -> Expr:
        if isinstance(n, ListExpr):
            n.items = [go(i) for i in n.items]
            ready = all(is_const(i) for i in n.items)
        elif isinstance(n, (Neg, Not)):
            n.operand = go(n.operand)
            ready = is_const(n.operand)
        elif isinstance(n, Arith):
            n.left, n.right = go(n.left), go(n.right)
            zero = n.op == "/" and isinstance(n.right, Const) and n.right.value == 0
            if zero and problems is not None:
                problems.append(
                    ExprProblem(
                        n.right.pos,
                        "expr.division_by_zero",
                        f"{unparse(n)} divides by zero for every student",
                        "use ratio(a, b), which is 0 when b is 0",
                    )
                )
            ready = is_const(n.left) and is_const(n.right) and not zero
        elif isinstance(n, Compare):
            n.operands = [go(o) for o in n.operands]
            ready = False  # comparisons stay visible, so explanations can show them
        elif isinstance(n, BoolOp):
            n.values = [go(v) for v in n.values]
            ready = False
        elif isinstance(n, Call):
            n.args = [go(a) for a in n.args]
            fn = functions.get(n.func)
            ready = fn is not None and not fn.context and all(is_const(a) for a in n.args)
        else:
            ready = False
        if not ready:
            return n
        try:
            value = interpret(n, {}, None, functions)
        except ExprEvalError as exc:
            if problems is not None:
                problems.append(ExprProblem(n.pos, exc.code, f"{exc.reason}, for every student"))
            return n  # left for run time, where the error names the student
        except (ValueError, ArithmeticError):
            return n
        if isinstance(value, float) and not math.isfinite(value) and problems is not None:
            problems.append(
                ExprProblem(
                    n.pos,
                    "expr.out_of_range",
                    f"{unparse(n)} is out of range: it is larger than the largest number "
                    "(about 1.8e308)",
                )
            )
            return n
        folded = Const(n.pos, value)
        folded.type = n.type
        return folded

    return go(node)
