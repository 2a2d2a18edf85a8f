"""Static checking of expressions: names, types, arity and closed vocabularies.

The checker annotates every node with its type and returns all problems it finds (it does not
stop at the first), each with a 0-based offset and a dotted code:

- ``expr.unknown_name`` / ``expr.unknown_function``: with a "did you mean" hint;
- ``expr.type_mismatch``: e.g. a number compared with a string;
- ``expr.arity``: a function called with the wrong number of arguments;
- ``expr.unknown_value``: a string literal outside a closed vocabulary (``tier == 'teir2'``);
- ``expr.not_boolean``: a condition that is not true/false;
- ``expr.out_of_range``: a computation that can make a whole number beyond the bounds of
  :mod:`tierflow.expr._bounds` (checked once the types are right).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from tierflow.errors import suggest
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
from tierflow.expr._bounds import too_large_message, whole_bound
from tierflow.expr._functions import PURE_FUNCTIONS, Function, FunctionRegistry
from tierflow.expr._interp import unparse
from tierflow.expr._types import ANY, BOOL, DATE, DURATION, NUMBER, STRING, Duration, Type, list_of

__all__ = ["ExprProblem", "Scope", "check"]


@dataclass
class Scope:
    """What an expression may name.

    Attributes:
        names: Every name in scope and its type.
        functions: The callable functions (default: the pure functions only).
        vocabularies: Closed vocabularies by name (``legal_step``, ``tier``), used to check
            string arguments of functions whose parameter names a vocabulary.
        bounds: The largest whole number each name that is not a fact may hold (metrics,
            ``tier_level``); facts are assumed up to :data:`~tierflow.expr._bounds.WHOLE_FACT`.
    """

    names: Mapping[str, Type]
    functions: FunctionRegistry = field(default_factory=lambda: PURE_FUNCTIONS)
    vocabularies: Mapping[str, frozenset[str]] = field(default_factory=dict)
    bounds: Mapping[str, float] = field(default_factory=dict)


def _const_type(value: object) -> Type:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, Duration):
        return DURATION
    return ANY


def _a(t: object) -> str:
    """``t`` with its indefinite article: ``a number``, ``an attendance kind (string)``."""
    text = str(t)
    return f"{'an' if text[:1] in ('a', 'e', 'i', 'o', 'u') else 'a'} {text}"


class _Checker:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.problems: list[ExprProblem] = []

    def report(self, pos: int, code: str, message: str, hint: str = "") -> Type:
        self.problems.append(ExprProblem(pos, code, message, hint))
        return ANY

    def visit(self, node: Expr) -> Type:
        node.type = self._visit(node)
        return node.type

    def _visit(self, node: Expr) -> Type:
        if isinstance(node, Const):
            return _const_type(node.value)
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, ListExpr):
            return self.list_expr(node)
        if isinstance(node, Neg):
            t = self.visit(node.operand)
            if not NUMBER.accepts(t):
                return self.report(node.pos, "expr.type_mismatch", f"cannot negate {_a(t)}")
            return NUMBER
        if isinstance(node, Not):
            t = self.visit(node.operand)
            if not BOOL.accepts(t):
                return self.report(
                    node.pos, "expr.type_mismatch", f"'not' needs true/false, got {_a(t)}"
                )
            return BOOL
        if isinstance(node, Arith):
            return self.arith(node)
        if isinstance(node, BoolOp):
            for value in node.values:
                t = self.visit(value)
                if not BOOL.accepts(t):
                    self.report(
                        value.pos,
                        "expr.type_mismatch",
                        f"'{node.op}' needs true/false on each side, got {_a(t)}",
                        "compare it with something, e.g. '>= 3'" if t == NUMBER else "",
                    )
            return BOOL
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(f"unknown node {node!r}")  # pragma: no cover - exhaustive above

    def name(self, node: Name) -> Type:
        t = self.scope.names.get(node.name)
        if t is None:
            if node.name in self.scope.functions:
                return self.report(
                    node.pos,
                    "expr.unknown_name",
                    f"{node.name!r} is a function",
                    f"call it: {self.scope.functions.functions[node.name].signature}",
                )
            return self.report(
                node.pos,
                "expr.unknown_name",
                f"{node.name!r} is not defined",
                suggest(node.name, self.scope.names),
            )
        return t

    def list_expr(self, node: ListExpr) -> Type:
        elem: Type | None = None
        for item in node.items:
            t = self.visit(item)
            if elem is None or elem.kind == "any":
                elem = t
            elif not elem.accepts(t):
                self.report(item.pos, "expr.type_mismatch", f"a list mixes {elem} and {t} items")
        return list_of(elem or ANY)

    def arith(self, node: Arith) -> Type:
        lt, rt = self.visit(node.left), self.visit(node.right)
        if ANY in (lt, rt) and (lt.kind == "any" or rt.kind == "any"):
            return ANY
        if lt.kind == "number" and rt.kind == "number":
            return NUMBER
        if node.op in "+-" and lt.kind == "date" and rt.kind == "duration":
            return DATE
        if node.op == "-" and lt.kind == "date" and rt.kind == "date":
            return NUMBER
        verb = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[node.op]
        return self.report(
            node.right.pos,
            "expr.type_mismatch",
            f"cannot {verb} {_a(lt)} and {_a(rt)} ('{node.op}')",
            "dates take durations such as 28d or 6mo" if DATE in (lt, rt) else "",
        )

    def check_value(self, expected: Type, node: Expr) -> None:
        """Report a string literal outside ``expected``'s closed vocabulary."""
        if expected.values is None or not isinstance(node, Const):
            return
        if isinstance(node.value, str) and node.value not in expected.values:
            self.report(
                node.pos,
                "expr.unknown_value",
                f"{node.value!r} is not a known {expected.vocabulary}",
                suggest(node.value, sorted(expected.values))
                or (
                    f"known: {', '.join(sorted(expected.values))}"
                    if expected.values
                    else f"there is no {expected.vocabulary.replace('_', ' ')} at all: "
                    f"declare one with the id {node.value!r} first, or remove this condition"
                ),
            )

    def check_members(self, container: Type, node: Expr) -> None:
        elem = container.elem
        if elem is None:
            return
        self.check_value(elem, node)

    def compare(self, node: Compare) -> Type:
        types = [self.visit(o) for o in node.operands]
        for i, op in enumerate(node.ops):
            left, right = node.operands[i], node.operands[i + 1]
            lt, rt = types[i], types[i + 1]
            if lt.kind == "any" or rt.kind == "any":
                continue
            if op in ("in", "not in"):
                if rt.kind != "list":
                    self.report(
                        right.pos,
                        "expr.type_mismatch",
                        f"'{op}' needs a list on its right, got {_a(rt)}",
                    )
                    continue
                if rt.elem is not None and not rt.elem.accepts(lt):
                    self.report(
                        left.pos,
                        "expr.type_mismatch",
                        f"cannot look for {_a(lt)} in {_a(rt)}",
                    )
                    continue
                self.check_members(rt, left)
                if lt.values is not None and isinstance(right, ListExpr):
                    for item in right.items:
                        self.check_value(lt, item)
                continue
            if lt.kind != rt.kind:
                self.report(
                    right.pos,
                    "expr.type_mismatch",
                    f"cannot compare {_a(lt)} with {_a(rt)} ('{op}')",
                    "quote strings and write numbers bare"
                    if "string" in (lt.kind, rt.kind)
                    else "",
                )
                continue
            if op not in ("==", "!=") and lt.kind not in ("number", "date"):
                hint = "compare tier_level instead" if lt.vocabulary == "tier" else ""
                self.report(
                    right.pos,
                    "expr.type_mismatch",
                    f"'{op}' orders numbers and dates, not {_a(lt)}",
                    hint,
                )
                continue
            self.check_value(lt, right)
            self.check_value(rt, left)
        return BOOL

    def call(self, node: Call) -> Type:
        fn = self.scope.functions.get(node.func)
        arg_types = [self.visit(a) for a in node.args]
        if fn is None:
            if node.func in self.scope.names:
                return self.report(
                    node.pos, "expr.unknown_function", f"{node.func!r} is not a function"
                )
            return self.report(
                node.pos,
                "expr.unknown_function",
                f"no function named {node.func!r}",
                suggest(node.func, [f.name for f in self.scope.functions]),
            )
        n, want = len(node.args), len(fn.params)
        if (fn.variadic and n < want) or (not fn.variadic and n != want):
            at_least = "at least " if fn.variadic else ""
            self.report(
                node.pos,
                "expr.arity",
                f"{node.func}() takes {at_least}{want} argument{'s' if want != 1 else ''}, got {n}",
                f"signature: {fn.signature}",
            )
            return fn.returns
        before = len(self.problems)
        for i, (arg, t) in enumerate(zip(node.args, arg_types, strict=True)):
            param = fn.params[min(i, want - 1)]
            if param.vocabulary and param.values is None:
                values = self.scope.vocabularies.get(param.vocabulary)
                if values is not None:
                    param = Type("string", values=values, vocabulary=param.vocabulary)
            if not param.accepts(t):
                self.report(
                    arg.pos,
                    "expr.type_mismatch",
                    f"argument {i + 1} of {node.func}() must be {_a(param)}, got {_a(t)}",
                    f"signature: {fn.signature}",
                )
            else:
                self.check_value(param, arg)
        if len(self.problems) == before:
            self.check_constant_call(fn, node)
        return fn.returns

    def check_constant_call(self, fn: Function, node: Call) -> None:
        """Report a call of literals that can never succeed (``date('2025-13-01')``).

        Such a call would fail the same way for every student at evaluation; constant folding
        calls it at load time anyway, so its failure is a load problem.
        """
        if fn.context or not all(isinstance(a, Const) for a in node.args):
            return
        values = [a.value for a in node.args if isinstance(a, Const)]
        try:
            fn.impl(*values)
        except (ValueError, ArithmeticError) as exc:
            where = node.args[0].pos if len(node.args) == 1 else node.pos
            shown = ", ".join(unparse(a) for a in node.args)
            self.report(
                where,
                "expr.invalid_argument",
                f"{node.func}({shown}) fails for every student: {exc}",
                f"signature: {fn.signature} ({fn.doc.rstrip('.')})",
            )


def check(node: Expr, scope: Scope, expected: Type | None = None) -> list[ExprProblem]:
    """Type-check ``node`` in ``scope``, annotating types; return every problem found.

    Args:
        node: The parsed expression.
        scope: Names, functions and vocabularies in scope.
        expected: The type the context requires (``BOOL`` for conditions), if any.
    """
    checker = _Checker(scope)
    t = checker.visit(node)
    if expected is not None and not checker.problems and not expected.accepts(t):
        if expected == BOOL:
            checker.report(
                node.pos,
                "expr.not_boolean",
                f"a condition must be true or false, but this is {_a(t)}",
                "compare it with something, e.g. 'days_absent >= 3'" if t == NUMBER else "",
            )
        else:
            checker.report(node.pos, "expr.type_mismatch", f"expected {_a(expected)}, got {_a(t)}")
    if not checker.problems:
        _, at = whole_bound(node, scope.bounds)
        if at is not None:
            checker.report(
                at.pos,
                "expr.out_of_range",
                too_large_message(whole_bound(at, scope.bounds)[0]),
                "a rate is ratio(a, b); a product of many facts or metrics grows without limit",
            )
    return checker.problems
