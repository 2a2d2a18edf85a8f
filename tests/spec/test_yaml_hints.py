"""Hints on YAML syntax errors (issue 13, item 10): the likely cause, with its line.

Each text below holds one mistake a playbook author makes, on a line counted by hand; the hint
must name that cause and that line. The place (PyYAML's) is pinned as well, unchanged.
"""

from __future__ import annotations

import pytest

import tierflow

CASES = [
    # (text, where PyYAML stops "line:col", what the hint must say)
    ('id: d\nname: Tier 2: targeted\nversion: "1"\n', "2:13", "quote the value of line 2"),
    ('id: d\nname:D\nversion: "1"\n', "3:1", "space after the colon on line 2 ('name: D')"),
    ("id: d\ntiers:\n  - id: a\n    level:1\n    default: true\n", "5:5", "on line 4"),
    ("id: d\ntiers:\n  - id: a\n     level: 1\n", "4:11", "indentation of line 4"),
    ("id: d\ntiers:\n  - id: a\n   level: 1\n", "4:4", "indentation of line 4"),
    ('id: d\n name: x\nversion: "1"\n', "2:6", "indentation of line 2"),
    ("id: d\ntiers:\n  - id: a\n\tlevel: 1\n", "4:1", "replace the tab on line 4"),
    ("id: d\ntiers:\n\t- id: a\n", "3:1", "replace the tab on line 3"),
]


@pytest.mark.parametrize(("text", "where", "says"), CASES)
def test_a_syntax_error_names_its_likely_cause(text: str, where: str, says: str) -> None:
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.parse_ruleset(text, name="d.yaml")
    (problem,) = info.value.problems
    assert problem.code == "yaml.syntax"
    assert f"{problem.span.line}:{problem.span.col}" == where
    assert says in problem.hint


def test_an_unclosed_bracket_gets_no_made_up_hint() -> None:
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.parse_ruleset('id: d\nname: D\nversion: "1"\ntiers: [\n  - id: t\n', name="d")
    assert info.value.problems[0].hint == ""
