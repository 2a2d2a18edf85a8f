"""Whether student facts could describe a real student, and building ones that do.

The facts model (:class:`tierflow.facts.StudentFacts`) checks types, ranges and that
``days_absent`` never exceeds ``days_enrolled``; an evaluation reads plain mappings without it.
Facts that analysis proposes (witnesses, boundary cases) are checked against that model and the
invariants the generated students of :mod:`tierflow.testing` keep: unexcused, excused and
suspension days are parts of the absent days, and tardies over 30 minutes are tardies.

>>> fact_problems({"student_id": "s", "days_enrolled": 0, "days_absent": 0, "days_unexcused": 3})
['days_unexcused (3) exceeds days_absent (0)']
>>> student({"days_absent"}, enrolled=100, absent=9)
{'student_id': 'witness', 'days_enrolled': 100, 'days_absent': 9}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from tierflow.errors import DataError
from tierflow.evaluate import CompiledRuleset
from tierflow.facts import FACTS, StudentFacts

__all__ = ["PARTS_OF_ABSENCE", "fact_problems", "needed_facts", "student"]

PARTS_OF_ABSENCE = ("days_excused", "days_unexcused", "days_suspended")
"""Facts that count a kind of absent day: each, and their sum, is at most ``days_absent``."""


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def fact_problems(facts: Mapping[str, Any]) -> list[str]:
    """Why ``facts`` cannot describe a real student (empty when they can).

    Args:
        facts: Student facts as a mapping (as a rule set's ``tests:`` hold them).
    """
    try:
        StudentFacts.model_validate(dict(facts))
    except ValidationError as exc:
        return [str(e["msg"]) for e in exc.errors()]
    problems = []
    absent = _number(facts.get("days_absent"))
    parts = {k: _number(facts.get(k)) for k in PARTS_OF_ABSENCE}
    if absent is not None:
        for name, value in parts.items():
            if value is not None and value > absent:
                problems.append(f"{name} ({value:g}) exceeds days_absent ({absent:g})")
        total = sum(v for v in parts.values() if v is not None)
        if not problems and total > absent:
            problems.append(
                f"excused, unexcused and suspension days ({total:g}) exceed days_absent"
            )
    elif any(v for v in parts.values()):
        problems.append("days of a kind of absence without days_absent")
    tardies, late = _number(facts.get("tardies")), _number(facts.get("tardies_over_30"))
    if late is not None and tardies is not None and late > tardies:
        problems.append(f"tardies_over_30 ({late:g}) exceeds tardies ({tardies:g})")
    return problems


def _whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def student(
    names: Iterable[str],
    *,
    enrolled: float,
    absent: float = 0,
    unexcused: float = 0,
    suspended: float = 0,
    tardies: float = 0,
    tardies_over_30: float = 0,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Consistent facts of one student, giving the facts in ``names`` (a rule set reads them).

    ``days_enrolled`` and ``days_absent`` are always given; excused days are the absent days
    that are neither unexcused nor suspension days. Other facts a rule set reads get a neutral
    value (0, no list entries, false).

    Args:
        names: The facts to give (a rule set's ``fact_names``).
        enrolled: Days enrolled.
        absent: Days absent (at least ``unexcused + suspended``).
        unexcused: Unexcused days.
        suspended: Suspension days.
        tardies: Tardies.
        tardies_over_30: Tardies over 30 minutes (at most ``tardies``).
        extra: Values for other facts (``groups``...), kept as given.
    """
    values: dict[str, float] = {
        "days_enrolled": enrolled,
        "days_absent": absent,
        "days_unexcused": unexcused,
        "days_suspended": suspended,
        "days_excused": absent - unexcused - suspended,
        "tardies": tardies,
        "tardies_over_30": tardies_over_30,
    }
    facts: dict[str, Any] = {"student_id": "witness"}
    wanted = {"days_enrolled", "days_absent", *names}
    for name, value in values.items():
        if name in wanted:
            facts[name] = _whole(value)
    for name in sorted(wanted - set(values) - {"student_id", "previous_tier"}):
        kind = FACTS[name].type.kind if name in FACTS else "number"
        if name == "attendance_log":  # read by window functions only, not a fact of its own
            kind = "list"
        facts[name] = {"list": [], "bool": False, "string": "x"}.get(kind, 0)
    facts.update(extra or {})
    return facts


def needed_facts(ruleset: CompiledRuleset, as_of: Any) -> tuple[str, ...]:
    """The facts a student built by :func:`student` needs to be evaluated by ``ruleset``.

    The facts its conditions read, and the attendance log when a window function reads it
    (an empty log: no absence in any window).
    """
    names = tuple(ruleset.fact_names)
    # Conditions short-circuit, so a window function may be read by some students only.
    for enrolled, absent in ((100, 0), (100, 5), (100, 50), (9, 3), (9, 9)):
        probe = student(names, enrolled=enrolled, absent=absent, unexcused=absent)
        try:
            ruleset.evaluate(probe, as_of=as_of)
        except DataError:
            return (*names, "attendance_log")
    return names
