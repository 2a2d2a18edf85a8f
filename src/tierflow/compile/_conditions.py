"""The condition stages: every expression of a rule set parsed, type-checked and folded.

Each ``check_*`` function is one stage of :data:`~tierflow.compile._pipeline.STAGES`, in the
order conditions may see each other's names: metrics first (a metric may use the metrics defined
before it), then tiers, rules, legal steps, checklists and goals. A problem one of them finds at
the place of an earlier stage's error is dropped by the pipeline: it only restates that error.
"""

from __future__ import annotations

from typing import Any

from tierflow.compile._checked import CheckedExpr
from tierflow.compile._compilation import BUILTIN_METRICS, DECLARED_TYPES, Compilation
from tierflow.compile._expressions import (
    builtin_metric,
    compile_checklist_item,
    compile_expr,
    history_scope,
    membership,
    shorthand,
)
from tierflow.expr import (
    ANY,
    BOOL,
    DATE,
    NUMBER,
    BoolOp,
    Expr,
    Scope,
    Type,
    enum_of,
    fold,
    list_of,
    unparse,
)
from tierflow.expr._bounds import whole_bound
from tierflow.facts._model import CAUSES, FACTS, GROUPS
from tierflow.source import format_path

__all__ = [
    "check_checklist_conditions",
    "check_goal_conditions",
    "check_legal_conditions",
    "check_metric_expressions",
    "check_rule_conditions",
    "check_tier_conditions",
    "check_unvalidated_expressions",
]


def _vocabularies(c: Compilation) -> dict[str, frozenset[str]]:
    s = c.the_spec
    return {
        "legal_step": frozenset(st.id for st in s.legal),
        "tier": frozenset(t.id for t in s.tiers),
        "intervention": frozenset(iv.id for iv in s.interventions),
    }


def _fact_types(c: Compilation) -> dict[str, Type]:
    s = c.the_spec
    names: dict[str, Type] = {}
    for name, info in FACTS.items():
        t = info.type
        if name == "causes":
            t = list_of(enum_of("cause", {*CAUSES, *s.facts.causes}))
        elif name == "groups":
            t = list_of(enum_of("student group", {*GROUPS, *s.facts.groups}))
        names[name] = t
    for name, decl in s.facts.extra.items():
        names[name] = DECLARED_TYPES[decl.type]
    names["as_of"] = DATE
    return names


def _tier_bounds(c: Compilation) -> dict[str, float]:
    """The metric bounds and ``tier_level``'s: the largest level a tier has."""
    level = float(max((abs(t.level) for t in c.the_spec.tiers), default=0))
    return {**c.bounds, "tier_level": level}


def _tier_scope(c: Compilation) -> Scope:
    """What a tier's conditions (and a goal) may name: facts and metrics."""
    return Scope(dict(c.names), c.functions, _vocabularies(c), _tier_bounds(c))


def _after_tier_names(c: Compilation) -> dict[str, Type]:
    return {
        **c.names,
        "tier": enum_of("tier", {t.id for t in c.the_spec.tiers}),
        "tier_level": NUMBER,
    }


def _after_tier_scope(c: Compilation) -> Scope:
    """What a rule's or legal step's conditions may name: facts, metrics and the tier found."""
    return Scope(_after_tier_names(c), c.functions, _vocabularies(c), _tier_bounds(c))


def check_metric_expressions(c: Compilation) -> None:
    """Compile the built-in metrics, then each metric in the names defined before it."""
    s = c.the_spec
    names = _fact_types(c)
    vocab = _vocabularies(c)
    base = Scope(names, c.functions, vocab)
    # The largest whole number each metric can hold, so a metric built on metrics is bounded
    # through the whole chain (m2 = m1 * m1 with m1 = x * x).
    bounds: dict[str, float] = {}
    for name in BUILTIN_METRICS:
        c.metric_exprs[name] = builtin_metric(name, base)
        names[name] = NUMBER
        bounds[name] = whole_bound(c.metric_exprs[name].tree, bounds)[0]
    for i, metric in enumerate(s.metrics):
        checked = compile_expr(
            c,
            metric.expr,
            ("metrics", i, "expr"),
            Scope(dict(names), c.functions, vocab, dict(bounds)),
            None,
        )
        if checked is not None:
            c.metric_exprs[metric.id] = checked
            names[metric.id] = checked.tree.type
            bounds[metric.id] = whole_bound(checked.tree, bounds)[0]
        else:
            names[metric.id] = ANY  # reported already; keep checking the rest without noise
            bounds[metric.id] = 0.0
    c.names, c.bounds = names, bounds


def check_tier_conditions(c: Compilation) -> None:
    """Compile each tier's ``when`` and ``stay_while`` (true/false, on facts and metrics)."""
    scope = _tier_scope(c)
    for i, tier in enumerate(c.the_spec.tiers):
        c.tier_exprs.append(
            compile_expr(c, tier.when, ("tiers", i, "when"), scope, BOOL) if tier.when else None
        )
        c.stay_exprs.append(
            compile_expr(c, tier.stay_while, ("tiers", i, "stay_while"), scope, BOOL)
            if tier.stay_while and not tier.default
            else None
        )


def check_rule_conditions(c: Compilation) -> None:
    """Compile each rule's ``when`` joined with its ``tiers``/``causes``/``groups`` shorthand."""
    scope = _after_tier_scope(c)
    for i, rule in enumerate(c.the_spec.rules):
        when = compile_expr(c, rule.when, ("rules", i, "when"), scope, BOOL) if rule.when else None
        if rule.when is not None and when is None:
            continue
        parts: list[Expr] = []
        if rule.tiers is not None:
            parts.append(membership("tier", rule.tiers, scope.names["tier"]))
        if rule.causes is not None:
            parts.append(membership("causes", rule.causes, c.names["causes"]))
        if rule.groups is not None:
            parts.append(membership("groups", rule.groups, c.names["groups"]))
        combined = shorthand(
            when, parts, c.smap.path_in_source(("rules", i)), c.smap.span(("rules", i))
        )
        if combined is not None:
            c.rule_exprs.append(combined)


