"""Findings about a child playbook are reported in the child, where their cause is written.

Lines and columns are counted by hand in the texts below; the places in ``mtss.yaml`` are found
by searching its text for the line, not by asking the loader.
"""

from __future__ import annotations

from pathlib import Path

import tierflow
from tierflow.analysis import analyze

MTSS = (Path(tierflow.__file__).parent / "rulesets" / "mtss.yaml").read_text().splitlines()
CHRONIC_PLAN_WHEN = MTSS.index("    when: rate_counts and absence_rate >= chronic_from") + 1

# chronic-plan is a Tier 2 rule from 10%; Tier 3 starts at 20%. From 25%, no Tier 2 student
# (nor one kept in Tier 2 by its stay_while, which needs rate < 20% to not be Tier 3) is chronic.
RAISED = (
    'id: d\nname: D\nversion: "1"\nextends: mtss\nmetrics:\n  - id: chronic_from\n    expr: "25%"\n'
)


def test_mtss_alone_has_no_finding() -> None:
    assert analyze(tierflow.load_ruleset("mtss")) == []


def test_an_override_that_starves_an_inherited_rule_is_blamed() -> None:
    (f,) = analyze(tierflow.parse_ruleset(RAISED, name="d.yaml"))
    assert f.code == "analysis.rule_never_fires"
    assert (f.span.file, f.span.line, f.span.col, f.path) == ("d.yaml", 7, 11, "metrics[0].expr")
    assert f"mtss.yaml (built-in):{CHRONIC_PLAN_WHEN}:11 (rules[0])" in f.message
    problem = f.as_problem()
    assert "'- {id: chronic-plan, remove: true}' under 'rules:'" in problem.hint


def test_a_parent_with_its_own_problem_is_reported_at_extends(tmp_path: Path) -> None:
    parent = (
        'id: p\nname: P\nversion: "1"\n'
        "tiers:\n  - id: tier2\n    level: 2\n    when: absence_rate >= 5%\n"
        "  - id: tier1\n    level: 1\n    default: true\n"
        "rules:\n  - id: never\n    tiers: [tier2]\n    when: absence_rate < 1%\n"
        "    assign: [x]\n"
        "interventions:\n  - {id: x, tier: tier2, owner: mentor}\n"
    )
    (tmp_path / "parent.yaml").write_text(parent)
    child = 'id: kid\nname: Kid\nversion: "1"\nextends: parent.yaml\n'
    (f,) = analyze(tierflow.parse_ruleset(child, name="kid.yaml", base_dir=tmp_path))
    assert f.code == "analysis.rule_never_fires"
    assert (f.span.file, f.span.line, f.span.col, f.path) == ("kid.yaml", 4, 10, "extends")
    assert "parent.yaml:14:11 (rules[0])" in f.message
    assert "'- {id: never, remove: true}'" in f.hint


def test_a_finding_about_what_the_child_wrote_stays_there() -> None:
    text = (
        'id: d\nname: D\nversion: "1"\nextends: mtss\n'
        "tiers:\n  - id: tier2\n    when: rate_counts and absence_rate >= 25%\n"
    )
    (f,) = analyze(tierflow.parse_ruleset(text, name="d.yaml"))
    assert f.code == "analysis.shadowed_tier"
    assert (f.span.file, f.span.line, f.span.col, f.path) == ("d.yaml", 7, 11, "tiers[0].when")
    assert "inherited" not in f.message


def test_the_nearest_file_that_causes_it_is_blamed(tmp_path: Path) -> None:
    (tmp_path / "district.yaml").write_text(RAISED)
    school = 'id: s\nname: S\nversion: "1"\nextends: district.yaml\n'
    (f,) = analyze(tierflow.parse_ruleset(school, name="school.yaml", base_dir=tmp_path))
    assert (f.span.line, f.span.col, f.path) == (7, 11, "metrics[0].expr")
    assert f.span.file.endswith("district.yaml")


def test_an_entry_placed_before_does_not_confuse_the_place() -> None:
    # The new rule is merged first, so chronic-plan moves from mtss's rules[0] to rules[1].
    text = RAISED + (
        "rules:\n  - id: early\n    before: chronic-plan\n    tiers: [tier2]\n"
        "    assign: [mentor]\n"
    )
    (f,) = analyze(tierflow.parse_ruleset(text, name="d.yaml"))
    assert (f.code, f.span.line, f.path) == ("analysis.rule_never_fires", 7, "metrics[0].expr")
    assert f"mtss.yaml (built-in):{CHRONIC_PLAN_WHEN}:11 (rules[0])" in f.message
    assert "'- {id: chronic-plan, remove: true}'" in f.hint


def test_a_new_entry_that_causes_it_is_blamed_as_an_entry() -> None:
    # A wide Tier 2 from 1% before mtss's tiers: chronic-plan's Tier 2 (10% and up) is now
    # taken by Tier 3 from 20% or tier2-wide below; nobody in Tier 2 is chronic.
    text = (
        'id: d\nname: D\nversion: "1"\nextends: mtss\n'
        "tiers:\n  - id: tier2-wide\n    level: 2\n    when: absence_rate >= 1%\n"
        "    before: tier2\n"
    )
    (f,) = analyze(tierflow.parse_ruleset(text, name="d.yaml"))
    assert (f.code, f.span.line, f.span.col, f.path) == (
        "analysis.rule_never_fires",
        6,
        5,
        "tiers[0]",
    )
    assert "this entry makes it so" in f.message
