"""How long legal steps waited, and which were issued on grounds a correction removed.

Read from a student's timeline the way the engine wrote it: a ``legal_due`` event starts a
step's clock (with its deadline, for a step that has ``deadline_school_days``), a
``legal_withdrawn`` one stops it, a ``legal_issued`` one records when it went out (and, when it
came due first, how many school days it waited and how late it was). ``legal_flagged`` and
``legal_flag_resolved`` events are the correction flags. Records from elsewhere (a date stored
as text, a detail without a step) are shown as they are, never refused: the packet and the
compliance report document what was recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.workflow import SchoolDays, WorkflowEvent

__all__ = ["CorrectionFlag", "LegalAging", "correction_flags", "legal_aging"]


@dataclass(frozen=True)
class LegalAging:
    """A legal step due or issued in a school year: when it came due and how long it waited.

    Attributes:
        student_id: The student.
        step: The legal step id.
        label: Its label in the rule set.
        due_on: The day the engine first reported it due (None: issued without that).
        deadline: The last school day to issue it on time (None: the step has no deadline).
        issued_on: The day it was issued (None: not yet).
        waited_school_days: School days from coming due to being issued, or to the date the
            aging is counted to while it is not (None without a due date).
        late_school_days: School days past the deadline (0 on time; None without one).
        status: ``issued``, ``issued late``, ``due`` or ``overdue``.
    """

    student_id: str
    step: str
    label: str
    due_on: dt.date | None
    deadline: dt.date | None
    issued_on: dt.date | None
    waited_school_days: int | None
    late_school_days: int | None
    status: str

    def describe(self) -> str:
        """``due 2025-11-20, deadline 2025-12-09, issued 2025-12-11: 12 school days, 2 late``."""
        parts = [f"due {self.due_on}" if self.due_on is not None else "not reported due"]
        if self.deadline is not None:
            parts.append(f"deadline {self.deadline}")
        parts.append(f"issued {self.issued_on}" if self.issued_on is not None else "not issued")
        text = ", ".join(parts)
        if self.waited_school_days is not None:
            text += f": waited {self.waited_school_days} school days"
            if self.late_school_days:
                text += f", {self.late_school_days} late"
        return text


@dataclass(frozen=True)
class CorrectionFlag:
    """A legal step flagged because corrected data removed the grounds it was issued on.

    Attributes:
        student_id: The student.
        step: The legal step id.
        label: Its label in the rule set.
        issued_on: The day the step was issued.
        flagged_on: The day the engine flagged it.
        why: What no longer holds, with the values.
        owner: Who issued it: rescinding it or notifying the family is their task.
        resolved_on: The day it was resolved (None: open).
        action: ``rescinded`` or ``notified`` once resolved.
        resolved_by: Who resolved it.
        note: The resolution's note.
    """

    student_id: str
    step: str
    label: str
    issued_on: Any
    flagged_on: Any
    why: str
    owner: str
    resolved_on: Any = None
    action: str | None = None
    resolved_by: str = ""
    note: str = ""

    @property
    def open(self) -> bool:
        """Not resolved yet."""
        return self.action is None

    def describe(self) -> str:
        """The flag and, once resolved, how."""
        text = f"issued {self.issued_on}, flagged {self.flagged_on}: {self.why}"
        if self.action is None:
            return f"{text}; to rescind or notify ({self.owner or 'owner not recorded'})"
        note = f" ({self.note})" if self.note else ""
        return f"{self.action} on {self.resolved_on} by {self.resolved_by}{note}; {text}"


def _date(value: Any) -> dt.date | None:
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else None


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


def legal_aging(
    student_id: str,
    events: Sequence[WorkflowEvent],
    labels: Mapping[str, str],
    *,
    as_of: dt.date,
    since: dt.date,
    calendars: Mapping[str, SchoolCalendar] | None = None,
    pending: bool = True,
) -> tuple[LegalAging, ...]:
    """The aging of each step that came due or was issued from ``since`` to ``as_of``.

    Args:
        student_id: The student.
        events: Their timeline, in order.
        labels: Step labels by id.
        as_of: The date a step still due is aged to.
        since: The first day of the school year shown.
        calendars: School calendars by id, to count the school days a step still due has
            waited on the calendar of the school its ``legal_due`` event names (Monday to
            Friday for a school without one).
        pending: Include the steps due and not issued (else only those issued).
    """
    due_now: dict[str, tuple[dt.date, dt.date | None, str]] = {}
    out: list[LegalAging] = []
    for ev in events:
        at = _date(ev.at)
        d = ev.detail
        if at is None or d is None or at > as_of or not ev.kind.startswith("legal_"):
            continue
        step = str(d.get("step"))
        if ev.kind == "legal_due":
            if step not in due_now:
                due_now[step] = (at, _date(d.get("deadline")), str(d.get("school_id", "")))
        elif ev.kind == "legal_withdrawn":
            due_now.pop(step, None)
        elif ev.kind == "legal_issued":
            due, deadline, _school = due_now.pop(step, (None, None, ""))
            due = _date(d.get("due_since")) or due
            deadline = _date(d.get("deadline")) or deadline
            late = _int(d.get("late_school_days"))
            if at < since:
                continue
            out.append(
                LegalAging(
                    student_id,
                    step,
                    labels.get(step, step),
                    due,
                    deadline,
                    at,
                    _int(d.get("waited_school_days")),
                    late,
                    "issued late" if late else "issued",
                )
            )
    for step, (due, deadline, school) in due_now.items():
        if not pending or due < since:
            continue
        days = SchoolDays((calendars or {}).get(school))
        waited = days.between(due, as_of)
        late = None
        if deadline is not None:
            late = days.between(deadline, as_of) if as_of > deadline else 0
        status = "overdue" if late else "due"
        out.append(
            LegalAging(
                student_id, step, labels.get(step, step), due, deadline, None, waited, late, status
            )
        )
    out.sort(key=lambda a: (a.due_on or a.issued_on or since, a.step))
    return tuple(out)


def correction_flags(
    student_id: str,
    events: Sequence[WorkflowEvent],
    labels: Mapping[str, str],
    *,
    as_of: dt.date | None = None,
) -> tuple[CorrectionFlag, ...]:
    """Every correction flag in a timeline (up to ``as_of``), with its resolution if any."""
    flags: dict[tuple[str, Any], CorrectionFlag] = {}
    for ev in events:
        d = ev.detail
        if d is None or ev.kind not in ("legal_flagged", "legal_flag_resolved"):
            continue
        at = _date(ev.at)
        if as_of is not None and at is not None and at > as_of:
            continue
        step = str(d.get("step"))
        key = (step, d.get("issued_on"))
        if ev.kind == "legal_flagged":
            flags.setdefault(
                key,
                CorrectionFlag(
                    student_id,
                    step,
                    labels.get(step, step),
                    d.get("issued_on"),
                    ev.at,
                    str(d.get("why", "")),
                    str(d.get("owner", "")),
                ),
            )
        elif key in flags and flags[key].open:
            f = flags[key]
            flags[key] = CorrectionFlag(
                f.student_id,
                f.step,
                f.label,
                f.issued_on,
                f.flagged_on,
                f.why,
                f.owner,
                ev.at,
                str(d.get("action", "")),
                str(ev.who),
                str(d.get("note", "")),
            )
    return tuple(flags.values())
