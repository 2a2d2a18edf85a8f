"""Inline-test coverage and generated boundary cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tierflow.analysis._analyze import WITNESS_AS_OF, _Analysis
from tierflow.analysis._fragment import OutsideFragment
from tierflow.errors import DataError
from tierflow.evaluate import CompiledRuleset

__all__ = ["Coverage", "boundary_cases", "coverage"]


@dataclass(frozen=True)
class Coverage:
    """What a rule set's inline tests exercise.

    Attributes:
        tiers: Every tier id, and those some test lands in.
        rules: Every rule id, and those some test fires.
        legal: Every legal step id, and those some test makes due, blocked or exempt.
    """

    tiers: tuple[tuple[str, ...], frozenset[str]]
    rules: tuple[tuple[str, ...], frozenset[str]]
    legal: tuple[tuple[str, ...], frozenset[str]]

    def missing(self) -> dict[str, list[str]]:
        """Ids no test exercised, by kind."""
        return {
            kind: [i for i in every if i not in seen]
            for kind, (every, seen) in (
                ("tiers", self.tiers),
                ("rules", self.rules),
                ("legal steps", self.legal),
            )
        }

    def summary(self) -> str:
        """One line: ``tiers 3/3, rules 12/14 (not exercised: a, b), legal steps 4/4``."""
        parts = []
        for kind, (every, seen) in (
            ("tiers", self.tiers),
            ("rules", self.rules),
            ("legal steps", self.legal),
        ):
            lacking = [i for i in every if i not in seen]
            text = f"{kind} {len(every) - len(lacking)}/{len(every)}"
            if lacking:
                text += f" (not exercised: {', '.join(lacking)})"
            parts.append(text)
        return ", ".join(parts)


def coverage(ruleset: CompiledRuleset) -> Coverage:
    """Which tiers, rules and legal steps the rule set's own tests exercise.

    >>> import tierflow
    >>> coverage(tierflow.load_ruleset("mtss")).summary()
    'tiers 3/3, rules 12/12, legal steps 0/0'
    """
    spec = ruleset.spec
    tiers: set[str] = set()
    rules: set[str] = set()
    legal: set[str] = set()
    for case in spec.tests:
        try:
            d = ruleset.evaluate(case.facts, as_of=case.as_of)
        except DataError:
            continue
        tiers.add(d.tier)
        rules.update(d.rules)
        legal.update(a.step for a in d.legal_actions)
    return Coverage(
        (tuple(t.id for t in spec.tiers), frozenset(tiers)),
        (tuple(r.id for r in spec.rules), frozenset(rules)),
        (tuple(s.id for s in spec.legal), frozenset(legal)),
    )


def boundary_cases(ruleset: CompiledRuleset) -> list[dict[str, Any]]:
    """Test cases one below, at and one above every numeric threshold of the tiers and ladder.

    Each case holds the facts and the decision the rule set makes *now*: review them, and paste
    the ones that say what the policy means into the rule set's ``tests:``.
    """
    a = _Analysis(ruleset)
    legal = [a.inline_legal(i) for i in range(len(a.c.legal_exprs))]
    try:
        frag = a.fragment(*legal)  # the tier conditions are always included
    except OutsideFragment:
        return []
    cases: list[dict[str, Any]] = []
    seen: set[tuple[tuple[str, Any], ...]] = set()
    for key, var in frag.variables.items():
        if var.kind != "number":
            continue
        for c in sorted(var.constants):
            step = 1.0 if float(c).is_integer() and c >= 1 else max(0.001, abs(c) / 100)
            for label, value in (("below", c - step), ("at", c), ("above", c + step)):
                if value < 0:
                    continue
                point = {
                    k: (0.0 if v.kind == "number" else False) for k, v in frag.variables.items()
                }
                point[key] = value
                facts = a.realize(frag, point)
                if facts is None:
                    continue
                marker = tuple(sorted((k, repr(v)) for k, v in facts.items()))
                if marker in seen:
                    continue
                seen.add(marker)
                try:
                    d = ruleset.evaluate(facts, as_of=WITNESS_AS_OF)
                except DataError:
                    continue
                facts["student_id"] = f"boundary-{len(cases) + 1}"
                expect: dict[str, Any] = {"tier": d.tier}
                if ruleset.spec.legal:
                    expect["legal_due"] = list(d.legal_due)
                cases.append(
                    {
                        "name": f"{key} {label} {c:g}",
                        "as_of": WITNESS_AS_OF.isoformat(),
                        "facts": facts,
                        "expect": expect,
                    }
                )
    return cases
