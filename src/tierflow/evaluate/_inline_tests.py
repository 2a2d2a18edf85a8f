"""A rule set's inline ``tests:``: run each case, say what differed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierflow.errors import DataError

if TYPE_CHECKING:
    from tierflow.evaluate._ruleset import CompiledRuleset

__all__ = ["TestResult", "run_tests"]


@dataclass(frozen=True)
class TestResult:
    """The outcome of one inline test case.

    Attributes:
        ruleset: Id of the rule set the test belongs to.
        name: The test's name.
        passed: Whether every expectation held.
        diffs: One line per expectation that did not hold: ``tier: expected 'tier3', got 'tier2'``.
        location: Where the test is written (``file:line:col``).
    """

    __test__ = False  # not a pytest test class

    ruleset: str
    name: str
    passed: bool
    diffs: tuple[str, ...]
    location: str


def run_tests(ruleset: CompiledRuleset) -> list[TestResult]:
    """Run the rule set's inline ``tests:`` and return one result per case."""
    results = []
    for i, case in enumerate(ruleset.spec.tests):
        where = str(ruleset.program.smap.span(("tests", i)))
        diffs: list[str] = []
        try:
            d = ruleset.evaluate(case.facts, as_of=case.as_of)
        except DataError as exc:
            if case.expect.error != exc.code:
                diffs.append(f"error: expected {case.expect.error!r}, got {exc.code!r} ({exc})")
            results.append(TestResult(ruleset.id, case.name, not diffs, tuple(diffs), where))
            continue
        exp = case.expect
        if exp.error is not None:
            diffs.append(f"error: expected {exp.error!r}, got a decision")
        if exp.tier is not None and exp.tier != d.tier:
            diffs.append(f"tier: expected {exp.tier!r}, got {d.tier!r}")
        checks = (
            ("interventions", exp.interventions, [iv.id for iv in d.interventions]),
            ("rules", exp.rules, list(d.rules)),
            ("legal_due", exp.legal_due, list(d.legal_due)),
            ("legal_blocked", exp.legal_blocked, list(d.legal_blocked)),
            (
                "legal_exempt",
                exp.legal_exempt,
                [a.step for a in d.legal_actions if a.status == "exempt"],
            ),
        )
        for name, want, got in checks:
            if want is not None and set(want) != set(got):
                extra = sorted(set(got) - set(want))
                lack = sorted(set(want) - set(got))
                parts = ([f"missing {lack}"] if lack else []) + (
                    [f"unexpected {extra}"] if extra else []
                )
                diffs.append(
                    f"{name}: expected {sorted(want)}, got {sorted(got)} ({'; '.join(parts)})"
                )
        results.append(TestResult(ruleset.id, case.name, not diffs, tuple(diffs), where))
    return results
