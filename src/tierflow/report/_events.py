"""A workflow event as a JSON record: what ``tierflow timeline`` and the HTTP service print.

One shape for both, so a host reading the service's timeline and a script reading the command
line's see the same fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tierflow.workflow import WorkflowEvent

__all__ = ["event_record"]


def _plain(value: Any) -> Any:
    """``value`` with every mapping a dict, every tuple a list and dates ISO text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def event_record(
    event: WorkflowEvent, name: str | None, *, with_student: bool = False
) -> dict[str, Any]:
    """An event as JSON data: its fields, the intervention's catalogue id, the rule set as text.

    Args:
        event: The event.
        name: The catalogue id of its intervention (None: it has none, or it is unknown).
        with_student: Include ``student_id`` (after ``at``), for answers about many students.

    >>> ev = WorkflowEvent(3, dt.date(2025, 10, 6), "s1", "note", why="called home",
    ...     detail={"on": dt.date(2025, 10, 6)})
    >>> rec = event_record(ev, None, with_student=True)
    >>> list(rec)[:4], rec["detail"]
    (['seq', 'at', 'student_id', 'kind'], {'on': '2025-10-06'})
    """
    out: dict[str, Any] = {"seq": event.seq, "at": event.at.isoformat()}
    if with_student:
        out["student_id"] = event.student_id
    out.update(
        kind=event.kind,
        intervention_id=event.intervention_id,
        intervention=name,
        trigger=event.trigger,
        from_state=event.from_state,
        to_state=event.to_state,
        who=event.who,
        why=event.why,
        ruleset=None if event.ruleset is None else str(event.ruleset),
        facts=_plain(event.facts),
        detail=_plain(event.detail),
    )
    return out