def check_legal_conditions(c: Compilation) -> None:
    """Compile each legal step's ``when`` and its exemption (``exempt_when``, ``exempt_groups``)."""
    scope = _after_tier_scope(c)
    for i, step in enumerate(c.the_spec.legal):
        when = compile_expr(c, step.when, ("legal", i, "when"), scope, BOOL)
        if when is not None:
            c.legal_exprs.append(when)
        exempt = None
        if step.exempt_when is not None:
            exempt = compile_expr(c, step.exempt_when, ("legal", i, "exempt_when"), scope, BOOL)
        parts = (
            [fold(membership("groups", step.exempt_groups, c.names["groups"]))]
            if step.exempt_groups
            else []
        )
        if parts and exempt is not None:
            tree: Expr = BoolOp(0, "or", [*parts, exempt.tree])
            tree.type = BOOL
            exempt = CheckedExpr(tree, unparse(tree), exempt.span, exempt.path)
        elif parts:
            exempt = CheckedExpr(
                parts[0],
                unparse(parts[0]),
                c.smap.span(("legal", i)),
                format_path(("legal", i, "exempt_groups")),
            )
        c.exempt_exprs.append(exempt)


def check_checklist_conditions(c: Compilation) -> None:
    """Compile each legal checklist item's ``when`` (on the documented history only)."""
    history = history_scope(c.functions, _vocabularies(c))
    everything = set(_after_tier_names(c)) | set(c.metric_exprs)
    for i, step in enumerate(c.the_spec.legal):
        items = []
        for j, item in enumerate(step.requires.checklist):
            path = ("legal", i, "requires", "checklist", j, "when")
            checked = compile_checklist_item(c, item.when, path, history, everything)
            if checked is not None:
                items.append(checked)
        c.checklist_exprs.append(tuple(items))


def check_goal_conditions(c: Compilation) -> None:
    """Compile each intervention's ``goal.when`` (on facts and metrics, like a tier's)."""
    scope = _tier_scope(c)
    for i, iv in enumerate(c.the_spec.interventions):
        if iv.goal is not None:
            goal = compile_expr(c, iv.goal.when, ("interventions", i, "goal", "when"), scope, BOOL)
            if goal is not None:
                c.goal_exprs[iv.id] = goal


_UNVALIDATED: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("metrics", ("expr",), False),
    ("tiers", ("when",), True),
    ("tiers", ("stay_while",), True),
    ("rules", ("when",), True),
    ("legal", ("when",), True),
    ("legal", ("exempt_when",), True),
    ("interventions", ("goal", "when"), True),
)


def check_unvalidated_expressions(c: Compilation) -> None:
    """Check the expressions of a rule set whose schema failed, so all problems show at once.

    It does nothing after a schema that passed (the later stages check those expressions).
    Only well-formed strings at known places are checked, in a scope where metrics have an
    unknown type (their definitions may be among the broken parts); problems at a path that
    already has a schema problem are left out.
    """
    if c.spec is not None:
        return
    data = c.merged
    names: dict[str, Type] = {name: info.type for name, info in FACTS.items()}
    names |= dict.fromkeys(BUILTIN_METRICS, NUMBER) | {"as_of": DATE}
    extra = data.get("facts", {}).get("extra") if isinstance(data.get("facts"), dict) else None
    if isinstance(extra, dict):
        names |= dict.fromkeys((k for k in extra if isinstance(k, str)), ANY)

    def entries(section: str) -> list[tuple[int, dict[str, Any]]]:
        items = data.get(section)
        return (
            [(i, e) for i, e in enumerate(items) if isinstance(e, dict)]
            if isinstance(items, list)
            else []
        )

    names |= {e["id"]: ANY for _, e in entries("metrics") if isinstance(e.get("id"), str)}
    tier_ids = {e["id"] for _, e in entries("tiers") if isinstance(e.get("id"), str)}
    step_ids = {e["id"] for _, e in entries("legal") if isinstance(e.get("id"), str)}
    after = names | {"tier": enum_of("tier", tier_ids), "tier_level": NUMBER}
    iv_ids = {e["id"] for _, e in entries("interventions") if isinstance(e.get("id"), str)}
    vocab = {
        "legal_step": frozenset(step_ids),
        "tier": frozenset(tier_ids),
        "intervention": frozenset(iv_ids),
    }
    broken = {p.path for p in c.problems}
    history = history_scope(c.functions, vocab)
    for i, step in entries("legal"):
        req = step.get("requires")
        items = req.get("checklist") if isinstance(req, dict) else None
        for j, item in enumerate(items if isinstance(items, list) else ()):
            when = item.get("when") if isinstance(item, dict) else None
            path: tuple[str | int, ...] = ("legal", i, "requires", "checklist", j, "when")
            if isinstance(when, str) and when.strip() and format_path(path) not in broken:
                compile_checklist_item(c, when, path, history, set(after))
    for section, keys, boolean in _UNVALIDATED:
        for i, entry in entries(section):
            value: Any = entry
            for key in keys:
                value = value.get(key) if isinstance(value, dict) else None
            path = (section, i, *keys)
            if not isinstance(value, str) or not value.strip() or format_path(path) in broken:
                continue
            scope = Scope(after if section in ("rules", "legal") else names, c.functions, vocab)
            compile_expr(c, value, path, scope, BOOL if boolean else None)
