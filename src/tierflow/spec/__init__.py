"""Pydantic models of a rule set and the safe YAML loader that feeds them."""

from tierflow.spec._attendance import AttendancePolicy, ColumnMapping, parse_month_day
from tierflow.spec._jsonschema import ruleset_json_schema
from tierflow.spec._lifecycle import LifecycleSpec, StateSpec, TransitionSpec
from tierflow.spec._models import (
    BUILTIN_ROLES,
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
from tierflow.spec._yaml import LoadedYaml, load_yaml, load_yaml_file
from tierflow.spec._yaml_limits import DEFAULT_LIMITS, YamlLimits

__all__ = [
    "BUILTIN_ROLES",
    "DEFAULT_LIMITS",
    "ID_PATTERN",
    "AttendancePolicy",
    "CadenceSpec",
    "ColumnMapping",
    "ExpectSpec",
    "FactDeclSpec",
    "FactsSpec",
    "GoalSpec",
    "InterventionSpec",
    "LegalStepSpec",
    "LifecycleSpec",
    "LoadedYaml",
    "MetricSpec",
    "ReferenceSpec",
    "RequiresSpec",
    "RuleSpec",
    "RulesetSpec",
    "StateSpec",
    "TestCaseSpec",
    "TierSpec",
    "TransitionSpec",
    "YamlLimits",
    "load_yaml",
    "load_yaml_file",
    "parse_month_day",
    "ruleset_json_schema",
]
