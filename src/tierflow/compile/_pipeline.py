"""The compiler: an ordered list of named stages from YAML text to a generated evaluator.

Each stage is one small function that reads and extends one
:class:`~tierflow.compile._compilation.Compilation` and adds every problem it finds. After a
stage, the pipeline stops if any error is known, raising :class:`~tierflow.errors.RulesetError`
with all of them (sorted by location), unless the stage is marked not to halt: schema validation
and the reference checks let the next stages look for more, so one run reports every problem.
Tests can stop after any stage with ``until=`` (see :func:`run_stages`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tierflow.compile._compilation import Compilation
from tierflow.compile._conditions import (
    check_checklist_conditions,
    check_goal_conditions,
    check_legal_conditions,
    check_metric_expressions,
    check_rule_conditions,
    check_tier_conditions,
    check_unvalidated_expressions,
)
from tierflow.compile._generate import generate_all
from tierflow.compile._lifecycle import check_lifecycle
from tierflow.compile._merge import resolve_extends
from tierflow.compile._notices import check_notices
from tierflow.compile._reads import plan_reads
from tierflow.compile._references import (
    check_citations,
    check_escalations,
    check_fact_defaults,
    check_fact_names,
    check_intervention_references,
    check_legal_ladder,
    check_owner_roles,
    check_rule_references,
    check_tier_list,
    check_unique_ids,
)
from tierflow.compile._schema import hash_content, validate_schema
from tierflow.compile._text import fill_text
from tierflow.errors import RulesetError

__all__ = ["STAGES", "Stage", "generate_evaluator", "run_stages"]


@dataclass(frozen=True)
class Stage:
    """One stage of the compiler: a function of the compilation, named after it.

    Attributes:
        run: Reads and extends the compilation, adding every problem it finds.
        halts: Whether the pipeline stops after this stage when an error is known. A stage that
            does not halt lets the next ones look for more problems, reported together.
        drops_restated: Whether a problem this stage finds at the span and path of an earlier
            error is dropped: it only restates that error (a condition naming a clashing name).
        needs_spec: Whether the stage reads the validated spec. After a schema that failed and
            could not be salvaged there is none: the pipeline stops before such a stage.
    """

    run: Callable[[Compilation], None]
    halts: bool = True
    drops_restated: bool = False
    needs_spec: bool = True

    @property
    def name(self) -> str:
        """The stage's name: its function's (``check_tier_list``)."""
        return self.run.__name__

    @property
    def summary(self) -> str:
        """What the stage does: the first line of its function's docstring."""
        return (self.run.__doc__ or "").strip().splitlines()[0]


def generate_evaluator(c: Compilation) -> None:
    """Generate the rule set's Python evaluator and register its source for tracebacks."""
    c.evaluator, c.python_source, c.batch = generate_all(c, c.the_spec.id)


STAGES: tuple[Stage, ...] = (
    Stage(resolve_extends, needs_spec=False),
    Stage(validate_schema, halts=False, needs_spec=False),
    Stage(check_unvalidated_expressions, halts=False, needs_spec=False),
    Stage(hash_content, halts=False),
    Stage(check_unique_ids, halts=False),
    Stage(check_citations, halts=False),
    Stage(check_tier_list, halts=False),
    Stage(check_rule_references, halts=False),
    Stage(check_intervention_references, halts=False),
    Stage(check_owner_roles, halts=False),
    Stage(check_escalations, halts=False),
    Stage(check_legal_ladder, halts=False),
    Stage(check_lifecycle, halts=False),
    Stage(check_fact_names, halts=False),
    Stage(check_fact_defaults, halts=False),
    Stage(check_metric_expressions, halts=False, drops_restated=True),
    Stage(check_tier_conditions, halts=False, drops_restated=True),
    Stage(check_rule_conditions, halts=False, drops_restated=True),
    Stage(check_legal_conditions, halts=False, drops_restated=True),
    Stage(check_checklist_conditions, halts=False, drops_restated=True),
    Stage(check_goal_conditions, halts=False, drops_restated=True),
    Stage(check_notices),
    Stage(fill_text),
    Stage(plan_reads),
    Stage(generate_evaluator),
)
"""The compiler's stages, in the order they run."""


def _at_stub(c: Compilation, path: str) -> bool:
    """Whether ``path`` is at or inside a place the schema stage filled with a stand-in."""
    return any(
        path == s or (inside and path.startswith((f"{s}.", f"{s}["))) for s, inside in c.stubbed
    )


def run_stages(c: Compilation, until: str | None = None) -> Compilation:
    """Run the stages in order, up to and including the one named ``until`` (default: all).

    Raises:
        RulesetError: Every error known after a stage that halts, or after ``until``.
        ValueError: ``until`` names no stage.
    """
    names = [stage.name for stage in STAGES]
    if until is not None and until not in names:
        raise ValueError(f"unknown stage {until!r}; stages: {', '.join(names)}")
    for stage in STAGES:
        if stage.needs_spec and c.spec is None:
            raise RulesetError([p for p in c.problems if p.severity == "error"])
        before = len(c.problems)
        stage.run(c)
        if stage.drops_restated:
            known = {(p.span, p.path) for p in c.problems[:before] if p.severity == "error"}
            c.problems[before:] = [p for p in c.problems[before:] if (p.span, p.path) not in known]
        if c.stubbed and stage.name != "validate_schema":
            c.problems[before:] = [p for p in c.problems[before:] if not _at_stub(c, p.path)]
        errors = [p for p in c.problems if p.severity == "error"]
        if errors and (stage.halts or stage.name == until):
            raise RulesetError(errors)
        c.completed.append(stage.name)
        if stage.name == until:
            break
    return c
