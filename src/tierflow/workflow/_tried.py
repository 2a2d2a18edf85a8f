"""The support a student was actually given, read from the stored timeline.

One reading for everyone who asks "which supportive interventions were tried": the engine
(before it decides a legal step), a student's packet (readiness) and the compliance report
(what preceded a step). An intervention counts once it was *started* -- the first transition
into one of the states its lifecycle declares ``started`` (in the built-in lifecycle ``active``
and ``follow_up_due``: by ``start``, or a first ``check_in``) -- and from that day, not from
the day it was opened. One closed because
corrected data withdrew it never counts: its close event carries
``detail={"withdrawn": "corrected_data"}`` (events recorded before that detail existed are
recognised by their reason, which begins ``withdrawn: on corrected data``).

Read ``as_of`` a date, the timeline is read as it stood that day: a start, a withdrawal, an
end or an outcome dated later is not seen. The engine deciding on a date and the compliance
report checking a step issued on that date therefore read the same support.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from tierflow.facts._read import ConferenceView
from tierflow.workflow._machine import LIFECYCLE, Lifecycle
from tierflow.workflow._records import Intervention, WorkflowEvent
from tierflow.workflow._repository import Repository
from tierflow.workflow._summary import (
    WITHDRAWN,
    WITHDRAWN_WHY,
    CaseSummary,
    EventSummary,
    is_withdrawal,
)

_Case = TypeVar("_Case", Intervention, CaseSummary)

__all__ = [
    "WITHDRAWN",
    "WITHDRAWN_WHY",
    "Starts",
    "Tried",
    "conferences_recorded",
    "started_support",
    "support_tried",
]


@dataclass
class Starts:
    """When each intervention was started, and when any was withdrawn, from a timeline.

    Attributes:
        started: Intervention id -> the date its owner first worked it.
        withdrawn: Intervention id -> the date it was withdrawn on corrected data.
    """

    started: dict[str, dt.date] = field(default_factory=dict)
    withdrawn: dict[str, dt.date] = field(default_factory=dict)

    def see(self, ev: WorkflowEvent | EventSummary, lifecycle: Lifecycle = LIFECYCLE) -> None:
        """Take one event into account (events are seen in timeline order).

        Args:
            ev: The event, or its summary (what a report reads from the store's columns);
                anything but an intervention's transition is ignored.
            lifecycle: The lifecycle the transitions follow.
        """
        if ev.kind != "transition" or ev.intervention_id is None:
            return
        iid = ev.intervention_id
        if ev.to_state in lifecycle.started:
            self.started.setdefault(iid, ev.at)  # start, or a first check-in
        elif ev.withdrawn if isinstance(ev, EventSummary) else is_withdrawal(ev):
            self.withdrawn.setdefault(iid, ev.at)

    @classmethod
    def read(
        cls, events: Iterable[WorkflowEvent | EventSummary], lifecycle: Lifecycle = LIFECYCLE
    ) -> Starts:
        """Read a student's timeline.

        >>> from tierflow.workflow import WorkflowEvent
        >>> d = dt.date(2025, 10, 6)
        >>> starts = Starts.read([
        ...     WorkflowEvent(1, d, "s1", "transition", "iv-1", "start", "assigned", "active"),
        ... ])
        >>> starts.started, starts.withdrawn
        ({'iv-1': datetime.date(2025, 10, 6)}, {})
        """
        starts = cls()
        for ev in events:
            starts.see(ev, lifecycle)
        return starts


@dataclass(frozen=True)
class Tried:
    """One supportive intervention that was tried.

    Attributes:
        intervention_id: Its id in the store.
        intervention: Its catalogue id (``weekly-checkin``).
        tier_level: Its tier's level.
        opened_on: The date it was opened.
        started_on: The date it was started (what the legal ladder counts from).
        ended_on: The date it ended, if it had by then.
        outcome: The last outcome recorded at a check-in by then, if any.
        outcome_on: The date of that check-in.
        check_ins: How many check-ins were recorded by then.
    """

    intervention_id: str
    intervention: str
    tier_level: int
    opened_on: dt.date
    started_on: dt.date
    ended_on: dt.date | None
    outcome: str | None
    outcome_on: dt.date | None
    check_ins: int = 0

    def describe(self) -> str:
        """``iv-0000012 weekly-checkin (tier 2) opened 2025-10-06, started 2025-10-07, ...``."""
        text = f"{self.intervention_id} {self.intervention} (tier {self.tier_level}) opened "
        text += f"{self.opened_on}, started {self.started_on}"
        if self.outcome is not None:
            return f"{text}, outcome {self.outcome} on {self.outcome_on}"
        return f"{text}, no outcome recorded"


def support_tried(
    repository: Repository,
    student_id: str,
    *,
    as_of: dt.date | None = None,
    starts: Starts | None = None,
    interventions: Sequence[Intervention] | None = None,
    lifecycle: Lifecycle = LIFECYCLE,
) -> list[Tried]:
    """The interventions a student was actually given, in the order the store lists them.

    Args:
        repository: Where the records are.
        student_id: The student.
        as_of: Read the timeline as it stood that day (None: everything recorded).
        starts: The student's timeline already read (saves reading it again).
        interventions: The student's interventions already read from ``repository``.
        lifecycle: The lifecycle the transitions follow.

    Returns:
        One entry per intervention started (by ``as_of``) and not withdrawn (by ``as_of``).
    """
    if starts is None:
        starts = Starts.read(repository.events(student_id), lifecycle)
    if interventions is None:
        interventions = repository.for_student(student_id)
    tried = []
    for iv, started, ended in started_support(interventions, starts, as_of=as_of):
        seen = [c for c in repository.check_ins(iv.id) if as_of is None or c.on <= as_of]
        outcomes = [c for c in seen if c.outcome]
        last = outcomes[-1] if outcomes else None
        tried.append(
            Tried(
                iv.id,
                iv.intervention,
                iv.tier_level,
                iv.opened_on,
                started,
                ended,
                None if last is None else last.outcome,
                None if last is None else last.on,
                len(seen),
            )
        )
    return tried


def started_support(
    interventions: Iterable[_Case], starts: Starts, *, as_of: dt.date | None = None
) -> list[tuple[_Case, dt.date, dt.date | None]]:
    """The interventions that count as support tried: ``(intervention, started, ended)``.

    The rule :func:`support_tried` applies, without reading check-ins (what a report over a
    whole district needs): started by ``as_of``, not withdrawn by then; ``ended`` is None
    when it had not ended by then. ``interventions`` are the store's, or their summaries
    (``Repository.cases``).

    >>> d = dt.date(2025, 10, 6)
    >>> iv = Intervention("iv-1", "s1", None, "weekly-checkin", 2, "mentor", None, "active",
    ...     d, None, None, None)
    >>> starts = Starts(started={"iv-1": d + dt.timedelta(days=1)})
    >>> [(i.id, s.day) for i, s, _ in started_support([iv], starts, as_of=d)]
    []
    >>> [(i.id, s.day) for i, s, _ in started_support([iv], starts)]
    [('iv-1', 7)]
    """
    out = []
    for iv in interventions:
        started = starts.started.get(iv.id)
        withdrawn = starts.withdrawn.get(iv.id)
        if started is None or (as_of is not None and started > as_of):
            continue  # never worked (by then)
        if withdrawn is not None and (as_of is None or withdrawn <= as_of):
            continue  # the data that opened it was corrected away
        ended = iv.ended_on
        if ended is not None and as_of is not None and ended > as_of:
            ended = None
        out.append((iv, started, ended))
    return out


def conferences_recorded(
    events: Iterable[WorkflowEvent], *, as_of: dt.date | None = None
) -> list[ConferenceView]:
    """The conferences a timeline records, held or attempted, in timeline order.

    Read as recorded, not validated (a kind imported from another system is kept as it is);
    a conference recorded before outcomes existed was held.

    >>> from tierflow.workflow import WorkflowEvent
    >>> d = dt.date(2025, 10, 6)
    >>> conferences_recorded([WorkflowEvent(1, d, "s1", "conference", detail={
    ...     "kind": "parent_conference", "outcome": "attempted", "method": "letter"})])
    [ConferenceView(kind='parent_conference', held_on=datetime.date(2025, 10, 6), \
outcome='attempted', method='letter', note=None)]
    """
    found = []
    for ev in events:
        if ev.kind != "conference" or ev.detail is None or (as_of is not None and ev.at > as_of):
            continue
        d = ev.detail
        method, note = d.get("method"), d.get("note")
        found.append(
            ConferenceView(
                str(d.get("kind", "")),
                ev.at,
                str(d.get("outcome") or "held"),
                None if method is None else str(method),
                None if note is None else str(note),
            )
        )
    return found
