"""The text stage: ``{metric}`` placeholders in a rule set's text filled from the values in force.

Citations and descriptions quote thresholds ("severe chronic >= 20%"). Written with a placeholder
naming a metric whose value is a constant ("severe chronic >= {severe_from}"), the text shows
the value the merged rule set uses: a child that lowers ``severe_from`` to 10% no longer
inherits text saying 20%. A placeholder is replaced by text, never evaluated; one that names no
such metric is an error at the text that holds it, with a did-you-mean.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from tierflow.compile._compilation import Compilation
from tierflow.errors import suggest
from tierflow.expr import Const

__all__ = ["PLACEHOLDER", "fill_text"]

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
"""``{severe_from}``: a metric id between braces."""

_LITERAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")
"""A metric written as a number or a percentage (``"20%"``), shown as written."""

_ENTRY_TEXT = ("label", "description")
_SECTIONS = ("metrics", "tiers", "rules", "interventions", "legal")


def _constant_values(c: Compilation) -> dict[str, str]:
    """Each metric whose value is a constant number, as text: as written (``20%``) or ``0.2``."""
    values: dict[str, str] = {}
    for name, checked in c.metric_exprs.items():
        tree = checked.tree
        if not isinstance(tree, Const) or isinstance(tree.value, bool):
            continue
        if not isinstance(tree.value, (int, float)):
            continue
        written = _LITERAL.match(checked.text)
        values[name] = "".join(written.groups()) if written else f"{tree.value:g}"
    return values


def fill_text(c: Compilation) -> None:
    """Fill each ``{metric}`` in the rule set's text (citations, labels...) with its value."""
    values = _constant_values(c)
    spec = c.the_spec

    def fill(path: tuple[str | int, ...], text: str | None) -> str | None:
        if text is None or "{" not in text:
            return text

        def value(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in values:
                c.problem(
                    path,
                    "ref.unknown_placeholder",
                    f"'{{{name}}}' names no metric with a constant value",
                    suggest(name, list(values))
                    or "a placeholder names a metric whose expr is a number, as {severe_from}",
                )
                return m.group(0)
            return values[name]

        return PLACEHOLDER.sub(value, text)

    def filled(model: BaseModel, path: tuple[str | int, ...], keys: tuple[str, ...]) -> Any:
        update = {k: fill((*path, k), getattr(model, k)) for k in keys}
        changed = {k: v for k, v in update.items() if v != getattr(model, k)}
        return model.model_copy(update=changed) if changed else model

    top: dict[str, Any] = {"description": fill(("description",), spec.description)}
    top["references"] = tuple(
        filled(r, ("references", i), ("title", "note")) for i, r in enumerate(spec.references)
    )
    for section in _SECTIONS:
        entries = []
        for i, entry in enumerate(getattr(spec, section)):
            entry = filled(entry, (section, i), _ENTRY_TEXT)
            if section == "interventions" and entry.goal is not None:
                goal = filled(entry.goal, (section, i, "goal"), ("text",))
                entry = entry.model_copy(update={"goal": goal})
            if section == "legal" and entry.requires.checklist:
                items = tuple(
                    filled(item, (section, i, "requires", "checklist", j), ("label",))
                    for j, item in enumerate(entry.requires.checklist)
                )
                requires = entry.requires.model_copy(update={"checklist": items})
                entry = entry.model_copy(update={"requires": requires})
            entries.append(entry)
        top[section] = tuple(entries)
    c.spec = spec.model_copy(update=top)
