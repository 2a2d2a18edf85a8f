"""A compiled rule set: load once, evaluate many times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from tierflow.attendance import SchoolYears
from tierflow.compile._checked import CheckedExpr
from tierflow.compile._compilation import Compilation, Evaluator, FactRead
from tierflow.compile._generate import read_fact
from tierflow.errors import DataError, DataReport
from tierflow.evaluate._decision import (
    AssignedIntervention,
    Decision,
    Explanation,
    LegalAction,
    Reason,
    RulesetRef,
    _Outcome,
)
from tierflow.expr import (
    Const,
    EvalContext,
    ExprEvalError,
    FunctionRegistry,
    Name,
    TraceEntry,
    format_value,
    interpret,
    unparse,
)
from tierflow.expr._codegen import Constants, to_python
from tierflow.expr._functions import add_duration, same_items, subtract_duration
from tierflow.facts._model import (
    EMPTY_HISTORY_VIEW as _NO_HISTORY,
)
from tierflow.facts._model import (
    FACTS,
    History,
    HistoryView,
    StepView,
    check_terms,
    history_view,
    issued_steps,
)
from tierflow.spec import AttendancePolicy
from tierflow.spec._models import InterventionSpec, LegalStepSpec, RulesetSpec, TierSpec

__all__ = ["CompiledRuleset", "TestResult"]

_NEXT_TIER_HORIZON = 60
"""How many more absences ``explain`` tries when saying how far the next tier is."""


@dataclass(frozen=True)
class TestResult:
    """The outcome of one inline test case.

    Attributes:
        ruleset: Id of the rule set the test belongs to.
        name: The test's name.
        passed: Whether every expectation held.
        diffs: One line per expectation that did not hold: ``tier: expected 'tier3', got 'tier2'``.
        location: Where the test is written (``file:line:col``).
    """

    __test__ = False  # not a pytest test class

    ruleset: str
    name: str
    passed: bool
    diffs: tuple[str, ...]
    location: str


class CompiledRuleset:
    """A rule set compiled into a Python evaluator. Create it with :func:`tierflow.load_ruleset`.

    Evaluation is a pure function of the facts and the as-of date; the object holds no state that
    evaluation changes, so it may be shared between threads.
    """

    def __init__(self, compilation: Compilation, evaluator: Evaluator, source: str) -> None:
        spec = compilation.the_spec
        self._c = compilation
        self._fn = evaluator
        self.python_source = source
        self.spec: RulesetSpec = spec
        self.ref = RulesetRef(spec.id, spec.name, spec.version, compilation.content_hash)
        self.files: tuple[str, ...] = tuple(d.name for d in compilation.documents)
        self._interventions = {iv.id: iv for iv in spec.interventions}
        self._tier_by_id = {t.id: t for t in spec.tiers}
        self._refs = {r.id: r for r in spec.references}
        self._outcomes: dict[tuple[int, int], _Outcome] = {}
        self._reads = {r.name: r for r in compilation.fact_reads}
        self._plans = tuple(
            _LegalPlan.build(spec, i, compilation.checklist_exprs[i], compilation.functions)
            for i in range(len(spec.legal))
        )
        self._unsupportive = frozenset(iv.id for iv in spec.interventions if not iv.supportive)
        self._years = SchoolYears(spec.school_year.starts)
        self._vocab = {
            name: known
            for name in ("causes", "groups")
            if (known := compilation.vocabulary(name)) is not None
        }

    # --- metadata --------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The rule set's id."""
        return self.spec.id

    @property
    def version(self) -> str:
        """The rule set's version."""
        return self.spec.version

    @property
    def content_hash(self) -> str:
        """SHA-256 of the merged rule set (without its tests)."""
        return self.ref.content_hash

    @property
    def attendance_policy(self) -> AttendancePolicy:
        """How raw attendance events are counted for this rule set (its ``attendance:``)."""
        return self.spec.attendance

    @property
    def school_years(self) -> SchoolYears:
        """Which school year a date belongs to, as the rule set's ``school_year.starts`` says."""
        return self._years

    @property
    def tiers(self) -> tuple[TierSpec, ...]:
        """The tiers, in matching order."""
        return self.spec.tiers

    @property
    def interventions(self) -> Mapping[str, InterventionSpec]:
        """The intervention catalogue by id."""
        return self._interventions

    @property
    def legal_steps(self) -> tuple[LegalStepSpec, ...]:
        """The legal ladder, in order."""
        return self.spec.legal

    @property
    def read_facts(self) -> tuple[str, ...]:
        """Every fact evaluation reads (with or without a default)."""
        return tuple(r.name for r in self._c.fact_reads)

    @property
    def required_facts(self) -> tuple[str, ...]:
        """Facts the host must pass (those the rule set reads that have no default)."""
        return tuple(r.name for r in self._c.fact_reads if not r.has_default)

    def goal(self, intervention: str) -> CheckedExpr | None:
        """Return the checked goal condition of an intervention, if it has one."""
        return self._c.goal_exprs.get(intervention)

    def goal_met(
        self, intervention: str, facts: Mapping[str, Any], *, as_of: dt.date
    ) -> bool | None:
        """Whether an intervention's measurable goal holds for ``facts`` (None: it has no goal).

        Raises:
            DataError: A fact the goal reads is missing or malformed.
        """
        goal = self.goal(intervention)
        if goal is None:
            return None
        env, ctx = self.environment(facts, as_of)
        self._fill(env, ctx, goal.names, facts)
        return bool(self._interpret(goal, env, ctx))

    def _fill(
        self, env: dict[str, Any], ctx: EvalContext, names: Iterable[str], facts: Mapping[str, Any]
    ) -> None:
        """Add to ``env`` the names an expression reads that evaluation did not need."""
        c = self._c
        for name in names:
            if name in env:
                continue
            if name in c.metric_exprs:
                metric = c.metric_exprs[name]
                self._fill(env, ctx, metric.names, facts)
                env[name] = self._interpret(metric, env, ctx)
            elif name in FACTS or name in self.spec.facts.extra:
                env[name] = read_fact(facts, _fact_read(self.spec, name), facts.get(name))
                if name in self._vocab:
                    check_terms(facts, name, env[name], self._vocab[name])

    def __repr__(self) -> str:
        return f"<CompiledRuleset {self.ref}>"

    # --- evaluation -----------------------------------------------------------------------

    def _run(self, facts: Mapping[str, Any], as_of: dt.date) -> tuple[int, int, int, int]:
        try:
            return self._fn(facts, as_of)
        except DataError:
            raise
        except Exception as exc:  # _failed says which DataError it stands for, if any
            self._failed(facts, as_of, exc)

    def _failed(self, facts: Mapping[str, Any], as_of: dt.date, exc: Exception) -> NoReturn:
        """Turn an error raised by the generated code into the DataError it stands for.

        The generated code knows no places: the reference interpreter evaluates the same
        expressions in the same order and meets the same failure, at a known node of a known
        expression, which it reports (so both paths give the same error). An exception the
        reference interpreter does not meet is a fault of tierflow's, raised as it is.
        """
        if not hasattr(facts, "get"):
            raise DataError(
                "facts.invalid", f"facts must be a mapping, got {type(facts).__name__}"
            ) from exc
        if isinstance(exc, TypeError):  # an unhashable item in causes or groups
            for read in self._c.fact_reads:
                if read.name in self._vocab:
                    value = facts.get(read.name)
                    if isinstance(value, (list, tuple, set, frozenset)):
                        check_terms(facts, read.name, value, self._vocab[read.name])
        try:
            self._reference_bits(facts, as_of)
        except DataError as located:
            raise located from exc
        raise exc

    def _interpret(
        self,
        e: CheckedExpr,
        env: Mapping[str, Any],
        ctx: EvalContext,
        trace: list[TraceEntry] | None = None,
    ) -> Any:
        """Evaluate ``e`` with the reference interpreter; a failure names the student and place."""
        try:
            return interpret(e.tree, env, ctx, self._c.functions, trace)
        except ExprEvalError as exc:
            raise DataError(
                exc.code,
                f"{e.where(exc.node)} in rule set {self.id!r}: {exc.reason}",
                student_id=_student(ctx.facts),
            ) from exc

    def evaluate(self, facts: Mapping[str, Any], *, as_of: dt.date) -> Decision:
        """Decide the tier, interventions and legal steps for one student.

        Args:
            facts: A :class:`~tierflow.StudentFacts` or a mapping with the same keys.
            as_of: The date the facts describe.

        Raises:
            DataError: A fact the rule set needs is missing or malformed.
        """
        try:
            t, r, legal_bits, exempt_bits = self._fn(facts, as_of)
        except DataError:
            raise
        except Exception as exc:  # _failed says which DataError it stands for, if any
            self._failed(facts, as_of, exc)
        outcome = self._outcomes.get((t, r))
        if outcome is None:
            outcome = self._outcome(t, r)
        legal = self._legal(legal_bits, exempt_bits, facts, as_of) if legal_bits else ()
        return Decision(str(facts["student_id"]), as_of, outcome, legal, self, facts)

    def evaluate_many(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        as_of: dt.date,
        report: DataReport | None = None,
    ) -> Iterator[Decision]:
        """Evaluate a stream of students lazily, one decision per record.

        Args:
            records: Facts, one per student; read one at a time.
            as_of: The date the facts describe.
            report: If given, every record is counted there, and a record that fails is
                rejected there (its ``source`` names the record number when the error does not
                name one) and the stream goes on; otherwise the first failure is raised.
        """
        for index, facts in enumerate(records):
            try:
                decision = self.evaluate(facts, as_of=as_of)
            except DataError as exc:
                if report is None:
                    raise
                report.reject(exc.with_source(f"record {index + 1}"))
                continue
            if report is not None:
                report.accept()
            yield decision

    def _outcome(self, t: int, r: int) -> _Outcome:
        tier = self.spec.tiers[t]
        fired = tuple(rule.id for i, rule in enumerate(self.spec.rules) if r >> i & 1)
        by: dict[str, list[str]] = {iv: [f"tier:{tier.id}"] for iv in tier.assign}
        for i, rule in enumerate(self.spec.rules):
            if r >> i & 1:
                for iv in rule.assign:
                    by.setdefault(iv, []).append(f"rule:{rule.id}")
        assigned = tuple(
            self._assigned(iv, tuple(by[iv.id])) for iv in self.spec.interventions if iv.id in by
        )
        outcome = _Outcome(tier.id, tier.level, tier.label or tier.id, assigned, fired)
        self._outcomes[(t, r)] = outcome
        return outcome

    def _assigned(self, iv: InterventionSpec, by: tuple[str, ...]) -> AssignedIntervention:
        tier = self._tier_by_id[iv.tier]
        return AssignedIntervention(
            iv.id,
            iv.label or iv.id,
            iv.tier,
            tier.level,
            iv.owner,
            str(iv.cadence) if iv.cadence else None,
            iv.goal.text if iv.goal else None,
            iv.review_after_days,
            iv.escalates_to,
            by,
        )

    def _legal(
        self, bits: int, exempt: int, facts: Mapping[str, Any], as_of: dt.date
    ) -> tuple[LegalAction, ...]:
        steps = issued_steps(facts)
        # The ladder is per school year (EC 48260 "in one school year", TEC 25.0951 "in the
        # same school year"): steps issued in an earlier year are not this year's.
        since = self._years.start_of(as_of)
        issued = (
            {s.step: s.issued_on for s in steps if since <= s.issued_on <= as_of} if steps else {}
        )
        history: History | HistoryView = _NO_HISTORY  # read only if evidence is needed
        out = []
        for plan in self._plans:
            if not bits:
                break
            bit = bits & 1
            bits >>= 1
            skip = exempt & 1
            exempt >>= 1
            if not bit or plan.id in issued:
                continue
            if skip:
                out.append(plan.exempt)
            elif plan.unconditional:
                out.append(plan.due)
            else:
                if plan.reads_history and history is _NO_HISTORY:
                    history = history_view(facts, steps)
                missing = plan.missing(history, issued, as_of, self._unsupportive, since)
                out.append(
                    LegalAction(plan.id, plan.label, "blocked", missing, plan.cites)
                    if missing
                    else plan.due
                )
        return tuple(out)

    def missing_evidence(
        self,
        index: int,
        history: History | HistoryView,
        issued: Mapping[str, dt.date],
        as_of: dt.date,
    ) -> tuple[str, ...]:
        """Return what legal step ``index`` still needs, in plain words (empty when ready).

        Only ``issued`` steps, interventions and conferences of ``as_of``'s school year count.
        """
        since = self._years.start_of(as_of)
        this_year = {k: d for k, d in issued.items() if since <= d}
        return self._plans[index].missing(history, this_year, as_of, self._unsupportive, since)

    def legal_condition(
        self,
        index: int,
        facts: Mapping[str, Any],
        *,
        as_of: dt.date,
        history: History | HistoryView | None = None,
    ) -> tuple[str, tuple[str, ...]]:
        """Whether legal step ``index`` is warranted for ``facts``, with the values that say so.

        Returns:
            ``("warranted", because)``, ``("not warranted", because)`` or ``("exempt",
            because)``; ``because`` holds the comparisons as :meth:`explain` shows them
            (``truancies = 3 >= not2_from = 6 is false``).

        Raises:
            DataError: A fact the condition needs is missing or malformed.
        """
        env, ctx = self.environment(facts, as_of, history=history)
        c = self._c
        env["tier"], env["tier_level"] = self._tier_of(env, ctx)
        reason, holds = self._reason("", c.legal_exprs[index], env, ctx, ())
        if not holds:
            return "not warranted", reason.because
        exempt = c.exempt_exprs[index]
        if exempt is not None:
            ex_reason, is_exempt = self._reason("", exempt, env, ctx, ())
            if is_exempt:
                return "exempt", ex_reason.because
        return "warranted", reason.because

    def _tier_of(self, env: Mapping[str, Any], ctx: EvalContext) -> tuple[str, int]:
        """The tier the reference interpreter matches (legal conditions may name it)."""
        tiers = self.spec.tiers
        t = next(i for i, tier in enumerate(tiers) if tier.default)
        for i, e in enumerate(self._c.tier_exprs):
            if e is not None and self._interpret(e, env, ctx):
                t = i
                break
        return tiers[t].id, tiers[t].level

    # --- the reference interpreter and explanations -----------------------------------------

    def environment(
        self, facts: Mapping[str, Any], as_of: dt.date, *, history: Any = None
    ) -> tuple[dict[str, Any], EvalContext]:
        """Return every name's value for ``facts`` (the reference interpreter's view).

        ``history``, when given, is what the history functions read instead of the facts'
        ``history`` (a packet passes the records of a store).
        """
        env: dict[str, Any] = {"as_of": as_of}
        for read in self._c.fact_reads:
            value = facts.get(read.name)
            ok = value is not None and value.__class__ in _CLASSES[read.kind]
            env[read.name] = value if ok else read_fact(facts, read, value)
            if read.name in self._vocab:
                check_terms(facts, read.name, env[read.name], self._vocab[read.name])
        ctx = EvalContext(facts, as_of, self._unsupportive, history)
        for name in self._c.metric_order:
            env[name] = self._interpret(self._c.metric_exprs[name], env, ctx)
        return env, ctx

    def reference_evaluate(self, facts: Mapping[str, Any], *, as_of: dt.date) -> Decision:
        """Decide with the slow tree-walking interpreter: the specification of :meth:`evaluate`.

        It gives the same decision as :meth:`evaluate` (a property test checks that they agree
        on generated students and rule sets), only slower; use it to double-check one.

        Raises:
            DataError: A fact the rule set needs is missing or malformed.
        """
        t, r, legal_bits, exempt_bits = self._reference_bits(facts, as_of)
        outcome = self._outcomes.get((t, r)) or self._outcome(t, r)
        legal = self._legal(legal_bits, exempt_bits, facts, as_of) if legal_bits else ()
        return Decision(str(facts["student_id"]), as_of, outcome, legal, self, facts)

    def _reference_bits(
        self, facts: Mapping[str, Any], as_of: dt.date
    ) -> tuple[int, int, int, int]:
        """``(tier index, rule bits, legal bits, exempt bits)`` from the reference interpreter."""
        c = self._c
        env, ctx = self.environment(facts, as_of)
        ev = self._interpret
        t = next(i for i, tier in enumerate(self.spec.tiers) if tier.default)
        for i, e in enumerate(c.tier_exprs):
            if e is not None and (ev(e, env, ctx) or self._stays(i, env, ctx)):
                t = i
                break
        env["tier"] = self.spec.tiers[t].id
        env["tier_level"] = self.spec.tiers[t].level
        r = sum(1 << i for i, e in enumerate(c.rule_exprs) if ev(e, env, ctx))
        legal = exempt = 0
        for i, (e, ex) in enumerate(zip(c.legal_exprs, c.exempt_exprs, strict=True)):
            if ev(e, env, ctx):
                legal |= 1 << i
                if ex is not None and ev(ex, env, ctx):
                    exempt |= 1 << i
        return t, r, legal, exempt

    def _stays(self, index: int, env: Mapping[str, Any], ctx: EvalContext) -> bool:
        """Whether tier ``index`` keeps the student through its ``stay_while``.

        True when the tier was the student's ``previous_tier`` and its ``stay_while`` holds;
        False for a tier without one.
        """
        stay = self._c.stay_exprs[index]
        return (
            stay is not None
            and env["previous_tier"] == self.spec.tiers[index].id
            and bool(self._interpret(stay, env, ctx))
        )

    def _reason(
        self,
        subject: str,
        expr: CheckedExpr,
        env: Mapping[str, Any],
        ctx: EvalContext,
        cites: tuple[str, ...],
        outcome: str | None = None,
    ) -> tuple[Reason, bool]:
        trace: list[TraceEntry] = []
        result = bool(self._interpret(expr, env, ctx, trace))
        relevant = [e for e in trace if e.result == result] or trace
        shown: dict[str, int] = {}  # a metric shown with more digits is shown so in 'where'
        because = tuple(_render(e, shown) for e in relevant)
        used: set[str] = set().union(*(_names(e) for e in relevant)) if relevant else set()
        if not relevant:  # a condition that is a plain boolean name, e.g. a derived metric
            used = set(expr.names)
            because = tuple(f"{n} = {format_value(env[n])}" for n in sorted(used) if n in env)
        metrics = self._c.metric_exprs
        pending = [m for m in used if m in metrics]
        while pending:  # explain the metrics those metrics are built from, too
            for n in metrics[pending.pop()].names:
                if n in metrics and n not in used:
                    used.add(n)
                    pending.append(n)
        where = []
        for m in self._c.metric_order:
            if m in used:
                value = format_value(env[m], shown.get(m, 4))
                canonical = metrics[m].canonical
                where.append(f"{m} = {canonical}" + ("" if canonical == value else f" = {value}"))
        titles = tuple(self._refs[c].title for c in cites if c in self._refs)
        text = outcome or ("matched" if result else "did not match")
        return Reason(subject, text, expr.canonical, because, tuple(where), (), titles), result

    def _stay_reason(
        self, index: int, env: Mapping[str, Any], ctx: EvalContext, subject: str
    ) -> Reason:
        """Why the student stayed in tier ``index``, their previous tier, or left it.

        The tier's references are not cited: they back its entry (``when``); how a tier is left
        is the rule set's own choice.
        """
        tier = self.spec.tiers[index]
        stay = self._c.stay_exprs[index]
        assert stay is not None
        reason, kept = self._reason(subject, stay, env, ctx, ())
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

    def explain(self, facts: Mapping[str, Any], *, as_of: dt.date) -> Explanation:
        """Explain the decision for ``facts`` in plain words, with the values each condition saw."""
        decision = self.evaluate(facts, as_of=as_of)
        env, ctx = self.environment(facts, as_of)
        c = self._c
        tiers = self.spec.tiers
        t = next(i for i, tier in enumerate(tiers) if tier.id == decision.tier)
        tier = tiers[t]
        label = tier.label or tier.id
        if c.tier_exprs[t] is not None:
            expr = c.tier_exprs[t]
            assert expr is not None
            tier_reason, entered = self._reason(
                f"tier {tier.id} ({label})", expr, env, ctx, tier.cites
            )
            if not entered:  # it matched through stay_while: say why the student stayed
                tier_reason = self._stay_reason(t, env, ctx, f"tier {tier.id} ({label})")
        else:
            tier_reason = Reason(
                f"tier {tier.id} ({label})", "matched as the default tier: no earlier tier matched"
            )
        higher = []
        for i in range(t):
            e = c.tier_exprs[i]
            if e is not None and tiers[i].level > tier.level:
                reason, _ = self._reason(f"tier {tiers[i].id}", e, env, ctx, tiers[i].cites)
                higher.append(reason)
            if c.stay_exprs[i] is not None and env["previous_tier"] == tiers[i].id:
                higher.append(self._stay_reason(i, env, ctx, f"tier {tiers[i].id}"))
        env["tier"], env["tier_level"] = tier.id, tier.level
        rules = []
        for i, rule in enumerate(self.spec.rules):
            if rule.id in decision.rules:
                reason, _ = self._reason(
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
        for i, step in enumerate(self.spec.legal):
            action = actions.get(step.id)
            if action is None:
                continue
            reason, _ = self._reason(
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
                ex_reason, _ = self._reason("", ex, env, ctx, ())
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
            self.ref,
            decision.student_id,
            as_of,
            tier_reason,
            tuple(higher),
            tuple(rules),
            tuple(legal),
            self._distance(facts, as_of, tier),
        )

    def _distance(self, facts: Mapping[str, Any], as_of: dt.date, tier: TierSpec) -> str | None:
        """Say how many more unexcused absences would move the student to a higher tier."""
        if not any(t.level > tier.level for t in self.spec.tiers):
            return None
        keys = [k for k in ("days_enrolled", "days_absent", "days_unexcused") if k in self._reads]
        if not keys:
            return None
        base: dict[str, float] = {}
        for key in keys:
            value = facts.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
            base[key] = value
        data = (
            dict(facts.items())
            if isinstance(facts, dict)
            else {k: facts.get(k) for k in facts.keys()}  # noqa: SIM118  (StudentFacts is no dict)
        )
        for k in range(1, _NEXT_TIER_HORIZON + 1):
            for key in keys:
                data[key] = base[key] + k
            try:
                t = self._run(data, as_of)[0]
            except DataError:  # more absences than the rule set can count: no distance to tell
                return None
            found = self.spec.tiers[t]
            if found.level > tier.level:
                what = "absence" if k == 1 else "absences"
                return (
                    f"{k} more unexcused {what} (and no other change) would reach "
                    f"{found.label or found.id} ({found.id})"
                )
        return f"more than {_NEXT_TIER_HORIZON} further absences from a higher tier"

    # --- inline tests ----------------------------------------------------------------------

    def run_tests(self) -> list[TestResult]:
        """Run the rule set's inline ``tests:`` and return one result per case."""
        results = []
        for i, case in enumerate(self.spec.tests):
            where = str(self._c.smap.span(("tests", i)))
            diffs: list[str] = []
            try:
                d = self.evaluate(case.facts, as_of=case.as_of)
            except DataError as exc:
                if case.expect.error != exc.code:
                    diffs.append(f"error: expected {case.expect.error!r}, got {exc.code!r} ({exc})")
                results.append(TestResult(self.id, case.name, not diffs, tuple(diffs), where))
                continue
            exp = case.expect
            if exp.error is not None:
                diffs.append(f"error: expected {exp.error!r}, got a decision")
            if exp.tier is not None and exp.tier != d.tier:
                diffs.append(f"tier: expected {exp.tier!r}, got {d.tier!r}")
            checks = (
                ("interventions", exp.interventions, [iv.id for iv in d.interventions]),
                ("rules", exp.rules, list(d.rules)),
                ("legal_due", exp.legal_due, list(d.legal_due)),
                ("legal_blocked", exp.legal_blocked, list(d.legal_blocked)),
                (
                    "legal_exempt",
                    exp.legal_exempt,
                    [a.step for a in d.legal_actions if a.status == "exempt"],
                ),
            )
            for name, want, got in checks:
                if want is not None and set(want) != set(got):
                    extra = sorted(set(got) - set(want))
                    lack = sorted(set(want) - set(got))
                    parts = ([f"missing {lack}"] if lack else []) + (
                        [f"unexpected {extra}"] if extra else []
                    )
                    diffs.append(
                        f"{name}: expected {sorted(want)}, got {sorted(got)} ({'; '.join(parts)})"
                    )
            results.append(TestResult(self.id, case.name, not diffs, tuple(diffs), where))
        return results

    # --- one legal step's condition ----------------------------------------------------------

    def step_warranted(
        self, step: str, facts: Mapping[str, Any], *, as_of: dt.date, explain: bool = True
    ) -> tuple[bool, str]:
        """Whether legal step ``step``'s condition (its ``when``) holds, and why in words.

        Only the condition is read: not the step's prerequisites or exemptions, and whether
        or not the step was issued (:meth:`evaluate` reports only steps not yet issued). The
        words give the values the condition compared, as :meth:`explain` does:
        ``truancies = 2 >= not1_from = 3 is false``.

        Args:
            step: The legal step's id.
            facts: The student's facts.
            as_of: The date the facts are read at (windows over ``attendance_log`` end here).
            explain: Put the condition's values in words (False: the words are empty, and
                the answer costs one evaluation).

        Raises:
            KeyError: The rule set has no such legal step.
            DataError: A fact the condition reads is missing or malformed.
        """
        index = next((i for i, s in enumerate(self.spec.legal) if s.id == step), None)
        if index is None:
            known = ", ".join(s.id for s in self.spec.legal) or "none"
            raise KeyError(f"rule set {self.id} has no legal step {step!r} (it has: {known})")
        t, _rules, bits, _exempt = self._run(facts, as_of)
        holds = bool(bits >> index & 1)
        if not explain:
            return holds, ""
        spec = self.spec.legal[index]
        env, ctx = self.environment(facts, as_of)
        tier = self.spec.tiers[t]
        env["tier"], env["tier_level"] = tier.id, tier.level
        reason, _ = self._reason(
            f"legal {spec.label or spec.id}", self._c.legal_exprs[index], env, ctx, spec.cites
        )
        return holds, "; ".join(reason.because) or reason.condition


@dataclass(frozen=True)
class _LegalPlan:
    """A legal step's prerequisites, resolved once per rule set so each check is cheap."""

    id: str
    label: str
    cites: tuple[str, ...]
    previous: tuple[str, str] | None
    min_days: int
    steps: tuple[tuple[str, str], ...]
    conferences: tuple[str, ...]
    supportive: int
    floor: int
    with_outcome: bool
    due: LegalAction
    exempt: LegalAction
    attempted: tuple[str, ...] = ()
    """Conference kinds that must have been held or attempted."""
    min_check_ins: int = 0
    """Check-ins each counted supportive intervention needs."""
    checklist: tuple[tuple[str, CheckedExpr], ...] = ()
    """``(label, condition)`` of each checklist item."""
    functions: FunctionRegistry | None = None
    """The functions checklist conditions call."""
    reads_history: bool = False
    """Checking this step reads conferences or interventions tried."""
    unconditional: bool = False
    """The step has no prerequisites: due whenever its condition holds."""

    fast: tuple[Callable[[EvalContext, dt.date], Any] | None, ...] = ()
    """Each checklist condition as generated Python (None: it is interpreted)."""

    def __post_init__(self) -> None:
        if self.checklist and self.functions is not None and not self.fast:
            object.__setattr__(self, "fast", _checklist_code(self.checklist, self.functions))
        reads = bool(self.conferences or self.attempted or self.supportive or self.checklist)
        object.__setattr__(self, "reads_history", reads)
        object.__setattr__(self, "unconditional", not (self.previous or self.steps or reads))

    @classmethod
    def build(
        cls,
        spec: RulesetSpec,
        index: int,
        checklist: tuple[CheckedExpr, ...] = (),
        functions: FunctionRegistry | None = None,
    ) -> _LegalPlan:
        step = spec.legal[index]
        req = step.requires
        labels = {s.id: s.label or s.id for s in spec.legal}
        needs_previous = req.previous if req.previous is not None else index > 0
        prev = spec.legal[index - 1].id if needs_previous and index > 0 else None
        levels = {t.id: t.level for t in spec.tiers}
        label = step.label or step.id
        return cls(
            step.id,
            label,
            step.cites,
            (prev, labels[prev]) if prev is not None else None,
            req.min_days_after_previous,
            tuple((s, labels[s]) for s in req.steps),
            req.conferences,
            req.supportive_interventions,
            levels[req.supportive_min_tier] if req.supportive_min_tier else 1,
            req.with_outcome,
            LegalAction(step.id, label, "due", (), step.cites),
            LegalAction(step.id, label, "exempt", (), step.cites),
            req.conferences_attempted,
            req.min_check_ins,
            tuple((item.label, e) for item, e in zip(req.checklist, checklist, strict=True)),
            functions,
        )

    def missing(
        self,
        history: History | HistoryView,
        issued: Mapping[str, dt.date],
        as_of: dt.date,
        unsupportive: frozenset[str],
        since: dt.date = dt.date.min,
    ) -> tuple[str, ...]:
        """Return the evidence still missing for this step, in plain words.

        Conferences held and interventions that ended before ``since`` (the school year's first
        day) are last year's: they do not count. Only a conference recorded as held meets
        ``conferences``; one held or attempted meets ``conferences_attempted``. A checklist
        item's condition reads this school year's records only.
        """
        missing: list[str] = []
        if self.previous is not None:
            prev, name = self.previous
            when = issued.get(prev)
            if when is None:
                missing.append(f"{name} has not been issued")
            elif self.min_days and (as_of - when).days < self.min_days:
                missing.append(
                    f"{name} was issued {(as_of - when).days} days ago; "
                    f"at least {self.min_days} days must pass"
                )
        for other, name in self.steps:
            if other not in issued:
                missing.append(f"{name} has not been issued")
        if self.conferences or self.attempted:
            documented = [c for c in history.conferences if since <= c.held_on <= as_of]
            held = {c.kind for c in documented if c.outcome == "held"}
            tried = {c.kind for c in documented}
            for kind in self.conferences:
                if kind not in held:
                    extra = " (an attempt is documented; this step needs one held)"
                    missing.append(
                        f"no {kind.replace('_', ' ')} has been held{extra if kind in tried else ''}"
                    )
            for kind in self.attempted:
                if kind not in tried:
                    missing.append(f"no {kind.replace('_', ' ')} has been held or attempted")
        if self.supportive:
            tried_count = 0
            floor, with_outcome, check_ins = self.floor, self.with_outcome, self.min_check_ins
            for i in history.interventions:
                if (
                    i.tier_level >= floor
                    and i.started_on <= as_of
                    and (i.ended_on is None or i.ended_on >= since)
                    and i.intervention not in unsupportive
                    and (i.outcome is not None or not with_outcome)
                    and (not check_ins or (i.check_ins or 0) >= check_ins)
                ):
                    tried_count += 1
            if tried_count < self.supportive:
                what = f"tier {self.floor}+ " if self.floor > 1 else ""
                outcome = " with a recorded outcome" if self.with_outcome else ""
                if check_ins:
                    outcome += (
                        f" and at least {check_ins} check-in(s)"
                        if outcome
                        else (f" with at least {check_ins} check-in(s)")
                    )
                missing.append(
                    f"{self.supportive} supportive {what}intervention(s){outcome} "
                    f"must have been tried; found {tried_count}"
                )
        if self.checklist:
            missing += self._unmet(history, issued, as_of, unsupportive, since)
        return tuple(missing)

    def _unmet(
        self,
        history: History | HistoryView,
        issued: Mapping[str, dt.date],
        as_of: dt.date,
        unsupportive: frozenset[str],
        since: dt.date,
    ) -> list[str]:
        """The labels of the checklist items whose condition does not hold."""
        assert self.functions is not None
        this_year = HistoryView(
            tuple(StepView(s, d) for s, d in issued.items() if since <= d <= as_of),
            tuple(i for i in history.interventions if i.ended_on is None or i.ended_on >= since),
            tuple(c for c in history.conferences if since <= c.held_on <= as_of),
        )
        ctx = EvalContext({}, as_of, unsupportive, this_year)
        try:  # the generated conditions; any failure is told by the interpreter, located
            if self.fast and all(f is not None for f in self.fast):
                return [
                    label
                    for (label, _), f in zip(self.checklist, self.fast, strict=True)
                    if f is not None and not f(ctx, as_of)
                ]
        except Exception:
            ctx = EvalContext({}, as_of, unsupportive, this_year)
        env = {"as_of": as_of}
        unmet = []
        for label, expr in self.checklist:
            try:
                holds = interpret(expr.tree, env, ctx, self.functions)
            except ExprEvalError as exc:
                raise DataError(
                    exc.code, f"{expr.where(exc.node)} (checklist of {self.id}): {exc.reason}"
                ) from exc
            if not holds:
                unmet.append(label)
        return unmet


def _checklist_code(
    items: tuple[tuple[str, CheckedExpr], ...], functions: FunctionRegistry
) -> tuple[Callable[[EvalContext, dt.date], Any] | None, ...]:
    """Generate Python for each checklist condition, as the rule set's own code is generated.

    The source holds only what the generator writes (operators, its own names; values from the
    rule set are bound aside as constants), never rule set text. A condition naming anything
    but ``as_of`` is left to the interpreter (None).
    """
    out: list[Callable[[EvalContext, dt.date], Any] | None] = []
    for _, expr in items:
        consts = Constants()
        try:
            body = to_python(expr.tree, {"as_of": "as_of"}, consts, functions)
        except KeyError:
            out.append(None)
            continue
        ns: dict[str, Any] = {
            **consts.values,
            "_add_duration": add_duration,
            "_subtract_duration": subtract_duration,
            "_same_items": same_items,
            **{f"_fn_{fn.name}": fn.impl for fn in functions},
        }
        code = compile(f"lambda _ctx, as_of: {body}", "<tierflow checklist>", "eval")
        out.append(eval(code, ns))
    return tuple(out)


_CLASSES: dict[str, frozenset[type]] = {
    "number": frozenset({int, float}),
    "string": frozenset({str}),
    "bool": frozenset({bool}),
    "date": frozenset({dt.date}),
    "list": frozenset({list, tuple, set, frozenset}),
}


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


def _digits(values: list[Any]) -> list[int]:
    """Significant digits to show each compared value with: 4, or as many as tell it apart.

    A rate of 0.0999996 shows as 0.1 with 4 digits; beside a threshold of 0.1 that would read
    ``absence_rate = 0.1 >= 0.1 is false``. Two neighbours that differ but look the same get
    the digits that tell them apart (``absence_rate = 0.0999996 >= 0.1 is false``).
    """
    digits = [4] * len(values)
    for i in range(1, len(values)):
        a, b = values[i - 1], values[i]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
            continue
        n = max(digits[i - 1], digits[i])
        while a != b and n < 17 and format_value(a, n) == format_value(b, n):
            n += 1
        digits[i - 1] = digits[i] = n
    return digits


def _render(entry: TraceEntry, shown: dict[str, int]) -> str:
    """One comparison with its values; names shown with more digits are added to ``shown``."""
    parts = []
    operands = entry.node.operands
    digits = _digits(list(entry.values))
    for i, value in enumerate(entry.values):
        node = operands[i]
        if isinstance(node, Name) and digits[i] > shown.get(node.name, 4):
            shown[node.name] = digits[i]
        text = format_value(value, digits[i])
        text = text if isinstance(node, Const) else f"{unparse(node)} = {text}"
        if i:
            parts.append(entry.node.ops[i - 1])
        parts.append(text)
    if len(entry.values) < len(operands):
        parts.append("...")
    return " ".join(parts) + ("" if entry.result else " is false")


def _names(entry: TraceEntry) -> set[str]:
    from tierflow.expr import walk

    return {n.name for o in entry.node.operands for n in walk(o) if isinstance(n, Name)}
