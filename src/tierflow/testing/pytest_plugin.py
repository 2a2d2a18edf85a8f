"""A pytest plugin: ``pytest --tierflow PATH`` checks the rule sets under PATH as tests.

For each rule set it collects one item per inline test case, the ready-made properties
(totality, determinism, monotonicity in ``days_absent`` and ``days_unexcused``, escalation
upward, legal steps only with their prerequisites on simulated school years, exemptions
respected) and the static analysis (warnings fail). A failing property prints its shrunk
counterexample as a YAML test case to paste into the rule set.

The plugin's hooks live in the top-level module ``_tierflow_pytestplugin`` (the ``pytest11``
entry point), which imports this module only when ``--tierflow`` is given: pytest loads
entry-point plugins before coverage starts, so a plugin inside ``tierflow`` would hide the
package's module-level lines from coverage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tierflow.analysis import analyze
from tierflow.evaluate import load_ruleset
from tierflow.testing._properties import (
    check_deterministic,
    check_escalation_upward,
    check_exemptions,
    check_legal_prerequisites,
    check_monotone,
    check_totality,
)

__all__ = ["RulesetCheck", "collect_rulesets"]


class RulesetCheck(pytest.Item):
    """One check of one rule set."""

    def __init__(self, *, check: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._check = check

    def runtest(self) -> None:
        """Run the check (raises on failure)."""
        self._check()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """Show the failure's own message: the diff, or the counterexample as YAML."""
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the rule set is, and what is checked."""
        return self.path, 0, f"{self.path.name}::{self.name}"


def _files(paths: list[str]) -> Iterator[Path]:
    for text in paths:
        path = Path(text)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.y*ml") if p.suffix in (".yaml", ".yml"))
        else:
            yield path


def _checks(path: Path, examples: int) -> Iterator[tuple[str, Callable[[], None]]]:
    ruleset = load_ruleset(path)

    def inline(index: int) -> Callable[[], None]:
        def run() -> None:
            result = ruleset.run_tests()[index]
            if not result.passed:
                raise AssertionError(
                    f"{result.location}: {result.name}\n" + "\n".join(result.diffs)
                )

        return run

    for i, case in enumerate(ruleset.spec.tests):
        yield f"test: {case.name}", inline(i)

    def analysis() -> None:
        found = [f for f in analyze(ruleset) if f.severity == "warning"]
        if found:
            raise AssertionError("\n".join(str(f.as_problem()) for f in found))

    yield "analysis", analysis
    n = examples
    yield "property: totality", lambda: check_totality(ruleset, max_examples=n)
    yield "property: deterministic", lambda: check_deterministic(ruleset, max_examples=n)
    yield (
        "property: monotone in days_absent",
        lambda: check_monotone(ruleset, "days_absent", max_examples=n),
    )
    yield (
        "property: monotone in days_unexcused",
        lambda: check_monotone(ruleset, "days_unexcused", max_examples=n),
    )
    yield "property: escalation upward", lambda: check_escalation_upward(ruleset)
    yield (
        "property: legal steps only with their prerequisites",
        lambda: check_legal_prerequisites(ruleset, max_examples=n),
    )
    yield "property: exemptions respected", lambda: check_exemptions(ruleset, max_examples=n)


def collect_rulesets(
    session: pytest.Session, paths: list[str], examples: int, items: list[pytest.Item]
) -> None:
    """Append to ``items`` the checks of every rule set under ``paths``.

    Args:
        session: The pytest session the items belong to.
        paths: Rule set files, or folders searched for ``*.yaml`` and ``*.yml``.
        examples: Generated students per property check.
        items: The collected items, extended in place.
    """
    for path in _files(paths):
        try:
            checks = list(_checks(path, examples))
        except Exception as exc:  # a rule set that does not load is one failing item
            message = str(exc)

            def fail(message: str = message) -> None:
                raise AssertionError(message)

            checks = [("load", fail)]
        for name, check in checks:
            items.append(RulesetCheck.from_parent(session, name=name, path=path, check=check))
