"""The rule sets a server holds, by id, and the atomic swap to a new version.

A request takes the rule set it names once, at its start (:meth:`Rulesets.get`), and uses that
object to the end: a :class:`~tierflow.CompiledRuleset` is immutable, so a request in flight
finishes on the version it started with while the next one gets the new version. A new
version replaces the old only after it compiled and its inline tests passed
(:meth:`Rulesets.replace`); otherwise the old one stays and the problems are returned.

>>> import tierflow
>>> holder = Rulesets([tierflow.load_ruleset("mtss")])
>>> holder.names(), holder.default.id
(['mtss'], 'mtss')
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from tierflow.errors import RulesetError
from tierflow.evaluate import CompiledRuleset, parse_ruleset
from tierflow.server._errors import ServeError, problem_json

__all__ = ["Rulesets", "check_text", "ruleset_json"]


def ruleset_json(ruleset: CompiledRuleset) -> dict[str, Any]:
    """What the server says of a rule set: id, name, version, content hash, counts."""
    return {
        "id": ruleset.id,
        "name": ruleset.spec.name,
        "version": ruleset.version,
        "content_hash": ruleset.content_hash,
        "tiers": [t.id for t in ruleset.tiers],
        "legal_steps": [s.id for s in ruleset.legal_steps],
        "required_facts": list(ruleset.required_facts),
    }


def check_text(
    text: str, name: str, extends_roots: Sequence[str | os.PathLike[str]] = ()
) -> tuple[CompiledRuleset | None, dict[str, Any]]:
    """Compile YAML text, analyse it and run its inline tests (``tierflow check`` and ``test``).

    Returns:
        The rule set (None when it does not compile), and the report:
        ``{"ok", "ruleset", "problems", "tests"}``; ``ok`` is False when it does not compile
        or an inline test fails (warnings of the analysis do not fail it).
    """
    from tierflow.analysis import analyze

    try:
        ruleset = parse_ruleset(text, name=f"{name}.yaml", extends_roots=extends_roots)
    except RulesetError as exc:
        problems = [problem_json(p) for p in exc.problems]
        return None, {"ok": False, "ruleset": None, "problems": problems, "tests": []}
    warnings = [problem_json(f.as_problem()) for f in analyze(ruleset)]
    tests = [
        {"name": r.name, "passed": r.passed, "location": str(r.location), "diffs": list(r.diffs)}
        for r in ruleset.run_tests()
    ]
    ok = all(t["passed"] for t in tests)
    report = {"ok": ok, "ruleset": ruleset_json(ruleset), "problems": warnings, "tests": tests}
    return ruleset, report


class Rulesets:
    """Compiled rule sets by id; the first one is the default for casework."""

    def __init__(self, rulesets: Iterable[CompiledRuleset]) -> None:
        loaded = list(rulesets)
        if not loaded:
            raise ValueError("a server needs at least one rule set")
        self._by_id = {r.id: r for r in loaded}
        self._default = loaded[0].id
        self._lock = threading.Lock()

    @property
    def default(self) -> CompiledRuleset:
        """The rule set casework uses when a request names none."""
        return self._by_id[self._default]

    def names(self) -> list[str]:
        """The ids held, sorted."""
        return sorted(self._by_id)

    def get(self, name: str | None) -> CompiledRuleset:
        """The rule set with id ``name`` (None: the default), as it is now.

        Raises:
            ServeError: ``serve.not_found``, naming the rule sets held.
        """
        if name is None:
            return self.default
        found = self._by_id.get(name)
        if found is None:
            held = ", ".join(repr(n) for n in self.names())
            raise ServeError("serve.not_found", f"no rule set {name!r} (held: {held})", 404)
        return found

    def replace(
        self, name: str, text: str, extends_roots: Sequence[str | os.PathLike[str]] = ()
    ) -> dict[str, Any]:
        """Load a new version of rule set ``name`` from YAML text, if it checks.

        Returns:
            The check report, with ``previous``: the version replaced.

        Raises:
            ServeError: ``serve.not_found`` (no such rule set held); the text's own problems
                (a :class:`~tierflow.RulesetError`); ``serve.bad_request`` (its id is not
                ``name``); ``serve.tests_failed`` (an inline test failed). The old version
                stays in each case.
        """
        old = self.get(name)
        ruleset, report = check_text(text, name, extends_roots)
        if ruleset is None:
            raise ServeError(
                report["problems"][0]["code"], "the rule set does not compile", 422, **report
            )
        if ruleset.id != name:
            raise ServeError(
                "serve.bad_request", f"the text is rule set {ruleset.id!r}, not {name!r}", 422
            )
        if not report["ok"]:
            failed = sum(not t["passed"] for t in report["tests"])
            raise ServeError("serve.tests_failed", f"{failed} inline test(s) failed", 422, **report)
        with self._lock:  # one dict replaced whole: a reader sees the old or the new one
            by_id = dict(self._by_id)
            by_id[name] = ruleset
            self._by_id = by_id
        return {**report, "previous": ruleset_json(old)}
