"""Impact of a rule set change: who moves tier, who gains or loses what, broken down by group."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tierflow.errors import DataError
from tierflow.evaluate import CompiledRuleset, Decision

__all__ = ["Impact", "impact"]

EXAMPLES = 3
"""Example students kept per cell of the report."""


@dataclass
class Impact:
    """What changes when ``old`` is replaced by ``new``, student by student.

    Attributes:
        students: Students evaluated by both.
        transitions: ``(old tier, new tier)`` to the number of students.
        gained, lost: Intervention id to the students who gain or lose it.
        legal_gained, legal_lost: ``step:status`` to the students who gain or lose it.
        by: For ``school_id``, ``grade`` and each group, ``(value, up, down)`` counts of
            students moving to a higher or lower tier level.
        examples: Example student ids per transition and per gain or loss.
        rejected: Records either rule set could not evaluate.
    """

    old: str
    new: str
    as_of: dt.date
    students: int = 0
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    gained: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    legal_gained: Counter[str] = field(default_factory=Counter)
    legal_lost: Counter[str] = field(default_factory=Counter)
    by: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    rejected: list[DataError] = field(default_factory=list)

    @property
    def moved(self) -> int:
        """Students whose tier changed."""
        return sum(n for (a, b), n in self.transitions.items() if a != b)

    def _tally(self, counts: Counter[str], label: str, keys: Iterable[str], student: str) -> None:
        """Count ``student`` once under each of ``keys`` and keep it as an example of each."""
        for key in sorted(keys):
            counts[key] += 1
            self._example(f"{label}:{key}", student)

    def _example(self, key: str, student: str) -> None:
        if len(self.examples[key]) < EXAMPLES:
            self.examples[key].append(student)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "old": self.old,
            "new": self.new,
            "as_of": self.as_of.isoformat(),
            "students": self.students,
            "moved": self.moved,
            "transitions": [
                {"from": a, "to": b, "students": n}
                for (a, b), n in sorted(self.transitions.items())
            ],
            "interventions_gained": dict(self.gained),
            "interventions_lost": dict(self.lost),
            "legal_gained": dict(self.legal_gained),
            "legal_lost": dict(self.legal_lost),
            "by": {
                dim: {value: {"up": up, "down": down} for value, (up, down) in values.items()}
                for dim, values in self.by.items()
            },
            "examples": dict(self.examples),
            "rejected": [str(r) for r in self.rejected],
        }

    def report(self) -> str:
        """A plain-text report: transition matrix, gains and losses, breakdowns, examples."""
        lines = [
            f"impact of {self.new} replacing {self.old} on {self.students:,} students as of "
            f"{self.as_of}: {self.moved:,} change tier"
        ]
        tiers = sorted({t for pair in self.transitions for t in pair})
        width = max([len(t) for t in tiers] + [8])
        lines.append("")
        lines.append("old \\ new".ljust(width) + "".join(t.rjust(width + 2) for t in tiers))
        for a in tiers:
            row = "".join(str(self.transitions.get((a, b), 0)).rjust(width + 2) for b in tiers)
            lines.append(a.ljust(width) + row)
        for title, counts in (
            ("interventions gained", self.gained),
            ("interventions lost", self.lost),
            ("legal steps gained", self.legal_gained),
            ("legal steps lost", self.legal_lost),
        ):
            if counts:
                lines.append(f"\n{title}:")
                for key, n in counts.most_common():
                    examples = ", ".join(self.examples.get(f"{title}:{key}", []))
                    lines.append(f"  {key:<30} {n:>6,}  e.g. {examples}")
        for dim, values in self.by.items():
            moved = {v: c for v, c in values.items() if c[0] or c[1]}
            if moved:
                lines.append(f"\nby {dim} (students moving up / down):")
                for value, (up, down) in sorted(moved.items(), key=_natural):
                    lines.append(f"  {value:<30} {up:>6,} up {down:>6,} down")
        for (a, b), _ in sorted(self.transitions.items()):
            if a != b:
                lines.append(f"\ne.g. {a} -> {b}: {', '.join(self.examples[f'{a}->{b}'])}")
        if self.rejected:
            lines.append(f"\n{len(self.rejected)} record(s) could not be evaluated")
        return "\n".join(lines)


def _natural(item: tuple[str, list[int]]) -> tuple[int, float, str]:
    """Sort numbers (grades) numerically, then text."""
    try:
        return (0, float(item[0]), "")
    except ValueError:
        return (1, 0.0, item[0])


def _count(impact: Impact, dim: str, value: Any, up: bool, down: bool) -> None:
    cell = impact.by.setdefault(dim, {}).setdefault(str(value), [0, 0])
    cell[0] += up
    cell[1] += down


def impact(
    old: CompiledRuleset,
    new: CompiledRuleset,
    records: Iterable[Mapping[str, Any]],
    *,
    as_of: dt.date,
) -> Impact:
    r"""Evaluate every record with both rule sets and compare the decisions.

    >>> import datetime as dt, tierflow
    >>> from tierflow._sample import generate_facts
    >>> ca = tierflow.load_ruleset("ca")
    >>> text = "\n".join(["id: ca-4", "name: Tier 2 from 4%", "version: '1'", "extends: ca",
    ...                    "metrics:", "  - id: at_risk_from", "    expr: '4%'"])
    >>> stricter = tierflow.parse_ruleset(text, name="ca-4.yaml")
    >>> result = impact(ca, stricter, generate_facts(500), as_of=dt.date(2026, 1, 30))
    >>> result.moved, result.transitions[("tier1", "tier2")], result.transitions[("tier2", "tier1")]
    (47, 47, 0)
    """
    result = Impact(f"{old.id} {old.version}", f"{new.id} {new.version}", as_of)
    for facts in records:
        try:
            before = old.evaluate(facts, as_of=as_of)
            after = new.evaluate(facts, as_of=as_of)
        except DataError as exc:
            result.rejected.append(exc)
            continue
        _compare(result, facts, before, after)
    return result


def _compare(result: Impact, facts: Mapping[str, Any], before: Decision, after: Decision) -> None:
    sid = before.student_id
    result.students += 1
    result.transitions[(before.tier, after.tier)] += 1
    if before.tier != after.tier:
        result._example(f"{before.tier}->{after.tier}", sid)
    old_ivs = {i.id for i in before.interventions}
    new_ivs = {i.id for i in after.interventions}
    result._tally(result.gained, "interventions gained", new_ivs - old_ivs, sid)
    result._tally(result.lost, "interventions lost", old_ivs - new_ivs, sid)
    old_legal = {f"{a.step}:{a.status}" for a in before.legal_actions}
    new_legal = {f"{a.step}:{a.status}" for a in after.legal_actions}
    result._tally(result.legal_gained, "legal steps gained", new_legal - old_legal, sid)
    result._tally(result.legal_lost, "legal steps lost", old_legal - new_legal, sid)
    up, down = after.tier_level > before.tier_level, after.tier_level < before.tier_level
    _count(result, "school_id", facts.get("school_id", "?"), up, down)
    _count(result, "grade", facts.get("grade", "?"), up, down)
    for group in facts.get("groups") or ("(none)",):
        _count(result, "group", group, up, down)
