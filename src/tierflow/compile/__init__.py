"""The compiler: rule set source -> checked spec -> generated Python evaluator (a :class:`Program`).

The compiler knows nothing of evaluation: :mod:`tierflow.evaluate` wraps a :class:`Program` in
a :class:`~tierflow.CompiledRuleset` (``load_ruleset`` and ``parse_ruleset`` live there).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from tierflow.compile._compilation import BUILTIN_METRICS, Compilation
from tierflow.compile._pipeline import STAGES, run_stages
from tierflow.compile._program import Program, build_program
from tierflow.compile._source import (
    Document,
    builtin_names,
    document_from_text,
    read_document,
)
from tierflow.expr import FunctionRegistry
from tierflow.facts import DEFAULT_FUNCTIONS
from tierflow.spec._yaml_limits import DEFAULT_LIMITS, YamlLimits

__all__ = [
    "BUILTIN_METRICS",
    "STAGES",
    "Compilation",
    "Program",
    "builtin_names",
    "compile_document",
    "load_program",
    "parse_program",
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


def load_program(
    source: str | os.PathLike[str],
    *,
    functions: FunctionRegistry | None = None,
    limits: YamlLimits = DEFAULT_LIMITS,
    extends_roots: Sequence[str | os.PathLike[str]] = (),
) -> Program:
    """Load, check and compile a rule set: a built-in name (``"ca"``) or a YAML file path.

    The arguments are those of :func:`tierflow.load_ruleset`, which wraps the result.

    Raises:
        RulesetError: Every problem found, each with ``file:line:col``, a code and a hint.

    >>> load_program("mtss").spec.id
    'mtss'
    """
    doc = read_document(source, limits, extends_roots)
    return build_program(compile_document(doc, functions=functions))


def parse_program(
    text: str,
    *,
    name: str = "<string>",
    base_dir: str | os.PathLike[str] | None = None,
    functions: FunctionRegistry | None = None,
    limits: YamlLimits = DEFAULT_LIMITS,
    extends_roots: Sequence[str | os.PathLike[str]] = (),
) -> Program:
    """Compile a rule set given as YAML text (the arguments of :func:`tierflow.parse_ruleset`).

    Raises:
        RulesetError: Every problem found, each with ``file:line:col``, a code and a hint.
    """
    doc = document_from_text(text, name, limits, base_dir=base_dir, extends_roots=extends_roots)
    return build_program(compile_document(doc, functions=functions))
