"""Evaluation: a compiled rule set turns facts into explained decisions.

Flow is one way: this package imports :mod:`tierflow.compile` (whose :class:`Program` it wraps)
and the compiler imports nothing from here.
"""

from tierflow.evaluate._decision import (
    AssignedIntervention,
    Decision,
    Explanation,
    LegalAction,
    Reason,
    RulesetRef,
)
from tierflow.evaluate._explain import legal_condition
from tierflow.evaluate._inline_tests import TestResult
from tierflow.evaluate._load import load_ruleset, parse_ruleset
from tierflow.evaluate._ruleset import CompiledRuleset

__all__ = [
    "AssignedIntervention",
    "CompiledRuleset",
    "Decision",
    "Explanation",
    "LegalAction",
    "Reason",
    "RulesetRef",
    "TestResult",
    "legal_condition",
    "load_ruleset",
    "parse_ruleset",
]
