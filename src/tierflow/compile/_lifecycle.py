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
        elif p.trigger is not None and p.trigger in spec.transitions:
            path = ("lifecycle", "transitions", p.trigger)
            if p.field is not None:
                path = (*path, p.field)
            if p.index is not None:
                path = (*path, p.index)
        elif p.state is not None and p.state in spec.states:
            path, key = ("lifecycle", "states", p.state), True
        elif p.field is not None and written and p.field in c.merged["lifecycle"]:
            path = ("lifecycle", p.field)
        c.problem(path, p.code, p.message, p.hint, key=key)
