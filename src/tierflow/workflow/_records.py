"""Plain records of the workflow: interventions, events, check-ins, staff, plans."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from tierflow.evaluate import LegalAction, RulesetRef

__all__ = [
    "CONTACT_TYPES",
    "CheckIn",
    "Intervention",
    "LegalFlag",
    "LegalOverdue",
    "Plan",
    "StaffMember",
    "Unassigned",
    "WorkflowEvent",
]

CONTACT_TYPES = ("call", "meeting", "home_visit", "message", "in_person")
"""How a check-in reached the student or family."""


@dataclass(slots=True)
class Intervention:
    """One intervention for one student: plain data, driven by the shared lifecycle.

    Attributes:
        id: Unique id (``iv-000001``).
        student_id: The student.
        school_id: The student's school when it opened.
        intervention: Catalogue id (``weekly-checkin``).
        tier_level: The catalogue tier's level.
        owner_role: Role from the catalogue (``mentor``).
        owner: Staff id of the named owner, or None if nobody with capacity was found.
        state: Lifecycle state.
        opened_on: Date opened.
        next_follow_up: Next follow-up date (a school day), or None without a cadence.
        review_on: Review date (a school day), or None without a review period.
        escalates_to: Catalogue id to escalate to, or None.
        escalated_from: Id of the intervention this one escalated from.
        reason: Why it opened (the rules and tier that assigned it).
        ended_on: Date it reached a terminal state.
        overdue: Its follow-up is past the grace period without a check-in.
        version: Incremented by every change (for optimistic concurrency in stores).
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
    review_on: dt.date | None
    escalates_to: str | None
    escalated_from: str | None = None
    reason: str = ""
    ended_on: dt.date | None = None
    overdue: bool = False
    version: int = 1


class WorkflowEvent(NamedTuple):
    """One accepted change: exactly one per transition, opening, check-in or legal step.

    Events are immutable rows (a named tuple: cheap to create, compact to hold by the million,
    and a natural row for a database table).

    Attributes:
        seq: Order of the event in its repository (0 until the repository numbers it).
        at: The date it took effect.
        student_id: The student.
        kind: ``decision``, ``opened``, ``transition``, ``reviewed``, ``overdue``,
            ``conference``, ``legal_due``, ``legal_overdue``, ``legal_issued``,
            ``legal_withdrawn``, ``legal_flagged`` or ``legal_flag_resolved``; staff's
            ``assigned`` and ``unassigned`` (detail: ``from``, ``to``, ``role``, ``reason``,
            ``override``), ``barrier`` (``cause``), ``note``, ``contact`` (``method``,
            ``outcome``) and ``attachment`` (``document``, ``sha256``); the outbox's
            ``notice_rendered`` and ``notice_delivery`` (see ``Engine.record_notice``).
        intervention_id: The intervention, for intervention events.
        trigger: The lifecycle trigger, for transitions.
        from_state: State before, for transitions.
        to_state: State after, for transitions and openings.
        who: Who did it (staff id, or ``tierflow`` for automatic changes).
        why: Why, in words.
        ruleset: The rule set (id, version, content hash) whose decision justified it.
        facts: The facts that justified it (the decisive ones, not the logs), as given.
        detail: Anything else worth keeping (check-in notes, legal step ids...).
    """

    seq: int
    at: dt.date
    student_id: str
    kind: str
    intervention_id: str | None = None
    trigger: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    who: str = "tierflow"
    why: str = ""
    ruleset: RulesetRef | None = None
    facts: Mapping[str, Any] | None = None
    detail: Mapping[str, Any] | None = None


class CheckIn(NamedTuple):
    """A follow-up with the student or family (an immutable row, like events).

    Attributes:
        intervention_id: The intervention.
        on: The date.
        by: Staff id.
        goal_met: Whether the period's goal was met, in the owner's judgement (None: unknown).
        contact_type: One of :data:`CONTACT_TYPES`.
        note: Free text.
        outcome: Ed-Fi style effectiveness (``positive``, ``mixed``, ...), if assessed.
    """

    intervention_id: str
    on: dt.date
    by: str
    goal_met: bool | None = None
    contact_type: str = "meeting"
    note: str = ""
    outcome: str | None = None


@dataclass(frozen=True)
class StaffMember:
    """Someone who can own interventions.

    Attributes:
        id: Staff id.
        school_id: Their school.
        roles: Roles they fill (``counselor``, ``mentor``...).
        caseload_limit: Open interventions they can hold at once.
        name: Display name.
    """

    id: str
    school_id: str
    roles: tuple[str, ...]
    caseload_limit: int = 25
    name: str = ""


