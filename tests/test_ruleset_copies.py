"""The built-in rule sets exist twice: ``rulesets/`` (what CI checks) and the package's copy.

``tierflow check --strict rulesets`` and the README read the top-level folder; ``load_ruleset``
loads ``src/tierflow/rulesets``. A change made to one only would leave CI checking a playbook
that nobody loads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP, PACKAGE = ROOT / "rulesets", ROOT / "src" / "tierflow" / "rulesets"


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.yaml"))


def test_both_folders_hold_the_same_files() -> None:
    assert _files(TOP) == _files(PACKAGE)
    assert _files(TOP), "no rule sets found"


@pytest.mark.parametrize("name", _files(TOP))
def test_each_copy_is_identical(name: str) -> None:
    assert (TOP / name).read_bytes() == (PACKAGE / name).read_bytes(), (
        f"rulesets/{name} and src/tierflow/rulesets/{name} differ: edit both"
    )
