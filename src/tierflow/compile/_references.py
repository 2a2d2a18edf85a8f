"""The reference stages: ids are unique and every id, name and default a rule set uses exists.

Each function is one stage of :data:`~tierflow.compile._pipeline.STAGES`. None of them stops the
pipeline: the conditions are checked after them even when they find problems, so an author sees
every problem at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from tierflow.compile._compilation import BUILTIN_METRICS, DECLARED_TYPES, Compilation
from tierflow.errors import suggest
from tierflow.expr import Type
from tierflow.facts._model import CAUSES, FACTS, GROUPS
from tierflow.spec._models import BUILTIN_ROLES, ENTRY_SECTIONS

__all__ = [
    "check_citations",
    "check_escalations",
    "check_fact_defaults",
    "check_fact_names",
    "check_intervention_references",
    "check_legal_ladder",
    "check_owner_roles",
    "check_rule_references",
    "check_tier_list",
    "check_unique_ids",
]


def _report_unknown(
    c: Compilation,
    path: tuple[str | int, ...],
    values: str | Iterable[str],
    known: Iterable[str],
    code: str,
    what: str,
    otherwise: str = "",
) -> None:
    """Report each of ``values`` not in ``known``: at ``path[j]``, or at ``path`` for one text.

    The hint is a did-you-mean, else ``otherwise``, else the known ids.
    """
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
                or otherwise
                or (f"known: {', '.join(known_list)}" if known_list else ""),
            )


def check_unique_ids(c: Compilation) -> None:
    """Every entry of a section has an id no earlier entry of that section has."""
    s = c.the_spec
    for section in ("references", "metrics", "tiers", "rules", "interventions", "legal"):
        seen: dict[str, int] = {}
        for i, entry in enumerate(getattr(s, section)):
            if entry.id in seen:
                first = c.smap.span((section, seen[entry.id], "id"))
                c.problem(
                    (section, i, "id"),
                    "ref.duplicate_id",
                    f"{section} id {entry.id!r} is already used at line {first.line}",
                )
            else:
                seen[entry.id] = i


def check_citations(c: Compilation) -> None:
    """Every ``cites`` outside the legal checklists names a declared reference."""
    s = c.the_spec
    refs = [r.id for r in s.references]
    for section in ENTRY_SECTIONS:
        if section == "references":
            continue
        for i, entry in enumerate(getattr(s, section)):
            _report_unknown(
                c, (section, i, "cites"), entry.cites, refs, "ref.unknown_citation", "reference"
            )
    _report_unknown(
        c, ("school_year", "cites"), s.school_year.cites, refs, "ref.unknown_citation", "reference"
    )
    if s.translations is not None:
        _report_unknown(
            c,
            ("translations", "cites"),
            s.translations.cites,
            refs,
            "ref.unknown_citation",
            "reference",
        )


def check_tier_list(c: Compilation) -> None:
    """There are tiers, exactly one default tier and it comes last; tiers assign known ids."""
    s = c.the_spec
    ivs = [iv.id for iv in s.interventions]
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
        _report_unknown(
            c, ("tiers", i, "assign"), tier.assign, ivs, "ref.unknown_intervention", "intervention"
        )


def check_rule_references(c: Compilation) -> None:
    """A rule has a condition, and the interventions, tiers, causes and groups it names exist."""
    s = c.the_spec
    ivs = [iv.id for iv in s.interventions]
    tiers = [t.id for t in s.tiers]
    causes = [*CAUSES, *s.facts.causes]
    groups = [*GROUPS, *s.facts.groups]
    for i, rule in enumerate(s.rules):
        _report_unknown(
            c, ("rules", i, "assign"), rule.assign, ivs, "ref.unknown_intervention", "intervention"
        )
        _report_unknown(
            c, ("rules", i, "tiers"), rule.tiers or (), tiers, "ref.unknown_tier", "tier"
        )
        _report_unknown(
            c, ("rules", i, "causes"), rule.causes or (), causes, "ref.unknown_cause", "cause"
        )
        _report_unknown(
            c, ("rules", i, "groups"), rule.groups or (), groups, "ref.unknown_group", "group"
        )
        if rule.when is None and rule.tiers is None and rule.causes is None and rule.groups is None:
            c.problem(
                ("rules", i),
                "rule.no_condition",
                f"rule {rule.id!r} has no condition and would fire for every student",
                "add 'when', 'tiers', 'causes' or 'groups' (or assign it on the default tier)",
            )


def check_intervention_references(c: Compilation) -> None:
    """An intervention belongs to a known tier and escalates to a known intervention."""
    s = c.the_spec
    tiers = [t.id for t in s.tiers]
    ivs = [iv.id for iv in s.interventions]
    for i, iv in enumerate(s.interventions):
        if iv.tier not in tiers:
            _report_unknown(
                c, ("interventions", i, "tier"), iv.tier, tiers, "ref.unknown_tier", "tier"
            )
        if iv.escalates_to is not None and iv.escalates_to not in ivs:
            _report_unknown(
                c,
                ("interventions", i, "escalates_to"),
                iv.escalates_to,
                ivs,
                "ref.unknown_intervention",
                "intervention",
            )


def _declared_roles(c: Compilation) -> list[str]:
    """The owner roles the rule set and every rule set it extends declare, base first.

    ``roles`` is not merged like a section: the merge keeps the child's list, so each file of
    the ``extends`` chain is read here and a child's roles add to its parents'.
    """
    roles: list[str] = []
    for doc in c.documents:
        data = doc.yaml.data
        own = data.get("roles") if isinstance(data, Mapping) else None
        for role in own if isinstance(own, list) else ():
            if isinstance(role, str) and role not in roles:
                roles.append(role)
    return roles


def check_owner_roles(c: Compilation) -> None:
    """Every intervention's owner is a built-in role or one the rule set declares."""
    declared = [r for r in (*_declared_roles(c), *c.the_spec.roles) if r not in BUILTIN_ROLES]
    known = [*BUILTIN_ROLES, *dict.fromkeys(declared)]
    for i, iv in enumerate(c.the_spec.interventions):
        _report_unknown(
            c,
            ("interventions", i, "owner"),
            iv.owner,
            known,
            "ref.unknown_role",
            "owner role",
            f"declare it under 'roles:' (known: {', '.join(known)})",
        )


