"""What the compiler's stages share: one :class:`Compilation`, filled in stage by stage.

The stages themselves are listed in :mod:`tierflow.compile._pipeline`; this module holds only
the state they read and extend, and the names every rule set has (:data:`BUILTIN_METRICS`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tierflow.compile._checked import CheckedExpr
from tierflow.compile._machine import BUILTIN_LIFECYCLE, Lifecycle
from tierflow.compile._source import Document, SourceMap
from tierflow.errors import Problem
from tierflow.expr import ANY, BOOL, DATE, NUMBER, STRING, FunctionRegistry, Type, list_of
from tierflow.facts._model import CAUSES, GROUPS
from tierflow.notices import NoticeBook
from tierflow.spec._models import RulesetSpec

__all__ = [
    "BUILTIN_METRICS",
    "DECLARED_TYPES",
    "BatchEvaluator",
    "Compilation",
    "Evaluator",
    "FactRead",
]

BUILTIN_METRICS: dict[str, tuple[str, str]] = {
    "absence_rate": (
        "ratio(days_absent, days_enrolled)",
        "Share of enrolled days absent (days_absent / days_enrolled; 0 when not enrolled).",
    ),
    "unexcused_rate": (
        "ratio(days_unexcused, days_enrolled)",
        "Share of enrolled days with an unexcused absence.",
    ),
    "days_present": ("days_enrolled - days_absent", "Enrolled days not absent."),
    "prior_year_absence_rate": (
        "ratio(prior_year_days_absent, prior_year_days_enrolled)",
        "Share of the days enrolled in the school year before this one that were missed "
        "(0 when not enrolled then).",
    ),
}
"""Metrics every rule set has, defined in the condition language itself."""

DECLARED_TYPES: dict[str, Type] = {
    "number": NUMBER,
    "string": STRING,
    "bool": BOOL,
    "date": DATE,
    "list": list_of(ANY),
}
"""The type of an extra fact, by the name its declaration (``facts.extra``) gives."""

BatchEvaluator = Callable[..., Iterator[Any]]
"""The generated batch loop: ``(records, as_of, decision, outcomes, outcome_of, legal, failed,
ruleset, DataError, reject, accept) -> decisions``; the same reads and conditions as the
:data:`Evaluator`, run for each record in one frame (see
:func:`~tierflow.compile._generate.generate`). ``reject(error, number)`` takes a record that
failed (None: raise it) and ``accept()`` counts one kept (or None)."""

Evaluator = Callable[[Mapping[str, Any], dt.date], tuple[int, int, int, int, str]]
"""The generated function: ``(facts, as_of) -> (tier, rule bits, legal bits, exempt bits,
student id)``; the id is the ``student_id`` fact as it read it (text, as a decision carries it)."""


@dataclass(frozen=True)
class FactRead:
    """A fact the evaluator reads from the input, with its type and default."""

    name: str
    kind: str
    has_default: bool
    default: Any = None


@dataclass
class Compilation:
    """Everything the stages know about one rule set, filled in stage by stage."""

    root: Document
    functions: FunctionRegistry
    documents: list[Document] = field(default_factory=list)
    merged: dict[str, Any] = field(default_factory=dict)
    smap: SourceMap = field(default_factory=SourceMap)
    spec: RulesetSpec | None = None
    problems: list[Problem] = field(default_factory=list)
    names: dict[str, Type] = field(default_factory=dict)
    """The type of every fact and metric a condition may name (after ``check_metrics``)."""
    bounds: dict[str, float] = field(default_factory=dict)
    """The largest whole number each metric can hold (after ``check_metrics``)."""
    metric_exprs: dict[str, CheckedExpr] = field(default_factory=dict)
    tier_exprs: list[CheckedExpr | None] = field(default_factory=list)
    stay_exprs: list[CheckedExpr | None] = field(default_factory=list)
    """Each tier's ``stay_while``, by tier index (None: the tier has none)."""
    rule_exprs: list[CheckedExpr] = field(default_factory=list)
    legal_exprs: list[CheckedExpr] = field(default_factory=list)
    exempt_exprs: list[CheckedExpr | None] = field(default_factory=list)
    checklist_exprs: list[tuple[CheckedExpr, ...]] = field(default_factory=list)
    """Per legal step, its checklist's conditions (in item order)."""
    goal_exprs: dict[str, CheckedExpr] = field(default_factory=dict)
    fact_reads: list[FactRead] = field(default_factory=list)
    metric_order: list[str] = field(default_factory=list)
    content_hash: str = ""
    evaluator: Evaluator | None = None
    """The generated function (after ``generate``)."""
    python_source: str = ""
    """The generated function's source (after ``generate``)."""
    batch: BatchEvaluator | None = None
    """The generated batch loop (after ``generate``)."""
    lifecycle: Lifecycle = BUILTIN_LIFECYCLE
    """The intervention lifecycle the ``lifecycle:`` section describes (after
    ``check_lifecycle``)."""
    stubbed: frozenset[tuple[str, bool]] = frozenset()
    """Paths (as written) the schema stage filled with a stand-in to check the rest, each with
    whether what lies inside it counts too: later problems there only restate the schema's (see
    :func:`~tierflow.compile._schema.salvage`)."""
    notices: NoticeBook = field(default_factory=NoticeBook)
    """The notices, their elements and every template's checked text (after ``check_notices``)."""
    completed: list[str] = field(default_factory=list)
    """The names of the stages run so far, in order."""

    @property
    def the_spec(self) -> RulesetSpec:
        """The validated spec (only after ``validate_schema``)."""
        assert self.spec is not None, "validate_schema has not run"
        return self.spec

    def vocabulary(self, fact: str) -> frozenset[str] | None:
        """The ids the list fact ``fact`` may hold, or None for a fact that is not a vocabulary.

        ``causes`` and ``groups`` hold the standard ids (:data:`~tierflow.facts.CAUSES`,
        :data:`~tierflow.facts.GROUPS`) and those the rule set declares under ``facts.causes``
        and ``facts.groups``; the evaluator rejects any other item.
        """
        if fact == "causes":
            return frozenset((*CAUSES, *self.the_spec.facts.causes))
        if fact == "groups":
            return frozenset((*GROUPS, *self.the_spec.facts.groups))
        return None

    def problem(
        self,
        path: tuple[str | int, ...],
        code: str,
        message: str,
        hint: str = "",
        key: bool = False,
    ) -> None:
        """Record a problem at merged ``path`` (the key's position if ``key``)."""
        span = self.smap.key_span(path) if key else self.smap.span(path)
        self.problems.append(Problem(span, code, message, self.smap.path_in_source(path), hint))
