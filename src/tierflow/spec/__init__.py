"""Pydantic models of a rule set and the safe YAML loader that feeds them."""

from tierflow.spec._jsonschema import ruleset_json_schema
from tierflow.spec._models import (
    ID_PATTERN,
    CadenceSpec,
    ExpectSpec,
    FactDeclSpec,
    FactsSpec,
    GoalSpec,
    InterventionSpec,
    LegalStepSpec,
    MetricSpec,
    ReferenceSpec,
    RequiresSpec,
    RulesetSpec,
    RuleSpec,
    TestCaseSpec,
    TierSpec,
)

__all__ = [
    "ID_PATTERN",
    "CadenceSpec",
    "ExpectSpec",
    "FactDeclSpec",
    "FactsSpec",
    "GoalSpec",
    "InterventionSpec",
    "LegalStepSpec",
    "MetricSpec",
    "ReferenceSpec",
    "RequiresSpec",
    "RuleSpec",
    "RulesetSpec",
    "TestCaseSpec",
    "TierSpec",
    "ruleset_json_schema",
]
