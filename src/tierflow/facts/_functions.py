"""Functions that read a student's history, and the default function table.

The history functions count what was already done for the student (legal steps, interventions,
conferences) up to the as-of date. :data:`DEFAULT_FUNCTIONS` is the table a rule set is compiled
with: the language's pure functions plus the facts layer's window and history functions, added
explicitly here (no module registers anything by being imported).
"""

from __future__ import annotations

from typing import Any

from tierflow.expr import (
    BOOL,
    NUMBER,
    PURE_FUNCTIONS,
    STRING,
    EvalContext,
    Function,
    FunctionRegistry,
    Type,
)
from tierflow.facts._read import history_of
from tierflow.facts._windows import WINDOW_FUNCTIONS

__all__ = ["DEFAULT_FUNCTIONS", "HISTORY_FUNCTIONS"]

_LEGAL = Type("string", vocabulary="legal_step")
_INTERVENTION = Type("string", vocabulary="intervention")


def _history(ctx: EvalContext) -> Any:
    # The key "history" is the one EvalContext seeds when its caller already has the history.
    return ctx.cached("history", lambda: history_of(ctx.facts))


def _legal_issued(ctx: EvalContext, step: str) -> bool:
    return any(s.step == step and s.issued_on <= ctx.as_of for s in _history(ctx).legal_steps)


def _legal_count(ctx: EvalContext) -> int:
    return sum(1 for s in _history(ctx).legal_steps if s.issued_on <= ctx.as_of)


def _interventions_tried(ctx: EvalContext, min_level: float) -> int:
    # The same count as a legal step's supportive_interventions prerequisite (without
    # with_outcome): started by the as-of date, at or above the level, not marked unsupportive.
    unsupportive = ctx.unsupportive
    return sum(
        1
        for i in _history(ctx).interventions
        if i.tier_level >= min_level
        and i.started_on <= ctx.as_of
        and i.intervention not in unsupportive
    )


def _conferences_held(ctx: EvalContext, kind: str) -> int:
    # Held only: an attempt that did not bring the family in is no meeting.
    return sum(
        1
        for c in _history(ctx).conferences
        if c.kind == kind and c.held_on <= ctx.as_of and c.outcome == "held"
    )


def _conferences_attempted(ctx: EvalContext, kind: str) -> int:
    # Held, or a documented attempt (EC 48262's "conscientious effort"): every one counts.
    return sum(1 for c in _history(ctx).conferences if c.kind == kind and c.held_on <= ctx.as_of)


def _tried_by(ctx: EvalContext) -> list[Any]:
    return [i for i in _history(ctx).interventions if i.started_on <= ctx.as_of]


def _intervention_tried(ctx: EvalContext, intervention: str) -> bool:
    # Any catalogue intervention, supportive or not (a home visit is documented effort).
    return any(i.intervention == intervention for i in _tried_by(ctx))


def _interventions_with_outcome(ctx: EvalContext, min_level: float) -> int:
    unsupportive = ctx.unsupportive
    return sum(
        1
        for i in _tried_by(ctx)
        if i.tier_level >= min_level and i.intervention not in unsupportive and i.outcome
    )


def _contacts(ctx: EvalContext) -> int:
    # Each check-in is logged with a contact type (call, meeting, home_visit, message,
    # in_person); each conference held or attempted is a contact, or an attempt, with the family.
    history = _history(ctx)
    check_ins = sum(i.check_ins or 0 for i in _tried_by(ctx))
    return check_ins + sum(1 for c in history.conferences if c.held_on <= ctx.as_of)


HISTORY_FUNCTIONS: tuple[Function, ...] = (
    Function(
        "legal_issued",
        (_LEGAL,),
        BOOL,
        _legal_issued,
        "Whether the legal step was issued on or before the as-of date.",
        context=True,
        reads=("history",),
    ),
    Function(
        "legal_count",
        (),
        NUMBER,
        _legal_count,
        "How many legal steps were issued on or before the as-of date.",
        context=True,
        reads=("history",),
    ),
    Function(
        "interventions_tried",
        (NUMBER,),
        NUMBER,
        _interventions_tried,
        "How many supportive interventions of at least this tier level were started.",
        context=True,
        reads=("history",),
    ),
    Function(
        "conferences_held",
        (STRING,),
        NUMBER,
        _conferences_held,
        "How many conferences of a kind (parent_conference, sart, ...) were held (not only "
        "attempted).",
        context=True,
        reads=("history",),
    ),
    Function(
        "conferences_attempted",
        (STRING,),
        NUMBER,
        _conferences_attempted,
        "How many conferences of a kind were held or attempted (a documented attempt counts).",
        context=True,
        reads=("history",),
    ),
    Function(
        "intervention_tried",
        (_INTERVENTION,),
        BOOL,
        _intervention_tried,
        "Whether the catalogue intervention was started on or before the as-of date.",
        context=True,
        reads=("history",),
    ),
    Function(
        "interventions_with_outcome",
        (NUMBER,),
        NUMBER,
        _interventions_with_outcome,
        "How many supportive interventions of at least this tier level were started and have "
        "a recorded outcome.",
        context=True,
        reads=("history",),
    ),
    Function(
        "contacts",
        (),
        NUMBER,
        _contacts,
        "Documented contacts with the family: check-ins of started interventions plus "
        "conferences held or attempted.",
        context=True,
        reads=("history",),
    ),
)
"""The history functions, for :data:`DEFAULT_FUNCTIONS`."""


def _default_functions() -> FunctionRegistry:
    registry = PURE_FUNCTIONS.copy()
    for fn in (*WINDOW_FUNCTIONS, *HISTORY_FUNCTIONS):
        registry.register(fn)
    return registry


DEFAULT_FUNCTIONS = _default_functions()
"""The built-in functions. Copy it (``DEFAULT_FUNCTIONS.copy()``) to add your own."""
