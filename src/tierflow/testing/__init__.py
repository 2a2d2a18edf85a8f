"""Property checks of rule sets for hosts' own test suites (needs the ``testing`` extra).

Strategies generate student facts consistent with a school year (absences never exceed days
enrolled, unexcused never exceed absences); ready-made properties check a rule set with them:

>>> import tierflow
>>> from tierflow.testing import check_deterministic, check_monotone, check_totality
>>> ca = tierflow.load_ruleset("ca")
>>> check_totality(ca, max_examples=50)
>>> check_monotone(ca, "days_unexcused", max_examples=50)
>>> check_deterministic(ca, max_examples=20)

A failing property raises :class:`PropertyFailure` whose message holds the shrunk
counterexample as a YAML test case, ready to paste into the rule set's ``tests:``.
"""

from tierflow.testing._properties import (
    PropertyFailure,
    as_test_case,
    check_deterministic,
    check_escalation_upward,
    check_exemptions,
    check_legal_prerequisites,
    check_monotone,
    check_totality,
)
from tierflow.testing._strategies import (
    AS_OF,
    histories,
    near_thresholds,
    rule_sets,
    student_facts,
    with_count,
)

__all__ = [
    "AS_OF",
    "PropertyFailure",
    "as_test_case",
    "check_deterministic",
    "check_escalation_upward",
    "check_exemptions",
    "check_legal_prerequisites",
    "check_monotone",
    "check_totality",
    "histories",
    "near_thresholds",
    "rule_sets",
    "student_facts",
    "with_count",
]
