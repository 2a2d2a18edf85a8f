"""The intervention lifecycle: a checked state machine definition, built-in or the district's.

Interventions are plain records; they are not ``transitions`` models. A definition declares
its states and transitions, is checked as a graph with :class:`transitions.Machine` (every state
reachable, no dead end, terminal states absorbing, no undefined state: ``transitions`` only
notices a bad destination when it is triggered), and runs from a lookup table that applying a
trigger consults: one dictionary lookup per transition, checked equal to a ``transitions``
machine driving a model in a property test (``tests/workflow/test_lifecycle_machine.py``).
Nothing from a rule set file is ever handed to ``transitions`` as a callback (it would import
dotted paths): guards are names of the conditions in :data:`GUARDS`, which the workflow
implements.

:func:`build_lifecycle` builds one from a rule set's ``lifecycle:`` section; the
``check_lifecycle`` stage (:mod:`._lifecycle`) reports its problems where they are written.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tierflow.errors import WorkflowError, suggest
from tierflow.spec._lifecycle import LifecycleSpec

if TYPE_CHECKING:
    from transitions import Machine

__all__ = [
    "BUILTIN_LIFECYCLE",
    "DEFAULT_TRANSITIONS",
    "ENGINE_TRIGGERS",
    "GUARDS",
    "STATES",
    "Lifecycle",
    "LifecycleProblem",
    "TransitionDef",
    "build_lifecycle",
]

STATES: tuple[str, ...] = ("assigned", "active", "follow_up_due", "met_goal", "escalated", "closed")
"""Every state of the built-in lifecycle."""

ENGINE_TRIGGERS: tuple[str, ...] = (
    "start",
    "check_in",
    "follow_up_due",
    "meet_goal",
    "escalate",
    "close",
)
"""The triggers the engine fires itself: every lifecycle must have them."""

GUARDS: Mapping[str, str] = {
    "reason_given": "the staff member gave a reason (not blank)",
    "has_owner": "the intervention has an owner",
    "has_check_in": "at least one check-in is recorded for the intervention",
    "goal_met_at_last_check_in": "the latest check-in recorded the period's goal as met",
}
"""The conditions a transition's ``guard`` may name, with what each checks."""


@dataclass(frozen=True)
class TransitionDef:
    """One declared transition: ``trigger`` moves from any of ``sources`` to ``dest``.

    ``guard`` names one of :data:`GUARDS` that must hold when staff fire it (None: none).
    """

    trigger: str
    sources: tuple[str, ...]
    dest: str
    doc: str
    guard: str | None = None


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

_BUILTIN_ROLES: dict[str, tuple[str, ...]] = {
    "started": ("active", "follow_up_due"),
    "met": ("met_goal",),
    "escalated": ("escalated",),
    "closed": ("closed",),
}


@dataclass(frozen=True)
class LifecycleProblem:
    """One way a lifecycle is unsound, naming the state or trigger where it shows.

    Attributes:
        code: The error code (``lifecycle.dead_end``).
        message: What is wrong.
        state: The state it is about (None: a trigger or the whole).
        trigger: The trigger it is about (None: a state or the whole).
        field: The trigger's field or the role it is about (``from``, ``to``, ``guard``,
            ``started``...), if any.
        hint: A did-you-mean or what to do.
        index: The position in the ``from`` list of the state it is about, if there.
    """

    code: str
    message: str
    state: str | None = None
    trigger: str | None = None
    field: str | None = None
    hint: str = ""
    index: int | None = None


