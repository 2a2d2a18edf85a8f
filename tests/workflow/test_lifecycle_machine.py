"""The fast lookup table runs a lifecycle exactly as a ``transitions.Machine`` does.

A real model object is driven by ``transitions`` through random trigger sequences, and the
table (``Lifecycle.target``) is asked the same questions: the state after each trigger, and
which triggers are refused, must agree. The oracle is the ``transitions`` package itself, a
second implementation, for the built-in lifecycle and for random district lifecycles (built
from random ``lifecycle:`` sections, sound or not).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from transitions import Machine, MachineError

from tierflow.compile._machine import BUILTIN_LIFECYCLE, Lifecycle, build_lifecycle
from tierflow.spec import LifecycleSpec

_NAMES = st.sampled_from(["s0", "s1", "s2", "s3", "s4", "on_hold", "declined"])
_TRIGGERS = st.sampled_from(["t0", "t1", "t2", "hold", "resume", "decline", "close"])


class _Model:
    """What ``transitions`` drives: it sets ``state`` and adds a method per trigger."""

    state: str


def _drive(lifecycle: Lifecycle, triggers: list[str]) -> None:
    model = _Model()
    Machine(
        model=model,
        states=list(lifecycle.states),
        transitions=[
            {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest}
            for t in lifecycle.transitions
        ],
        initial=lifecycle.initial,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )
    state = lifecycle.initial
    for trigger in triggers:
        expected = lifecycle.target(trigger, state)
        fire: Any = getattr(model, trigger, None)
        if fire is None:  # a trigger the lifecycle does not define at all
            assert expected is None, (trigger, state)
            continue
        try:
            fire()
        except MachineError:
            assert expected is None, (trigger, state)
        else:
            assert expected == model.state, (trigger, state)
            state = model.state
        assert model.state == state
        allowed = set(lifecycle.allowed(state))
        assert allowed == {t for t in lifecycle.triggers if model.may_trigger(t)}  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([*BUILTIN_LIFECYCLE.triggers, "hold"]), max_size=30))
def test_the_built_in_table_runs_as_transitions_does(triggers: list[str]) -> None:
    _drive(BUILTIN_LIFECYCLE, triggers)


@st.composite
def _sections(draw: st.DrawFn) -> LifecycleSpec:
    states = draw(st.lists(_NAMES, unique=True, max_size=5))
    known = ["assigned", "active", "closed", *states]
    transitions = draw(
        st.dictionaries(
            _TRIGGERS,
            st.fixed_dictionaries(
                {
                    "from": st.lists(st.sampled_from(known), min_size=1, max_size=4, unique=True),
                    "to": st.sampled_from(known),
                }
            ),
            max_size=5,
        )
    )
    closed = draw(st.lists(st.sampled_from(states), unique=True, max_size=2)) if states else []
    return LifecycleSpec.model_validate(
        {"states": {s: {} for s in states}, "transitions": transitions, "closed": closed}
    )


@settings(max_examples=80, deadline=None)
@given(_sections(), st.data())
def test_a_district_table_runs_as_transitions_does(
    spec: LifecycleSpec, data: st.DataObject
) -> None:
    lifecycle = build_lifecycle(spec)  # not strict: an unsound one must still run the same
    triggers = data.draw(
        st.lists(st.sampled_from([*lifecycle.triggers, "t9"]), max_size=30), label="triggers"
    )
    _drive(lifecycle, triggers)


def test_a_later_transition_from_the_same_state_does_not_override_the_first() -> None:
    from tierflow.compile._machine import TransitionDef

    # transitions tries a trigger's transitions in declaration order: the first one wins.
    lifecycle = Lifecycle(
        ("a", "b", "c"),
        (TransitionDef("go", ("a",), "b", ""), TransitionDef("go", ("a",), "c", "")),
        initial="a",
        terminal={"b", "c"},
        strict=False,
    )
    assert lifecycle.target("go", "a") == "b"
    _drive(lifecycle, ["go", "go"])
