"""Ready-made properties of a rule set, checked on generated students."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierflow.analysis import threshold_values
from tierflow.errors import DataError, TierflowError
from tierflow.evaluate import CompiledRuleset, Decision
from tierflow.testing._strategies import AS_OF, near_thresholds, student_facts

__all__ = [
    "PropertyFailure",
    "as_test_case",
    "check_deterministic",
    "check_escalation_upward",
    "check_exemptions",
    "check_legal_prerequisites",
    "check_monotone",
    "check_totality",
]


class PropertyFailure(TierflowError, AssertionError):
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
    more absent days never exceed days enrolled. About half the examples aim at the thresholds the
    rule set compares ``fact`` with (:func:`tierflow.analysis.threshold_values`): a student at
    or just below one, and the increase that reaches a value at or around a later one, so a gap
    between tier bands is found within the default examples.

    Raises:
        PropertyFailure: With the student, before and after, as YAML test cases.
    """
    anywhere = st.tuples(student_facts(), st.integers(min_value=1, max_value=10))
    values = threshold_values(ruleset, fact)
    aimed = near_thresholds(values, fact) if any(len(v) > 1 for v in values.values()) else None

    @_settings(max_examples)
    @given(anywhere if aimed is None else st.one_of(aimed, anywhere))
    def prop(example: tuple[dict[str, Any], float]) -> None:
        facts, more = example
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
                f"{more:g} more {fact}: {what}\n"
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


def _prerequisites_missing(
    ruleset: CompiledRuleset, index: int, history: Mapping[str, Any], as_of: dt.date
) -> list[str]:
    """The prerequisites of legal step ``index`` that ``history`` does not meet.

    An independent reading of the rule set's ``requires``, to check the evaluator against.
    """
    spec = ruleset.spec
    step = spec.legal[index]
    req = step.requires
    issued = {
        s["step"]: dt.date.fromisoformat(str(s["issued_on"]))
        for s in history.get("legal_steps", ())
        if dt.date.fromisoformat(str(s["issued_on"])) <= as_of
    }
    missing = []
    previous = req.previous if req.previous is not None else index > 0
    if previous and index > 0:
        prev = spec.legal[index - 1].id
        if prev not in issued:
            missing.append(f"{prev} not issued")
        elif (as_of - issued[prev]).days < req.min_days_after_previous:
            missing.append(f"{prev} issued too recently")
    missing += [f"{s} not issued" for s in req.steps if s not in issued]
    documented = [
        c
        for c in history.get("conferences", ())
        if dt.date.fromisoformat(str(c["held_on"])) <= as_of
    ]
    held = {c["kind"] for c in documented if c.get("outcome", "held") == "held"}
    missing += [f"no {k}" for k in req.conferences if k not in held]
    attempted = {c["kind"] for c in documented}  # held, or a documented attempt
    missing += [
        f"no {k} held or attempted" for k in req.conferences_attempted if k not in attempted
    ]
    if req.supportive_interventions:
        levels = {t.id: t.level for t in spec.tiers}
        floor = levels[req.supportive_min_tier] if req.supportive_min_tier else 1
        unsupportive = {iv.id for iv in spec.interventions if not iv.supportive}
        tried = [
            i
            for i in history.get("interventions", ())
            if i["tier_level"] >= floor
            and dt.date.fromisoformat(str(i["started_on"])) <= as_of
            and i["intervention"] not in unsupportive
            and (i.get("outcome") is not None or not req.with_outcome)
            and (i.get("check_ins") or 0) >= req.min_check_ins
        ]
        if len(tried) < req.supportive_interventions:
            missing.append("not enough supportive interventions")
    return missing


