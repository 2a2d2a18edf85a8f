"""The ``check_lifecycle`` stage: build the rule set's lifecycle and report where it is unsound."""

from __future__ import annotations

from tierflow.compile._compilation import Compilation
from tierflow.compile._machine import BUILTIN_LIFECYCLE, build_lifecycle
from tierflow.spec._lifecycle import LifecycleSpec

__all__ = ["check_lifecycle"]


def check_lifecycle(c: Compilation) -> None:
    """The ``lifecycle:`` section describes a sound machine with the engine's triggers."""
    spec = c.the_spec.lifecycle
    if spec == LifecycleSpec():
        c.lifecycle = BUILTIN_LIFECYCLE  # shared: nothing to build or check again
        return
    lifecycle = build_lifecycle(spec)
    c.lifecycle = lifecycle
    written = "lifecycle" in c.merged
    for p in [*lifecycle.problems(), *lifecycle.engine_problems()]:
        path: tuple[str | int, ...] = ("lifecycle",) if written else ()
        key = False
        if p.code == "lifecycle.missing_trigger":
            key = written  # at the key that names the section the trigger belongs in
            if written and "transitions" in c.merged["lifecycle"]:
                path = ("lifecycle", "transitions")
        elif p.code == "lifecycle.role_conflict" and p.state is not None:
            path = _listed(c, p.state, p.field) or path
        elif p.trigger is not None and p.trigger in spec.transitions:
            path = ("lifecycle", "transitions", p.trigger)
            if p.field is not None:
                path = (*path, p.field)
            if p.index is not None:
                path = (*path, p.index)
        elif p.state is not None and p.state in spec.states:
            path, key = ("lifecycle", "states", p.state), True
        elif p.state is not None and (listed := _listed(c, p.state)) is not None:
            path = listed  # a built-in state the section puts in a role
        elif p.field is not None and written and p.field in c.merged["lifecycle"]:
            path = ("lifecycle", p.field)
        c.problem(path, p.code, p.message, p.hint, key=key)


def _listed(c: Compilation, state: str, role: str | None = None) -> tuple[str | int, ...] | None:
    """Where the section lists ``state`` in a role (``closed: [active]``), if it does.

    ``role`` is looked at first (the role a conflict names last).
    """
    section = c.merged.get("lifecycle")
    if not isinstance(section, dict):
        return None
    for name in (role, "met", "escalated", "closed", "started"):
        listed = section.get(name) if name is not None else None
        if name is not None and isinstance(listed, list) and state in listed:
            return ("lifecycle", name, listed.index(state))
    return None
