"""The compiler's output: a checked rule set with its generated evaluator, as one frozen value.

Evaluation (:mod:`tierflow.evaluate`) reads a rule set through this value only, never through
the stage-by-stage :class:`~tierflow.compile.Compilation`: what the compiler promises the
evaluator is written down here, and the compiler needs nothing from evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from tierflow.compile._checked import CheckedExpr
from tierflow.compile._compilation import BatchEvaluator, Compilation, Evaluator, FactRead
from tierflow.compile._machine import BUILTIN_LIFECYCLE, Lifecycle
from tierflow.compile._source import SourceMap
from tierflow.expr import FunctionRegistry
from tierflow.notices import NoticeBook
from tierflow.spec._models import RulesetSpec

__all__ = ["Program", "build_program"]


@dataclass(frozen=True)
class Program:
    """A compiled rule set: its spec, checked expressions and generated evaluator.

    Attributes:
        spec: The validated, merged rule set.
        content_hash: SHA-256 of the merged rule set (without its tests).
        files: The files of its ``extends`` chain, base first (the rule set's own last).
        functions: The functions its conditions may call.
        fact_reads: Every fact the evaluator reads, with its type and default.
        metric_order: Metric ids in the order they are computed.
        metric_exprs: Each metric's expression, by id.
        tier_exprs: Each tier's ``when``, by tier index (None: the default tier).
        stay_exprs: Each tier's ``stay_while``, by tier index (None: it has none).
        rule_exprs: Each rule's condition, by rule index.
        legal_exprs: Each legal step's ``when``, by step index.
        exempt_exprs: Each legal step's exemption, by step index (None: it has none).
        checklist_exprs: Each legal step's checklist conditions, in item order.
        goal_exprs: The goal condition of each intervention that has one, by id.
        vocabularies: The ids each list fact may hold (``causes``, ``groups``).
        smap: Where each part of the merged rule set is written.
        evaluator: The generated function: ``(facts, as_of) -> (tier, rules, legal, exempt,
            student id)``.
        python_source: The evaluator's source, each expression's location in its comment.
        notices: The notices, their elements and their checked templates.
        lifecycle: The intervention lifecycle (the built-in one unless the rule set has its own).
        batch: The generated batch loop (the evaluator's body run for each record of a batch;
            see :func:`~tierflow.compile._generate.generate_all`), or None.
    """

    spec: RulesetSpec
    content_hash: str
    files: tuple[str, ...]
    functions: FunctionRegistry
    fact_reads: tuple[FactRead, ...]
    metric_order: tuple[str, ...]
    metric_exprs: Mapping[str, CheckedExpr]
    tier_exprs: tuple[CheckedExpr | None, ...]
    stay_exprs: tuple[CheckedExpr | None, ...]
    rule_exprs: tuple[CheckedExpr, ...]
    legal_exprs: tuple[CheckedExpr, ...]
    exempt_exprs: tuple[CheckedExpr | None, ...]
    checklist_exprs: tuple[tuple[CheckedExpr, ...], ...]
    goal_exprs: Mapping[str, CheckedExpr]
    vocabularies: Mapping[str, frozenset[str]]
    smap: SourceMap
    evaluator: Evaluator
    python_source: str
    notices: NoticeBook = field(default_factory=NoticeBook)
    lifecycle: Lifecycle = BUILTIN_LIFECYCLE
    batch: BatchEvaluator | None = None


def build_program(c: Compilation) -> Program:
    """Freeze a compilation whose stages all ran (the last generates the evaluator)."""
    spec = c.the_spec
    assert c.evaluator is not None, "the generate_evaluator stage has not run"
    return Program(
        spec=spec,
        content_hash=c.content_hash,
        files=tuple(d.name for d in c.documents),
        functions=c.functions,
        fact_reads=tuple(c.fact_reads),
        metric_order=tuple(c.metric_order),
        metric_exprs=MappingProxyType(dict(c.metric_exprs)),
        tier_exprs=tuple(c.tier_exprs),
        stay_exprs=tuple(c.stay_exprs),
        rule_exprs=tuple(c.rule_exprs),
        legal_exprs=tuple(c.legal_exprs),
        exempt_exprs=tuple(c.exempt_exprs),
        checklist_exprs=tuple(c.checklist_exprs),
        goal_exprs=MappingProxyType(dict(c.goal_exprs)),
        vocabularies=MappingProxyType(
            {
                name: known
                for name in ("causes", "groups")
                if (known := c.vocabulary(name)) is not None
            }
        ),
        smap=c.smap,
        evaluator=c.evaluator,
        python_source=c.python_source,
        notices=c.notices,
        lifecycle=c.lifecycle,
        batch=c.batch,
    )
