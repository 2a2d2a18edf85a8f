"""Expressions after checking: the tree, its text and where it was written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tierflow.expr import Expr, Name, unparse, walk
from tierflow.source import SourceSpan

__all__ = ["CheckedExpr"]


@dataclass(frozen=True)
class CheckedExpr:
    """A parsed, type-checked and folded expression.

    Attributes:
        tree: The folded syntax tree.
        text: What the author wrote (or, for conditions tierflow builds from shorthand keys such
            as ``tiers:`` and ``causes:``, the canonical rendering).
        span: Where the expression starts in its YAML file.
        path: The data path, e.g. ``tiers[1].when``.
        spans: Where each operation that can fail at evaluation (``+ - * /``, calls) is
            written, by its offset in the text; an error at evaluation names the place.
    """

    tree: Expr
    text: str
    span: SourceSpan
    path: str
    spans: Mapping[int, SourceSpan] = field(default_factory=dict, compare=False)

    def where(self, node: Expr) -> str:
        """Say where ``node`` of this expression is written: ``file:line:col (path)``."""
        return f"{self.spans.get(node.pos, self.span)} ({self.path})"

    @property
    def names(self) -> frozenset[str]:
        """Every name the expression reads."""
        return frozenset(n.name for n in walk(self.tree) if isinstance(n, Name))

    @property
    def canonical(self) -> str:
        """The expression in canonical form."""
        return unparse(self.tree)
