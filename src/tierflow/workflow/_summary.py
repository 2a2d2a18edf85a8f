"""What the reports read of a workflow event: a few plain fields, without its body.

A district's year is millions of events; a report over it (equity, effectiveness, legal aging)
asks each only a few questions: what kind, when, which intervention, into which state, which
tier a decision gave, which legal step, whether a close was a withdrawal on corrected data.
:func:`summarize` answers them for one event; the SQL store keeps the answers in columns
(schema version 4) so a report selects them in SQL and never decodes a JSON body, and the audit
checks every row's columns against :func:`summarize` of its body.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from tierflow.workflow._records import Intervention, WorkflowEvent

__all__ = [
    "WITHDRAWN",
    "WITHDRAWN_WHY",
    "CaseSummary",
    "EventSummary",
    "case_summary",
    "first_transitions",
    "is_withdrawal",
    "summarize",
]

WITHDRAWN = "corrected_data"
"""``detail["withdrawn"]`` of the close event of an intervention withdrawn on corrected data."""
WITHDRAWN_WHY = "withdrawn: on corrected data"
"""How such a close event's reason begins (events recorded before the detail was added)."""


class EventSummary(NamedTuple):
    """The fields of a workflow event that reports read (the store's reporting columns).

    Attributes:
        seq: The event's ``seq`` (its row number in a SQL store).
        at: The date it took effect.
        student_id: The student.
        kind: The event's kind (``decision``, ``transition``, ``legal_issued``...).
        intervention_id: The intervention, for intervention events.
        trigger: The lifecycle trigger, for transitions.
        to_state: The state after, for transitions and openings.
        tier: A decision's tier id (``detail["tier"]``); None for other kinds.
        step: A legal event's step id (``detail["step"]``); None for other kinds.
        withdrawn: A close transition withdrawing the intervention on corrected data.
        called: A decision's interventions (``detail["interventions"]``), in order; empty
            for other kinds.
    """

    seq: int
    at: dt.date
    student_id: str
    kind: str
    intervention_id: str | None
    trigger: str | None
    to_state: str | None
    tier: str | None
    step: str | None
    withdrawn: bool
    called: tuple[str, ...]


class CaseSummary(NamedTuple):
    """The fields of an intervention that reports read (the store's columns, no body).

    The same names as :class:`~tierflow.workflow.Intervention`'s fields, so code reading
    only these reads either.

    Attributes:
        id: The intervention's id.
        student_id: The student.
        school_id: The student's school when it opened.
        intervention: The catalogue id.
        tier_level: The catalogue tier's level.
        owner_role: The role that owns it.
        owner: The staff id of its owner (None: unassigned).
        state: Its lifecycle state.
        opened_on: The date it opened.
        next_follow_up: Its next follow-up date, if any.
        ended_on: The date it ended, if it has.
    """

    id: str
    student_id: str
    school_id: str | None
    intervention: str
    tier_level: int
    owner_role: str
    owner: str | None
    state: str
    opened_on: dt.date
    next_follow_up: dt.date | None
    ended_on: dt.date | None


def case_summary(iv: Intervention) -> CaseSummary:
    """The fields of ``iv`` a report reads."""
    return CaseSummary(
        iv.id,
        iv.student_id,
        iv.school_id,
        iv.intervention,
        iv.tier_level,
        iv.owner_role,
        iv.owner,
        iv.state,
        iv.opened_on,
        iv.next_follow_up,
        iv.ended_on,
    )


def is_withdrawal(ev: WorkflowEvent) -> bool:
    """Whether ``ev`` closed its intervention because corrected data withdrew it.

    Its close event carries ``detail={"withdrawn": "corrected_data"}``; events recorded before
    that detail existed are recognised by their reason, which begins
    ``withdrawn: on corrected data``.
    """
    if ev.kind != "transition" or ev.trigger != "close":
        return False
    if ev.detail is not None and ev.detail.get("withdrawn") == WITHDRAWN:
        return True
    return ev.who == "tierflow" and ev.why.startswith(WITHDRAWN_WHY)


def summarize(ev: WorkflowEvent) -> EventSummary:
    """The fields of ``ev`` a report reads.

    >>> d = dt.date(2025, 10, 6)
    >>> s = summarize(WorkflowEvent(7, d, "s1", "decision",
    ...     detail={"tier": "tier2", "interventions": ["weekly-checkin"], "legal": []}))
    >>> s.kind, s.tier, s.called, s.withdrawn
    ('decision', 'tier2', ('weekly-checkin',), False)
    """
    detail = ev.detail
    tier = step = None
    called: tuple[str, ...] = ()
    if detail is not None:
        if ev.kind == "decision":
            raw_tier = detail.get("tier")
            tier = raw_tier if isinstance(raw_tier, str) else None
            raw = detail.get("interventions")
            called = tuple(str(i) for i in raw) if isinstance(raw, list | tuple) else ()
        elif ev.kind.startswith("legal_"):
            raw_step = detail.get("step")
            step = raw_step if isinstance(raw_step, str) else None
    return EventSummary(
        ev.seq,
        ev.at,
        ev.student_id,
        ev.kind,
        ev.intervention_id,
        ev.trigger,
        ev.to_state,
        tier,
        step,
        is_withdrawal(ev),
        called,
    )


def first_transitions(summaries: Iterable[EventSummary]) -> list[EventSummary]:
    """``summaries`` less every transition that is not the first of its kind.

    A transition is kept when it is the first, by date then ``seq``, of its intervention into
    its state (a withdrawal counting apart from any other close). That is all
    :class:`~tierflow.workflow._tried.Starts` reads, when it reads events in (date, seq)
    order: the date an intervention was started is its earliest transition into a started
    state, and that is the earliest into one of them. A year's check-ins move each
    intervention between the same two states dozens of times; this keeps two or three of
    its transitions. Everything else is kept, in the order given.
    """
    events = list(summaries)
    seen: set[tuple[str | None, str | None, bool]] = set()
    dropped: set[int] = set()
    for ev in sorted(events, key=lambda e: (e.at, e.seq)):
        if ev.kind != "transition":
            continue
        key = (ev.intervention_id, ev.to_state, ev.withdrawn)
        if key in seen:
            dropped.add(ev.seq)
        else:
            seen.add(key)
    return [ev for ev in events if ev.seq not in dropped or ev.kind != "transition"]