def check_escalations(c: Compilation) -> None:
    """Following ``escalates_to`` from an intervention never comes back to it."""
    by_id = {iv.id: iv for iv in c.the_spec.interventions}
    for i, iv in enumerate(c.the_spec.interventions):
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


def check_legal_ladder(c: Compilation) -> None:
    """A legal step requires only known, earlier steps; its checklist and exemptions resolve."""
    s = c.the_spec
    refs = [r.id for r in s.references]
    tiers = [t.id for t in s.tiers]
    steps = [step.id for step in s.legal]
    groups = [*GROUPS, *s.facts.groups]
    for i, step in enumerate(s.legal):
        req = step.requires
        _report_unknown(
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
            _report_unknown(
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
            _report_unknown(
                c, (*where, "cites"), item.cites, refs, "ref.unknown_citation", "reference"
            )
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
        _report_unknown(
            c,
            ("legal", i, "exempt_groups"),
            step.exempt_groups,
            groups,
            "ref.unknown_group",
            "group",
        )


def check_fact_names(c: Compilation) -> None:
    """No extra fact or metric takes the name of a standard fact, metric or other name."""
    s = c.the_spec
    std = set(FACTS) | set(BUILTIN_METRICS) | {"as_of", "tier", "tier_level"}
    for name in s.facts.extra:
        if name in std:
            c.problem(
                ("facts", "extra", name), "ref.name_clash", f"{name!r} is a standard name", key=True
            )
    for i, metric in enumerate(s.metrics):
        if metric.id in std or metric.id in s.facts.extra:
            c.problem(("metrics", i, "id"), "ref.name_clash", f"metric {metric.id!r} hides a fact")


def check_fact_defaults(c: Compilation) -> None:
    """Defaults are given for standard facts only, and every default has its fact's type."""
    s = c.the_spec
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
        if decl.default is not None and not _value_fits(DECLARED_TYPES[decl.type], decl.default):
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
