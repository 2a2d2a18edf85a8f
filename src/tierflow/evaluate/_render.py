"""Comparisons in words: how an explanation shows the values a condition compared."""

from __future__ import annotations

from typing import Any

from tierflow.expr import Const, Name, TraceEntry, format_value, unparse, walk

__all__ = ["compared_names", "render_comparison"]


def _digits(values: list[Any]) -> list[int]:
    """Significant digits to show each compared value with: 4, or as many as tell it apart.

    A rate of 0.0999996 shows as 0.1 with 4 digits; beside a threshold of 0.1 that would read
    ``absence_rate = 0.1 >= 0.1 is false``. Two neighbours that differ but look the same get
    the digits that tell them apart (``absence_rate = 0.0999996 >= 0.1 is false``).
    """
    digits = [4] * len(values)
    for i in range(1, len(values)):
        a, b = values[i - 1], values[i]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
            continue
        n = max(digits[i - 1], digits[i])
        while a != b and n < 17 and format_value(a, n) == format_value(b, n):
            n += 1
        digits[i - 1] = digits[i] = n
    return digits


def render_comparison(entry: TraceEntry, shown: dict[str, int]) -> str:
    """One comparison with its values; names shown with more digits are added to ``shown``."""
    parts = []
    operands = entry.node.operands
    digits = _digits(list(entry.values))
    for i, value in enumerate(entry.values):
        node = operands[i]
        if isinstance(node, Name) and digits[i] > shown.get(node.name, 4):
            shown[node.name] = digits[i]
        text = format_value(value, digits[i])
        text = text if isinstance(node, Const) else f"{unparse(node)} = {text}"
        if i:
            parts.append(entry.node.ops[i - 1])
        parts.append(text)
    if len(entry.values) < len(operands):
        parts.append("...")
    return " ".join(parts) + ("" if entry.result else " is false")


def compared_names(entry: TraceEntry) -> set[str]:
    """Every name the operands of a traced comparison read."""
    return {n.name for o in entry.node.operands for n in walk(o) if isinstance(n, Name)}