class Lifecycle:
    """A checked state machine definition, shared by every intervention.

    Args:
        states: Every state, in order.
        transitions: The declared transitions.
        initial: The state an intervention opens in.
        terminal: States it never leaves (default: the union of ``met``, ``escalated`` and
            ``closed``).
        started: States in which it is being worked (it counts as tried from the first day it
            enters one). Given no roles and no ``terminal``, the built-in roles apply.
        met: Terminal states reached by meeting the goal.
        escalated: Terminal states reached by escalating.
        closed: Terminal states reached otherwise.
        descriptions: What each state means.
        strict: Raise :class:`WorkflowError` when the graph is unsound (False: the caller reads
            :meth:`problems`).

    >>> BUILTIN_LIFECYCLE.target("check_in", "follow_up_due")
    'active'
    >>> BUILTIN_LIFECYCLE.target("check_in", "closed") is None
    True
    """

    def __init__(
        self,
        states: Sequence[str] = STATES,
        transitions: Iterable[TransitionDef] = DEFAULT_TRANSITIONS,
        *,
        initial: str = "assigned",
        terminal: Iterable[str] | None = None,
        started: Iterable[str] | None = None,
        met: Iterable[str] | None = None,
        escalated: Iterable[str] | None = None,
        closed: Iterable[str] | None = None,
        descriptions: Mapping[str, str] | None = None,
        strict: bool = True,
    ) -> None:
        self.states = tuple(states)
        self.initial = initial
        # Given nothing about roles, the built-in states keep the built-in roles; a lifecycle
        # given only its terminal states (as before roles existed) has none.
        builtin = terminal is None and all(r is None for r in (started, met, escalated, closed))
        roles = _BUILTIN_ROLES if builtin else {}
        self.started = frozenset(started if started is not None else roles.get("started", ()))
        self.met = frozenset(met if met is not None else roles.get("met", ()))
        self.escalated = frozenset(
            escalated if escalated is not None else roles.get("escalated", ())
        )
        self.closed = frozenset(closed if closed is not None else roles.get("closed", ()))
        self.terminal = frozenset(
            terminal if terminal is not None else self.met | self.escalated | self.closed
        )
        self.transitions = tuple(transitions)
        self.descriptions = dict(descriptions or {})
        self.guards = {t.trigger: t.guard for t in self.transitions if t.guard is not None}
        # The table is read straight from the declarations (the first transition declared
        # for a trigger and state wins, as it does when transitions is triggered); the
        # property tests check it against a transitions.Machine driving a real model.
        self._table: dict[tuple[str, str], str] = {}
        for t in self.transitions:
            for source in t.sources:
                self._table.setdefault((t.trigger, source), t.dest)
        if strict:
            self.check()

    @functools.cached_property
    def machine(self) -> Machine:
        """The definition as a :class:`transitions.Machine` (no model), asked by :meth:`problems`.

        Built on first use: ``import tierflow`` and the built-in rule sets never import
        ``transitions`` (tests/test_exported_members.py keeps the import light).
        """
        from transitions import Machine

        return Machine(
            model=None,
            states=list(self.states),
            transitions=[
                {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest}
                for t in self.transitions
            ],
            initial=self.initial if self.initial in self.states else None,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )

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

    def is_open(self, state: str) -> bool:
        """Whether an intervention in ``state`` is still being worked (not terminal)."""
        return state not in self.terminal

    def problems(self) -> list[LifecycleProblem]:
        """Every way the definition is unsound (empty: it is sound)."""
        found: list[LifecycleProblem] = []
        known = set(self.states)

        def unknown(state: str, what: str, **where: Any) -> None:
            found.append(
                LifecycleProblem(
                    "lifecycle.unknown_state",
                    f"{what} undefined state {state!r}",
                    hint=suggest(state, self.states) or f"states: {', '.join(self.states)}",
                    **where,
                )
            )

        if self.initial not in known:
            found.append(
                LifecycleProblem(
                    "lifecycle.unknown_state",
                    f"initial state {self.initial!r} is not a state",
                    field="initial",
                    hint=suggest(self.initial, self.states),
                )
            )
        for role in ("started", "met", "escalated", "closed"):
            for state in sorted(getattr(self, role)):
                if state not in known:
                    unknown(state, f"the {role!r} states name", field=role)
        roles = {"started": self.started, "met": self.met, "escalated": self.escalated}
        roles["closed"] = self.closed
        for state in self.states:
            named = [role for role, states in roles.items() if state in states]
            if len(named) > 1:
                found.append(
                    LifecycleProblem(
                        "lifecycle.role_conflict",
                        f"state {state!r} is listed as {' and '.join(named)}: a state is worked "
                        "or ended one way, not both",
                        state=state,
                        field=named[-1],
                        hint=f"keep {state!r} in one of {', '.join(named)}",
                    )
                )
        for t in self.transitions:
            for j, source in enumerate(t.sources):
                if source not in known:
                    where = f"transition {t.trigger!r} names"
                    unknown(source, where, trigger=t.trigger, field="from", index=j)
                elif source in self.terminal:
                    found.append(
                        LifecycleProblem(
                            "lifecycle.terminal_exit",
                            f"terminal state {source!r} is left by {t.trigger!r}: terminal "
                            "states must absorb",
                            state=source,
                            trigger=t.trigger,
                            field="from",
                            index=j,
                        )
                    )
            if t.dest not in known:
                unknown(t.dest, f"transition {t.trigger!r} names", trigger=t.trigger, field="to")
            if t.guard is not None and t.guard not in GUARDS:
                found.append(
                    LifecycleProblem(
                        "lifecycle.unknown_guard",
                        f"unknown guard {t.guard!r}",
                        trigger=t.trigger,
                        field="guard",
                        hint=suggest(t.guard, GUARDS) or f"guards: {', '.join(GUARDS)}",
                    )
                )
        reached = {self.initial} if self.initial in known else set()
        frontier = list(reached)
        while frontier:
            state = frontier.pop()
            for trigger in self.machine.get_triggers(state):
                dest = self._table.get((trigger, state))
                if dest is not None and dest not in reached:
                    reached.add(dest)
                    frontier.append(dest)
        for state in self.states:
            if state not in reached:
                found.append(
                    LifecycleProblem(
                        "lifecycle.unreachable_state",
                        f"state {state!r} cannot be reached from {self.initial!r}",
                        state=state,
                    )
                )
            elif state not in self.terminal and not self.machine.get_triggers(state):
                found.append(
                    LifecycleProblem(
                        "lifecycle.dead_end",
                        f"state {state!r} is not terminal and no trigger leaves it",
                        state=state,
                        hint="add a transition from it, or list it under 'closed'",
                    )
                )
        return found

    def engine_problems(self) -> list[LifecycleProblem]:
        """What the engine cannot run: a missing or guarded engine trigger, an unclosable state.

        The engine fires :data:`ENGINE_TRIGGERS` itself, on the facts and the calendar; a guard
        is checked when staff fire a trigger (``Engine.fire``), so one on an engine trigger
        would be silently ignored. The engine closes open interventions on its own too (a
        withdrawal on corrected data, a new school year, a transfer), from whatever open state
        they are in: ``close`` must be allowed from every state that is not terminal.
        """
        found = [
            LifecycleProblem(
                "lifecycle.missing_trigger",
                f"the engine fires {trigger!r}, which this lifecycle does not define",
                trigger=trigger,
                hint="define it under 'transitions', or keep 'builtin: true'",
            )
            for trigger in ENGINE_TRIGGERS
            if trigger not in self.triggers
        ]
        if "close" in self.triggers:
            found += [
                LifecycleProblem(
                    "lifecycle.unclosable_state",
                    f"'close' is not allowed from open state {state!r}",
                    state=state,
                    trigger="close",
                    field="from",
                    hint=f"add {state!r} to the 'from' of 'close'",
                )
                for state in self.states
                if state not in self.terminal and ("close", state) not in self._table
            ]
        found += [
            LifecycleProblem(
                "lifecycle.guarded_engine_trigger",
                f"the engine fires {trigger!r} itself: its guard {guard!r} would never be checked",
                trigger=trigger,
                field="guard",
                hint="guard a trigger staff fire instead",
            )
            for trigger, guard in self.guards.items()
            if trigger in ENGINE_TRIGGERS
        ]
        return found

    def check(self) -> None:
        """Check the graph (see :meth:`problems`); raise :class:`WorkflowError` if unsound."""
        problems = self.problems()
        if problems:
            raise WorkflowError("unsound lifecycle: " + "; ".join(p.message for p in problems))

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

    def to_json(self) -> dict[str, object]:
        """The definition as plain data (what ``tierflow lifecycle --format json`` prints)."""
        return {
            "initial": self.initial,
            "states": [
                {"name": s, "description": self.descriptions.get(s), "terminal": s in self.terminal}
                for s in self.states
            ],
            "transitions": [
                {"trigger": t.trigger, "from": list(t.sources), "to": t.dest, "guard": t.guard}
                for t in self.transitions
            ],
            "started": sorted(self.started),
            "met": sorted(self.met),
            "escalated": sorted(self.escalated),
            "closed": sorted(self.closed),
        }


