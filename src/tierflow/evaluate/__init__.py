"""Evaluation: a compiled rule set turns facts into explained decisions."""

from tierflow.evaluate._decision import (
    AssignedIntervention,
    Decision,
    Explanation,
    LegalAction,
    Reason,
    RulesetRef,
)
from tierflow.evaluate._ruleset import CompiledRuleset, TestResult

__all__ = [
    "AssignedIntervention",
    "CompiledRuleset",
    "Decision",
    "Explanation",
    "LegalAction",
    "Reason",
    "RulesetRef",
    "TestResult",
]
