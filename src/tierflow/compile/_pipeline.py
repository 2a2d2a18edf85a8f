"""The compiler: an ordered list of named stages from YAML text to a compiled rule set.

Each stage reads and extends one :class:`Compilation`; a stage that finds problems adds them and
the pipeline stops after it, raising :class:`~tierflow.errors.RulesetError` with all of them.
Tests can stop after any stage with ``until=``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from tierflow.compile._checked import CheckedExpr
from tierflow.compile._merge import merge_documents
from tierflow.compile._schema import problems_from_validation
from tierflow.compile._source import Document, SourceMap, load_documents
from tierflow.errors import Problem, RulesetError, suggest
from tierflow.expr import (
    ANY,
    BOOL,
    DATE,
    NUMBER,
    STRING,
    Arith,
    BoolOp,
    Call,
    Compare,
    Const,
    Expr,
    ExprSyntaxError,
    FunctionRegistry,
    ListExpr,
    Name,
    Scope,
    Type,
    check,
    enum_of,
    fold,
    list_of,
    parse,
    unparse,
    walk,
)
from tierflow.expr._bounds import whole_bound
from tierflow.facts._model import CAUSES, FACTS, GROUPS
from tierflow.source import SourceSpan, format_path
from tierflow.spec._models import RulesetSpec

__all__ = [
    "BUILTIN_METRICS",
    "STAGES",
    "Compilation",
    "FactRead",
    "run_stages",
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

_DECLARED_TYPES = {
    "number": NUMBER,
    "string": STRING,
    "bool": BOOL,
    "date": DATE,
    "list": list_of(ANY),
}


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
    completed: list[str] = field(default_factory=list)

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


# --- stage 1: resolve extends -------------------------------------------------------------


def _resolve_extends(c: Compilation) -> None:
    chain, problems = load_documents(c.root)
    c.documents = chain
    c.problems.extend(problems)
    if problems:
        return
    merged, smap, merge_problems = merge_documents(chain)
    c.merged, c.smap = merged, smap
    c.problems.extend(merge_problems)


# --- stage 2: validate against the spec models ---------------------------------------------


def _validate_schema(c: Compilation) -> None:
    try:
        c.spec = RulesetSpec.model_validate(c.merged)
    except ValidationError as exc:
        c.problems.extend(problems_from_validation(exc, c.merged, c.smap))
        _check_raw_expressions(c)
        return
    body = c.spec.model_dump(mode="json", exclude={"tests"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    c.content_hash = hashlib.sha256(canonical.encode()).hexdigest()


_RAW_EXPRESSIONS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("metrics", ("expr",), False),
    ("tiers", ("when",), True),
    ("tiers", ("stay_while",), True),
    ("rules", ("when",), True),
    ("legal", ("when",), True),
    ("legal", ("exempt_when",), True),
    ("interventions", ("goal", "when"), True),
)


def _check_raw_expressions(c: Compilation) -> None:
    """Check the expressions of a rule set whose schema failed, so all problems show at once.

    Only well-formed strings at known places are checked, in a scope where metrics have an
    unknown type (their definitions may be among the broken parts); problems at a path that
    already has a schema problem are left out.
    """
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
    history = _history_scope(c.functions, vocab)
    for i, step in entries("legal"):
        req = step.get("requires")
        items = req.get("checklist") if isinstance(req, dict) else None
        for j, item in enumerate(items if isinstance(items, list) else ()):
            when = item.get("when") if isinstance(item, dict) else None
            path: tuple[str | int, ...] = ("legal", i, "requires", "checklist", j, "when")
            if isinstance(when, str) and when.strip() and format_path(path) not in broken:
                _compile_checklist_item(c, when, path, history, set(after))
    for section, keys, boolean in _RAW_EXPRESSIONS:
        for i, entry in entries(section):
            value: Any = entry
            for key in keys:
                value = value.get(key) if isinstance(value, dict) else None
            path = (section, i, *keys)
            if not isinstance(value, str) or not value.strip() or format_path(path) in broken:
                continue
            scope = Scope(after if section in ("rules", "legal") else names, c.functions, vocab)
            _compile_expr(c, value, path, scope, BOOL if boolean else None)


# --- stage 3: cross references ---------------------------------------------------------------


def _check_unique(c: Compilation, section: str, ids: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, entry_id in enumerate(ids):
        if entry_id in seen:
            first = c.smap.span((section, seen[entry_id], "id"))
            c.problem(
                (section, i, "id"),
                "ref.duplicate_id",
                f"{section} id {entry_id!r} is already used at line {first.line}",
            )
        else:
            seen[entry_id] = i


def _check_refs(
    c: Compilation,
    path: tuple[str | int, ...],
    values: str | Iterable[str],
    known: Iterable[str],
    code: str,
    what: str,
) -> None:
    """Report each of ``values`` not in ``known``: at ``path[j]``, or at ``path`` for one text."""
    known_list = list(known)
    located = (
        [(path, values)]
        if isinstance(values, str)
        else [((*path, j), v) for j, v in enumerate(values)]
    )
    for where, value in located:
        if value not in known_list:
            c.problem(
                where,
                code,
                f"unknown {what} {value!r}",
                suggest(value, known_list)
                or (f"known: {', '.join(known_list)}" if known_list else ""),
            )


def _check_references(c: Compilation) -> None:
    s = c.the_spec
    for section in ("references", "metrics", "tiers", "rules", "interventions", "legal"):
        _check_unique(c, section, [e.id for e in getattr(s, section)])
    refs = [r.id for r in s.references]
    tiers = [t.id for t in s.tiers]
    ivs = [i.id for i in s.interventions]
    steps = [step.id for step in s.legal]
    causes = [*CAUSES, *s.facts.causes]
    groups = [*GROUPS, *s.facts.groups]

    for section in ("metrics", "tiers", "rules", "interventions", "legal"):
        for i, entry in enumerate(getattr(s, section)):
            _check_refs(
                c, (section, i, "cites"), entry.cites, refs, "ref.unknown_citation", "reference"
            )
    _check_refs(
        c, ("school_year", "cites"), s.school_year.cites, refs, "ref.unknown_citation", "reference"
    )

    if not s.tiers:
        c.problem(("tiers",) if "tiers" in c.merged else (), "tier.none", "a rule set needs tiers")
    defaults = [i for i, t in enumerate(s.tiers) if t.default]
    if s.tiers and not defaults:
        c.problem(
            ("tiers", len(s.tiers) - 1),
            "tier.no_default",
            "no default tier: some students would match no tier",
            "mark the last tier 'default: true'",
        )
    for i in defaults[1:]:
        c.problem(
            ("tiers", i, "default"), "tier.multiple_defaults", "only one tier may be the default"
        )
    for i, tier in enumerate(s.tiers):
        if tier.default and tier.when is not None:
            c.problem(
                ("tiers", i, "when"),
                "tier.default_with_condition",
                "the default tier matches everyone; it takes no 'when'",
            )
        if tier.default and tier.stay_while is not None:
            c.problem(
                ("tiers", i, "stay_while"),
                "tier.default_with_condition",
                "the default tier matches everyone; it takes no 'stay_while'",
                "a student leaves the default tier only for an earlier tier that matches; "
                "remove the 'stay_while'",
            )
        if not tier.default and tier.when is None:
            c.problem(("tiers", i), "tier.missing_condition", f"tier {tier.id!r} needs a 'when'")
        if defaults and i > defaults[0]:
            c.problem(
                ("tiers", i, "id"),
                "tier.after_default",
                f"tier {tier.id!r} comes after the default tier and can never match",
                "move it before the default tier (or use 'before:' when extending)",
            )
        _check_refs(
            c, ("tiers", i, "assign"), tier.assign, ivs, "ref.unknown_intervention", "intervention"
        )

    for i, rule in enumerate(s.rules):
        _check_refs(
            c, ("rules", i, "assign"), rule.assign, ivs, "ref.unknown_intervention", "intervention"
        )
        _check_refs(c, ("rules", i, "tiers"), rule.tiers or (), tiers, "ref.unknown_tier", "tier")
        _check_refs(
            c, ("rules", i, "causes"), rule.causes or (), causes, "ref.unknown_cause", "cause"
        )
        _check_refs(
            c, ("rules", i, "groups"), rule.groups or (), groups, "ref.unknown_group", "group"
        )
        if rule.when is None and rule.tiers is None and rule.causes is None and rule.groups is None:
            c.problem(
                ("rules", i),
                "rule.no_condition",
                f"rule {rule.id!r} has no condition and would fire for every student",
                "add 'when', 'tiers', 'causes' or 'groups' (or assign it on the default tier)",
            )

    by_id = {iv.id: iv for iv in s.interventions}
    for i, iv in enumerate(s.interventions):
        if iv.tier not in tiers:
            _check_refs(c, ("interventions", i, "tier"), iv.tier, tiers, "ref.unknown_tier", "tier")
        if iv.escalates_to is not None and iv.escalates_to not in by_id:
            _check_refs(
                c,
                ("interventions", i, "escalates_to"),
                iv.escalates_to,
                ivs,
                "ref.unknown_intervention",
                "intervention",
            )
    for i, iv in enumerate(s.interventions):
        seen = [iv.id]
        nxt = iv.escalates_to
        while nxt is not None and nxt in by_id:
            if nxt in seen:
                if nxt == iv.id:
                    loop = " -> ".join([*seen, nxt])
                    c.problem(
                        ("interventions", i, "escalates_to"),
                        "ref.escalation_cycle",
                        f"escalation never ends: {loop}",
                    )
                break
            seen.append(nxt)
            nxt = by_id[nxt].escalates_to

    for i, step in enumerate(s.legal):
        req = step.requires
        _check_refs(
            c, ("legal", i, "requires", "steps"), req.steps, steps, "ref.unknown_step", "legal step"
        )
        for j, other in enumerate(req.steps):
            if other in steps and steps.index(other) >= i:
                c.problem(
                    ("legal", i, "requires", "steps", j),
                    "legal.requires_later_step",
                    f"{step.id!r} requires {other!r}, which comes at or after it in the ladder",
                )
        if req.supportive_min_tier is not None:
            _check_refs(
                c,
                ("legal", i, "requires", "supportive_min_tier"),
                req.supportive_min_tier,
                tiers,
                "ref.unknown_tier",
                "tier",
            )
        seen_items: dict[str, int] = {}
        for j, item in enumerate(req.checklist):
            where: tuple[str | int, ...] = ("legal", i, "requires", "checklist", j)
            _check_refs(c, (*where, "cites"), item.cites, refs, "ref.unknown_citation", "reference")
            if item.id in seen_items:
                first = c.smap.span(("legal", i, "requires", "checklist", seen_items[item.id]))
                c.problem(
                    (*where, "id"),
                    "ref.duplicate_id",
                    f"checklist item id {item.id!r} of {step.id!r} is already used at line "
                    f"{first.line}",
                )
            else:
                seen_items[item.id] = j
        if i == 0 and req.previous:
            c.problem(
                ("legal", i, "requires", "previous"),
                "legal.no_previous",
                f"{step.id!r} is the first step; it has no previous step",
            )
        _check_refs(
            c,
            ("legal", i, "exempt_groups"),
            step.exempt_groups,
            groups,
            "ref.unknown_group",
            "group",
        )

    std = set(FACTS) | set(BUILTIN_METRICS) | {"as_of", "tier", "tier_level"}
    for name in s.facts.extra:
        if name in std:
            c.problem(
                ("facts", "extra", name), "ref.name_clash", f"{name!r} is a standard name", key=True
            )
    for i, metric in enumerate(s.metrics):
        if metric.id in std or metric.id in s.facts.extra:
            c.problem(("metrics", i, "id"), "ref.name_clash", f"metric {metric.id!r} hides a fact")
    for name, value in s.facts.defaults.items():
        if name not in FACTS:
            known = [k for k in FACTS if k != "student_id"]
            hint = suggest(name, known) or "declare extra facts under facts.extra"
            c.problem(
                ("facts", "defaults", name),
                "ref.unknown_fact",
                f"no standard fact {name!r}",
                hint,
                key=True,
            )
        elif not _value_fits(FACTS[name].type, value):
            c.problem(
                ("facts", "defaults", name),
                "schema.invalid_type",
                f"default for {name!r} must be a {FACTS[name].type}, got {value!r}",
            )
    for name, decl in s.facts.extra.items():
        if decl.default is not None and not _value_fits(_DECLARED_TYPES[decl.type], decl.default):
            c.problem(
                ("facts", "extra", name, "default"),
                "schema.invalid_type",
                f"default for {name!r} must be a {decl.type}, got {decl.default!r}",
            )


def _value_fits(t: Type, value: Any) -> bool:
    if t.kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t.kind == "string":
        return isinstance(value, str)
    if t.kind == "bool":
        return isinstance(value, bool)
    if t.kind == "date":
        return isinstance(value, dt.date)
    if t.kind == "list":
        return isinstance(value, (list, tuple))
    return True


# --- stage 4: expressions ----------------------------------------------------------------------


def _scope_names(c: Compilation) -> dict[str, Type]:
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
        names[name] = _DECLARED_TYPES[decl.type]
    names["as_of"] = DATE
    return names


def _compile_expr(
    c: Compilation,
    text: str,
    path: tuple[str | int, ...],
    scope: Scope,
    expected: Type | None,
) -> CheckedExpr | None:
    span = c.smap.span(path)
    doc = c.smap.document(path)
    # The models strip surrounding spaces: offsets are into the text as its file wrote it.
    raw = c.smap.raw_value(path)
    written, lead = text, 0
    if isinstance(raw, str) and raw.strip() == text:
        written, lead = raw, len(raw) - len(raw.lstrip())
    try:
        tree = parse(text)
    except ExprSyntaxError as exc:
        c.problems.append(
            Problem(
                doc.expression_span(span, lead + exc.pos, written),
                exc.code,
                exc.message,
                c.smap.path_in_source(path),
                exc.hint,
            )
        )
        return None
    found = check(tree, scope, expected)
    if not found:
        folded = fold(tree, scope.functions, found)
    for p in found:
        c.problems.append(
            Problem(
                doc.expression_span(span, lead + p.pos, written),
                p.code,
                p.message,
                c.smap.path_in_source(path),
                p.hint,
            )
        )
    if found:
        return None
    spans = {
        n.pos: doc.expression_span(span, lead + n.pos, written)
        for n in walk(folded)
        if isinstance(n, (Arith, Call))
    }
    return CheckedExpr(folded, text, span, c.smap.path_in_source(path), spans)


_CHECKLIST_HINT = (
    "a checklist item reads the documented history only, through its functions "
    "(conferences_held, conferences_attempted, contacts, intervention_tried, legal_issued...); "
    "a condition on facts or metrics belongs in the step's 'when'"
)


def _history_scope(functions: FunctionRegistry, vocab: Mapping[str, frozenset[str]]) -> Scope:
    """The scope of a checklist item: ``as_of`` and the functions that read only the history.

    A checklist is checked wherever a step's evidence is (the engine, a packet, the compliance
    report), and there only the documented history is known, not the student's facts.
    """
    allowed = FunctionRegistry(
        {f.name: f for f in functions if not f.context or (f.reads and set(f.reads) <= {"history"})}
    )
    return Scope({"as_of": DATE}, allowed, vocab)


def _compile_checklist_item(
    c: Compilation,
    text: str,
    path: tuple[str | int, ...],
    scope: Scope,
    outside: set[str],
) -> CheckedExpr | None:
    """Compile a checklist item's condition (true/false, in the history scope).

    A fact or metric it names, or a function reading facts it calls, is reported as unknown
    there, with a hint saying what a checklist item may read instead of a did-you-mean.
    """
    before = len(c.problems)
    checked = _compile_expr(c, text, path, scope, BOOL)
    facts_readers = {f.name for f in c.functions if f.context and set(f.reads) - {"history"}}
    for k in range(before, len(c.problems)):
        p = c.problems[k]
        name = p.message.split("'")[1] if p.message.count("'") >= 2 else ""
        if (p.code == "expr.unknown_name" and name in outside) or (
            p.code == "expr.unknown_function" and name in facts_readers
        ):
            c.problems[k] = Problem(p.span, p.code, p.message, p.path, _CHECKLIST_HINT)
    return checked


def _builtin_metric(c: Compilation, name: str, scope: Scope) -> CheckedExpr:
    text = BUILTIN_METRICS[name][0]
    tree = parse(text)
    assert not check(tree, scope, NUMBER)
    return CheckedExpr(fold(tree, scope.functions), text, SourceSpan("<tierflow built-in>"), name)


def _shorthand(
    rule_when: CheckedExpr | None, parts: list[Expr], path: str, span: SourceSpan
) -> CheckedExpr | None:
    if not parts:
        return rule_when
    conds = [*parts, *([rule_when.tree] if rule_when is not None else [])]
    tree = conds[0] if len(conds) == 1 else BoolOp(0, "and", conds)
    tree.type = BOOL
    tree = fold(tree)
    text = unparse(tree)
    return CheckedExpr(tree, text, rule_when.span if rule_when else span, path)


def _membership(name: str, values: tuple[str, ...], scope_type: Type) -> Expr:
    """Build ``name in [values]`` (scalar name) or ``'a' in name or ...`` (list name)."""
    if scope_type.kind == "list":
        alts: list[Expr] = []
        for v in values:
            const = Const(0, v)
            const.type = STRING
            ref = Name(0, name)
            ref.type = scope_type
            cmp = Compare(0, ["in"], [const, ref])
            cmp.type = BOOL
            alts.append(cmp)
        if len(alts) == 1:
            return alts[0]
        node: Expr = BoolOp(0, "or", alts)
        node.type = BOOL
        return node
    ref = Name(0, name)
    ref.type = scope_type
    items: list[Expr] = []
    for v in values:
        const = Const(0, v)
        const.type = STRING
        items.append(const)
    lst = ListExpr(0, items)
    lst.type = list_of(STRING)
    cmp = Compare(0, ["in"], [ref, lst])
    cmp.type = BOOL
    return cmp


def _check_expressions(c: Compilation) -> None:
    s = c.the_spec
    names = _scope_names(c)
    vocab = {
        "legal_step": frozenset(st.id for st in s.legal),
        "tier": frozenset(t.id for t in s.tiers),
        "intervention": frozenset(iv.id for iv in s.interventions),
    }
    base = Scope(names, c.functions, vocab)
    # The largest whole number each metric can hold, so a metric built on metrics is bounded
    # through the whole chain (m2 = m1 * m1 with m1 = x * x).
    bounds: dict[str, float] = {}
    for name in BUILTIN_METRICS:
        c.metric_exprs[name] = _builtin_metric(c, name, base)
        names[name] = NUMBER
        bounds[name] = whole_bound(c.metric_exprs[name].tree, bounds)[0]
    for i, metric in enumerate(s.metrics):
        checked = _compile_expr(
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
    bounds["tier_level"] = float(max((abs(t.level) for t in s.tiers), default=0))
    tier_scope = Scope(dict(names), c.functions, vocab, dict(bounds))
    for i, tier in enumerate(s.tiers):
        c.tier_exprs.append(
            _compile_expr(c, tier.when, ("tiers", i, "when"), tier_scope, BOOL)
            if tier.when
            else None
        )
        c.stay_exprs.append(
            _compile_expr(c, tier.stay_while, ("tiers", i, "stay_while"), tier_scope, BOOL)
            if tier.stay_while and not tier.default
            else None
        )
    after = dict(names)
    after["tier"] = enum_of("tier", {t.id for t in s.tiers})
    after["tier_level"] = NUMBER
    after_scope = Scope(after, c.functions, vocab, dict(bounds))
    for i, rule in enumerate(s.rules):
        when = (
            _compile_expr(c, rule.when, ("rules", i, "when"), after_scope, BOOL)
            if rule.when
            else None
        )
        if rule.when is not None and when is None:
            continue
        parts: list[Expr] = []
        if rule.tiers is not None:
            parts.append(_membership("tier", rule.tiers, after["tier"]))
        if rule.causes is not None:
            parts.append(_membership("causes", rule.causes, names["causes"]))
        if rule.groups is not None:
            parts.append(_membership("groups", rule.groups, names["groups"]))
        combined = _shorthand(
            when, parts, c.smap.path_in_source(("rules", i)), c.smap.span(("rules", i))
        )
        if combined is not None:
            c.rule_exprs.append(combined)
    for i, step in enumerate(s.legal):
        when = _compile_expr(c, step.when, ("legal", i, "when"), after_scope, BOOL)
        if when is not None:
            c.legal_exprs.append(when)
        exempt = None
        if step.exempt_when is not None:
            exempt = _compile_expr(
                c, step.exempt_when, ("legal", i, "exempt_when"), after_scope, BOOL
            )
        parts = (
            [fold(_membership("groups", step.exempt_groups, names["groups"]))]
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
    history = _history_scope(c.functions, vocab)
    everything = set(after) | set(c.metric_exprs)
    for i, step in enumerate(s.legal):
        items = []
        for j, item in enumerate(step.requires.checklist):
            path = ("legal", i, "requires", "checklist", j, "when")
            checked = _compile_checklist_item(c, item.when, path, history, everything)
            if checked is not None:
                items.append(checked)
        c.checklist_exprs.append(tuple(items))
    for i, iv in enumerate(s.interventions):
        if iv.goal is not None:
            goal = _compile_expr(
                c, iv.goal.when, ("interventions", i, "goal", "when"), tier_scope, BOOL
            )
            if goal is not None:
                c.goal_exprs[iv.id] = goal
    c.names = names
    if not c.problems:
        _plan_reads(c)


def _plan_reads(c: Compilation) -> None:
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
            out.append(FactRead(name, _DECLARED_TYPES[decl.type].kind, has, _freeze(decl.default)))
    c.fact_reads = out


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


STAGES: dict[str, Callable[[Compilation], None]] = {
    "resolve_extends": _resolve_extends,
    "validate_schema": _validate_schema,
    "check_references": _check_references,
    "check_expressions": _check_expressions,
}
"""The compiler's stages, in order. Code generation follows in :mod:`tierflow.compile`."""


def run_stages(c: Compilation, until: str | None = None) -> Compilation:
    """Run the stages in order (up to and including ``until``), raising on problems."""
    if until is not None and until not in STAGES:
        raise ValueError(f"unknown stage {until!r}; stages: {', '.join(STAGES)}")
    for name, stage in STAGES.items():
        stage(c)
        errors = [p for p in c.problems if p.severity == "error"]
        if errors and name == "check_references" and (until is None or until != name):
            # Bad references do not stop the expressions from being checked: report both at
            # once. Expression problems that only restate a reference problem are dropped.
            seen = {(p.span, p.path) for p in errors}
            before = len(c.problems)
            _check_expressions(c)
            fresh = [p for p in c.problems[before:] if (p.span, p.path) not in seen]
            del c.problems[before:]
            c.problems.extend(fresh)
            errors = [p for p in c.problems if p.severity == "error"]
        if errors:
            raise RulesetError(errors)
        c.completed.append(name)
        if name == until:
            break
    return c


def reads_as_mapping(c: Compilation) -> Mapping[str, FactRead]:
    """Return the planned fact reads by name."""
    return {r.name: r for r in c.fact_reads}
