"""Evaluation API: decisions, streaming with rejects, explanations, tracebacks."""

from __future__ import annotations

import datetime as dt
import json
import traceback

import pytest

import tierflow
from tierflow import DataError, DataReport, Function, StudentFacts
from tierflow.expr import NUMBER

AS_OF = dt.date(2025, 11, 3)

TINY = """
id: tiny
name: Tiny
version: "1"
facts:
  defaults: {tardies: 0}
  extra:
    gpa: {type: number, default: 4}
tiers:
  - id: tier3
    level: 3
    when: absence_rate >= 20%
  - id: tier2
    level: 2
    when: absence_rate >= 10% or gpa < 2
  - id: tier1
    level: 1
    default: true
rules:
  - id: late
    when: tardies / days_absent > 1
    assign: [call]
interventions:
  - {id: call, tier: tier2, owner: counselor, cadence: weekly}
"""


@pytest.fixture(scope="module")
def tiny() -> tierflow.CompiledRuleset:
    return tierflow.parse_ruleset(TINY, name="tiny.yaml")


def test_dict_and_studentfacts_give_the_same_decision() -> None:
    ca = tierflow.load_ruleset("ca")
    raw = {
        "student_id": "s1",
        "days_enrolled": 60,
        "days_absent": 7,
        "days_unexcused": 4,
        "causes": ["transportation"],
        "groups": ["english_learner"],
    }
    a = ca.evaluate(raw, as_of=AS_OF)
    b = ca.evaluate(StudentFacts(**raw), as_of=AS_OF)
    assert a.to_dict() == b.to_dict()
    assert a.tier == "tier2"
    assert [i.id for i in a.interventions] == [
        "weekly-checkin",
        "family-call",
        "attendance-plan",
        "transport-support",
        "el-family-outreach",
        "root-cause-meeting",
    ]
    assert a.legal_due == ("not1",)
    json.dumps(a.to_dict())  # JSON-ready


def test_assigned_intervention_carries_workflow_fields() -> None:
    d = tierflow.load_ruleset("mtss").evaluate(
        {"student_id": "s", "days_enrolled": 100, "days_absent": 12}, as_of=AS_OF
    )
    plan = {i.id: i for i in d.interventions}["attendance-plan"]
    assert (plan.owner, plan.cadence, plan.review_after_days, plan.escalates_to) == (
        "counselor",
        "weekly",
        15,
        "home-visit",
    )
    assert plan.goal == "Attend at least 4 of 5 days per week for 3 consecutive weeks"
    assert plan.assigned_by == ("rule:chronic-plan",)
    assert {i.id: i for i in d.interventions}["weekly-checkin"].assigned_by == ("tier:tier2",)


def test_missing_fact_names_student_and_fact(tiny: tierflow.CompiledRuleset) -> None:
    with pytest.raises(DataError) as info:
        tiny.evaluate({"student_id": "S9", "days_enrolled": 10}, as_of=AS_OF)
    err = info.value
    assert (err.code, err.student_id, err.field) == ("facts.missing", "S9", "days_absent")
    assert "student S9" in str(err) and "'days_absent'" in str(err)


def test_declared_defaults_fill_missing_facts(tiny: tierflow.CompiledRuleset) -> None:
    d = tiny.evaluate({"student_id": "s", "days_enrolled": 10, "days_absent": 0.5}, as_of=AS_OF)
    assert d.tier == "tier1"  # gpa defaults to 4, tardies to 0
    d = tiny.evaluate(
        {"student_id": "s", "days_enrolled": 10, "days_absent": 0.5, "gpa": 1.5}, as_of=AS_OF
    )
    assert d.tier == "tier2"


def test_wrong_type_is_a_data_error(tiny: tierflow.CompiledRuleset) -> None:
    with pytest.raises(DataError) as info:
        tiny.evaluate({"student_id": "s", "days_enrolled": "ten", "days_absent": 1}, as_of=AS_OF)
    assert info.value.code == "facts.invalid"
    assert "days_enrolled" in str(info.value)
    with pytest.raises(DataError):
        tiny.evaluate({"student_id": "s", "days_enrolled": True, "days_absent": 1}, as_of=AS_OF)


