"""What a rule set's ``lifecycle:`` section may say: the states and triggers of its interventions.

The section is read on top of the built-in lifecycle (``builtin: true``, the default): states
and transitions are added, or replaced by name, and the role lists (``started``, ``met``,
``escalated``, ``closed``) add to the built-in's. A district that writes ``builtin: false``
defines the whole machine itself; the compiler then checks that the engine's own triggers are
there. States and transitions are mappings keyed by name, so ``extends`` merges them like the
``facts`` section: a child's entry replaces its parent's of the same name.

Guards name one of a fixed set of conditions tierflow implements (see ``docs/lifecycle.md``);
nothing written here is ever run as code.
"""

from __future__ import annotations

from pydantic import Field

from tierflow.spec._scalars import Id, _Spec

__all__ = ["LifecycleSpec", "StateSpec", "TransitionSpec"]


class StateSpec(_Spec):
    """One state an intervention can be in."""

    description: str | None = Field(default=None, description="What the state means.")


class TransitionSpec(_Spec):
    """What a trigger does: from any of ``from`` it moves an intervention to ``to``."""

    sources: tuple[Id, ...] = Field(
        alias="from", min_length=1, description="The states the trigger is allowed from."
    )
    to: Id = Field(description="The state it leads to.")
    guard: Id | None = Field(
        default=None,
        description="A built-in condition that must hold when staff fire it: reason_given, "
        "has_owner, has_check_in or goal_met_at_last_check_in.",
    )
    description: str | None = Field(default=None, description="What the trigger means.")


class LifecycleSpec(_Spec):
    """The intervention lifecycle: the built-in one, extended or replaced by the district's."""

    builtin: bool = Field(
        default=True,
        description="Start from the built-in lifecycle (states assigned, active, "
        "follow_up_due, met_goal, escalated, closed); false: this section defines it whole.",
    )
    initial: Id | None = Field(
        default=None,
        description="The state an intervention opens in (default: the built-in's 'assigned').",
    )
    states: dict[Id, StateSpec | None] = Field(
        default_factory=dict, description="States by name (added to the built-in's)."
    )
    transitions: dict[Id, TransitionSpec] = Field(
        default_factory=dict,
        description="Transitions by trigger name (added to the built-in's, or replacing one).",
    )
    started: tuple[Id, ...] = Field(
        default=(), description="States in which an intervention is being worked."
    )
    met: tuple[Id, ...] = Field(default=(), description="Terminal states: the goal was met.")
    escalated: tuple[Id, ...] = Field(
        default=(), description="Terminal states: escalated to the next intervention."
    )
    closed: tuple[Id, ...] = Field(
        default=(), description="Terminal states: ended for another reason."
    )
