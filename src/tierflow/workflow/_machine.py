"""The intervention lifecycle as the workflow sees it, and the error for a refused trigger.

The definition (:class:`Lifecycle`, built with :class:`transitions.Machine`, checked as a graph
and compiled to a lookup table) lives with the compiler, which builds a rule set's own from its
``lifecycle:`` section (:mod:`tierflow.compile._machine`); it is re-exported here, where the
workflow has always offered it. :data:`OPEN_STATES` and :data:`TERMINAL_STATES` name the
built-in lifecycle's states; whether an intervention is open follows its own lifecycle
(``ended_on`` is set when it reaches a terminal state).
"""

from __future__ import annotations

from collections.abc import Sequence

from tierflow.compile._machine import (
    BUILTIN_LIFECYCLE,
    DEFAULT_TRANSITIONS,
    GUARDS,
    STATES,
    Lifecycle,
    TransitionDef,
)
from tierflow.errors import WorkflowError

__all__ = [
    "BUILTIN_LIFECYCLE",
    "DEFAULT_TRANSITIONS",
    "GUARDS",
    "LIFECYCLE",
    "OPEN_STATES",
    "STATES",
    "TERMINAL_STATES",
    "IllegalTransitionError",
    "Lifecycle",
    "TransitionDef",
]

OPEN_STATES = frozenset({"assigned", "active", "follow_up_due"})
"""The built-in lifecycle's states in which an intervention is still being worked."""

TERMINAL_STATES = frozenset({"met_goal", "escalated", "closed"})
"""The built-in lifecycle's states an intervention never leaves."""


class IllegalTransitionError(WorkflowError):
    """A trigger the lifecycle does not allow from the intervention's state, or a failed guard.

    Attributes:
        intervention_id: The intervention.
        state: Its state (unchanged).
        trigger: The refused trigger.
        allowed: The triggers its state does allow (empty once it has ended).
        guard: The guard that did not hold (None: the trigger is not allowed from the state).
    """

    def __init__(
        self,
        intervention_id: str,
        state: str,
        trigger: str,
        allowed: Sequence[str],
        what: str,
        guard: str | None = None,
    ) -> None:
        self.intervention_id = intervention_id
        self.state = state
        self.trigger = trigger
        self.allowed = tuple(allowed)
        self.guard = guard
        if guard is not None:
            message = (
                f"intervention {intervention_id} ({what}) is {state}: {trigger!r} needs its "
                f"guard {guard!r} ({GUARDS.get(guard, 'unknown')}), which does not hold"
            )
        else:
            message = (
                f"intervention {intervention_id} ({what}) is {state}: {trigger!r} is not allowed "
                f"there; allowed: {', '.join(allowed) if allowed else 'nothing (it has ended)'}"
            )
        super().__init__(message)


LIFECYCLE = BUILTIN_LIFECYCLE
"""The built-in lifecycle: the one an engine uses unless its rule set has its own."""