def test_division_by_zero_is_a_data_error(tiny: tierflow.CompiledRuleset) -> None:
    with pytest.raises(DataError) as info:
        tiny.evaluate(
            {"student_id": "Z1", "days_enrolled": 10, "days_absent": 0, "tardies": 3}, as_of=AS_OF
        )
    assert info.value.code == "expr.division_by_zero"
    assert info.value.student_id == "Z1"


def test_evaluate_many_streams_and_collects_rejects(tiny: tierflow.CompiledRuleset) -> None:
    records = [
        {"student_id": "a", "days_enrolled": 10, "days_absent": 3},
        {"student_id": "b", "days_enrolled": 10},
        {"student_id": "c", "days_enrolled": 10, "days_absent": 1},
    ]
    report = DataReport()
    out = list(tiny.evaluate_many(iter(records), as_of=AS_OF, report=report))
    assert [d.student_id for d in out] == ["a", "c"]
    assert [(r.source, r.student_id, r.code) for r in report.rejects] == [
        ("record 2", "b", "facts.missing")
    ]
    assert (report.read, report.accepted, report.rejected) == (3, 2, 1)
    with pytest.raises(DataError):
        list(tiny.evaluate_many(records, as_of=AS_OF))


def test_explanation_shows_values_and_distance_to_next_tier() -> None:
    mtss = tierflow.load_ruleset("mtss")
    facts = {"student_id": "s1", "days_enrolled": 100, "days_absent": 9.3}
    text = str(mtss.evaluate(facts, as_of=AS_OF).explain())
    assert "absence_rate = 0.093 >= at_risk_from = 0.05" in text
    assert "where absence_rate = ratio(days_absent, days_enrolled) = 0.093" in text
    assert "tier tier3: did not match" in text
    # (9.3 + k) / (100 + k) >= 0.2 first holds at k = 14
    assert "next tier: 14 more unexcused absences (and no other change) would reach Tier 3" in text


def test_explanation_names_missing_evidence() -> None:
    ca = tierflow.load_ruleset("ca")
    facts = {"student_id": "s1", "days_enrolled": 60, "days_absent": 7, "days_unexcused": 7}
    exp = ca.explain(facts, as_of=AS_OF)
    (not2,) = [r for r in exp.legal if r.subject.startswith("legal NOT2")]
    assert not2.outcome == "blocked"
    assert "NOT1 - first truancy notification has not been issued" in not2.missing
    assert any("supportive tier 2+ intervention" in m for m in not2.missing)
    assert exp.to_dict()["student_id"] == "s1"


def test_backtesting_ignores_later_history() -> None:
    ca = tierflow.load_ruleset("ca")
    facts = {
        "student_id": "s1",
        "days_enrolled": 60,
        "days_absent": 3,
        "days_unexcused": 3,
        "history": {"legal_steps": [{"step": "not1", "issued_on": "2025-12-01"}]},
    }
    assert ca.evaluate(facts, as_of=AS_OF).legal_due == ("not1",)
    assert ca.evaluate(facts, as_of=dt.date(2025, 12, 2)).legal_due == ()


def test_traceback_points_at_the_yaml_line() -> None:
    registry = tierflow.DEFAULT_FUNCTIONS.copy()

    def boom(x: float) -> float:
        raise RuntimeError("host function failed")

    registry.register(Function("boom", (NUMBER,), NUMBER, boom, "Fails.", context=False))
    rs = tierflow.parse_ruleset(
        'id: tb\nname: T\nversion: "1"\ntiers:\n  - id: t2\n    level: 2\n'
        "    when: boom(days_absent) > 1\n"
        "  - {id: t1, level: 1, default: true}\n",
        name="tb.yaml",
        functions=registry,
    )
    with pytest.raises(RuntimeError) as info:
        rs.evaluate({"student_id": "s", "days_absent": 2}, as_of=AS_OF)
    text = "".join(traceback.format_exception(info.value))
    assert "tb.yaml:7:11 tiers[0].when" in text
    assert "_fn_boom(f_days_absent)" in text


def test_custom_function_is_checked_and_called() -> None:
    registry = tierflow.DEFAULT_FUNCTIONS.copy()
    registry.register(Function("double", (NUMBER,), NUMBER, lambda x: 2 * x, "Twice x."))
    text = (
        'id: cf\nname: C\nversion: "1"\ntiers:\n'
        '  - {id: t2, level: 2, when: "double(days_absent) >= 4"}\n'
        "  - {id: t1, level: 1, default: true}\n"
    )
    rs = tierflow.parse_ruleset(text, functions=registry)
    assert rs.evaluate({"student_id": "s", "days_absent": 2}, as_of=AS_OF).tier == "t2"
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.parse_ruleset(text)  # the default registry has no 'double'
    assert info.value.codes == ["expr.unknown_function"]


