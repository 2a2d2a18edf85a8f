"""Static analysis of a compiled rule set: findings with concrete witnesses.

What is checked (each finding has a code, the place in the YAML and, where one exists, the
smallest student facts that show it):

- ``analysis.shadowed_tier``: a tier that can never match, because every student its condition
  accepts is taken by an earlier tier (first match wins); the witness is such a student.
- ``analysis.unsatisfiable``: a tier, rule or legal step whose condition can never be true.
- ``analysis.stay_keeps_nobody``: a tier's ``stay_while`` that holds only where its ``when``
  does (a bar for staying at or above the bar for entering), so it keeps nobody.
- ``analysis.rule_never_fires``: a rule whose condition can never hold together with the tiers
  it is restricted to (say, a Tier 1 rule requiring 10% absence when Tier 1 ends at 5%). A
  student kept in a tier by its ``stay_while`` counts as in that tier.
- ``analysis.duplicate_rule``: two rules with the same condition and the same interventions.
- ``analysis.legal_out_of_order``: a later legal step can be warranted while an earlier one is
  not (a ladder whose thresholds decrease); the witness is such a student.
- ``analysis.unmeetable_prerequisite``: a legal step requires more supportive interventions
  than the catalogue has at the required tier.
- ``analysis.escalation_down``: an intervention escalates to one of a lower tier.
- ``analysis.outside_fragment``: a condition the exact reasoning does not cover (it compares
  two terms); generated students are searched instead, and ``analysis.not_reached`` reports a
  tier or rule none of them reached (a search, not a proof).
- ``analysis.tier_gap`` and ``analysis.not_monotone``: a student with more absences lands in a
  lower tier (in the default tier between two bands, or otherwise); the witness is that
  student (see :mod:`tierflow.analysis._monotone`).

A finding about an entry a playbook inherits is reported in that playbook, where its cause is
written (an override), or at its ``extends`` line, with how to drop the entry
(:mod:`tierflow.analysis._locate`).

A student who matches no tier cannot happen: a rule set must have a default tier
(``tier.no_default`` is a load error).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tierflow.analysis._fragment import Fragment, OutsideFragment, inline
from tierflow.analysis._locate import relocate
from tierflow.analysis._monotone import describe, find_drops
from tierflow.errors import DataError, Problem
from tierflow.evaluate import CompiledRuleset
from tierflow.expr import Arith, Call, Compare, Const, Expr, Name
from tierflow.facts import FACTS
from tierflow.source import SourceSpan

__all__ = ["Finding", "analyze"]

WITNESS_AS_OF = dt.date(2026, 1, 15)
"""The date witnesses are evaluated as of."""

SEARCH_STUDENTS = 2_000
"""Generated students searched for conditions outside the comparison fragment."""


@dataclass(frozen=True)
class Finding:
    """One thing static analysis found.

    Attributes:
        code: ``analysis.*``.
        severity: ``warning`` or ``info``.
        message: What is wrong, in words.
        span: Where in the YAML.
        path: The entry (``tiers[1].when``).
        witness: Student facts that show it, checked with the compiled rule set, when one exists.
        hint: How to fix it, when there is more to say than the message (an inherited entry:
            how to drop it in the child).
    """

    code: str
    severity: str
    message: str
    span: SourceSpan
    path: str
    witness: Mapping[str, Any] | None = None
    hint: str = ""

    def as_problem(self) -> Problem:
        """The finding as a :class:`~tierflow.Problem` (for ``tierflow check`` output)."""
        witness = f"witness: {_render(self.witness)}" if self.witness else ""
        hint = "; ".join(h for h in (self.hint, witness) if h)
        return Problem(self.span, self.code, self.message, self.path, hint, self.severity)


def _render(facts: Mapping[str, Any] | None) -> str:
    if not facts:
        return ""
    parts = [f"{k}={_fmt(v)}" for k, v in facts.items() if k != "student_id"]
    return "{" + ", ".join(parts) + "}"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return repr(v) if isinstance(v, str) else str(v)


class _Analysis:
    def __init__(self, ruleset: CompiledRuleset) -> None:
        self.rs = ruleset
        self.c = ruleset.program  # checked expressions with their places
        self.metrics = {k: v.tree for k, v in self.c.metric_exprs.items()}
        self.findings: list[Finding] = []
        self._sampled: list[Any] | None = None
        spec = ruleset.spec
        self.tier_ids = [t.id for t in spec.tiers]
        self.default = next(i for i, t in enumerate(spec.tiers) if t.default)
        self.tier_conds: list[Expr | None] = [
            inline(e.tree, self.metrics) if e is not None else None for e in self.c.tier_exprs
        ]
        self.stay_conds: list[Expr | None] = [
            inline(e.tree, self.metrics) if e is not None else None for e in self.c.stay_exprs
        ]
        # The previous tiers worth trying: none, and each tier a stay_while can keep.
        self.previous: list[int | None] = [
            None,
            *(i for i, cond in enumerate(self.stay_conds) if cond is not None),
        ]

    def add(
        self,
        code: str,
        message: str,
        span: SourceSpan,
        path: str,
        witness: Mapping[str, Any] | None = None,
        severity: str = "warning",
    ) -> None:
        self.findings.append(Finding(code, severity, message, span, path, witness))

    def inline_legal(self, index: int) -> Expr:
        """Legal step ``index``'s condition with metrics inlined."""
        return inline(self.c.legal_exprs[index].tree, self.metrics)

    # --- the grid ---------------------------------------------------------------------------

    def fragment(self, *conds: Expr) -> Fragment:
        frag = Fragment()
        for cond in [*(c for c in self.tier_conds if c is not None), *conds]:
            frag.add(cond)
        if "tier" in frag.variables:  # the tier matters: so do the stay_while bars
            for stay in self.stay_conds:
                if stay is not None:
                    frag.add(stay)
        return frag

    def tier_at(self, frag: Fragment, point: dict[str, Any], previous: int | None = None) -> int:
        """The tier at ``point`` of a student whose previous tier is ``previous`` (or none)."""
        for i, cond in enumerate(self.tier_conds):
            if cond is None:
                continue
            if frag.holds(cond, point):
                return i
            stay = self.stay_conds[i]
            if i == previous and stay is not None and frag.holds(stay, point):
                return i
        return self.default

    def search(
        self, frag: Fragment, wanted: Callable[[dict[str, Any], int], bool]
    ) -> dict[str, Any] | None:
        """The first grid point (with its tier) where ``wanted`` holds, or None.

        Where a condition reads ``tier``, each point is tried with no previous tier, then with
        each tier that has a ``stay_while`` as the previous one (a student kept there); a point
        found with one holds its id under ``previous_tier``.
        """
        choices = self.previous if "tier" in frag.variables else [None]
        for point in frag.points():
            for previous in choices:
                t = self.tier_at(frag, point, previous)
                point["tier"] = self.tier_ids[t]
                if previous is not None:
                    point["previous_tier"] = self.tier_ids[previous]
                if wanted(point, t):
                    return point
            point.pop("previous_tier", None)
        return None

    # --- witnesses ----------------------------------------------------------------------------

    def realize(self, frag: Fragment, point: Mapping[str, Any]) -> dict[str, Any] | None:
        """Concrete student facts giving each term its value at ``point`` (None if unsure)."""
        facts: dict[str, Any] = {"student_id": "witness"}
        later: list[tuple[Expr, float]] = []
        for key, var in frag.variables.items():
            value = point.get(key)
            term = var.term
            if var.kind == "tier" or term is None:
                continue
            if var.kind == "member":
                assert isinstance(term, Compare)
                const, listed = term.operands
                if value and isinstance(const, Const) and isinstance(listed, Name):
                    facts.setdefault(listed.name, []).append(const.value)
            elif isinstance(term, Name):
                facts[term.name] = value
            else:
                later.append((term, float(value or 0)))
        for term, value in later:
            if not self._solve(term, value, facts):
                return None
        if "previous_tier" in point:
            facts["previous_tier"] = point["previous_tier"]
        for name in self.rs.fact_names:
            if name not in facts and name != "previous_tier":  # absent: no previous tier
                kind = FACTS[name].type.kind if name in FACTS else "number"
                facts[name] = {"list": [], "bool": False, "string": "x"}.get(kind, 0)
        facts.setdefault("days_enrolled", 100)
        for name, value in list(facts.items()):
            if isinstance(value, float) and value.is_integer():
                facts[name] = int(value)
        return facts

    def _solve(self, term: Expr, value: float, facts: dict[str, Any]) -> bool:
        if isinstance(term, Call) and term.func == "ratio" and len(term.args) == 2:
            num, den = term.args
        elif isinstance(term, Arith) and term.op == "/":
            num, den = term.left, term.right
        elif isinstance(term, Arith) and term.op == "+":
            left, right = term.left, term.right
            if isinstance(left, Name) and isinstance(right, Name):
                if left.name in facts and right.name not in facts:
                    facts[right.name] = value - facts[left.name]
                else:
                    facts.setdefault(right.name, 0)
                    facts[left.name] = value - facts[right.name]
                return True
            return False
        else:
            return False
        if not (isinstance(num, Name) and isinstance(den, Name)):
            return False
        denominator = facts.setdefault(den.name, 100)
        if not denominator:
            return value == 0
        facts[num.name] = value * denominator
        return True

    def checked(
        self, frag: Fragment, point: dict[str, Any] | None, ok: Callable[[Any], bool]
    ) -> dict[str, Any] | None:
        """Realize a point and keep it only if the compiled rule set confirms ``ok(decision)``."""
        if point is None:
            return None
        facts = self.realize(frag, point)
        if facts is None or any(isinstance(v, (int, float)) and v < 0 for v in facts.values()):
            return None
        try:
            decision = self.rs.evaluate(facts, as_of=WITNESS_AS_OF)
        except DataError:
            return None
        return facts if ok(decision) else None

    # --- checks -------------------------------------------------------------------------------

    def outside(self, span: SourceSpan, path: str, exc: OutsideFragment) -> None:
        self.add(
            "analysis.outside_fragment",
            f"not checked exactly: {exc}",
            span,
            path,
            severity="info",
        )

    def sampled(self) -> list[Any]:
        """Decisions for generated students: the fallback outside the fragment."""
        if self._sampled is None:
            from tierflow._sample import SAMPLE_AS_OF, generate_facts

            self._sampled = []
            for facts in generate_facts(SEARCH_STUDENTS, seed=7):
                try:
                    self._sampled.append(self.rs.evaluate(facts, as_of=SAMPLE_AS_OF))
                except DataError:
                    continue
        return self._sampled

    def tiers(self) -> None:
        try:
            frag = self.fragment()
            reached = {self.tier_at(frag, p) for p in frag.points()}
        except OutsideFragment as exc:
            first = next(e for e in self.c.tier_exprs if e is not None)
            self.outside(first.span, first.path, exc)
            seen = {d.tier for d in self.sampled()}
            for j, expr in enumerate(self.c.tier_exprs):
                if expr is not None and self.tier_ids[j] not in seen and self.sampled():
                    self.add(
                        "analysis.not_reached",
                        f"tier {self.tier_ids[j]!r} was not reached by any of "
                        f"{len(self.sampled()):,} generated students (a search, not a proof)",
                        expr.span,
                        expr.path,
                        severity="info",
                    )
            return
        for j, cond in enumerate(self.tier_conds):
            expr = self.c.tier_exprs[j]
            if cond is None or j in reached or expr is None:
                continue
            point = self.search(frag, _holds(frag, cond))
            tier_id = self.tier_ids[j]
            if point is None:
                self.add(
                    "analysis.unsatisfiable",
                    f"tier {tier_id!r} can never match: its condition is never true",
                    expr.span,
                    expr.path,
                )
                continue
            taken = point["tier"]
            witness = self.checked(frag, point, _in_tier(taken))
            self.add(
                "analysis.shadowed_tier",
                f"tier {tier_id!r} can never match: every student its condition accepts is "
                f"taken by an earlier tier first (here {taken!r})",
                expr.span,
                expr.path,
                witness,
            )

    def stays(self) -> None:
        """Warn of a ``stay_while`` that keeps nobody: wherever it holds, ``when`` holds too."""
        for i, stay in enumerate(self.stay_conds):
            when, expr = self.tier_conds[i], self.c.stay_exprs[i]
            if stay is None or when is None or expr is None:
                continue
            frag = Fragment()
            try:
                frag.add(when)
                frag.add(stay)
                points = frag.points()
                kept = any(frag.holds(stay, p) and not frag.holds(when, p) for p in points)
            except OutsideFragment as exc:
                self.outside(expr.span, expr.path, exc)
                continue
            if not kept:
                self.add(
                    "analysis.stay_keeps_nobody",
                    f"the stay_while of tier {self.tier_ids[i]!r} keeps nobody: wherever it "
                    "holds, its when holds too",
                    expr.span,
                    expr.path,
                )

    def rules(self) -> None:
        spec = self.rs.spec
        seen: dict[tuple[str, frozenset[str]], str] = {}
        for i, expr in enumerate(self.c.rule_exprs):
            rule = spec.rules[i]
            key = (expr.canonical, frozenset(rule.assign))
            if key in seen:
                self.add(
                    "analysis.duplicate_rule",
                    f"rule {rule.id!r} has the same condition and interventions as rule "
                    f"{seen[key]!r}",
                    expr.span,
                    expr.path,
                )
            seen.setdefault(key, rule.id)
            cond = inline(expr.tree, self.metrics)
            try:
                frag = self.fragment(cond)
                point = self.search(frag, _holds(frag, cond))
            except OutsideFragment as exc:
                self.outside(expr.span, expr.path, exc)
                if self.sampled() and not any(rule.id in d.rules for d in self.sampled()):
                    self.add(
                        "analysis.not_reached",
                        f"rule {rule.id!r} did not fire for any of {len(self.sampled()):,} "
                        "generated students (a search, not a proof)",
                        expr.span,
                        expr.path,
                        severity="info",
                    )
                continue
            if point is None:
                self.add(
                    "analysis.rule_never_fires",
                    f"rule {rule.id!r} can never fire: its condition never holds in the tiers "
                    "where it applies",
                    expr.span,
                    expr.path,
                )

    def legal(self) -> None:
        spec = self.rs.spec
        exprs = self.c.legal_exprs
        for i in range(1, len(exprs)):
            before, after = exprs[i - 1], exprs[i]
            c_before = inline(before.tree, self.metrics)
            c_after = inline(after.tree, self.metrics)
            try:
                frag = self.fragment(c_before, c_after)
                point = self.search(frag, _later_without_earlier(frag, c_before, c_after))
            except OutsideFragment as exc:
                self.outside(after.span, after.path, exc)
                continue
            if point is not None:
                step, prev = spec.legal[i].id, spec.legal[i - 1].id
                witness = self.checked(frag, point, lambda d: True)
                self.add(
                    "analysis.legal_out_of_order",
                    f"legal step {step!r} can be warranted while the earlier {prev!r} is not: "
                    "the ladder's conditions should only get stricter",
                    after.span,
                    after.path,
                    witness,
                )
        levels = {t.id: t.level for t in spec.tiers}
        for i, entry in enumerate(spec.legal):
            req = entry.requires
            if not req.supportive_interventions:
                continue
            floor = levels.get(req.supportive_min_tier or "", 1) if req.supportive_min_tier else 1
            available = [
                iv.id
                for iv in spec.interventions
                if iv.supportive and levels.get(iv.tier, 0) >= floor
            ]
            if len(available) < req.supportive_interventions:
                self.add(
                    "analysis.unmeetable_prerequisite",
                    f"legal step {entry.id!r} needs {req.supportive_interventions} supportive "
                    f"interventions at tier level {floor} or above, but the catalogue has "
                    f"{len(available)}",
                    self.c.smap.span(("legal", i, "requires")),
                    self.c.smap.path_in_source(("legal", i, "requires")),
                )

    def monotone(self) -> None:
        """Warn of gaps between tier bands and of tiers that fall as absences rise."""
        seen: set[tuple[str, str]] = set()
        for drop in find_drops(self.rs, self.tier_conds, WITNESS_AS_OF):
            code = "analysis.tier_gap" if drop.gap else "analysis.not_monotone"
            expr = self.c.tier_exprs[self.tier_ids.index(drop.fewer_tier)]
            if (code, drop.fewer_tier) in seen or expr is None:
                continue  # one finding per band that ends: the first witness tells it
            seen.add((code, drop.fewer_tier))
            self.add(code, describe(drop), expr.span, expr.path, dict(drop.more))

    def escalations(self) -> None:
        spec = self.rs.spec
        levels = {t.id: t.level for t in spec.tiers}
        by_id = {iv.id: iv for iv in spec.interventions}
        for i, iv in enumerate(spec.interventions):
            target = by_id.get(iv.escalates_to or "")
            if target is not None and levels.get(target.tier, 0) < levels.get(iv.tier, 0):
                self.add(
                    "analysis.escalation_down",
                    f"{iv.id!r} ({iv.tier}) escalates to {target.id!r} of a lower tier "
                    f"({target.tier}); escalation should climb",
                    self.c.smap.span(("interventions", i, "escalates_to")),
                    self.c.smap.path_in_source(("interventions", i, "escalates_to")),
                )


