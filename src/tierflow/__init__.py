"""tierflow: attendance playbooks as code.

Load a rule set once, then evaluate many students::

    >>> import datetime, tierflow
    >>> ruleset = tierflow.load_ruleset("mtss")
    >>> facts = {"student_id": "s1", "days_enrolled": 60, "days_absent": 7,
    ...          "days_unexcused": 2, "causes": ["transportation"]}
    >>> decision = ruleset.evaluate(facts, as_of=datetime.date(2025, 11, 3))
    >>> decision.tier
    'tier2'
"""

from tierflow.compile import builtin_names as builtin_rulesets
from tierflow.errors import (
    DataError,
    DataReport,
    Problem,
    RulesetError,
    StoreError,
    TierflowError,
    WorkflowError,
)
from tierflow.evaluate import (
    AssignedIntervention,
    CompiledRuleset,
    Decision,
    Explanation,
    LegalAction,
    Reason,
    RulesetRef,
    TestResult,
    load_ruleset,
    parse_ruleset,
)
from tierflow.expr import Function, FunctionRegistry
from tierflow.facts import (
    DEFAULT_FUNCTIONS,
    AttendanceRecord,
    Conference,
    History,
    IssuedStep,
    StudentFacts,
    TriedIntervention,
)
from tierflow.source import SourceSpan

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_FUNCTIONS",
    "AssignedIntervention",
    "AttendanceRecord",
    "CompiledRuleset",
    "Conference",
    "DataError",
    "DataReport",
    "Decision",
    "Explanation",
    "Function",
    "FunctionRegistry",
    "History",
    "IssuedStep",
    "LegalAction",
    "Problem",
    "Reason",
    "RulesetError",
    "RulesetRef",
    "SourceSpan",
    "StoreError",
    "StudentFacts",
    "TestResult",
    "TierflowError",
    "TriedIntervention",
    "WorkflowError",
    "__version__",
    "builtin_rulesets",
    "load_ruleset",
    "parse_ruleset",
]
