"""Ready-made properties of a rule set, checked on generated students."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierflow.errors import DataError
from tierflow.evaluate import CompiledRuleset, Decision
from tierflow.testing._strategies import AS_OF, student_facts

__all__ = [
    "PropertyFailure",
    "as_test_case",
    "check_deterministic",
    "check_escalation_upward",
    "check_monotone",
    "check_totality",
]


class PropertyFailure(AssertionError):
    """A rule set property does not hold; the message has the counterexample as a test case."""


def as_test_case(
    name: str, facts: Mapping[str, Any], decision: Decision, as_of: dt.date = AS_OF
) -> str:
    """Render facts and the decision they get as a YAML test case for ``tests:``."""
    expect: dict[str, Any] = {"tier": decision.tier}
    if decision.legal_actions:
        expect["legal_due"] = list(decision.legal_due)
        expect["legal_blocked"] = list(decision.legal_blocked)
    case = {"name": name, "as_of": as_of.isoformat(), "facts": dict(facts), "expect": expect}
    return yaml.safe_dump([case], sort_keys=False, width=100)


def _run(test: Callable[[], None], max_examples: int) -> None:
    try:
        test()
    except PropertyFailure:
        raise
    except AssertionError as exc:  # pragma: no cover - properties raise PropertyFailure
        raise PropertyFailure(str(exc)) from exc


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,  # the same rule set gives the same verdict on every run
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def check_totality(ruleset: CompiledRuleset, *, max_examples: int = 200) -> None:
    """Every student with the facts the rule set needs gets exactly one of its tiers.

    Raises:
        PropertyFailure: A student got no decision (a data error on consistent facts).
    """
    tiers = {t.id for t in ruleset.tiers}

    @_settings(max_examples)
    @given(student_facts())
    def prop(facts: dict[str, Any]) -> None:
        try:
            decision = ruleset.evaluate(facts, as_of=AS_OF)
        except DataError as exc:
            raise PropertyFailure(f"no decision for consistent facts: {exc}") from exc
        if decision.tier not in tiers:  # pragma: no cover - the evaluator returns a tier id
            raise PropertyFailure(f"unknown tier {decision.tier!r}")

    _run(prop, max_examples)


def check_deterministic(ruleset: CompiledRuleset, *, max_examples: int = 100) -> None:
    """The same facts and date always give the same decision (and the facts are not changed).

    Raises:
        PropertyFailure: Two evaluations differed, or evaluation changed its input.
    """

    @_settings(max_examples)
    @given(student_facts())
    def prop(facts: dict[str, Any]) -> None:
        before = copy.deepcopy(facts)
        first = ruleset.evaluate(facts, as_of=AS_OF).to_dict()
        second = ruleset.evaluate(copy.deepcopy(facts), as_of=AS_OF).to_dict()
        if first != second or facts != before:
            raise PropertyFailure(
                "evaluation is not deterministic for:\n"
                + as_test_case("determinism", facts, ruleset.evaluate(facts, as_of=AS_OF))
            )

    _run(prop, max_examples)


def check_monotone(
    ruleset: CompiledRuleset, fact: str = "days_absent", *, max_examples: int = 200
) -> None:
    """More of ``fact`` never lowers the tier nor removes a legal step.

    The increase is applied consistently: more unexcused days are also more absent days, and
    more absent days never exceed days enrolled.

    Raises:
        PropertyFailure: With the student, before and after, as YAML test cases.
    """

    @_settings(max_examples)
    @given(student_facts(), st.integers(min_value=1, max_value=10))
    def prop(facts: dict[str, Any], more: int) -> None:
        bumped = dict(facts)
        bumped[fact] = facts[fact] + more
        if fact in ("days_unexcused", "days_excused", "days_suspended"):
            bumped["days_absent"] = facts["days_absent"] + more
        if bumped.get("days_absent", 0) > facts["days_enrolled"]:
            return
        before = ruleset.evaluate(facts, as_of=AS_OF)
        after = ruleset.evaluate(bumped, as_of=AS_OF)
        lost = {a.step for a in before.legal_actions} - {a.step for a in after.legal_actions}
        if after.tier_level < before.tier_level or lost:
            what = (
                f"tier {before.tier} became {after.tier}"
                if after.tier_level < before.tier_level
                else f"legal steps {sorted(lost)} disappeared"
            )
            raise PropertyFailure(
                f"{more} more {fact}: {what}\n"
                + as_test_case("before", facts, before)
                + as_test_case("after", bumped, after)
            )

    _run(prop, max_examples)


def check_escalation_upward(ruleset: CompiledRuleset) -> None:
    """Every escalation goes to an intervention of the same tier level or higher.

    Raises:
        PropertyFailure: Naming each downward escalation.
    """
    levels = {t.id: t.level for t in ruleset.tiers}
    down = [
        f"{iv.id} ({iv.tier}) -> {iv.escalates_to} ({ruleset.interventions[iv.escalates_to].tier})"
        for iv in ruleset.interventions.values()
        if iv.escalates_to and levels[ruleset.interventions[iv.escalates_to].tier] < levels[iv.tier]
    ]
    if down:
        raise PropertyFailure("escalation goes down: " + "; ".join(down))
