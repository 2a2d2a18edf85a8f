"""The legal ladder on the reference path, written apart from the fast path's :mod:`._ladder`.

Nothing is planned ahead: each step's ``requires`` is read from the spec when it is checked,
the history is read through its validating model (:func:`~tierflow.facts.history_of`) and
checklist conditions are interpreted, never generated. The two ladders share no code, so the
property comparing the fast and reference paths (``tests/evaluate/test_ladder_agreement.py``)
catches a mistake in either: a step due, blocked or exempt on one path only, or different
evidence missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tierflow.attendance import SchoolYears
from tierflow.compile import Program
from tierflow.errors import DataError
from tierflow.evaluate._decision import LegalAction
from tierflow.expr import EvalContext, ExprEvalError, interpret
from tierflow.facts._model import History
from tierflow.facts._read import HistoryView, StepView, history_of, issued_steps
from tierflow.spec._models import LegalStepSpec

__all__ = ["reference_legal_actions"]


def reference_legal_actions(
    program: Program, warranted: int, exempt: int, facts: Mapping[str, Any], as_of: dt.date
) -> tuple[LegalAction, ...]:
    """The legal actions for the steps whose condition holds, checked the slow way.

    Args:
        program: The compiled rule set.
        warranted: Bit ``i`` set: step ``i``'s ``when`` holds.
        exempt: Bit ``i`` set: step ``i``'s exemption holds.
        facts: The student's facts.
        as_of: The date of the decision.
    """
    spec = program.spec
    first_day = SchoolYears(spec.school_year.starts).start_of(as_of)
    # Issued this school year, on or before the date: the last record of a step wins.
    issued: dict[str, dt.date] = {}
    for record in issued_steps(facts):
        if first_day <= record.issued_on <= as_of:
            issued[record.step] = record.issued_on
    history: History | None = None
    actions: list[LegalAction] = []
    for index, step in enumerate(spec.legal):
        if not warranted & (1 << index) or step.id in issued:
            continue
        label = step.label or step.id
        if exempt & (1 << index):
            actions.append(LegalAction(step.id, label, "exempt", (), step.cites))
            continue
        if history is None and _needs_history(step):
            history = history_of(facts)
        missing = _missing(program, index, issued, history, as_of, first_day)
        if missing:
            actions.append(LegalAction(step.id, label, "blocked", missing, step.cites))
        else:
            actions.append(LegalAction(step.id, label, "due", (), step.cites))
    return tuple(actions)


def _needs_history(step: LegalStepSpec) -> bool:
    req = step.requires
    return bool(
        req.conferences
        or req.conferences_attempted
        or req.supportive_interventions
        or req.checklist
    )


def _missing(
    program: Program,
    index: int,
    issued: Mapping[str, dt.date],
    history: History | None,
    as_of: dt.date,
    first_day: dt.date,
) -> tuple[str, ...]:
    spec = program.spec
    step = spec.legal[index]
    req = step.requires
    names = {s.id: s.label or s.id for s in spec.legal}
    out: list[str] = []
    wants_previous = index > 0 and (req.previous is None or req.previous)
    if wants_previous:
        before = spec.legal[index - 1].id
        if before not in issued:
            out.append(f"{names[before]} has not been issued")
        else:
            waited = (as_of - issued[before]).days
            if waited < req.min_days_after_previous:
                out.append(
                    f"{names[before]} was issued {waited} days ago; "
                    f"at least {req.min_days_after_previous} days must pass"
                )
    out += [f"{names[s]} has not been issued" for s in req.steps if s not in issued]
    if history is None:
        return tuple(out)
    this_year = [c for c in history.conferences if first_day <= c.held_on <= as_of]
    for kind in req.conferences:
        words = kind.replace("_", " ")
        if not any(c.kind == kind and c.outcome == "held" for c in this_year):
            attempted = any(c.kind == kind for c in this_year)
            note = " (an attempt is documented; this step needs one held)" if attempted else ""
            out.append(f"no {words} has been held{note}")
    for kind in req.conferences_attempted:
        if not any(c.kind == kind for c in this_year):
            out.append(f"no {kind.replace('_', ' ')} has been held or attempted")
    if req.supportive_interventions:
        out += _supportive_missing(program, index, history, as_of, first_day)
    if req.checklist:
        out += _checklist_unmet(program, index, issued, history, as_of, first_day)
    return tuple(out)


def _supportive_missing(
    program: Program, index: int, history: History, as_of: dt.date, first_day: dt.date
) -> list[str]:
    spec = program.spec
    req = spec.legal[index].requires
    level = {t.id: t.level for t in spec.tiers}
    floor = level[req.supportive_min_tier] if req.supportive_min_tier else 1
    supportive = {iv.id: iv.supportive for iv in spec.interventions}

    def counts(tried: Any) -> bool:
        if tried.tier_level < floor or tried.started_on > as_of:
            return False
        if tried.ended_on is not None and tried.ended_on < first_day:
            return False  # ended in an earlier school year
        if not supportive.get(tried.intervention, True):
            return False  # the catalogue says it is no support
        if req.with_outcome and tried.outcome is None:
            return False
        return not req.min_check_ins or (tried.check_ins or 0) >= req.min_check_ins

    found = sum(1 for tried in history.interventions if counts(tried))
    if found >= req.supportive_interventions:
        return []
    qualifiers = []
    if req.with_outcome:
        qualifiers.append("a recorded outcome")
    if req.min_check_ins:
        qualifiers.append(f"at least {req.min_check_ins} check-in(s)")
    kind = f"tier {floor}+ " if floor > 1 else ""
    extra = f" with {' and '.join(qualifiers)}" if qualifiers else ""
    return [
        f"{req.supportive_interventions} supportive {kind}intervention(s){extra} "
        f"must have been tried; found {found}"
    ]


def _checklist_unmet(
    program: Program,
    index: int,
    issued: Mapping[str, dt.date],
    history: History,
    as_of: dt.date,
    first_day: dt.date,
) -> list[str]:
    """The labels of the checklist items whose condition does not hold on this year's records."""
    spec = program.spec
    step = spec.legal[index]
    view = HistoryView(
        tuple(StepView(s, d) for s, d in issued.items()),
        tuple(i for i in history.interventions if i.ended_on is None or i.ended_on >= first_day),
        tuple(c for c in history.conferences if first_day <= c.held_on <= as_of),
    )
    unsupportive = frozenset(iv.id for iv in spec.interventions if not iv.supportive)
    ctx = EvalContext({}, as_of, unsupportive, view)
    unmet = []
    for item, expr in zip(step.requires.checklist, program.checklist_exprs[index], strict=True):
        try:
            holds = interpret(expr.tree, {"as_of": as_of}, ctx, program.functions)
        except ExprEvalError as exc:
            raise DataError(
                exc.code, f"{expr.where(exc.node)} (checklist of {step.id}): {exc.reason}"
            ) from exc
        if not holds:
            unmet.append(item.label)
    return unmet
