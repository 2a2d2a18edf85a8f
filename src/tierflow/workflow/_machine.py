"""The intervention lifecycle: one shared state machine definition for every intervention.

Interventions are plain records; they are not ``transitions`` models. The definition is built
once with :class:`transitions.Machine` (so the states and transitions are declared, and
``transitions``' own checks apply), checked as a graph when it is built (every state reachable,
terminal states absorbing, no undefined destination: ``transitions`` only notices a bad
destination when it is triggered), and compiled into a lookup table that applying a trigger
consults: one dictionary lookup per transition. Nothing from a rule set file is ever handed to
``transitions`` (it would import dotted paths given as callbacks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from transitions import Machine

from tierflow.errors import WorkflowError

__all__ = [
    "LIFECYCLE",
    "OPEN_STATES",
    "STATES",
    "TERMINAL_STATES",
    "IllegalTransitionError",
    "Lifecycle",
    "TransitionDef",
]

STATES: tuple[str, ...] = ("assigned", "active", "follow_up_due", "met_goal", "escalated", "closed")
"""Every state an intervention can be in."""

OPEN_STATES = frozenset({"assigned", "active", "follow_up_due"})
"""States in which an intervention is still being worked."""

TERMINAL_STATES = frozenset({"met_goal", "escalated", "closed"})
"""States an intervention never leaves."""


class IllegalTransitionError(WorkflowError):
    """A trigger that the lifecycle does not allow from the intervention's state.

    Attributes:
        intervention_id: The intervention.
        state: Its state (unchanged).
        trigger: The refused trigger.
        allowed: The triggers its state does allow (empty once it has ended).
    """

    def __init__(
        self, intervention_id: str, state: str, trigger: str, allowed: Sequence[str], what: str
    ) -> None:
        self.intervention_id = intervention_id
        self.state = state
        self.trigger = trigger
        self.allowed = tuple(allowed)
        super().__init__(
            f"intervention {intervention_id} ({what}) is {state}: {trigger!r} is not allowed "
            f"there; allowed: {', '.join(allowed) if allowed else 'nothing (it has ended)'}"
        )


@dataclass(frozen=True)
class TransitionDef:
    """One declared transition: ``trigger`` moves from any of ``sources`` to ``dest``."""

    trigger: str
    sources: tuple[str, ...]
    dest: str
    doc: str


DEFAULT_TRANSITIONS: tuple[TransitionDef, ...] = (
    TransitionDef("start", ("assigned",), "active", "the owner starts working with the student"),
    TransitionDef(
        "follow_up_due",
        ("active",),
        "follow_up_due",
        "the follow-up date passed without a check-in",
    ),
    TransitionDef(
        "check_in",
        ("assigned", "active", "follow_up_due"),
        "active",
        "a check-in is recorded; the next follow-up is scheduled",
    ),
    TransitionDef(
        "meet_goal",
        ("active", "follow_up_due"),
        "met_goal",
        "the measurable goal holds at review",
    ),
    TransitionDef(
        "escalate",
        ("active", "follow_up_due"),
        "escalated",
        "no improvement by the review date: the next intervention opens",
    ),
    TransitionDef(
        "close",
        ("assigned", "active", "follow_up_due"),
        "closed",
        "ended for a reason (withdrew, transferred, plan ended, withdrawn on corrected data)",
    ),
)


class Lifecycle:
    """A checked state machine definition, shared by every intervention.

    >>> LIFECYCLE.target("check_in", "follow_up_due")
    'active'
    >>> LIFECYCLE.target("check_in", "closed") is None
    True
    """

    def __init__(
        self,
        states: Sequence[str] = STATES,
        transitions: Iterable[TransitionDef] = DEFAULT_TRANSITIONS,
        *,
        initial: str = "assigned",
        terminal: Iterable[str] = TERMINAL_STATES,
    ) -> None:
        """Build and check a lifecycle.

        Raises:
            WorkflowError: The graph is not sound: a destination or source that is not a
                state, a state that cannot be reached from ``initial``, or a transition out of
                a terminal state.
        """
        self.states = tuple(states)
        self.initial = initial
        self.terminal = frozenset(terminal)
        self.transitions = tuple(transitions)
        self.machine = Machine(
            model=None,
            states=list(self.states),
            transitions=[
                {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest}
                for t in self.transitions
            ],
            initial=initial,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )
        self._table: dict[tuple[str, str], str] = {}
        for trigger, event in self.machine.events.items():
            for source, found in event.transitions.items():
                for transition in found:
                    self._table[(trigger, source)] = str(transition.dest)
        self.check()

    @property
    def triggers(self) -> tuple[str, ...]:
        """The trigger names, in declaration order."""
        return tuple(dict.fromkeys(t.trigger for t in self.transitions))

    def target(self, trigger: str, state: str) -> str | None:
        """The state ``trigger`` leads to from ``state``, or None if it is not allowed there."""
        return self._table.get((trigger, state))

    def allowed(self, state: str) -> tuple[str, ...]:
        """The triggers allowed from ``state``, in declaration order."""
        return tuple(t for t in self.triggers if (t, state) in self._table)

    def check(self) -> None:
        """Check the graph (see the constructor); raise :class:`WorkflowError` if unsound."""
        problems = []
        known = set(self.states)
        if self.initial not in known:
            problems.append(f"initial state {self.initial!r} is not a state")
        for t in self.transitions:
            for state in (*t.sources, t.dest):
                if state not in known:
                    problems.append(f"transition {t.trigger!r} names undefined state {state!r}")
            for source in t.sources:
                if source in self.terminal:
                    problems.append(
                        f"terminal state {source!r} is left by {t.trigger!r}: terminal states "
                        "must absorb"
                    )
        reached = {self.initial}
        frontier = [self.initial]
        while frontier:
            state = frontier.pop()
            for (_, source), dest in self._table.items():
                if source == state and dest not in reached:
                    reached.add(dest)
                    frontier.append(dest)
        for state in self.states:
            if state not in reached:
                problems.append(f"state {state!r} cannot be reached from {self.initial!r}")
        if problems:
            raise WorkflowError("unsound lifecycle: " + "; ".join(problems))

    def mermaid(self) -> str:
        """The lifecycle as a Mermaid state diagram, generated from the definition."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for t in self.transitions:
            for source in t.sources:
                lines.append(f"    {source} --> {t.dest}: {t.trigger}")
        lines += [f"    {state} --> [*]" for state in self.states if state in self.terminal]
        return "\n".join(lines)

    def describe(self) -> Mapping[str, str]:
        """What each trigger means, for documentation."""
        return {t.trigger: t.doc for t in self.transitions}


LIFECYCLE = Lifecycle()
"""The built-in lifecycle every engine uses unless given another."""
