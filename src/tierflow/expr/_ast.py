"""Syntax tree of the condition language.

Every node records ``pos``, the 0-based offset of its first character in the expression text,
so problems can be reported at the right column of the YAML file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tierflow.expr._types import ANY, Type

__all__ = [
    "Arith",
    "BoolOp",
    "Call",
    "Compare",
    "Const",
    "Expr",
    "ExprProblem",
    "ListExpr",
    "Name",
    "Neg",
    "Not",
    "walk",
]


@dataclass(frozen=True)
class ExprProblem:
    """A problem inside one expression, at a 0-based offset of its text."""

    pos: int
    code: str
    message: str
    hint: str = ""


@dataclass(eq=False)
class Expr:
    """Base class of expression nodes; ``type`` is filled in by the type checker."""

    pos: int
    type: Type = field(default=ANY, init=False)


@dataclass(eq=False)
class Const(Expr):
    """A literal: number, string, boolean, date or duration."""

    value: Any


@dataclass(eq=False)
class Name(Expr):
    """A fact, a derived metric or a context name such as ``as_of``."""

    name: str


@dataclass(eq=False)
class ListExpr(Expr):
    """A list display ``[a, b, c]``."""

    items: list[Expr]


@dataclass(eq=False)
class Neg(Expr):
    """Arithmetic negation ``-x``."""

    operand: Expr


@dataclass(eq=False)
class Not(Expr):
    """Boolean negation ``not x``."""

    operand: Expr


@dataclass(eq=False)
class Arith(Expr):
    """A binary arithmetic operation: ``+ - * /``."""

    op: str
    left: Expr
    right: Expr


@dataclass(eq=False)
class Compare(Expr):
    """A comparison chain ``a < b <= c``; ``ops`` holds ``== != < <= > >= in not in``."""

    ops: list[str]
    operands: list[Expr]


@dataclass(eq=False)
class BoolOp(Expr):
    """``and`` / ``or`` over two or more operands, short-circuiting."""

    op: str
    values: list[Expr]


@dataclass(eq=False)
class Call(Expr):
    """A call of a registered function: ``max(a, b)``."""

    func: str
    args: list[Expr]


def walk(node: Expr) -> list[Expr]:
    """Return ``node`` and all its descendants, parents first."""
    out: list[Expr] = [node]
    children: list[Expr]
    if isinstance(node, ListExpr):
        children = node.items
    elif isinstance(node, (Neg, Not)):
        children = [node.operand]
    elif isinstance(node, Arith):
        children = [node.left, node.right]
    elif isinstance(node, Compare):
        children = node.operands
    elif isinstance(node, BoolOp):
        children = node.values
    elif isinstance(node, Call):
        children = node.args
    else:
        children = []
    for child in children:
        out.extend(walk(child))
    return out
