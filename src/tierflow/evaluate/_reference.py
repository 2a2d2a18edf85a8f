"""The reference interpreter: the slow, tree-walking specification of the generated evaluator.

Every function here takes a :class:`~tierflow.CompiledRuleset` and reads its checked
expressions (:class:`~tierflow.compile.Program`) with :func:`tierflow.expr.interpret`, never
the generated code; the legal ladder is checked by :mod:`._reference_ladder`, written apart
from the fast path's :mod:`._ladder`. A property test compares the two paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from tierflow.compile._checked import CheckedExpr
from tierflow.compile._compilation import FactRead
from tierflow.compile._generate import read_fact
from tierflow.errors import DataError
from tierflow.evaluate._decision import Decision
from tierflow.evaluate._reference_ladder import reference_legal_actions
from tierflow.expr import EvalContext, ExprEvalError, TraceEntry, interpret
from tierflow.facts._model import FACTS
from tierflow.facts._read import check_terms
from tierflow.spec._models import RulesetSpec

if TYPE_CHECKING:
    from tierflow.evaluate._ruleset import CompiledRuleset

__all__ = [
    "environment",
    "evaluate_checked",
    "goal_met",
    "reference_bits",
    "reference_evaluate",
    "tier_of",
]

_CLASSES: dict[str, frozenset[type]] = {
    "number": frozenset({int, float}),
    "string": frozenset({str}),
    "bool": frozenset({bool}),
    "date": frozenset({dt.date}),
    "list": frozenset({list, tuple, set, frozenset}),
}


def environment(
    ruleset: CompiledRuleset, facts: Mapping[str, Any], as_of: dt.date, *, history: Any = None
) -> tuple[dict[str, Any], EvalContext]:
    """Return every name's value for ``facts`` (the reference interpreter's view).

    ``history``, when given, is what the history functions read instead of the facts'
    ``history`` (a packet passes the records of a store).
    """
    program = ruleset.program
    vocab = program.vocabularies
    env: dict[str, Any] = {"as_of": as_of}
    for read in program.fact_reads:
        value = facts.get(read.name)
        ok = value is not None and value.__class__ in _CLASSES[read.kind]
        env[read.name] = value if ok else read_fact(facts, read, value)
        if read.name in vocab:
            check_terms(facts, read.name, env[read.name], vocab[read.name])
    ctx = EvalContext(facts, as_of, ruleset.ladder.unsupportive, history)
    for name in program.metric_order:
        env[name] = evaluate_checked(ruleset, program.metric_exprs[name], env, ctx)
    return env, ctx


def evaluate_checked(
    ruleset: CompiledRuleset,
    e: CheckedExpr,
    env: Mapping[str, Any],
    ctx: EvalContext,
    trace: list[TraceEntry] | None = None,
) -> Any:
    """Evaluate ``e`` with the reference interpreter; a failure names the student and place."""
    try:
        return interpret(e.tree, env, ctx, ruleset.program.functions, trace)
    except ExprEvalError as exc:
        raise DataError(
            exc.code,
            f"{e.where(exc.node)} in rule set {ruleset.id!r}: {exc.reason}",
            student_id=_student(ctx.facts),
        ) from exc


def goal_met(
    ruleset: CompiledRuleset, intervention: str, facts: Mapping[str, Any], *, as_of: dt.date
) -> bool | None:
    """Whether an intervention's measurable goal holds for ``facts`` (None: it has no goal).

    Raises:
        DataError: A fact the goal reads is missing or malformed.
    """
    goal = ruleset.program.goal_exprs.get(intervention)
    if goal is None:
        return None
    env, ctx = environment(ruleset, facts, as_of)
    _fill(ruleset, env, ctx, goal.names, facts)
    return bool(evaluate_checked(ruleset, goal, env, ctx))


def _fill(
    ruleset: CompiledRuleset,
    env: dict[str, Any],
    ctx: EvalContext,
    names: Iterable[str],
    facts: Mapping[str, Any],
) -> None:
    """Add to ``env`` the names an expression reads that evaluation did not need."""
    program = ruleset.program
    for name in names:
        if name in env:
            continue
        if name in program.metric_exprs:
            metric = program.metric_exprs[name]
            _fill(ruleset, env, ctx, metric.names, facts)
            env[name] = evaluate_checked(ruleset, metric, env, ctx)
        elif name in FACTS or name in ruleset.spec.facts.extra:
            env[name] = read_fact(facts, _fact_read(ruleset.spec, name), facts.get(name))
            if name in program.vocabularies:
                check_terms(facts, name, env[name], program.vocabularies[name])


def reference_evaluate(
    ruleset: CompiledRuleset, facts: Mapping[str, Any], *, as_of: dt.date
) -> Decision:
    """Decide with the slow tree-walking interpreter: the specification of the fast path.

    Raises:
        DataError: A fact the rule set needs is missing or malformed.
    """
    t, r, legal_bits, exempt_bits = reference_bits(ruleset, facts, as_of)
    legal = (
        reference_legal_actions(ruleset.program, legal_bits, exempt_bits, facts, as_of)
        if legal_bits
        else ()
    )
    return ruleset._decision(facts, as_of, t, r, legal)


def reference_bits(
    ruleset: CompiledRuleset, facts: Mapping[str, Any], as_of: dt.date
) -> tuple[int, int, int, int]:
    """``(tier index, rule bits, legal bits, exempt bits)`` from the reference interpreter."""
    program = ruleset.program
    tiers = ruleset.spec.tiers
    env, ctx = environment(ruleset, facts, as_of)
    t = next(i for i, tier in enumerate(tiers) if tier.default)
    for i, e in enumerate(program.tier_exprs):
        if e is not None and (
            evaluate_checked(ruleset, e, env, ctx) or _stays(ruleset, i, env, ctx)
        ):
            t = i
            break
    env["tier"] = tiers[t].id
    env["tier_level"] = tiers[t].level
    r = sum(
        1 << i for i, e in enumerate(program.rule_exprs) if evaluate_checked(ruleset, e, env, ctx)
    )
    legal = exempt = 0
    for i, (e, ex) in enumerate(zip(program.legal_exprs, program.exempt_exprs, strict=True)):
        if evaluate_checked(ruleset, e, env, ctx):
            legal |= 1 << i
            if ex is not None and evaluate_checked(ruleset, ex, env, ctx):
                exempt |= 1 << i
    return t, r, legal, exempt


def _stays(ruleset: CompiledRuleset, index: int, env: Mapping[str, Any], ctx: EvalContext) -> bool:
    """Whether tier ``index`` keeps the student through its ``stay_while``.

    True when the tier was the student's ``previous_tier`` and its ``stay_while`` holds;
    False for a tier without one.
    """
    stay = ruleset.program.stay_exprs[index]
    return (
        stay is not None
        and env["previous_tier"] == ruleset.spec.tiers[index].id
        and bool(evaluate_checked(ruleset, stay, env, ctx))
    )


def tier_of(ruleset: CompiledRuleset, env: Mapping[str, Any], ctx: EvalContext) -> tuple[str, int]:
    """The tier the reference interpreter matches by ``when`` alone (legal conditions name it)."""
    tiers = ruleset.spec.tiers
    t = next(i for i, tier in enumerate(tiers) if tier.default)
    for i, e in enumerate(ruleset.program.tier_exprs):
        if e is not None and evaluate_checked(ruleset, e, env, ctx):
            t = i
            break
    return tiers[t].id, tiers[t].level


def _fact_read(spec: RulesetSpec, name: str) -> FactRead:
    """How to read fact ``name`` when evaluation did not plan to (goals read more facts)."""
    if name in spec.facts.extra:
        decl = spec.facts.extra[name]
        return FactRead(name, decl.type, decl.default is not None, decl.default)
    info = FACTS[name]
    if name in spec.facts.defaults:
        return FactRead(name, info.type.kind, True, spec.facts.defaults[name])
    return FactRead(name, info.type.kind, info.default is not None, info.default)


def _student(facts: Mapping[str, Any]) -> str | None:
    try:
        value = facts.get("student_id")
    except AttributeError:
        return None
    return None if value is None else str(value)
