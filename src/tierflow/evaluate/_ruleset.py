"""A compiled rule set: load once, evaluate many times.

:class:`CompiledRuleset` is a small value around the compiler's
:class:`~tierflow.compile.Program` with the fast path (the generated evaluator and the fast
legal ladder, :mod:`._ladder`). Explanations (:mod:`._explain`), the reference interpreter
(:mod:`._reference`, with its own ladder) and inline tests (:mod:`._inline_tests`) are modules
that take it as input; the methods naming them here are one-line delegations kept for the
documented API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn

from tierflow.attendance import SchoolYears
from tierflow.compile import Program
from tierflow.compile._checked import CheckedExpr
from tierflow.errors import DataError, DataReport
from tierflow.evaluate import _explain, _inline_tests, _reference
from tierflow.evaluate._decision import (
    AssignedIntervention,
    Decision,
    Explanation,
    LegalAction,
    RulesetRef,
    _Outcome,
)
from tierflow.evaluate._ladder import Ladder
from tierflow.facts._read import check_terms
from tierflow.spec import AttendancePolicy
from tierflow.spec._models import InterventionSpec, LegalStepSpec, RulesetSpec, TierSpec

__all__ = ["CompiledRuleset"]


class CompiledRuleset:
    """A rule set compiled into a Python evaluator. Create it with :func:`tierflow.load_ruleset`.

    Evaluation is a pure function of the facts and the as-of date; the object holds no state that
    evaluation changes, so it may be shared between threads.

    Attributes:
        program: What the compiler made: the spec, checked expressions, generated evaluator.
        spec: The validated, merged rule set.
        ref: Id, name, version and content hash, as decisions carry them.
        files: The files of the rule set's ``extends`` chain, base first (its own last).
        python_source: The generated evaluator's source.
        ladder: The legal ladder's prerequisites, checked the fast way.
        lifecycle: The intervention lifecycle (the built-in one unless the rule set has a
            ``lifecycle:`` section).
    """

    def __init__(self, program: Program) -> None:
        spec = program.spec
        self.program = program
        self.spec: RulesetSpec = spec
        self.ref = RulesetRef(spec.id, spec.name, spec.version, program.content_hash)
        self.files: tuple[str, ...] = program.files
        self.python_source = program.python_source
        self.ladder = Ladder(program)
        self.lifecycle = program.lifecycle
        self._fn = program.evaluator
        self._batch = program.batch
        self._interventions = {iv.id: iv for iv in spec.interventions}
        # The outcome of each rule bits, by tier index: built once, shared by every decision.
        self._by_tier: tuple[dict[int, _Outcome], ...] = tuple({} for _ in spec.tiers)

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
        return self.ladder.years

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
    def fact_names(self) -> tuple[str, ...]:
        """The name of every fact evaluation reads (with or without a default)."""
        return tuple(r.name for r in self.program.fact_reads)

    @property
    def required_facts(self) -> tuple[str, ...]:
        """Facts the host must pass (those the rule set reads that have no default)."""
        return tuple(r.name for r in self.program.fact_reads if not r.has_default)

    def goal(self, intervention: str) -> CheckedExpr | None:
        """Return the checked goal condition of an intervention, if it has one."""
        return self.program.goal_exprs.get(intervention)

    def __repr__(self) -> str:
        return f"<CompiledRuleset {self.ref}>"

    # --- the fast path ---------------------------------------------------------------------

    def evaluate(self, facts: Mapping[str, Any], *, as_of: dt.date) -> Decision:
        """Decide the tier, interventions and legal steps for one student.

        Args:
            facts: A :class:`~tierflow.StudentFacts` or a mapping with the same keys.
            as_of: The date the facts describe.

        Raises:
            DataError: A fact the rule set needs is missing or malformed.
        """
        try:
            t, r, legal_bits, exempt_bits, student = self._fn(facts, as_of)
        except DataError:
            raise
        except Exception as exc:  # _failed says which DataError it stands for, if any
            self._failed(facts, as_of, exc)
        outcome = self._by_tier[t].get(r) or self._outcome(t, r)
        legal = self.ladder.actions(legal_bits, exempt_bits, facts, as_of) if legal_bits else ()
        return Decision(student, as_of, outcome, legal, self, facts)

    def evaluate_many(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        as_of: dt.date,
        report: DataReport | None = None,
    ) -> Iterator[Decision]:
        """Evaluate a stream of students lazily, one decision per record.

        The same decisions as :meth:`evaluate` one record at a time, made in one loop: students
        with the same tier and rules share one outcome, and students without a ``history`` whose
        legal steps' conditions are the same share one tuple of legal actions (it depends only
        on those conditions and ``as_of``).

        Args:
            records: Facts, one per student; read one at a time.
            as_of: The date the facts describe.
            report: If given, every record is counted there, and a record that fails is
                rejected there (its ``source`` names the record number when the error does not
                name one) and the stream goes on; otherwise the first failure is raised.
        """
        if report is None:
            return self._decide_all(records, as_of=as_of)

        def reject(exc: DataError, number: int) -> None:
            report.reject(exc.with_source(f"record {number}"))

        return self._decide_all(records, as_of=as_of, reject=reject, accept=report.accept)

    def _decide_all(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        as_of: dt.date,
        reject: Callable[[DataError, int], None] | None = None,
        accept: Callable[[], None] | None = None,
    ) -> Iterator[Decision]:
        """The batch loop under :meth:`evaluate_many` and the pipeline's, with their books.

        Records are taken one at a time, and each record's decision is yielded before the
        next record is taken (a host may note which record it handed over last).

        Args:
            records: Facts, one per student.
            as_of: The date the facts describe.
            reject: Called with a record's :class:`~tierflow.errors.DataError` and its number
                (from 1) when it fails; the stream goes on. None: the failure is raised.
            accept: Called once for each record decided, before its decision is yielded.
        """
        legal = self._batch_legal(as_of)
        if self._batch is not None:
            # The generated loop: the evaluator's body run for each record in one frame.
            return self._batch(
                records,
                as_of,
                Decision,
                self._by_tier,
                self._outcome,
                legal,
                self._failed,
                self,
                DataError,
                reject,
                accept,
            )
        return self._reporting(records, as_of, legal, reject, accept)

    def _batch_legal(
        self, as_of: dt.date
    ) -> Callable[[int, int, Mapping[str, Any]], tuple[LegalAction, ...]]:
        """A batch's legal actions for legal bits ``l``, exempt bits ``x`` and facts ``f``.

        A student without a history gets the tuple made for the first such student with the
        same bits: what the ladder makes of them depends on nothing else but ``as_of``.
        """
        actions = self.ladder.actions
        plain: dict[tuple[int, int], tuple[LegalAction, ...]] = {}

        def legal(bits: int, exempt: int, facts: Mapping[str, Any]) -> tuple[LegalAction, ...]:
            if facts.get("history") is not None:
                return actions(bits, exempt, facts, as_of)
            made = plain.get((bits, exempt))
            if made is None:
                made = plain[(bits, exempt)] = actions(bits, exempt, facts, as_of)
            return made

        return legal

    def _reporting(
        self,
        records: Iterable[Mapping[str, Any]],
        as_of: dt.date,
        legal: Callable[[int, int, Mapping[str, Any]], tuple[LegalAction, ...]],
        reject: Callable[[DataError, int], None] | None,
        accept: Callable[[], None] | None,
    ) -> Iterator[Decision]:
        """The batch loop in Python, for a program generated without one."""
        fn, by_tier, outcome_of, failed = self._fn, self._by_tier, self._outcome, self._failed
        number = 0
        for facts in records:
            number += 1
            try:
                try:
                    t, r, legal_bits, exempt_bits, student = fn(facts, as_of)
                except DataError:
                    raise
                except Exception as exc:  # _failed says which DataError it stands for, if any
                    failed(facts, as_of, exc)
                outcome = by_tier[t].get(r) or outcome_of(t, r)
                actions = legal(legal_bits, exempt_bits, facts) if legal_bits else ()
            except DataError as exc:
                if reject is None:
                    raise
                reject(exc, number)
                continue
            if accept is not None:
                accept()
            yield Decision(student, as_of, outcome, actions, self, facts)

    def _decision(
        self,
        facts: Mapping[str, Any],
        as_of: dt.date,
        tier: int,
        rules: int,
        legal: tuple[LegalAction, ...],
    ) -> Decision:
        """The decision for a tier index and rule bits (as the evaluators return them)."""
        outcome = self._by_tier[tier].get(rules) or self._outcome(tier, rules)
        return Decision(str(facts["student_id"]), as_of, outcome, legal, self, facts)

    def _run(self, facts: Mapping[str, Any], as_of: dt.date) -> tuple[int, int, int, int]:
        """``(tier index, rule bits, legal bits, exempt bits)`` from the generated evaluator."""
        try:
            t, r, legal_bits, exempt_bits, _ = self._fn(facts, as_of)
            return t, r, legal_bits, exempt_bits
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
        vocab = self.program.vocabularies
        if isinstance(exc, TypeError):  # an unhashable item in causes or groups
            for read in self.program.fact_reads:
                if read.name in vocab:
                    value = facts.get(read.name)
                    if isinstance(value, (list, tuple, set, frozenset)):
                        check_terms(facts, read.name, value, vocab[read.name])
        try:
            _reference.reference_bits(self, facts, as_of)
        except DataError as located:
            raise located from exc
        raise exc

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
        self._by_tier[t][r] = outcome
        return outcome

    def _assigned(self, iv: InterventionSpec, by: tuple[str, ...]) -> AssignedIntervention:
        tier = next(t for t in self.spec.tiers if t.id == iv.tier)
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

    # --- delegations kept for the documented API -------------------------------------------

    def reference_evaluate(self, facts: Mapping[str, Any], *, as_of: dt.date) -> Decision:
        """Decide with the slow reference interpreter (:func:`~._reference.reference_evaluate`).

        It gives the same decision as :meth:`evaluate` (a property test checks that they agree
        on generated students and rule sets, legal steps included), only slower; use it to
        double-check one.
        """
        return _reference.reference_evaluate(self, facts, as_of=as_of)

    def explain(self, facts: Mapping[str, Any], *, as_of: dt.date) -> Explanation:
        """Explain the decision for ``facts`` in plain words, with the values each condition saw."""
        return _explain.explain(self, facts, as_of=as_of)

    def goal_met(
        self, intervention: str, facts: Mapping[str, Any], *, as_of: dt.date
    ) -> bool | None:
        """Whether an intervention's measurable goal holds for ``facts`` (None: it has no goal)."""
        return _reference.goal_met(self, intervention, facts, as_of=as_of)

    def step_warranted(
        self, step: str, facts: Mapping[str, Any], *, as_of: dt.date, explain: bool = True
    ) -> tuple[bool, str]:
        """Whether legal step ``step``'s ``when`` holds, and why in words (see ``_explain``)."""
        return _explain.step_warranted(self, step, facts, as_of=as_of, explain=explain)

    def run_tests(self) -> list[_inline_tests.TestResult]:
        """Run the rule set's inline ``tests:`` and return one result per case."""
        return _inline_tests.run_tests(self)