@dataclass(frozen=True)
class Unassigned:
    """An intervention opened without a named owner: every eligible owner was full (or none)."""

    student_id: str
    intervention_id: str
    role: str
    school_id: str | None
    reason: str


@dataclass(frozen=True)
class LegalOverdue:
    """A legal step due and not issued within its deadline (``deadline_school_days``).

    Attributes:
        student_id: The student.
        step: The legal step id (``court-referral``).
        due_since: The day the engine first reported it due (this school year).
        deadline: The last school day it could be issued on time.
        school_days_late: School days after the deadline, up to the run's date.
    """

    student_id: str
    step: str
    due_since: dt.date
    deadline: dt.date
    school_days_late: int


@dataclass(frozen=True)
class LegalFlag:
    """A legal step issued on grounds that corrected data removed: rescind it or notify.

    Attributes:
        student_id: The student.
        step: The legal step id (``not1``).
        issued_on: The day it was issued.
        why: What no longer holds, with the values (``truancies = 2 >= not1_from = 3 is
            false``).
        owner: Who issued it (the ``legal_issued`` event's ``who``): the task is theirs.
        flagged_on: The day the engine flagged it.
    """

    student_id: str
    step: str
    issued_on: dt.date
    why: str
    owner: str
    flagged_on: dt.date


@dataclass
class Plan:
    """What a run did and what needs doing.

    Attributes:
        as_of: The run's date.
        opened: Interventions opened by this run.
        escalated: Interventions escalated at review (each opened its successor).
        met_goal: Interventions whose goal held at review.
        withdrawn: Interventions closed because corrected data no longer supports them.
        rolled_over: Open interventions a new school year carried, closed or restarted (by the
            rule set's ``school_year.rollover``).
        transferred: Open interventions that followed their student to another school.
        left: Open interventions closed because their student left the district.
        due: Open interventions whose follow-up is due (or overdue) as of the date.
        legal_due: ``(student, action)`` legal steps due now.
        legal_blocked: ``(student, action)`` legal steps blocked, with the missing evidence.
        legal_withdrawn: ``(student, step)`` steps reported due earlier that corrected data no
            longer supports.
        legal_overdue: Steps due and not issued past their deadline (every run while so).
        legal_flagged: Steps issued whose grounds corrected data removed, not yet resolved
            (every run while the grounds are missing; ``Engine.resolve_flag`` ends one).
        unassigned: Openings without an owner, and why.
        rejected: Students whose facts could not be evaluated (the error names the fact).
    """

    as_of: dt.date
    opened: list[Intervention] = field(default_factory=list)
    escalated: list[Intervention] = field(default_factory=list)
    met_goal: list[Intervention] = field(default_factory=list)
    withdrawn: list[Intervention] = field(default_factory=list)
    rolled_over: list[Intervention] = field(default_factory=list)
    transferred: list[Intervention] = field(default_factory=list)
    left: list[Intervention] = field(default_factory=list)
    due: list[Intervention] = field(default_factory=list)
    legal_due: list[tuple[str, LegalAction]] = field(default_factory=list)
    legal_blocked: list[tuple[str, LegalAction]] = field(default_factory=list)
    legal_withdrawn: list[tuple[str, str]] = field(default_factory=list)
    legal_overdue: list[LegalOverdue] = field(default_factory=list)
    legal_flagged: list[LegalFlag] = field(default_factory=list)
    unassigned: list[Unassigned] = field(default_factory=list)
    rejected: list[Exception] = field(default_factory=list)

    def changes(self) -> tuple[int, ...]:
        """How many interventions this plan opened, escalated, met their goal or withdrew."""
        return len(self.opened), len(self.escalated), len(self.met_goal), len(self.withdrawn)

    def summary(self) -> str:
        """One line of counts."""
        return (
            f"{self.as_of}: opened {len(self.opened)}, escalated {len(self.escalated)}, "
            f"met goal {len(self.met_goal)}, withdrawn {len(self.withdrawn)}, "
            f"follow-ups due {len(self.due)}, legal due {len(self.legal_due)}, "
            f"blocked {len(self.legal_blocked)}, unassigned {len(self.unassigned)}, "
            f"rejected {len(self.rejected)}"
            + "".join(
                f", {name} {len(items)}"
                for name, items in (
                    ("rolled over", self.rolled_over),
                    ("transferred", self.transferred),
                    ("left", self.left),
                )
                if items
            )
        )