def check_legal_prerequisites(
    ruleset: CompiledRuleset, *, max_examples: int = 100, days: int = 120
) -> None:
    """On simulated school years, no legal step is ever due without its prerequisites.

    Each example is a year of ``days`` days: unexcused absences arrive at random, the school
    issues every step as soon as it is due, and sometimes tries an intervention or holds a
    conference. Whenever a step is due, its ``requires`` (read independently of the evaluator)
    must be met, and steps are issued in ladder order.

    Raises:
        PropertyFailure: With the day and the history that let a step through.
    """
    ids = [s.id for s in ruleset.spec.legal]
    if not ids:
        return
    start = AS_OF - dt.timedelta(days=days)

    @_settings(max_examples)
    @given(
        st.lists(
            st.tuples(
                st.integers(0, days - 1),
                st.sampled_from(["absence", "intervention", "conference"]),
                st.sampled_from(["parent_conference", "sart"]),
                st.sampled_from([None, "positive", "mixed"]),
            ),
            max_size=60,
        )
    )
    def prop(happenings: list[tuple[int, str, str, str | None]]) -> None:
        by_day: dict[int, list[tuple[str, str, str | None]]] = {}
        for day, what, kind, outcome in happenings:
            by_day.setdefault(day, []).append((what, kind, outcome))
        history: dict[str, list[dict[str, Any]]] = {
            "legal_steps": [],
            "interventions": [],
            "conferences": [],
        }
        unexcused = 0
        log: list[dict[str, Any]] = []
        for day in range(days):
            today = start + dt.timedelta(days=day)
            for what, kind, outcome in by_day.get(day, ()):
                if what == "absence":
                    unexcused += 1
                    log.append({"date": today.isoformat(), "kind": "unexcused"})
                elif what == "intervention":
                    entry = {"intervention": "tried", "tier_level": 2, "started_on": today}
                    history["interventions"].append(
                        entry | ({"outcome": outcome} if outcome else {})
                    )
                else:
                    history["conferences"].append({"kind": kind, "held_on": today})
            facts = {
                "student_id": "sim",
                "days_enrolled": day + 1,
                "days_absent": unexcused,
                "days_unexcused": unexcused,
                "tardies_over_30": 0,
                "attendance_log": log,
                "history": history,
            }
            try:
                decision = ruleset.evaluate(facts, as_of=today)
            except DataError:
                return  # the rule set needs facts this simulation does not provide
            for action in decision.legal_actions:
                if action.status != "due":
                    continue
                index = ids.index(action.step)
                missing = _prerequisites_missing(ruleset, index, history, today)
                if missing:
                    raise PropertyFailure(
                        f"{action.step} was due on {today} without: {'; '.join(missing)}\n"
                        + as_test_case("premature step", facts, decision, today)
                    )
                history["legal_steps"].append({"step": action.step, "issued_on": today})
        order = [ids.index(s["step"]) for s in history["legal_steps"]]
        if order != sorted(order):
            raise PropertyFailure(f"steps issued out of ladder order: {history['legal_steps']}")

    _run(prop, max_examples)


def check_exemptions(ruleset: CompiledRuleset, *, max_examples: int = 200) -> None:
    """A student in a step's exempt groups never has that step due or blocked, only exempt.

    Raises:
        PropertyFailure: With the student as a YAML test case.
    """
    exempt = {s.id: set(s.exempt_groups) for s in ruleset.spec.legal if s.exempt_groups}
    if not exempt:
        return

    @_settings(max_examples)
    @given(student_facts(), st.sampled_from(sorted({g for gs in exempt.values() for g in gs})))
    def prop(facts: dict[str, Any], group: str) -> None:
        facts = dict(facts)
        facts["groups"] = sorted({*facts["groups"], group})
        decision = ruleset.evaluate(facts, as_of=AS_OF)
        for action in decision.legal_actions:
            if group in exempt.get(action.step, ()) and action.status != "exempt":
                raise PropertyFailure(
                    f"{action.step} is {action.status} for a student in exempt group {group}\n"
                    + as_test_case("exemption", facts, decision)
                )

    _run(prop, max_examples)