def test_content_hash_is_stable_and_ignores_tests() -> None:
    a = tierflow.load_ruleset("ca")
    b = tierflow.load_ruleset("ca")
    assert a.content_hash == b.content_hash and len(a.content_hash) == 64
    assert a.ref.version == "2025.1"


def test_generated_source_is_plain_python(tiny: tierflow.CompiledRuleset) -> None:
    src = tiny.python_source
    assert src.startswith("def _evaluate(f, as_of,")
    assert "tiny.yaml:" in src
    for word in ("import", "eval(", "exec(", "getattr", "lambda", "open("):
        assert word not in src
    assert src.replace(".__class__", "").count("__") == 0


# --- causes and groups are checked against the rule set's vocabulary ------------------------

WEATHER = """
id: weather
name: Weather
version: "1"
facts:
  causes: [weather]
  groups: [athlete]
tiers:
  - {id: tier2, level: 2, when: absence_rate >= 10%}
  - {id: tier1, level: 1, default: true}
rules:
  - {id: snow, causes: [weather], assign: [snow-day-plan]}
  - {id: coach, groups: [athlete], assign: [snow-day-plan]}
  - {id: bus, causes: [transportation], assign: [bus-pass]}
interventions:
  - {id: snow-day-plan, tier: tier1, owner: counselor}
  - {id: bus-pass, tier: tier1, owner: counselor}
"""


def _student(**extra: object) -> dict[str, object]:
    return {"student_id": "s7", "days_enrolled": 40, "days_absent": 4, **extra}


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("causes", "transportaton", "cause 'transportaton'; did you mean 'transportation'?"),
        ("causes", "teleport", "unknown cause 'teleport'; known: bullying, engagement, family"),
        ("groups", "homeles", "unknown student group 'homeles'; did you mean 'homeless'?"),
        ("groups", "martians", "unknown student group 'martians'; known: economically_disadv"),
    ],
)
def test_an_unknown_cause_or_group_is_a_data_error(field: str, value: str, says: str) -> None:
    # A misspelt cause used to be accepted: the rule on transportation silently never fired.
    mtss = tierflow.load_ruleset("mtss")
    facts = _student(**{field: ["health" if field == "causes" else "foster", value]})
    for evaluate in (mtss.evaluate, mtss.reference_evaluate, mtss.explain):
        with pytest.raises(DataError) as err:
            evaluate(facts, as_of=AS_OF)
        assert (err.value.code, err.value.student_id, err.value.field) == (
            "facts.invalid",
            "s7",
            field,
        )
        assert says in err.value.reason
    with pytest.raises(DataError, match=says[:20]):
        mtss.evaluate(StudentFacts.model_validate(facts), as_of=AS_OF)


def test_a_rule_sets_own_causes_and_groups_are_accepted_and_others_rejected() -> None:
    rs = tierflow.parse_ruleset(WEATHER, name="weather.yaml")
    d = rs.evaluate(_student(causes=["weather", "unknown"], groups=["athlete"]), as_of=AS_OF)
    assert d.rules == ("snow", "coach")
    with pytest.raises(DataError, match="unknown cause 'weathr'; did you mean 'weather'"):
        rs.evaluate(_student(causes=["weathr"]), as_of=AS_OF)
    # The standard ids stay valid beside the declared ones; another rule set does not know them.
    assert rs.evaluate(_student(causes=["transportation"]), as_of=AS_OF).rules == ("bus",)
    with pytest.raises(DataError, match="unknown cause 'weather'"):
        tierflow.load_ruleset("mtss").evaluate(_student(causes=["weather"]), as_of=AS_OF)


@pytest.mark.parametrize("item", [{"id": "health"}, ["health"], 3, None])
def test_a_cause_that_is_not_text_is_a_data_error(item: object) -> None:
    mtss = tierflow.load_ruleset("mtss")
    with pytest.raises(DataError, match="fact 'causes' must list cause ids \\(text\\)") as err:
        mtss.evaluate(_student(causes=["health", item]), as_of=AS_OF)
    assert (err.value.student_id, err.value.field) == ("s7", "causes")


