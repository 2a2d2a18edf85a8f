"""Load a rule set: compile it (:mod:`tierflow.compile`), then wrap it for evaluation.

The one place where the two rooms meet, as OPA's ``rego`` wires ``ast`` and ``topdown``: the
compiler hands over a :class:`~tierflow.compile.Program` and knows nothing of what evaluates it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from tierflow.compile import load_program, parse_program
from tierflow.evaluate._ruleset import CompiledRuleset
from tierflow.expr import FunctionRegistry
from tierflow.spec._yaml_limits import DEFAULT_LIMITS, YamlLimits

__all__ = ["load_ruleset", "parse_ruleset"]


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
    program = load_program(source, functions=functions, limits=limits, extends_roots=extends_roots)
    return CompiledRuleset(program)


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
    program = parse_program(
        text,
        name=name,
        base_dir=base_dir,
        functions=functions,
        limits=limits,
        extends_roots=extends_roots,
    )
    return CompiledRuleset(program)
