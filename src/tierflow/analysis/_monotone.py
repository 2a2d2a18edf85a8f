"""Gaps between tier bands and tiering that is not monotone in absences.

A default tier means every student gets a tier, but not that the tiers climb with absences:
Tier 2 written as ``absence_rate >= 5% and absence_rate < 9%`` with Tier 3 from 10% leaves a
student at 9% in the default tier, below one at 8.5%. This module walks, for each fact that
counts absences (``days_absent``, ``days_unexcused``...), concrete students who differ only in
that fact, at the values where a tier condition can change its mind: each threshold the tiers
compare with (a rate threshold turned into days for the student's enrolment), just below it
and just above it, in half days. Every student is consistent (see
:mod:`tierflow.analysis._consistent`) and is evaluated with the compiled rule set, so each
finding's witness really lands where the message says.

- ``analysis.tier_gap``: a student with more absences than one in a higher tier falls to the
  default tier, and a student with more absences still is in a higher tier again (a band ends
  before the next one starts).
- ``analysis.not_monotone``: a student with more absences lands in a lower tier otherwise.

Terms are taken as rising with absences when they are an absence fact, a sum with one, or a
ratio of one to ``days_enrolled``; conditions the comparison fragment does not cover are left
to ``analysis.outside_fragment``. A student's previous tier is left out (no ``stay_while``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tierflow.analysis._consistent import fact_problems, needed_facts, student
from tierflow.analysis._fragment import Fragment, OutsideFragment, Variable, inline
from tierflow.errors import DataError
from tierflow.evaluate import CompiledRuleset
from tierflow.expr import Arith, Call, Compare, Const, Expr, Name

__all__ = [
    "ABSENCE_FACTS",
    "Drop",
    "absence_axis",
    "axis_values",
    "describe",
    "drops",
    "enrolments",
    "find_drops",
    "is_rate",
    "on_axis",
    "threshold_values",
]

ABSENCE_FACTS = (
    "days_absent",
    "days_unexcused",
    "days_excused",
    "days_suspended",
    "tardies",
    "tardies_over_30",
)
"""Facts of which more means more absence (or lateness): tiers should not fall as they rise."""

ENROLMENTS = (100, 180)
"""Days enrolled tried besides those the tiers compare with (a round number, a school year)."""

MAX_COMBINATIONS = 16
"""Most combinations of truth values (groups, causes, flags) tried; beyond, all are false."""


def absence_axis(term: Expr | None) -> str | None:
    """The absence fact whose growth makes ``term`` grow, or None.

    >>> from tierflow.expr import NUMBER, Scope, check, parse
    >>> def axis(text):
    ...     tree = parse(text)
    ...     names = ("days_absent", "days_enrolled", "tardies", "days_unexcused")
    ...     assert not check(tree, Scope(dict.fromkeys(names, NUMBER)))
    ...     return absence_axis(tree)
    >>> axis("ratio(days_absent, days_enrolled)"), axis("days_unexcused + tardies")
    ('days_absent', 'days_unexcused')
    >>> axis("days_enrolled"), axis("days_enrolled / days_absent")
    (None, None)
    """
    if isinstance(term, Name):
        return term.name if term.name in ABSENCE_FACTS else None
    if isinstance(term, Call) and term.func == "ratio" and len(term.args) == 2:
        num, den = term.args
    elif isinstance(term, Arith) and term.op == "/":
        num, den = term.left, term.right
    elif isinstance(term, Arith) and term.op == "+":
        sides = [absence_axis(term.left), absence_axis(term.right)]
        if all(
            s is not None or isinstance(t, Const)
            for s, t in zip(sides, (term.left, term.right), strict=True)
        ):
            return next((s for s in sides if s is not None), None)
        return None
    else:
        return None
    if isinstance(den, Name) and den.name == "days_enrolled":
        return absence_axis(num) if isinstance(num, Name) else None
    return None


def is_rate(term: Expr | None) -> bool:
    return (isinstance(term, Call) and term.func == "ratio") or (
        isinstance(term, Arith) and term.op == "/"
    )


def _halves_around(target: float) -> set[float]:
    """``target`` and the half days just below and just above it (and one more each side)."""
    below = math.ceil(target * 2) / 2 - 0.5  # the largest half day strictly below
    above = math.floor(target * 2) / 2 + 0.5  # the smallest half day strictly above
    return {target, below, below - 0.5, above, above + 0.5}


def axis_values(frag: Fragment, axis: str, enrolled: float) -> list[float]:
    """The values of ``axis`` worth trying for a student enrolled ``enrolled`` days.

    At, just below and just above every threshold a term rising with ``axis`` is compared
    with; for a rate, the threshold is turned into days (``5%`` of 100 days is 5).
    """
    values: set[float] = {0.0}
    for var in frag.variables.values():
        if var.kind != "number" or absence_axis(var.term) != axis:
            continue
        for c in var.constants:
            target = c * enrolled if is_rate(var.term) else c
            if math.isfinite(target):
                values |= _halves_around(target)
    top = enrolled if axis.startswith("days_") else math.inf
    return sorted(v for v in values if 0 <= v <= top)


def enrolments(frag: Fragment) -> list[float]:
    """Days enrolled to try: each threshold on ``days_enrolled``, a day either side, and more."""
    found: set[float] = set(map(float, ENROLMENTS))
    var = frag.variables.get("days_enrolled")
    if var is not None:
        for c in var.constants:
            found |= {v for v in (c - 1, c, c + 1) if v >= 0 and math.isfinite(v)}
    return sorted(found)


def _extras(frag: Fragment) -> Iterator[dict[str, Any]]:
    """Values of the truth-valued terms: every combination, or all false if too many."""
    flags = [v for v in frag.variables.values() if v.kind in ("bool", "member")]
    combos: Iterator[tuple[bool, ...]]
    if 2 ** len(flags) <= MAX_COMBINATIONS:
        combos = itertools.product((False, True), repeat=len(flags))
    else:
        combos = iter([(False,) * len(flags)])
    for combo in combos:
        extra: dict[str, Any] = {}
        for var, on in zip(flags, combo, strict=True):
            _set_flag(extra, var, on)
        yield extra


def _set_flag(extra: dict[str, Any], var: Variable, on: bool) -> None:
    term = var.term
    if var.kind == "bool" and isinstance(term, Name):
        extra[term.name] = on
    elif isinstance(term, Compare):
        const, listed = term.operands
        if isinstance(const, Const) and isinstance(listed, Name):
            entries = extra.setdefault(listed.name, [])
            if on:
                entries.append(const.value)


def on_axis(
    axis: str,
    value: float,
    names: tuple[str, ...],
    enrolled: float,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A consistent student enrolled ``enrolled`` days with ``value`` of absence fact ``axis``.

    More unexcused or suspension days are more absent days; more tardies over 30 minutes are
    more tardies.
    """
    kw: dict[str, float] = {}
    if axis.startswith("days_"):
        kw["absent"] = value
        if axis == "days_unexcused":
            kw["unexcused"] = value
        elif axis == "days_suspended":
            kw["suspended"] = value
    else:
        kw["tardies"] = value
        if axis == "tardies_over_30":
            kw["tardies_over_30"] = value
    return student(names, enrolled=enrolled, extra=extra, **kw)


