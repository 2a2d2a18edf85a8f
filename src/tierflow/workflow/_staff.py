"""What staff do to an intervention: start it, check in, close it; conferences they hold."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tierflow.errors import WorkflowError
from tierflow.facts import OUTCOMES
from tierflow.workflow._core import Core, as_date
from tierflow.workflow._records import CONTACT_TYPES, CheckIn, Intervention, WorkflowEvent
from tierflow.workflow._schedule import next_follow_up

__all__ = ["StaffActions"]

_ID = re.compile(r"[a-z][a-z0-9_-]*")  # spec.ID_PATTERN, used with fullmatch: no final newline
_ID_MAX = 64  # as the rule set's ids (spec.Id), so a required conference kind can be one
_new_tuple = tuple.__new__
_VERDICT = {True: "; goal met this period", False: "; goal not met this period", None: ""}


class StaffActions(Core):
    """The engine's staff actions: each checked, then one event, or nothing at all."""

    def start(self, intervention_id: str, *, on: dt.date, by: str) -> Intervention:
        """The owner starts the intervention (assigned to active).

        Raises:
            WorkflowError: There is no such intervention (:class:`UnknownInterventionError`),
                or it is not in a state that can start (:class:`IllegalTransitionError`);
                nothing changes.
        """
        as_date(on, "on")
        with self._unit():
            iv = self.repository.get(intervention_id)
            self._fire(iv, "start", on, by, "started by its owner")
        return iv

    def check_in(
        self,
        intervention_id: str,
        *,
        on: dt.date,
        by: str,
        goal_met: bool | None = None,
        contact_type: str = "meeting",
        note: str = "",
        outcome: str | None = None,
    ) -> Intervention:
        """Record a check-in: back to active, the next follow-up scheduled on school days.

        Args:
            intervention_id: The intervention.
            on: The date of the check-in.
            by: Staff id of who checked in.
            goal_met: Whether the period's goal was met, in the owner's judgement.
            contact_type: One of :data:`CONTACT_TYPES`.
            note: Free text.
            outcome: Ed-Fi style effectiveness (``positive``, ``potentially_positive``,
                ``mixed``, ``no_discernible``, ``potentially_negative``, ``negative``).

        Raises:
            WorkflowError: No such intervention (:class:`UnknownInterventionError`), an
                unknown contact type or outcome, a check-in dated before the intervention
                opened, or an intervention that has ended (:class:`IllegalTransitionError`);
                nothing changes.
        """
        as_date(on, "on")
        iv = self.repository.get(intervention_id)
        if contact_type not in CONTACT_TYPES:
            raise WorkflowError(
                f"unknown contact type {contact_type!r}; use one of {', '.join(CONTACT_TYPES)}"
            )
        if outcome is not None and outcome not in OUTCOMES:
            raise WorkflowError(
                f"unknown outcome {outcome!r}; use one of {', '.join(sorted(OUTCOMES))}"
            )
        if on < iv.opened_on:
            raise WorkflowError(
                f"a check-in on {on} predates intervention {iv.id}, opened on {iv.opened_on}"
            )
        with self._unit():
            self._check(iv, "check_in")
            self.repository.add_check_in(  # one C call, not NamedTuple's Python __new__
                _new_tuple(
                    CheckIn, (intervention_id, on, by, goal_met, contact_type, note, outcome)
                )
            )
            spec = self.ruleset.interventions.get(iv.intervention)
            follow_up = next_follow_up(spec.cadence if spec else None, on, self._days(iv.school_id))
            self._fire(
                iv,
                "check_in",
                on,
                by,
                f"{contact_type} check-in{_VERDICT[goal_met]}",
                detail={
                    "goal_met": goal_met,
                    "contact_type": contact_type,
                    "note": note,
                    "outcome": outcome,
                    "next_follow_up": follow_up,
                },
                next_follow_up=follow_up,
                overdue=False,
            )
        return iv

    def close(self, intervention_id: str, *, on: dt.date, by: str, reason: str) -> Intervention:
        """End an open intervention for a reason (withdrew, transferred, plan ended...).

        Raises:
            WorkflowError: No reason was given, there is no such intervention
                (:class:`UnknownInterventionError`), or it has ended already
                (:class:`IllegalTransitionError`); nothing changes.
        """
        as_date(on, "on")
        if not reason.strip():
            raise WorkflowError("closing an intervention needs a reason")
        with self._unit():
            iv = self.repository.get(intervention_id)
            self._fire(iv, "close", on, by, reason)
        return iv

    def record_conference(
        self,
        student_id: str,
        kind: str,
        *,
        on: dt.date,
        by: str,
        outcome: str = "held",
        method: str | None = None,
        note: str = "",
    ) -> WorkflowEvent:
        """Document a conference (``parent_conference``, ``sart``...): evidence for legal steps.

        A conference is recorded as ``held`` (the default) or ``attempted``: a documented
        effort to hold it that did not bring the family in (EC 48262 asks for a "conscientious
        effort" to hold a parent conference before a pupil is declared a habitual truant). An
        attempt names its ``method`` (``letter``, ``call``, ``email``, ``home_visit``,
        ``in_person``...). A step's ``requires.conferences`` counts only held ones;
        ``requires.conferences_attempted`` counts attempts too.

        The kind and method are ids, as a rule set's legal steps name the conferences they
        require (``[a-z][a-z0-9_-]*``, at most 64 characters), so the history the engine builds
        from its records is always one the facts' ``History`` model accepts.

        Args:
            student_id: The student.
            kind: The conference kind.
            on: The date it was held or attempted.
            by: Staff id of who held or attempted it.
            outcome: ``held`` or ``attempted``.
            method: How it was held or attempted (needed for an attempt).
            note: Free text (what happened: no answer, letter returned...).

        Raises:
            WorkflowError: The kind or method is empty or not an id (the message shows it with
                :func:`repr`, so control characters in it are escaped), the outcome is unknown,
                or an attempt names no method; nothing is recorded.
        """
        if not isinstance(kind, str) or not kind.strip():
            raise WorkflowError("a conference needs a kind (parent_conference, sart...)")
        as_date(on, "on")
        if len(kind) > _ID_MAX or not _ID.fullmatch(kind):
            raise WorkflowError(
                f"a conference kind is an id ([a-z][a-z0-9_-]*, at most {_ID_MAX} characters, "
                f"such as parent_conference or sart), not {kind!r}"
            )
        if outcome not in ("held", "attempted"):
            raise WorkflowError(f"a conference is 'held' or 'attempted', not {outcome!r}")
        if method is not None and (
            not isinstance(method, str) or len(method) > _ID_MAX or not _ID.fullmatch(method)
        ):
            raise WorkflowError(
                f"a conference method is an id (letter, call, email, home_visit, in_person...), "
                f"not {method!r}"
            )
        if outcome == "attempted" and method is None:
            raise WorkflowError(
                f"an attempted {kind} needs its method (letter, call, email, home_visit...)"
            )
        if not isinstance(note, str):
            raise WorkflowError(f"a conference note is text, not {type(note).__name__}")
        detail: dict[str, Any] = {"kind": kind, "outcome": outcome}
        if method is not None:
            detail["method"] = method
        if note:
            detail["note"] = note
        why = f"{kind} held" if outcome == "held" else f"{kind} attempted ({method})"
        return self._record(
            WorkflowEvent(0, on, student_id, "conference", who=by, why=why, detail=detail)
        )
