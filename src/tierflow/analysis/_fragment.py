"""Exact reasoning over the comparison fragment of the condition language.

A condition in the fragment is a boolean combination (``and``, ``or``, ``not``) of atoms:
a numeric *term* compared with a number (``absence_rate >= 0.05``, ``days_unexcused +
tardies_over_30 >= 3``), membership of a constant in a list fact (``'foster' in groups``), a
boolean fact, or the matched tier (``tier in ['tier2', 'tier3']``). Metrics are inlined first,
so ``truancies >= not1_from`` becomes ``days_unexcused + tardies_over_30 >= 3``.

Each distinct term is a variable. The truth of every atom changes only at the constants it is
compared with, so evaluating the conditions at every combination of *critical values* (each
constant, a little below and a little above it, and values beyond all of them) visits every
region of the space: "no point satisfies this" over that grid is a proof over real numbers
(terms are treated as independent, so it holds a fortiori for real students). A point that
does satisfy it is a candidate witness, which :mod:`tierflow.analysis` turns into concrete
student facts and checks with the compiled rule set.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tierflow.errors import TierflowError
from tierflow.expr import BoolOp, Call, Compare, Const, Expr, ListExpr, Name, Neg, Not, unparse

__all__ = ["Fragment", "OutsideFragment", "Variable", "inline"]


class OutsideFragment(TierflowError):
    """The condition uses something the exact reasoning does not cover (a window function...)."""


@dataclass
class Variable:
    """A term of the fragment: a number with critical values, or a truth value."""

    key: str
    term: Expr | None
    kind: str  # "number", "bool", "member", "tier"
    constants: set[float] = field(default_factory=set)

    def candidates(self) -> list[Any]:
        """Values that visit every region the atoms on this variable distinguish."""
        if self.kind in ("bool", "member"):
            return [False, True]
        if self.kind == "tier":
            return [None]  # computed from the tier conditions, not enumerated
        points: set[float] = {0.0}
        for c in self.constants:
            eps = 1e-6 * max(1.0, abs(c))
            points |= {c - eps, c, c + eps}
        if self.constants:
            points |= {min(self.constants) - 1.0, max(self.constants) + 1.0}
        # Non-negative values first: the first point found is then a plausible student.
        return sorted(points, key=lambda v: (v < 0, v))


def inline(node: Expr, metrics: Mapping[str, Expr]) -> Expr:
    """Replace metric names by their (recursively inlined) definitions."""
    if isinstance(node, Name) and node.name in metrics:
        return inline(metrics[node.name], metrics)
    if isinstance(node, BoolOp):
        out: Expr = BoolOp(node.pos, node.op, [inline(v, metrics) for v in node.values])
    elif isinstance(node, Not):
        out = Not(node.pos, inline(node.operand, metrics))
    elif isinstance(node, Neg):
        out = Neg(node.pos, inline(node.operand, metrics))
    elif isinstance(node, Compare):
        out = Compare(node.pos, list(node.ops), [inline(o, metrics) for o in node.operands])
    elif isinstance(node, Call):
        out = Call(node.pos, node.func, [inline(a, metrics) for a in node.args])
    elif hasattr(node, "left") and hasattr(node, "right"):
        out = type(node)(node.pos, node.op, inline(node.left, metrics), inline(node.right, metrics))  # type: ignore[attr-defined,call-arg]
    else:
        return node
    out.type = node.type
    return out


def _numeric_const(node: Expr) -> float | None:
    if (
        isinstance(node, Const)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        return float(node.value)
    return None


class Fragment:
    """The variables of a set of conditions, and their evaluation at grid points."""

    def __init__(self) -> None:
        self.variables: dict[str, Variable] = {}

    def _term(self, node: Expr, kind: str) -> Variable:
        # A call (a window or history function included) is a number like any other term:
        # the reasoning treats it as a free variable, which is exact for the comparisons
        # made with it; only turning a point into concrete facts may then be out of reach.
        key = unparse(node)
        var = self.variables.get(key)
        if var is None:
            var = self.variables[key] = Variable(key, node, kind)
        return var

    def add(self, node: Expr) -> None:
        """Register the atoms of a condition (raise :class:`OutsideFragment` if unsupported)."""
        if isinstance(node, BoolOp):
            for v in node.values:
                self.add(v)
        elif isinstance(node, Not):
            self.add(node.operand)
        elif isinstance(node, Const) and isinstance(node.value, bool):
            return
        elif isinstance(node, Name) and node.type.kind == "bool":
            self._term(node, "bool")
        elif isinstance(node, Compare):
            for op, left, right in zip(node.ops, node.operands, node.operands[1:], strict=False):
                self._atom(op, left, right)
        else:
            raise OutsideFragment(f"{unparse(node)} is not a comparison")

    def _atom(self, op: str, left: Expr, right: Expr) -> None:
        if op in ("in", "not in"):
            if isinstance(left, Name) and left.name == "tier":
                self.variables.setdefault("tier", Variable("tier", None, "tier"))
                return
            if isinstance(left, Const) and isinstance(right, Name):
                self._term(Compare(0, ["in"], [left, right]), "member")
                return
            raise OutsideFragment(f"membership {unparse(left)} in {unparse(right)}")
        if isinstance(left, Name) and left.name == "tier":
            self.variables.setdefault("tier", Variable("tier", None, "tier"))
            return
        c_right, c_left = _numeric_const(right), _numeric_const(left)
        if c_right is not None and c_left is None and left.type.kind == "number":
            self._term(left, "number").constants.add(c_right)
        elif c_left is not None and c_right is None and right.type.kind == "number":
            self._term(right, "number").constants.add(c_left)
        elif c_left is not None and c_right is not None:
            return
        else:
            raise OutsideFragment(f"{unparse(left)} {op} {unparse(right)} compares two terms")

    def points(self, limit: int = 250_000) -> Iterator[dict[str, Any]]:
        """Every combination of critical values (raise OutsideFragment above ``limit``)."""
        names = [k for k, v in self.variables.items() if v.kind != "tier"]
        values = [self.variables[k].candidates() for k in names]
        size = 1
        for v in values:
            size *= len(v)
        if size > limit:
            raise OutsideFragment(f"{size:,} combinations of critical values (limit {limit:,})")
        for combo in itertools.product(*values):
            yield dict(zip(names, combo, strict=True))

    def holds(self, node: Expr, point: Mapping[str, Any]) -> bool:
        """Evaluate a registered condition at a point (``point['tier']`` is the tier id)."""
        return bool(self._eval(node, point))

    def _eval(self, node: Expr, point: Mapping[str, Any]) -> Any:
        if isinstance(node, BoolOp):
            if node.op == "and":
                return all(self._eval(v, point) for v in node.values)
            return any(self._eval(v, point) for v in node.values)
        if isinstance(node, Not):
            return not self._eval(node.operand, point)
        if isinstance(node, Const):
            return node.value
        if isinstance(node, ListExpr):
            return [self._eval(i, point) for i in node.items]
        if isinstance(node, Name) and node.name == "tier":
            return point["tier"]
        if isinstance(node, Compare):
            result = True
            for op, left, right in zip(node.ops, node.operands, node.operands[1:], strict=False):
                result = result and self._atom_value(op, left, right, point)
            return result
        return point[unparse(node)]

    def _atom_value(self, op: str, left: Expr, right: Expr, point: Mapping[str, Any]) -> bool:
        if op in ("in", "not in"):
            if isinstance(left, Name) and left.name == "tier":
                inside = point["tier"] in self._eval(right, point)
            else:
                inside = point[unparse(Compare(0, ["in"], [left, right]))]
            return bool(inside) if op == "in" else not inside
        if isinstance(left, Name) and left.name == "tier":
            a, b = point["tier"], self._eval(right, point)
        else:
            a = point[unparse(left)] if _numeric_const(left) is None else _numeric_const(left)
            b = point[unparse(right)] if _numeric_const(right) is None else _numeric_const(right)
        return bool(
            {
                "<": lambda: a < b,
                "<=": lambda: a <= b,
                ">": lambda: a > b,
                ">=": lambda: a >= b,
                "==": lambda: a == b,
                "!=": lambda: a != b,
            }[op]()
        )