def test_evaluate_many_rejects_an_unknown_cause_and_goes_on() -> None:
    mtss = tierflow.load_ruleset("mtss")
    records = [
        _student(causes=["transportation"]),
        {**_student(causes=["transportaton"]), "student_id": "s8"},
        _student(causes=[], groups=("foster",)),
    ]
    report = DataReport()
    decisions = list(mtss.evaluate_many(records, as_of=AS_OF, report=report))
    assert [d.student_id for d in decisions] == ["s7", "s7"]
    got = [(r.student_id, r.field, r.source) for r in report.rejects]
    assert got == [("s8", "causes", "record 2")]


# --- interventions_tried counts what a legal step's requires counts ---------------------------

REMINDERS = """
id: reminders
name: Reminders
version: "1"
tiers:
  - {id: tier2, level: 2, when: days_unexcused >= 3}
  - {id: tier1, level: 1, default: true}
rules:
  - {id: tried, when: interventions_tried(1) >= 1, assign: [mentor]}
interventions:
  - {id: robocall, tier: tier1, owner: attendance_clerk, supportive: false}
  - {id: mentor, tier: tier2, owner: counselor}
legal:
  - id: letter
    when: days_unexcused >= 3
    requires: {supportive_interventions: 1}
"""


@pytest.mark.parametrize("evaluate", ["evaluate", "reference_evaluate"])
def test_interventions_tried_does_not_count_an_unsupportive_intervention(evaluate: str) -> None:
    rs = tierflow.parse_ruleset(REMINDERS, name="reminders.yaml")
    call = {"intervention": "robocall", "tier_level": 1, "started_on": "2025-10-01"}
    facts = {
        "student_id": "s1",
        "days_enrolled": 40,
        "days_absent": 3,
        "days_unexcused": 3,
        "history": {"interventions": [call]},
    }
    d = getattr(rs, evaluate)(facts, as_of=AS_OF)
    assert d.legal_blocked == ("letter",)  # an automated call is no support...
    assert d.rules == ()  # ...and interventions_tried agrees
    facts["history"] = {"interventions": [call, {**call, "intervention": "mentor"}]}
    d = getattr(rs, evaluate)(facts, as_of=AS_OF)
    assert (d.legal_due, d.rules) == (("letter",), ("tried",))


# --- exact comparisons, rounded display ---------------------------------------------------------

BANDS = """
id: bands
name: Bands
version: "1"
tiers:
  - {id: tier2, level: 2, when: absence_rate >= 7.2%}
  - {id: tier1, level: 1, default: true}
"""


def test_a_rate_exactly_at_a_percentage_threshold_reaches_it() -> None:
    rs = tierflow.parse_ruleset(BANDS, name="bands.yaml")
    at = {"student_id": "s1", "days_enrolled": 125, "days_absent": 9}  # 9 / 125 = 7.2%
    assert rs.evaluate(at, as_of=AS_OF).tier == "tier2"
    assert rs.reference_evaluate(at, as_of=AS_OF).tier == "tier2"
    below = {**at, "days_absent": 8.999}
    assert rs.evaluate(below, as_of=AS_OF).tier == "tier1"


def test_an_explanation_never_shows_a_value_rounded_onto_its_threshold(
    tiny: tierflow.CompiledRuleset,
) -> None:
    # 0.0999996 shows as 0.1 with four digits: beside 10% it must show enough to differ.
    facts = {"student_id": "s1", "days_enrolled": 100, "days_absent": 9.99996}
    text = str(tiny.explain(facts, as_of=AS_OF))
    assert "absence_rate = 0.0999996 >= 0.1 is false" in text
    assert "0.1 >= 0.1" not in text
    assert "where absence_rate = ratio(days_absent, days_enrolled) = 0.0999996" in text


# --- bounds: nothing a rule set or a student's facts hold makes evaluation hang or crash -------

SQUARES = """
id: squares
name: Squares
version: "1"
metrics:
  - {id: m1, expr: days_absent * days_absent}
  - {id: m2, expr: m1 * m1}
  - {id: m3, expr: m2 * m2}
  - {id: m4, expr: m3 * m3}
  - {id: m5, expr: m4 * m4}
  - {id: m6, expr: m5 * m5}
tiers:
  - {id: tier2, level: 2, when: m6 > 3}
  - {id: tier1, level: 1, default: true}
"""


