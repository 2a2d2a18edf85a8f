"""Translate a checked expression tree into Python source text.

User text never reaches ``compile``: the generator emits only operators, parentheses, names it
chose itself (facts become locals ``f_<name>``) and references to constants it stores aside
(``_k0``, ``_k1``...). Strings and numbers from the rule set travel as constants, not as code.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from tierflow.expr._ast import Arith, BoolOp, Call, Compare, Const, Expr, ListExpr, Name, Neg, Not
from tierflow.expr._functions import FunctionRegistry, _ratio

__all__ = ["Constants", "to_python"]


class Constants:
    """Constants shared by the generated code of one rule set, by value."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._index: dict[tuple[type, Any], str] = {}

    def add(self, value: Any) -> str:
        """Return the global name bound to ``value``, adding it if new."""
        try:
            key = (type(value), value)
            hash(key)
        except TypeError:
            key = (type(value), id(value))
        name = self._index.get(key)
        if name is None:
            name = self._index[key] = f"_k{len(self.values)}"
            self.values[name] = value
        return name


def _list_equality(left: Expr, op: str, right: Expr) -> bool:
    """Whether a comparison is ``==`` or ``!=`` of lists (which ignores order)."""
    return op in ("==", "!=") and "list" in (left.type.kind, right.type.kind)


def to_python(
    node: Expr, names: Mapping[str, str], consts: Constants, functions: FunctionRegistry
) -> str:
    """Return a Python expression computing ``node``.

    Args:
        node: A checked (and ideally folded) expression.
        names: Python identifier for each name in scope.
        consts: Where literal values are stored.
        functions: The registry the calls resolve against; function ``f`` is ``_fn_f`` in the
            generated module, and context functions take ``_ctx`` first.
    """

    def member_set(n: Expr) -> str:
        """A literal list searched by ``in``: a frozenset (a hash lookup), else as usual.

        Only there: a set drops duplicates and order, which ``len`` and ``==`` would see.
        """
        if isinstance(n, ListExpr) and all(
            isinstance(i, Const) and isinstance(i.value, (str, int, float, dt.date))
            for i in n.items
        ):
            return consts.add(frozenset(i.value for i in n.items if isinstance(i, Const)))
        return go(n)

    def compare(left: Expr, op: str, right: Expr) -> str:
        """One comparison of a chain, on its own."""
        if _list_equality(left, op, right):
            same = f"_same_items({go(left)}, {go(right)})"
            return same if op == "==" else f"(not {same})"
        return f"({go(left)} {op} {member_set(right) if op.endswith('in') else go(right)})"

    def go(n: Expr) -> str:
        if isinstance(n, Const):
            v = n.value
            if isinstance(v, bool):
                return "True" if v else "False"
            if isinstance(v, int) or (isinstance(v, float) and math.isfinite(v)):
                return repr(v)
            return consts.add(v)  # strings, dates, lists; and inf and nan, which have no literal
        if isinstance(n, Name):
            return names[n.name]
        if isinstance(n, ListExpr):
            if all(isinstance(i, Const) for i in n.items):
                return consts.add(tuple(i.value for i in n.items if isinstance(i, Const)))
            return "(" + "".join(go(i) + ", " for i in n.items) + ")"
        if isinstance(n, Neg):
            return f"(-{go(n.operand)})"
        if isinstance(n, Not):
            return f"(not {go(n.operand)})"
        if isinstance(n, Arith):
            left, right = go(n.left), go(n.right)
            if n.left.type.kind == "date":
                if n.right.type.kind == "duration":
                    helper = "_add_duration" if n.op == "+" else "_subtract_duration"
                    return f"{helper}({left}, {right})"
                return f"({left} - {right}).days"
            return f"({left} {n.op} {right})"
        if isinstance(n, BoolOp):
            return "(" + f" {n.op} ".join(go(v) for v in n.values) + ")"
        if isinstance(n, Compare):
            pairs = list(zip(n.operands[:-1], n.ops, n.operands[1:], strict=True))
            if any(_list_equality(*pair) for pair in pairs):
                # List equality ignores order (``_same_items``): no Python chain for it.
                return "(" + " and ".join(compare(*pair) for pair in pairs) + ")"
            parts = [go(n.operands[0])]
            for op, operand in zip(n.ops, n.operands[1:], strict=True):
                parts.append(f"{op} {member_set(operand) if op.endswith('in') else go(operand)}")
            return "(" + " ".join(parts) + ")"
        if isinstance(n, Call):
            fn = functions.get(n.func)
            if fn is None:  # pragma: no cover - the checker rejects unknown functions
                raise KeyError(n.func)
            args = [go(a) for a in n.args]
            if fn.impl is _ratio and all(isinstance(a, (Name, Const)) for a in n.args):
                # Inlined: the commonest call (every rate) without a Python call's cost.
                return f"({args[0]} / {args[1]} if {args[1]} else 0.0)"
            if fn.context:
                args.insert(0, "_ctx")
            return f"_fn_{n.func}({', '.join(args)})"
        raise TypeError(f"unknown node {n!r}")  # pragma: no cover - exhaustive above

    return go(node)
