"""One legal step issued, checked against what the records documented before it.

The unit of the compliance report: the supportive interventions started by the step's date
(with the last outcome recorded by then), the conferences held, the earlier steps issued, what
the rule set still required, and the flags an auditor looks for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tierflow.evaluate import CompiledRuleset
from tierflow.facts._read import HistoryView, InterventionView
from tierflow.report._aging import CorrectionFlag, LegalAging
from tierflow.workflow import Intervention, Repository, Tried, WorkflowEvent
from tierflow.workflow._tried import Starts, conferences_recorded, support_tried

__all__ = [
    "GROUNDS_REMOVED",
    "ISSUED_LATE",
    "NO_PRIOR_SUPPORT",
    "REQUIREMENTS_UNMET",
    "UNKNOWN_STEP",
    "StepCheck",
    "check_step",
]

NO_PRIOR_SUPPORT = "no_prior_support"
"""Flag: no supportive intervention was documented on or before the step's date."""
REQUIREMENTS_UNMET = "requirements_unmet"
"""Flag: the records do not show something the rule set requires for the step."""
UNKNOWN_STEP = "unknown_step"
"""Flag: the rule set the report checks against has no such step."""
ISSUED_LATE = "issued_late"
"""Flag: the step was issued after its deadline (``deadline_school_days``)."""
GROUNDS_REMOVED = "grounds_removed"
"""Flag: corrected data removed the step's grounds and nobody rescinded it or notified yet."""


@dataclass(frozen=True)
class StepCheck:
    """One legal step issued, and the documentation that preceded it.

    Attributes:
        student_id: The student.
        step: The step id (``not2``).
        label: Its label in the rule set.
        issued_on: The date it was issued.
        issued_by: Who issued it (empty when the store records no ``legal_issued`` event).
        ruleset: The rule set named when it was issued (empty when not recorded).
        cites: Titles of the statutes and guidance the rule set cites for the step.
        earlier_steps: ``(step, date)`` of the steps issued before it (on an earlier date, or
            on the same date and earlier in the ladder).
        conferences: ``(kind, date)`` of the conferences held on or before its date (attempts
            are not listed here; they count where a step accepts them).
        interventions: The supportive interventions opened on or before its date.
        missing: What the rule set requires for the step that the records did not show then.
        flags: ``no_prior_support``, ``requirements_unmet``, ``unknown_step``,
            ``issued_late``, ``grounds_removed``; empty when the step was documented as
            required.
        due_on: The day the engine first reported it due (None: not reported due).
        deadline: The last school day to issue it on time (None: no deadline).
        waited_school_days: School days from coming due to being issued (None: unknown).
        late_school_days: School days past the deadline (0 on time; None: no deadline).
        correction: A correction flag on it, in words: open (``grounds_removed``) or how it
            was resolved; empty when there is none.
    """

    student_id: str
    step: str
    label: str
    issued_on: dt.date
    issued_by: str
    ruleset: str
    cites: tuple[str, ...]
    earlier_steps: tuple[tuple[str, dt.date], ...]
    conferences: tuple[tuple[str, dt.date], ...]
    interventions: tuple[Tried, ...]
    missing: tuple[str, ...]
    flags: tuple[str, ...]
    due_on: dt.date | None = None
    deadline: dt.date | None = None
    waited_school_days: int | None = None
    late_school_days: int | None = None
    correction: str = ""

    @property
    def status(self) -> str:
        """``issued``, or ``issued late`` past its deadline."""
        return "issued late" if self.late_school_days else "issued"

    @property
    def ok(self) -> bool:
        """Nothing was flagged."""
        return not self.flags


def check_step(
    repository: Repository,
    ruleset: CompiledRuleset,
    student_id: str,
    step: str,
    issued_on: dt.date,
    issued: Mapping[str, dt.date],
    event: Any,
    unsupportive: frozenset[str],
    timeline: Sequence[WorkflowEvent],
    starts: Starts,
    interventions: Sequence[Intervention],
    aging: LegalAging | None = None,
    correction: CorrectionFlag | None = None,
) -> StepCheck:
    """Check one legal step issued against the records on or before the day it was issued.

    Args:
        repository: The records.
        ruleset: The rule set whose requirements and citations to check against.
        student_id: The student.
        step: The step id.
        issued_on: The day it was issued.
        issued: Every step issued to the student, with its date.
        event: Its ``legal_issued`` event (None: the store records none).
        unsupportive: Catalogue ids of interventions that are not support.
        timeline: The student's events, read once by the caller.
        starts: When each intervention was started, read from ``timeline``.
        interventions: The student's interventions, read once by the caller.
        aging: How long it waited before it was issued (None: not known).
        correction: A correction flag on it (None: none).
    """
    steps = [s.id for s in ruleset.legal_steps]
    refs = {r.id: r.title for r in ruleset.spec.references}
    index = steps.index(step) if step in steps else None
    spec = ruleset.legal_steps[index] if index is not None else None
    order = {s: i for i, s in enumerate(steps)}
    rank = order.get(step, len(steps))
    earlier = tuple(
        sorted(
            (
                (s, d)
                for s, d in issued.items()
                if s != step
                and (d < issued_on or (d == issued_on and order.get(s, len(steps)) < rank))
            ),
            key=lambda item: (item[1], order.get(item[0], len(steps))),
        )
    )
    recorded = conferences_recorded(timeline, as_of=issued_on)
    held = tuple((c.kind, c.held_on) for c in recorded if c.outcome == "held")
    prior: list[Tried] = []
    tried: list[InterventionView] = []
    # Started (by the step) and not withdrawn on corrected data (by then), from its start: the
    # support the engine would have counted on the day the step was issued.
    for t in support_tried(
        repository, student_id, as_of=issued_on, starts=starts, interventions=interventions
    ):
        tried.append(
            InterventionView(
                t.intervention, t.tier_level, t.started_on, t.ended_on, t.outcome, t.check_ins
            )
        )
        if t.intervention not in unsupportive:
            prior.append(t)
    flags: list[str] = []
    if spec is None:
        missing: tuple[str, ...] = (f"rule set {ruleset.id} has no legal step {step!r}",)
        flags.append(UNKNOWN_STEP)
    else:
        history = HistoryView((), tuple(tried), tuple(recorded))  # attempts too: they may count
        assert index is not None
        missing = ruleset.ladder.missing(index, history, dict(earlier), issued_on)
    if not prior:
        flags.insert(0, NO_PRIOR_SUPPORT)
    if missing and spec is not None:
        flags.append(REQUIREMENTS_UNMET)
    if aging is not None and aging.late_school_days:
        flags.append(ISSUED_LATE)
    if correction is not None and correction.open:
        flags.append(GROUNDS_REMOVED)
    return StepCheck(
        student_id,
        step,
        (spec.label or spec.id) if spec is not None else step,
        issued_on,
        "" if event is None else str(event.who),
        "" if event is None or event.ruleset is None else str(event.ruleset),
        tuple(refs.get(c, c) for c in spec.cites) if spec is not None else (),
        earlier,
        held,
        tuple(prior),
        missing,
        tuple(flags),
        None if aging is None else aging.due_on,
        None if aging is None else aging.deadline,
        None if aging is None else aging.waited_school_days,
        None if aging is None else aging.late_school_days,
        "" if correction is None else correction.describe(),
    )
