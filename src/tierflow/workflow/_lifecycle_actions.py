"""Staff fire the triggers a district adds to its lifecycle: hold, resume, decline, transfer.

The engine's own triggers (``start``, ``check_in``, ``follow_up_due``, ``meet_goal``,
``escalate``, ``close``) keep their dedicated methods, which record what goes with them (a
check-in, a released caseload place, a scheduled follow-up); :meth:`LifecycleActions.fire`
refuses them. A trigger's guard names one of :data:`~tierflow.compile._machine.GUARDS`, each
implemented here over the intervention and its records; no text from a rule set is run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from tierflow.compile._machine import ENGINE_TRIGGERS
from tierflow.errors import WorkflowError
from tierflow.workflow._core import Core, as_date
from tierflow.workflow._machine import IllegalTransitionError
from tierflow.workflow._records import Intervention
from tierflow.workflow._repository import Repository

__all__ = ["GUARD_CHECKS", "LifecycleActions"]

Guard = Callable[[Repository, Intervention, str], bool]
"""A guard's check: ``(repository, intervention, reason) -> holds``."""


def _reason_given(_repository: Repository, _iv: Intervention, reason: str) -> bool:
    return bool(reason.strip())


def _has_owner(_repository: Repository, iv: Intervention, _reason: str) -> bool:
    return iv.owner is not None


def _has_check_in(repository: Repository, iv: Intervention, _reason: str) -> bool:
    return bool(repository.check_ins(iv.id))


def _goal_met_at_last_check_in(repository: Repository, iv: Intervention, _reason: str) -> bool:
    check_ins = repository.check_ins(iv.id)
    return bool(check_ins) and check_ins[-1].goal_met is True


GUARD_CHECKS: dict[str, Guard] = {
    "reason_given": _reason_given,
    "has_owner": _has_owner,
    "has_check_in": _has_check_in,
    "goal_met_at_last_check_in": _goal_met_at_last_check_in,
}
"""How each guard a lifecycle may name is checked (the names of ``GUARDS``, no others)."""


class LifecycleActions(Core):
    """The engine's generic staff trigger, for the triggers a district's lifecycle adds."""

    def fire(
        self, intervention_id: str, trigger: str, *, on: dt.date, by: str, reason: str = ""
    ) -> Intervention:
        """Fire a district trigger (``hold``, ``resume``, ``decline``...) as staff member ``by``.

        Reaching a terminal state ends the intervention (``ended_on`` is set, its owner's
        caseload place is freed), as closing it does.

        Args:
            intervention_id: The intervention.
            trigger: A trigger of the rule set's lifecycle that the engine does not fire itself.
            on: The date.
            by: Staff id.
            reason: Why (the event's reason; a ``reason_given`` guard needs one).

        Raises:
            WorkflowError: There is no such intervention; ``trigger`` is one the engine fires
                itself (use ``start``, ``check_in`` or ``close``); or it is not allowed from
                the intervention's state, or its guard does not hold
                (:class:`IllegalTransitionError`, naming the guard). Nothing changes.
        """
        as_date(on, "on")
        if trigger in ENGINE_TRIGGERS:
            raise WorkflowError(
                f"{trigger!r} is fired by the engine or its own staff method "
                "(Engine.start, Engine.check_in, Engine.close), not by Engine.fire"
            )
        with self._unit():
            iv = self.repository.get(intervention_id)
            self._check(iv, trigger)
            guard = self.lifecycle.guards.get(trigger)
            if guard is not None and not GUARD_CHECKS[guard](self.repository, iv, reason):
                raise IllegalTransitionError(
                    iv.id,
                    iv.state,
                    trigger,
                    self.lifecycle.allowed(iv.state),
                    f"{iv.intervention}, student {iv.student_id}",
                    guard=guard,
                )
            self._fire(iv, trigger, on, by, reason.strip() or f"{trigger} by {by}")
        return iv
