"""The legal ladder on the fast path: each step's prerequisites, resolved once per rule set.

The reference path checks the same prerequisites its own way (:mod:`._reference_ladder`), read
straight from the spec each time; a property test compares the two on generated students.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tierflow.attendance import SchoolYears
from tierflow.compile import Program
from tierflow.compile._checked import CheckedExpr
from tierflow.errors import DataError
from tierflow.evaluate._decision import LegalAction
from tierflow.expr import (
    Constants,
    EvalContext,
    ExprEvalError,
    FunctionRegistry,
    interpret,
    to_python,
)
from tierflow.expr._functions import add_duration, same_items, subtract_duration
from tierflow.facts._model import History
from tierflow.facts._read import (
    EMPTY_HISTORY_VIEW,
    HistoryView,
    StepView,
    history_view,
    issued_steps,
)
from tierflow.spec._models import RulesetSpec

__all__ = ["Ladder", "LegalPlan"]

_SHARED = 10_000
"""Distinct blocked actions, and tuples of actions, remembered for sharing; then afresh."""


class Ladder:
    """The legal ladder of one rule set, checked the fast way.

    Args:
        program: The compiled rule set.
    """

    def __init__(self, program: Program) -> None:
        spec = program.spec
        self.plans = tuple(
            LegalPlan.build(spec, i, program.checklist_exprs[i], program.functions)
            for i in range(len(spec.legal))
        )
        self.years = SchoolYears(spec.school_year.starts)
        self.unsupportive = frozenset(iv.id for iv in spec.interventions if not iv.supportive)
        self._blocked: dict[tuple[int, tuple[str, ...]], LegalAction] = {}
        """Blocked actions by (step, what is missing): one object for the students alike."""
        self._shared: dict[tuple[int, ...], tuple[LegalAction, ...]] = {}
        """Tuples of actions by their actions' ids: one tuple for the students alike. Each
        tuple holds its actions, so the ids in its key stay theirs while it is kept."""

    def actions(
        self, bits: int, exempt: int, facts: Mapping[str, Any], as_of: dt.date
    ) -> tuple[LegalAction, ...]:
        """The legal actions for the steps whose condition holds (``bits``), in ladder order.

        Args:
            bits: Bit ``i`` set: step ``i``'s ``when`` holds.
            exempt: Bit ``i`` set: step ``i``'s exemption holds.
            facts: The student's facts (their ``history`` says what was issued and tried).
            as_of: The date of the decision.
        """
        steps = issued_steps(facts)
        # The ladder is per school year (EC 48260 "in one school year", TEC 25.0951 "in the
        # same school year"): steps issued in an earlier year are not this year's.
        since = self.years.start_of(as_of)
        issued = (
            {s.step: s.issued_on for s in steps if since <= s.issued_on <= as_of} if steps else {}
        )
        history: History | HistoryView = EMPTY_HISTORY_VIEW  # read only if evidence is needed
        out = []
        for index, plan in enumerate(self.plans):
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
                if plan.reads_history and history is EMPTY_HISTORY_VIEW:
                    history = history_view(facts, steps)
                missing = plan.missing(history, issued, as_of, self.unsupportive, since)
                out.append(self._blocked_by(index, plan, missing) if missing else plan.due)
        return self._share(out)

    def _blocked_by(self, index: int, plan: LegalPlan, missing: tuple[str, ...]) -> LegalAction:
        """Step ``index`` blocked for want of ``missing``: one shared object each."""
        key = (index, missing)
        found = self._blocked.get(key)
        if found is None:
            if len(self._blocked) >= _SHARED:
                self._blocked.clear()
                self._shared.clear()  # its tuples would keep the dropped actions alive
            found = self._blocked[key] = LegalAction(
                plan.id, plan.label, "blocked", missing, plan.cites
            )
        return found

    def _share(self, actions: list[LegalAction]) -> tuple[LegalAction, ...]:
        """``actions`` as a tuple, the same one for every student with the same actions.

        A batch that keeps its decisions keeps one tuple per kind of legal outcome, not one a
        student: each would be an object the garbage collector tracks for as long as it is
        kept (a fifth of ``ca``'s students have a history, and each made one).
        """
        if not actions:
            return ()
        key = tuple(map(id, actions))  # alive in ``actions`` now, and in the tuple once kept
        found = self._shared.get(key)
        if found is None:
            if len(self._shared) >= _SHARED:
                self._shared.clear()
            found = self._shared[key] = tuple(actions)
        return found

    def missing(
        self,
        index: int,
        history: History | HistoryView,
        issued: Mapping[str, dt.date],
        as_of: dt.date,
    ) -> tuple[str, ...]:
        """Return what legal step ``index`` still needs, in plain words (empty when ready).

        Only ``issued`` steps, interventions and conferences of ``as_of``'s school year count.
        """
        since = self.years.start_of(as_of)
        this_year = {k: d for k, d in issued.items() if since <= d}
        return self.plans[index].missing(history, this_year, as_of, self.unsupportive, since)


@dataclass(frozen=True)
class LegalPlan:
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
    ) -> LegalPlan:
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
