"""Inline-test coverage and generated boundary cases."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tierflow.analysis._analyze import WITNESS_AS_OF, _Analysis
from tierflow.analysis._consistent import fact_problems, needed_facts, student
from tierflow.analysis._fragment import Fragment, OutsideFragment, Variable
from tierflow.analysis._monotone import absence_axis, enrolments, is_rate, on_axis
from tierflow.errors import DataError
from tierflow.evaluate import CompiledRuleset
from tierflow.expr import Name

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
    """Test cases just below, at and just above every numeric threshold of the tiers and ladder.

    Each case is a consistent student (see :func:`~tierflow.analysis._consistent.fact_problems`:
    unexcused days are absent days, absent days are enrolled days...) who reaches the threshold
    alone: a count one below, at and one above it (a fraction: a hundredth of it either side);
    a rate over ``days_enrolled`` as days of an enrolment where the rate is exactly the
    threshold (5% of 100 days is 5), with the half days just below and just above. Each holds
    the decision the rule set makes *now*: review them, and paste the ones that say what the
    policy means into the rule set's ``tests:``.

    >>> import tierflow
    >>> cases = boundary_cases(tierflow.load_ruleset("ca"))
    >>> [(c["name"], c["facts"]["days_absent"], c["expect"]["tier"]) for c in cases][3:6]
    [('ratio(days_absent, days_enrolled) below 0.05', 4.5, 'tier1'), \
('ratio(days_absent, days_enrolled) at 0.05', 5, 'tier2'), \
('ratio(days_absent, days_enrolled) above 0.05', 5.5, 'tier2')]
    """
    a = _Analysis(ruleset)
    legal = [a.inline_legal(i) for i in range(len(a.c.legal_exprs))]
    try:
        frag = a.fragment(*legal)  # the tier conditions are always included
    except OutsideFragment:
        return []
    enrolled = _enrolment(frag)
    cases: list[dict[str, Any]] = []
    seen: set[tuple[tuple[str, Any], ...]] = set()
    for key, var in frag.variables.items():
        if var.kind != "number":
            continue
        for c in sorted(var.constants):
            for label, facts in _around(a, frag, key, var, c, enrolled):
                if facts is None or fact_problems(facts):
                    continue  # not a student who could exist
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


def _enrolment(frag: Fragment) -> float:
    """Days enrolled for cases that are not about enrolment: past every threshold on it."""
    var = frag.variables.get("days_enrolled")
    above = max(var.constants, default=0.0) + 1 if var is not None else 0.0
    return max(100.0, above)


def _exact_enrolment(rate: float, base: float) -> tuple[float, float] | None:
    """An enrolment from ``base`` up where ``rate`` of it is a whole or half day, exactly.

    Returns the enrolment and the days, with ``days / enrolment == rate`` in floating point
    (as the evaluator divides), or None if no enrolment up to ``base + 400`` gives one.
    """
    if not math.isfinite(rate * base * 2) or base > 1e6:
        return None
    for enrolled in range(int(base), int(base) + 400):
        days = round(rate * enrolled * 2) / 2
        if days / enrolled == rate:
            return float(enrolled), days
    return None


def _around(
    a: _Analysis, frag: Fragment, key: str, var: Variable, c: float, enrolled: float
) -> list[tuple[str, dict[str, Any] | None]]:
    """The students just below, at and just above threshold ``c`` of variable ``key``."""
    names = needed_facts(a.rs, WITNESS_AS_OF)
    axis = absence_axis(var.term)
    if axis is not None and is_rate(var.term):
        exact = _exact_enrolment(c, enrolled)
        if exact is None:
            if not math.isfinite(c * enrolled * 2):
                return []
            at = math.ceil(c * enrolled * 2) / 2  # the first half day at or past the rate
        else:
            enrolled, at = exact
        values = (("below", at - 0.5), ("at", at), ("above", at + 0.5))
        return [
            (label, on_axis(axis, v, names, enrolled)) for label, v in values if 0 <= v <= enrolled
        ]
    step = 1.0 if float(c).is_integer() and c >= 1 else max(0.001, abs(c) / 100)
    values = (("below", c - step), ("at", c), ("above", c + step))
    if axis is not None:
        # The enrolment where the threshold decides something (the early-warning count of
        # mtss only counts before the rate does), else the usual one.
        tries = [max(enrolled, c + step), *(e for e in enrolments(frag) if e >= c + step)]
        options: list[list[tuple[str, dict[str, Any] | None]]] = [
            [(label, on_axis(axis, v, names, e)) for label, v in values if v >= 0] for e in tries
        ]
        return next((o for o in options if _decides(a, o)), options[0])
    if isinstance(var.term, Name) and var.term.name == "days_enrolled":
        return [(label, student(names, enrolled=v)) for label, v in values if v >= 0]
    out: list[tuple[str, dict[str, Any] | None]] = []
    for label, value in values:
        if value < 0:
            continue
        point = {k: (0.0 if v.kind == "number" else False) for k, v in frag.variables.items()}
        point[key] = value
        out.append((label, a.realize(frag, point)))
    return out


def _decides(a: _Analysis, cases: list[tuple[str, dict[str, Any] | None]]) -> bool:
    """Whether the decisions of ``cases`` (below, at, above) are not all the same."""
    seen = set()
    for _, facts in cases:
        try:
            d = a.rs.evaluate(facts or {}, as_of=WITNESS_AS_OF)
        except DataError:
            return False
        seen.add((d.tier, tuple(d.legal_due)))
    return len(seen) > 1
