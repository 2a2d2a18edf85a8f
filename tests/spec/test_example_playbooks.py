"""The README and docs/builtin-rulesets.md count the example playbooks right (issue 13, item 12).

The README said "two example district playbooks" and docs/builtin-rulesets.md "three". Counted
here from the files: a playbook that extends a built-in rule set is a district's, one that
extends another example file is a school's.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILT_IN = {p.stem for p in (ROOT / "rulesets").glob("*.yaml")}
WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _counts() -> tuple[int, int]:
    districts = schools = 0
    for path in sorted((ROOT / "rulesets" / "examples").glob("*.yaml")):
        parent = yaml.safe_load(path.read_text(encoding="utf-8")).get("extends")
        if parent in BUILT_IN:
            districts += 1
        else:
            schools += 1
    return districts, schools


def _flat(path: Path) -> str:
    return " ".join(path.read_text(encoding="utf-8").split())


def test_the_examples_are_two_districts_and_one_school() -> None:
    assert _counts() == (2, 1)  # dallas, anaheim; anaheim-school (read by hand)


def test_readme_and_builtin_rulesets_give_the_counts() -> None:
    districts, schools = _counts()
    total, d, s = WORDS[districts + schools], WORDS[districts], WORDS[schools]
    readme = _flat(ROOT / "README.md")
    assert f"{total} example playbooks ({d} district playbooks and {s} school playbook" in readme
    text = _flat(ROOT / "docs" / "builtin-rulesets.md")
    built_in = WORDS[len(BUILT_IN)]
    assert f"{built_in} playbooks to build on and {total} example playbooks" in text
    assert f"{d} district playbooks and {s} school playbook" in text
