"""Whether a legal step may be issued for a student: warranted, and its elements documented.

The packet's readiness section: the earlier steps the step needs (transitively), the
conferences and supportive interventions the records show by the date, as the engine reads
them, what the rule set still finds missing, and whether the step's condition holds on the
facts given or the decisive ones the engine recorded last.

Where the records hold notices (the outbox), each earlier step's notice is evidence too: one
delivered (or read) is listed with what is present; one returned, bounced, or not yet reported
delivered is listed in ``notices_missing`` (:mod:`tierflow.report._evidence`). That is evidence
for the panel to weigh, not one of the rule set's requirements: it does not change ``ready``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tierflow.errors import DataError
from tierflow.evaluate import CompiledRuleset, legal_condition
from tierflow.facts._read import HistoryView, InterventionView, StepView
from tierflow.report._evidence import notices_as_of, step_evidence
from tierflow.workflow import Repository, WorkflowEvent, read_notices
from tierflow.workflow._tried import Starts, conferences_recorded, support_tried

__all__ = ["Readiness", "check_readiness"]


@dataclass(frozen=True)
class Readiness:
    """Whether a legal step may be issued: warranted, and its required elements documented.

    Attributes:
        step: The legal step id (``sarb-referral``).
        label: Its label.
        ready: The step's condition holds as of the date, the student is not exempt, it was
            not issued already this school year, and nothing is missing.
        present: The documented elements, in words.
        missing: The elements still missing, in words (as the rule set states them).
        warranted: Whether the step's condition holds (None: the facts to tell are missing).
        verdict: ``ready``, ``not ready``, or why the step is not for now:
            ``not warranted: truancies = 3 >= not2_from = 6 is false``, ``exempt: ...``,
            ``already issued on ...``, ``cannot tell whether it is warranted: ...``.
        facts_on: The date of the recorded facts the condition was checked on (None: the
            facts were given, or none were found).
        notices_missing: Earlier steps' notices to the family not shown delivered, in words
            (returned, bounced, no delivery reported; once the student has a notice recorded,
            an issued step the rule set has a notice for and none was recorded). It does not
            change ``ready``.
    """

    step: str
    label: str
    ready: bool
    present: tuple[str, ...]
    missing: tuple[str, ...]
    warranted: bool | None = None
    verdict: str = ""
    facts_on: dt.date | None = None
    notices_missing: tuple[str, ...] = ()


def _documented(
    repository: Repository, student_id: str, events: Sequence[WorkflowEvent], as_of: dt.date
) -> HistoryView:
    """What the records show was done for a student by ``as_of``, as the engine reads it.

    Supportive interventions are those started and not withdrawn on corrected data, from the
    day they were started, with the check-ins recorded by then
    (:func:`tierflow.workflow._tried.support_tried`, which the engine uses). Conferences are
    listed held or attempted, as recorded; only held ones meet a step's ``conferences``.

    The records are read as they are, like the compliance report reads them: a conference
    kind or an outcome that is not an id (imported from another system, or a row edited
    outside tierflow) is printed, not refused, since a packet documents what was recorded.
    """
    tried = tuple(
        InterventionView(
            t.intervention, t.tier_level, t.started_on, t.ended_on, t.outcome, t.check_ins
        )
        for t in support_tried(repository, student_id, as_of=as_of, starts=Starts.read(events))
    )  # started, not withdrawn: as the engine counts them (an opened one is not support)
    held = tuple(conferences_recorded(events, as_of=as_of))
    steps = tuple(StepView(s, d) for s, d in repository.issued(student_id).items() if d <= as_of)
    return HistoryView(steps, tried, held)


def _recorded_facts(
    events: Sequence[WorkflowEvent], student_id: str, as_of: dt.date
) -> tuple[dict[str, Any] | None, dt.date | None]:
    """The facts the engine recorded last on or before ``as_of`` (the decisive ones)."""
    for ev in reversed(events):
        if ev.facts is not None and ev.at <= as_of:
            return {"student_id": student_id, **dict(ev.facts)}, ev.at
    return None, None


def check_readiness(
    ruleset: CompiledRuleset,
    repository: Repository,
    student_id: str,
    step_id: str,
    as_of: dt.date,
    events: Sequence[WorkflowEvent],
    facts: Mapping[str, Any] | None,
) -> Readiness:
    """Whether ``step_id`` may be issued to the student on ``as_of``, and what is missing.

    Args:
        ruleset: The rule set whose legal ladder and conditions to check.
        repository: The records (any workflow repository).
        student_id: The student.
        step_id: The legal step (``sarb-referral``).
        as_of: The date to check on.
        events: The student's timeline, read once by the caller.
        facts: The facts to check the condition on (None: the decisive ones recorded last).

    Raises:
        KeyError: The rule set has no such legal step.
    """
    steps = list(ruleset.legal_steps)
    index = next((i for i, s in enumerate(steps) if s.id == step_id), None)
    if index is None:
        known = ", ".join(s.id for s in steps) or "none"
        raise KeyError(f"rule set {ruleset.id} has no legal step {step_id!r} (it has: {known})")
    history = _documented(repository, student_id, events, as_of)
    issued = {s.step: s.issued_on for s in history.legal_steps}
    chain: list[int] = []
    todo = [index]
    while todo:  # the earlier steps it needs, transitively (NOT1-3 before a SARB referral)
        i = todo.pop()
        req = steps[i].requires
        needs = [i - 1] if req.previous and i > 0 else []
        needs += [j for j, s in enumerate(steps) if s.id in req.steps]
        for j in needs:
            if j not in chain:
                chain.append(j)
                todo.append(j)
    present: list[str] = []
    missing: list[str] = []
    notices = notices_as_of(read_notices(events), as_of)
    unsent: list[str] = []
    for j in sorted(chain):
        s = steps[j]
        if s.id in issued:
            present.append(f"{s.label or s.id} issued on {issued[s.id]}")
            if notices:  # the host keeps an outbox: each issued step's notice is evidence
                book = ruleset.program.notices
                shown, lacking = step_evidence(
                    notices, s.id, s.label or s.id, expected=bool(book.for_step(s.id))
                )
                present += shown
                unsent += lacking
        else:
            missing.append(f"{s.label or s.id} has not been issued")
    for c in history.conferences:
        kind = c.kind.replace("_", " ")
        if c.outcome == "held":
            present.append(f"{kind} held on {c.held_on}")
        else:
            note = f": {c.note}" if c.note else ""
            present.append(f"{kind} attempted on {c.held_on} by {c.method}{note}")
    for tried in history.interventions:
        outcome = f", outcome {tried.outcome}" if tried.outcome else ", no outcome recorded"
        checks = f", {tried.check_ins} check-in(s)" if tried.check_ins else ""
        present.append(
            f"{tried.intervention} (tier {tried.tier_level}) from {tried.started_on}{outcome}"
            f"{checks}"
        )
    for m in ruleset.ladder.missing(index, history, issued, as_of):
        if m not in missing:
            missing.append(m)
    facts_on = None
    if facts is None:
        facts, facts_on = _recorded_facts(events, student_id, as_of)
    label = steps[index].label or step_id
    warranted: bool | None = None
    if facts is None:
        verdict = f"cannot tell whether it is warranted: no facts were recorded by {as_of}"
    else:
        try:
            status, because = legal_condition(ruleset, index, facts, as_of=as_of, history=history)
        except DataError as exc:
            verdict = f"cannot tell whether it is warranted: {exc}"
        else:
            warranted = status != "not warranted"
            verdict = f"{status}: {'; '.join(because)}" if status != "warranted" else ""
    since = ruleset.school_years.start_of(as_of)
    done = issued.get(step_id)
    if done is not None and done >= since:
        verdict = f"already issued on {done}"
    ready = not verdict and not missing
    return Readiness(
        step_id,
        label,
        ready,
        tuple(present),
        tuple(missing),
        warranted,
        verdict or ("ready" if ready else "not ready"),
        facts_on,
        tuple(unsent),
    )