# Not checked here, which would import transitions on `import tierflow`: the tests check it
# (tests/compile/test_lifecycle.py), and it never changes.
BUILTIN_LIFECYCLE = Lifecycle(strict=False)
"""The built-in lifecycle: what every rule set without a ``lifecycle:`` section uses."""


def build_lifecycle(spec: LifecycleSpec, *, strict: bool = False) -> Lifecycle:
    """Build the lifecycle a ``lifecycle:`` section describes (on the built-in, unless not).

    Args:
        spec: The section.
        strict: Raise :class:`WorkflowError` if it is unsound (False: read ``problems()``).
    """
    base = BUILTIN_LIFECYCLE if spec.builtin else None
    states = list(base.states) if base is not None else []
    states += [s for s in spec.states if s not in states]
    by_trigger = {t.trigger: t for t in base.transitions} if base is not None else {}
    for trigger, t in spec.transitions.items():
        by_trigger[trigger] = TransitionDef(trigger, t.sources, t.to, t.description or "", t.guard)
    descriptions = {s: d.description for s, d in spec.states.items() if d and d.description}

    def role(name: str) -> list[str]:
        inherited = list(getattr(base, name)) if base is not None else []
        return sorted({*inherited, *getattr(spec, name)})

    initial = spec.initial or (base.initial if base is not None else "")
    return Lifecycle(
        states,
        by_trigger.values(),
        initial=initial,
        started=role("started"),
        met=role("met"),
        escalated=role("escalated"),
        closed=role("closed"),
        descriptions=descriptions,
        strict=strict,
    )
