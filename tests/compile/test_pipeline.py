"""The compiler's stage list: every stage listed and named, in the documented order, stoppable.

The expected names and order are written here by hand (as docs/index.md lists them), not read
from :data:`~tierflow.compile.STAGES`; what each stage fills in is checked on a tiny rule set
whose facts, metrics and tiers are counted by hand.
"""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from tierflow.compile import (
    STAGES,
    Compilation,
    _conditions,
    _merge,
    _notices,
    _pipeline,
    _reads,
    _references,
    _schema,
    _text,
    compile_document,
)
from tierflow.compile._source import document_from_text
from tierflow.errors import RulesetError

NAMES = [
    "resolve_extends",
    "validate_schema",
    "check_unvalidated_expressions",
    "hash_content",
    "check_unique_ids",
    "check_citations",
    "check_tier_list",
    "check_rule_references",
    "check_intervention_references",
    "check_owner_roles",
    "check_escalations",
    "check_legal_ladder",
    "check_lifecycle",
    "check_fact_names",
    "check_fact_defaults",
    "check_metric_expressions",
    "check_tier_conditions",
    "check_rule_conditions",
    "check_legal_conditions",
    "check_checklist_conditions",
    "check_goal_conditions",
    "check_notices",
    "fill_text",
    "plan_reads",
    "generate_evaluator",
]
"""The stages in the order docs/index.md gives them."""

STAGE_MODULES: list[ModuleType] = [
    _merge,
    _notices,
    _schema,
    _references,
    _conditions,
    _text,
    _reads,
    _pipeline,
]

TINY = """
id: tiny
name: Tiny
version: "1"
tiers:
  - {id: tier2, level: 2, when: "absence_rate >= 10%"}
  - {id: tier1, level: 1, default: true}
"""


def _compile(text: str, until: str | None = None) -> Compilation:
    return compile_document(document_from_text(text, "district.yaml"), until=until)


def _codes(text: str, until: str | None = None) -> list[str]:
    with pytest.raises(RulesetError) as info:
        _compile(text, until)
    return [p.code for p in info.value.problems]


def test_the_stages_are_listed_in_the_documented_order() -> None:
    assert [stage.name for stage in STAGES] == NAMES


def test_every_stage_function_of_the_stage_modules_is_listed() -> None:
    # A function a stage module exports that takes only the compilation is a stage: it must
    # be in the list, or it would be a stage nobody runs (or one run out of sight).
    listed = {stage.run for stage in STAGES}
    for module in STAGE_MODULES:
        for name in module.__all__:
            member = getattr(module, name)
            if not inspect.isfunction(member):
                continue
            params = list(inspect.signature(member).parameters.values())
            if [p.annotation for p in params] == ["Compilation"]:
                assert member in listed, f"{module.__name__}.{name} is not in STAGES"


def test_every_stage_is_named_after_its_function_and_says_what_it_does() -> None:
    for stage in STAGES:
        assert stage.name == stage.run.__name__
        assert stage.summary, f"{stage.name} has no docstring"


@pytest.mark.parametrize("k", range(len(NAMES)), ids=NAMES)
def test_the_pipeline_stops_after_any_stage(k: int) -> None:
    c = _compile(TINY, until=NAMES[k])
    assert c.completed == NAMES[: k + 1]


def test_each_stage_fills_in_its_part() -> None:
    c = _compile(TINY, until="validate_schema")
    assert c.spec is not None and c.spec.id == "tiny"
    assert c.content_hash == ""
    c = _compile(TINY, until="hash_content")
    assert len(c.content_hash) == 64  # a SHA-256 in hex
    c = _compile(TINY, until="check_fact_defaults")
    assert c.metric_exprs == {}
    c = _compile(TINY, until="check_metric_expressions")
    # The four built-in metrics (absence_rate, unexcused_rate, days_present,
    # prior_year_absence_rate); the rule set defines none of its own.
    assert len(c.metric_exprs) == 4 and "absence_rate" in c.metric_exprs
    assert c.tier_exprs == []
    c = _compile(TINY, until="check_tier_conditions")
    assert [e is None for e in c.tier_exprs] == [False, True]  # the default tier has no 'when'
    assert c.fact_reads == []
    c = _compile(TINY, until="plan_reads")
    # absence_rate is ratio(days_absent, days_enrolled); student_id is always read.
    assert {r.name for r in c.fact_reads} == {"student_id", "days_absent", "days_enrolled"}
    assert c.metric_order == ["absence_rate"]
    assert c.evaluator is None
    c = _compile(TINY)
    assert c.evaluator is not None
    assert "def " in c.python_source


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stage 'typecheck'"):
        _compile(TINY, until="typecheck")


BAD_REFERENCE_AND_CONDITION = """
id: tiny
name: Tiny
version: "1"
tiers:
  - {id: tier2, level: 2, when: "absence_rate >= 10%", assign: [nothing]}
  - {id: tier1, level: 1, default: true}
rules:
  - {id: r1, when: "unknown_fact > 2", assign: [nothing]}
"""


def test_reference_and_condition_problems_are_reported_together() -> None:
    assert sorted(_codes(BAD_REFERENCE_AND_CONDITION)) == [
        "expr.unknown_name",
        "ref.unknown_intervention",
        "ref.unknown_intervention",
    ]


def test_stopping_after_a_reference_stage_reports_only_what_it_found_so_far() -> None:
    assert _codes(BAD_REFERENCE_AND_CONDITION, until="check_tier_list") == [
        "ref.unknown_intervention"
    ]


def test_a_condition_problem_that_restates_a_reference_problem_is_dropped() -> None:
    # The default tier's 'when' is a problem (tier.default_with_condition) at the same place
    # as the unknown name it starts with: the name is not reported a second time there.
    text = TINY.replace(
        "  - {id: tier1, level: 1, default: true}\n",
        "  - id: tier1\n    level: 1\n    default: true\n    when: bogus > 1\n",
    )
    assert _codes(text) == ["tier.default_with_condition"]


def test_schema_and_condition_problems_are_reported_together() -> None:
    text = BAD_REFERENCE_AND_CONDITION.replace('> 2", assign: [nothing]', '> 2", assign: []')
    # tier2 assigns 'nothing', no intervention: found past the schema problem in r1 (issue 13).
    assert sorted(_codes(text)) == [
        "expr.unknown_name",
        "ref.unknown_intervention",
        "schema.invalid_value",
    ]
    assert _codes(text, until="validate_schema") == ["schema.invalid_value"]