@dataclass(frozen=True)
class Drop:
    """Two consistent students: ``more`` has more of ``axis`` than ``fewer`` but a lower tier.

    Attributes:
        axis: The absence fact they differ in.
        fewer: The student with fewer absences.
        fewer_tier: ``fewer``'s tier id.
        more: The student with more absences (the witness).
        more_tier: ``more``'s tier id.
        gap: Whether ``more`` is in the default tier and a student with more absences still
            is above it again (a gap between bands).
    """

    axis: str
    fewer: Mapping[str, Any]
    fewer_tier: str
    more: Mapping[str, Any]
    more_tier: str
    gap: bool


def drops(ruleset: CompiledRuleset, frag: Fragment, as_of: dt.date) -> list[Drop]:
    """Every first fall in tier along an absence axis (one per axis, enrolment and flags).

    Args:
        ruleset: The compiled rule set (evaluates every student tried).
        frag: The fragment of its tier conditions (the thresholds).
        as_of: The date students are evaluated as of.
    """
    names = needed_facts(ruleset, as_of)
    levels = {t.id: t.level for t in ruleset.tiers}
    default = next(t.id for t in ruleset.spec.tiers if t.default)
    axes = sorted({a for v in frag.variables.values() if (a := absence_axis(v.term))})
    found: list[Drop] = []
    # Ordinary enrolments first: their witness reads best (9 of 100 days, not 1.5 of 10).
    tried = sorted(enrolments(frag), key=lambda e: (e not in ENROLMENTS, e))
    for axis, enrolled, extra in itertools.product(axes, tried, list(_extras(frag))):
        walk: list[tuple[dict[str, Any], str]] = []
        for value in axis_values(frag, axis, enrolled):
            facts = on_axis(axis, value, names, enrolled, extra)
            if fact_problems(facts):
                continue
            try:
                walk.append((facts, ruleset.evaluate(facts, as_of=as_of).tier))
            except DataError:
                continue
        drop = _first_drop(walk, levels.__getitem__, default, axis)
        if drop is not None:
            found.append(drop)
    return found


