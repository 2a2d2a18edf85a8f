"""The ``plan_reads`` stage: which facts and metrics the evaluator reads, in dependency order."""

from __future__ import annotations

from typing import Any

from tierflow.compile._compilation import DECLARED_TYPES, Compilation, FactRead
from tierflow.facts._model import FACTS

__all__ = ["plan_reads"]


def plan_reads(c: Compilation) -> None:
    """Decide which facts and metrics the evaluator reads, in dependency order."""
    s = c.the_spec
    roots: set[str] = set()
    for e in [*c.tier_exprs, *c.stay_exprs, *c.rule_exprs, *c.legal_exprs, *c.exempt_exprs]:
        if e is not None:
            roots |= e.names
    if any(e is not None for e in c.stay_exprs):
        roots.add("previous_tier")  # whether a stay_while applies depends on it
    needed_metrics: list[str] = []
    pending = [n for n in roots if n in c.metric_exprs]
    closure: set[str] = set()
    while pending:
        name = pending.pop()
        if name in closure:
            continue
        closure.add(name)
        pending.extend(n for n in c.metric_exprs[name].names if n in c.metric_exprs)
    needed_metrics = [m for m in c.metric_exprs if m in closure]  # definition order
    c.metric_order = needed_metrics
    reads: set[str] = set(roots)
    for m in needed_metrics:
        reads |= c.metric_exprs[m].names
    reads.add("student_id")
    out = []
    for name in [*FACTS, *s.facts.extra]:
        if name not in reads:
            continue
        if name in FACTS:
            info = FACTS[name]
            if name in s.facts.defaults:
                out.append(FactRead(name, info.type.kind, True, _freeze(s.facts.defaults[name])))
            elif info.default is not None:
                out.append(FactRead(name, info.type.kind, True, _freeze(info.default)))
            else:
                out.append(FactRead(name, info.type.kind, False))
        else:
            decl = s.facts.extra[name]
            has = decl.default is not None
            out.append(FactRead(name, DECLARED_TYPES[decl.type].kind, has, _freeze(decl.default)))
    c.fact_reads = out


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