def test_squares_of_squares_are_refused_at_load() -> None:
    # Each square doubles the digits: m1 < 2^106 for facts up to 2^53, so m5 < 2^1696 passes
    # 10^300 (2^997) first; it is refused at its first column (line 10, 'expr: ' ends at col 20).
    # Before, the rule set loaded and 16 such squares took minutes per student.
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.parse_ruleset(SQUARES, name="squares.yaml")
    problems = [(p.code, p.span.line, p.span.col, p.path) for p in info.value.problems]
    assert problems == [("expr.out_of_range", 10, 20, "metrics[4].expr")]


BIG = """
id: big
name: Big
version: "1"
tiers:
  - {id: tier2, level: 2, when: absence_rate >= 10%}
  - {id: tier1, level: 1, default: true}
"""


@pytest.mark.parametrize("path", ["evaluate", "reference_evaluate"])
def test_a_400_digit_fact_is_a_data_error_on_both_paths(path: str) -> None:
    # 10^400 / 40 is past the largest float: Python raised OverflowError from the generated
    # code and from the reference interpreter alike.
    rs = tierflow.parse_ruleset(BIG, name="big.yaml")
    facts = {"student_id": "s1", "days_enrolled": 40, "days_absent": 10**400}
    with pytest.raises(DataError) as info:
        getattr(rs, path)(facts, as_of=AS_OF)
    assert (info.value.code, info.value.student_id) == ("expr.out_of_range", "s1")
    assert "absence_rate" in info.value.reason  # the built-in metric that failed


def test_evaluate_many_sets_aside_a_student_whose_values_fail_and_goes_on() -> None:
    rs = tierflow.parse_ruleset(BIG, name="big.yaml")
    records = [
        {"student_id": "a", "days_enrolled": 40, "days_absent": 8},
        {"student_id": "b", "days_enrolled": 40, "days_absent": 10**400},
        {"student_id": "c", "days_enrolled": 40, "days_absent": 1},
    ]
    report = DataReport()
    tiers = [d.tier for d in rs.evaluate_many(records, as_of=AS_OF, report=report)]
    assert tiers == ["tier2", "tier1"]  # 8/40 = 20%, 1/40 = 2.5%
    assert [(r.code, r.student_id, r.source) for r in report.rejects] == [
        ("expr.out_of_range", "b", "record 2")
    ]


DIVIDES = """
id: divides
name: Divides
version: "1"
metrics:
  - {id: per_day, expr: days_absent / (days_enrolled - 40)}
tiers:
  - {id: tier2, level: 2, when: per_day >= 1}
  - {id: tier1, level: 1, default: true}
"""


def test_reference_evaluate_reports_a_division_by_zero_as_evaluate_does() -> None:
    # It let ZeroDivisionError through; both name the student and the division's place
    # (line 6, the expression after 'expr: ' at column 25).
    rs = tierflow.parse_ruleset(DIVIDES, name="divides.yaml")
    facts = {"student_id": "s7", "days_enrolled": 40, "days_absent": 2}
    errors = []
    for run in (rs.evaluate, rs.reference_evaluate, rs.explain):
        with pytest.raises(DataError) as info:
            run(facts, as_of=AS_OF)
        errors.append((info.value.code, info.value.student_id, info.value.reason))
    assert (
        errors
        == [
            (
                "expr.division_by_zero",
                "s7",
                "divides.yaml:6:25 (metrics[0].expr) in rule set 'divides': "
                "days_absent / (days_enrolled - 40) divides by zero (use ratio(a, b) for rates)",
            )
        ]
        * 3
    )


def test_explain_shows_a_fact_of_more_than_4300_digits() -> None:
    # str() refuses ints over 4,300 digits (ValueError); the value is shown in e-notation.
    rs = tierflow.parse_ruleset(BIG.replace("absence_rate >= 10%", "days_absent >= 3"), name="b")
    facts = {"student_id": "s1", "days_enrolled": 40, "days_absent": 10**5000}
    explanation = rs.explain(facts, as_of=AS_OF)
    assert explanation.tier.because == ("days_absent = 1.000e+5000 >= 3",)
