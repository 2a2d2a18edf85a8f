"""The compiler: rule set source -> checked spec -> generated Python evaluator."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tierflow.compile._compilation import BUILTIN_METRICS, Compilation
from tierflow.compile._pipeline import STAGES, run_stages
from tierflow.compile._source import (
    Document,
    builtin_names,
    document_from_text,
    read_document,
)
from tierflow.expr import DEFAULT_FUNCTIONS, FunctionRegistry
from tierflow.spec._yaml import DEFAULT_LIMITS, YamlLimits

if TYPE_CHECKING:
    from tierflow.evaluate._ruleset import CompiledRuleset

__all__ = [
    "BUILTIN_METRICS",
    "STAGES",
    "Compilation",
    "builtin_names",
    "compile_document",
    "load_ruleset",
    "parse_ruleset",
]


def compile_document(
    document: Document,
    *,
    functions: FunctionRegistry | None = None,
    until: str | None = None,
) -> Compilation:
    """Run the compiler stages over a loaded document (for tests that stop after a stage)."""
    c = Compilation(document, functions or DEFAULT_FUNCTIONS)
    return run_stages(c, until)


def _finish(c: Compilation) -> CompiledRuleset:
    from tierflow.evaluate._ruleset import CompiledRuleset

    assert c.evaluator is not None, "the generate_evaluator stage has not run"
    return CompiledRuleset(c, c.evaluator, c.python_source)


def load_ruleset(
    source: str | os.PathLike[str],
    *,
    functions: FunctionRegistry | None = None,
    limits: YamlLimits = DEFAULT_LIMITS,
    extends_roots: Sequence[str | os.PathLike[str]] = (),
) -> CompiledRuleset:
    """Load, check and compile a rule set: a built-in name (``"ca"``) or a YAML file path.

    Args:
        source: ``"mtss"``, ``"ca"``, ``"tx"``... or a path such as ``"rulesets/district.yaml"``.
        functions: A function registry with your own functions (default: the built-ins).
        limits: Limits on YAML size, depth and alias expansion.
        extends_roots: Folders besides the rule set's own folder tree (and the built-ins) whose
            files its ``extends`` chain may name; any other file is refused unread
            (``extends.outside``).

    Returns:
        A :class:`~tierflow.CompiledRuleset`, ready to evaluate many students.

    Raises:
        RulesetError: Every problem found, each with ``file:line:col``, a code and a hint.

    >>> ruleset = load_ruleset("mtss")
    >>> ruleset.id
    'mtss'
    """
    doc = read_document(source, limits, extends_roots)
    return _finish(compile_document(doc, functions=functions))


def parse_ruleset(
    text: str,
    *,
    name: str = "<string>",
    base_dir: str | os.PathLike[str] | None = None,
    functions: FunctionRegistry | None = None,
    limits: YamlLimits = DEFAULT_LIMITS,
    extends_roots: Sequence[str | os.PathLike[str]] = (),
) -> CompiledRuleset:
    """Compile a rule set given as YAML text; ``extends`` paths resolve from ``base_dir``.

    ``name`` is only a label for messages (any text). ``extends`` may name a built-in, a file in
    ``base_dir``'s folder tree or one in ``extends_roots``; without ``base_dir`` or
    ``extends_roots``, only a built-in.

    >>> rs = parse_ruleset('''
    ... id: tiny
    ... name: Tiny
    ... version: "1"
    ... tiers:
    ...   - {id: tier2, level: 2, when: "absence_rate >= 10%"}
    ...   - {id: tier1, level: 1, default: true}
    ... ''')
    >>> import datetime
    >>> facts = {"student_id": "s1", "days_enrolled": 20, "days_absent": 2}
    >>> rs.evaluate(facts, as_of=datetime.date(2025, 10, 1)).tier
    'tier2'
    """
    doc = document_from_text(text, name, limits, base_dir=base_dir, extends_roots=extends_roots)
    return _finish(compile_document(doc, functions=functions))
