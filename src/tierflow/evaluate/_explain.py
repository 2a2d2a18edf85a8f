"""Explanations: the values each condition saw, in words, read with the reference interpreter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tierflow.compile._checked import CheckedExpr
from tierflow.errors import DataError
from tierflow.evaluate._decision import Explanation, Reason
from tierflow.evaluate._reference import environment, evaluate_checked, tier_of
from tierflow.evaluate._render import compared_names, render_comparison
from tierflow.expr import EvalContext, TraceEntry, format_value
from tierflow.facts._model import History
from tierflow.facts._read import HistoryView
from tierflow.spec._models import TierSpec

if TYPE_CHECKING:
    from tierflow.evaluate._ruleset import CompiledRuleset

__all__ = ["explain", "legal_condition", "step_warranted"]

_NEXT_TIER_HORIZON = 60
"""How many more absences ``explain`` tries when saying how far the next tier is."""


def legal_condition(
    ruleset: CompiledRuleset,
    index: int,
    facts: Mapping[str, Any],
    *,
    as_of: dt.date,
    history: History | HistoryView | None = None,
) -> tuple[str, tuple[str, ...]]:
    """Whether legal step ``index`` is warranted for ``facts``, with the values that say so.

    Returns:
        ``("warranted", because)``, ``("not warranted", because)`` or ``("exempt",
        because)``; ``because`` holds the comparisons as :func:`explain` shows them
        (``truancies = 3 >= not2_from = 6 is false``).

    Raises:
        DataError: A fact the condition needs is missing or malformed.
    """
    env, ctx = environment(ruleset, facts, as_of, history=history)
    c = ruleset.program
    env["tier"], env["tier_level"] = tier_of(ruleset, env, ctx)
    reason, holds = _reason(ruleset, "", c.legal_exprs[index], env, ctx, ())
    if not holds:
        return "not warranted", reason.because
    exempt = c.exempt_exprs[index]
    if exempt is not None:
        ex_reason, is_exempt = _reason(ruleset, "", exempt, env, ctx, ())
        if is_exempt:
            return "exempt", ex_reason.because
    return "warranted", reason.because


def _reason(
    ruleset: CompiledRuleset,
    subject: str,
    expr: CheckedExpr,
    env: Mapping[str, Any],
    ctx: EvalContext,
    cites: tuple[str, ...],
    outcome: str | None = None,
) -> tuple[Reason, bool]:
    trace: list[TraceEntry] = []
    result = bool(evaluate_checked(ruleset, expr, env, ctx, trace))
    relevant = [e for e in trace if e.result == result] or trace
    shown: dict[str, int] = {}  # a metric shown with more digits is shown so in 'where'
    because = tuple(render_comparison(e, shown) for e in relevant)
    used: set[str] = set().union(*(compared_names(e) for e in relevant)) if relevant else set()
    if not relevant:  # a condition that is a plain boolean name, e.g. a derived metric
        used = set(expr.names)
        because = tuple(f"{n} = {format_value(env[n])}" for n in sorted(used) if n in env)
    metrics = ruleset.program.metric_exprs
    pending = [m for m in used if m in metrics]
    while pending:  # explain the metrics those metrics are built from, too
        for n in metrics[pending.pop()].names:
            if n in metrics and n not in used:
                used.add(n)
                pending.append(n)
    where = []
    for m in ruleset.program.metric_order:
        if m in used:
            value = format_value(env[m], shown.get(m, 4))
            canonical = metrics[m].canonical
            where.append(f"{m} = {canonical}" + ("" if canonical == value else f" = {value}"))
    titles = tuple(r.title for c in cites for r in ruleset.spec.references if r.id == c)
    text = outcome or ("matched" if result else "did not match")
    return Reason(subject, text, expr.canonical, because, tuple(where), (), titles), result


def _stay_reason(
    ruleset: CompiledRuleset, index: int, env: Mapping[str, Any], ctx: EvalContext, subject: str
) -> Reason:
    """Why the student stayed in tier ``index``, their previous tier, or left it.

    The tier's references are not cited: they back its entry (``when``); how a tier is left
    is the rule set's own choice.
    """
    tier = ruleset.spec.tiers[index]
    stay = ruleset.program.stay_exprs[index]
    assert stay is not None
    reason, kept = _reason(ruleset, subject, stay, env, ctx, ())
    outcome = (
        f"stayed in {tier.id}: previous tier, and its stay_while holds (its when does not)"
        if kept
        else f"left {tier.id}: previous tier, but its stay_while does not hold"
    )
    return Reason(
        subject,
        outcome,
        reason.condition,
        (f"previous_tier = {tier.id!r}", *reason.because),
        reason.where,
        (),
        reason.cites,
    )


def explain(ruleset: CompiledRuleset, facts: Mapping[str, Any], *, as_of: dt.date) -> Explanation:
    """Explain the decision for ``facts`` in plain words, with the values each condition saw."""
    decision = ruleset.evaluate(facts, as_of=as_of)
    env, ctx = environment(ruleset, facts, as_of)
    c = ruleset.program
    tiers = ruleset.spec.tiers
    t = next(i for i, tier in enumerate(tiers) if tier.id == decision.tier)
    tier = tiers[t]
    label = tier.label or tier.id
    if c.tier_exprs[t] is not None:
        expr = c.tier_exprs[t]
        assert expr is not None
        tier_reason, entered = _reason(
            ruleset, f"tier {tier.id} ({label})", expr, env, ctx, tier.cites
        )
        if not entered:  # it matched through stay_while: say why the student stayed
            tier_reason = _stay_reason(ruleset, t, env, ctx, f"tier {tier.id} ({label})")
    else:
        tier_reason = Reason(
            f"tier {tier.id} ({label})", "matched as the default tier: no earlier tier matched"
        )
    higher = []
    for i in range(t):
        e = c.tier_exprs[i]
        if e is not None and tiers[i].level > tier.level:
            reason, _ = _reason(ruleset, f"tier {tiers[i].id}", e, env, ctx, tiers[i].cites)
            higher.append(reason)
        if c.stay_exprs[i] is not None and env["previous_tier"] == tiers[i].id:
            higher.append(_stay_reason(ruleset, i, env, ctx, f"tier {tiers[i].id}"))
    env["tier"], env["tier_level"] = tier.id, tier.level
    rules = []
    for i, rule in enumerate(ruleset.spec.rules):
        if rule.id in decision.rules:
            reason, _ = _reason(
                ruleset,
                f"rule {rule.id}",
                c.rule_exprs[i],
                env,
                ctx,
                rule.cites,
                "fired: assigns " + ", ".join(rule.assign),
            )
            rules.append(reason)
    actions = {a.step: a for a in decision.legal_actions}
    legal = []
    for i, step in enumerate(ruleset.spec.legal):
        action = actions.get(step.id)
        if action is None:
            continue
        reason, _ = _reason(
            ruleset,
            f"legal {step.label or step.id}",
            c.legal_exprs[i],
            env,
            ctx,
            step.cites,
            action.status,
        )
        if action.status == "exempt" and c.exempt_exprs[i] is not None:
            ex = c.exempt_exprs[i]
            assert ex is not None
            ex_reason, _ = _reason(ruleset, "", ex, env, ctx, ())
            reason = Reason(
                reason.subject,
                "exempt",
                reason.condition,
                ex_reason.because,
                reason.where,
                (),
                reason.cites,
            )
        elif action.missing:
            reason = Reason(
                reason.subject,
                reason.outcome,
                reason.condition,
                reason.because,
                reason.where,
                action.missing,
                reason.cites,
            )
        legal.append(reason)
    return Explanation(
        ruleset.ref,
        decision.student_id,
        as_of,
        tier_reason,
        tuple(higher),
        tuple(rules),
        tuple(legal),
        _distance(ruleset, facts, as_of, tier),
    )


def _distance(
    ruleset: CompiledRuleset, facts: Mapping[str, Any], as_of: dt.date, tier: TierSpec
) -> str | None:
    """Say how many more unexcused absences would move the student to a higher tier."""
    if not any(t.level > tier.level for t in ruleset.spec.tiers):
        return None
    keys = [
        k for k in ("days_enrolled", "days_absent", "days_unexcused") if k in ruleset.fact_names
    ]
    if not keys:
        return None
    base: dict[str, float] = {}
    for key in keys:
        value = facts.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        base[key] = value
    if isinstance(facts, dict):
        data = dict(facts.items())
    else:  # a StudentFacts is no dict
        data = {k: facts.get(k) for k in facts.keys()}  # noqa: SIM118
    for k in range(1, _NEXT_TIER_HORIZON + 1):
        for key in keys:
            data[key] = base[key] + k
        try:
            t = ruleset._run(data, as_of)[0]
        except DataError:  # more absences than the rule set can count: no distance to tell
            return None
        found = ruleset.spec.tiers[t]
        if found.level > tier.level:
            what = "absence" if k == 1 else "absences"
            return (
                f"{k} more unexcused {what} (and no other change) would reach "
                f"{found.label or found.id} ({found.id})"
            )
    return f"more than {_NEXT_TIER_HORIZON} further absences from a higher tier"


def step_warranted(
    ruleset: CompiledRuleset,
    step: str,
    facts: Mapping[str, Any],
    *,
    as_of: dt.date,
    explain: bool = True,
) -> tuple[bool, str]:
    """Whether legal step ``step``'s condition (its ``when``) holds, and why in words.

    Only the condition is read: not the step's prerequisites or exemptions, and whether
    or not the step was issued (evaluation reports only steps not yet issued). The words give
    the values the condition compared, as :func:`explain` does:
    ``truancies = 2 >= not1_from = 3 is false``.

    Args:
        ruleset: The compiled rule set.
        step: The legal step's id.
        facts: The student's facts.
        as_of: The date the facts are read at (windows over ``attendance_log`` end here).
        explain: Put the condition's values in words (False: the words are empty, and
            the answer costs one evaluation).

    Raises:
        KeyError: The rule set has no such legal step.
        DataError: A fact the condition reads is missing or malformed.
    """
    index = next((i for i, s in enumerate(ruleset.spec.legal) if s.id == step), None)
    if index is None:
        known = ", ".join(s.id for s in ruleset.spec.legal) or "none"
        raise KeyError(f"rule set {ruleset.id} has no legal step {step!r} (it has: {known})")
    t, _rules, bits, _exempt = ruleset._run(facts, as_of)
    holds = bool(bits >> index & 1)
    if not explain:
        return holds, ""
    spec = ruleset.spec.legal[index]
    env, ctx = environment(ruleset, facts, as_of)
    tier = ruleset.spec.tiers[t]
    env["tier"], env["tier_level"] = tier.id, tier.level
    reason, _ = _reason(
        ruleset,
        f"legal {spec.label or spec.id}",
        ruleset.program.legal_exprs[index],
        env,
        ctx,
        spec.cites,
    )
    return holds, "; ".join(reason.because) or reason.condition