def _holds(frag: Fragment, cond: Expr) -> Callable[[dict[str, Any], int], bool]:
    def wanted(point: dict[str, Any], tier: int) -> bool:
        return frag.holds(cond, point)

    return wanted


def _in_tier(tier_id: str) -> Callable[[Any], bool]:
    def ok(decision: Any) -> bool:
        return bool(decision.tier == tier_id)

    return ok


def _later_without_earlier(
    frag: Fragment, earlier: Expr, later: Expr
) -> Callable[[dict[str, Any], int], bool]:
    def wanted(point: dict[str, Any], tier: int) -> bool:
        return frag.holds(later, point) and not frag.holds(earlier, point)

    return wanted


def analyze(ruleset: CompiledRuleset) -> list[Finding]:
    """Analyse a compiled rule set; return the findings sorted by place.

    >>> import tierflow
    >>> analyze(tierflow.load_ruleset("ca"))
    []
    """
    a = _Analysis(ruleset)
    a.tiers()
    a.stays()
    a.rules()
    a.legal()
    a.monotone()
    a.escalations()
    # What the compiler found about notice templates (an element the law requires, left out).
    a.findings += [
        Finding(p.code, p.severity, p.message, p.span, p.path, hint=p.hint)
        for p in ruleset.program.notices.warnings
    ]
    # About a child playbook: in the child, where the cause is written (not in the parent).
    findings = relocate(a.findings, ruleset.program)
    return sorted(findings, key=lambda f: (f.span, f.code))