def _first_drop(
    walk: list[tuple[dict[str, Any], str]], level: Callable[[str], int], default: str, axis: str
) -> Drop | None:
    best: tuple[dict[str, Any], str] | None = None
    for i, (facts, tier) in enumerate(walk):
        if best is not None and level(tier) < level(best[1]):
            gap = tier == default and any(level(t) > level(tier) for _, t in walk[i + 1 :])
            return Drop(axis, best[0], best[1], facts, tier, gap)
        if best is None or level(tier) >= level(best[1]):  # the closest one below
            best = (facts, tier)
    return None


def describe(drop: Drop) -> str:
    """The finding's message for a drop."""
    more, fewer = drop.more[drop.axis], drop.fewer[drop.axis]
    enrolled = drop.more.get("days_enrolled")
    where = f" (of {enrolled} days enrolled)" if enrolled else ""
    text = (
        f"a student with {drop.axis}={more}{where} lands in {drop.more_tier!r}, below "
        f"{drop.fewer_tier!r} where one with {drop.axis}={fewer} is"
    )
    if drop.gap:
        return text + ": no band covers them (a gap between tier bands)"
    return text + ": more absences should never lower the tier"


def find_drops(
    ruleset: CompiledRuleset, tier_conds: list[Expr | None], as_of: dt.date
) -> list[Drop]:
    """:func:`drops` over the fragment of ``tier_conds`` (none if it is outside the fragment)."""
    frag = Fragment()
    try:
        for cond in tier_conds:
            if cond is not None:
                frag.add(cond)
    except OutsideFragment:
        return []
    return drops(ruleset, frag, as_of)


def threshold_values(ruleset: CompiledRuleset, fact: str) -> dict[float, list[float]]:
    """Values of absence fact ``fact`` at, just below and just above each threshold, by enrolment.

    The thresholds are those of the tiers (``when`` and ``stay_while``) and of the legal ladder
    that ``fact`` raises; a condition outside the comparison fragment adds what it can. For
    property tests that aim at the thresholds (:func:`tierflow.testing.check_monotone`).

    >>> import tierflow
    >>> values = threshold_values(tierflow.load_ruleset("mtss"), "days_absent")
    >>> sorted(values)
    [9.0, 10.0, 11.0, 100.0, 180.0]
    >>> values[100.0][9:]  # around 4% (stay in tier 2), 5% (tier 2), 18% and 20% (tier 3)
    [5.0, 5.5, 6.0, 17.0, 17.5, 18.0, 18.5, 19.0, 19.5, 20.0, 20.5, 21.0]
    """
    program = ruleset.program
    metrics = {k: v.tree for k, v in program.metric_exprs.items()}
    frag = Fragment()
    for checked in (*program.tier_exprs, *program.stay_exprs, *program.legal_exprs):
        if checked is None:
            continue
        try:
            frag.add(inline(checked.tree, metrics))
        except OutsideFragment:
            continue  # the atoms registered before the unsupported one still count
    return {e: axis_values(frag, fact, e) for e in enrolments(frag)}
