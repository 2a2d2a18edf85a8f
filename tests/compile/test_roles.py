"""Owner roles: a vocabulary of built-in roles plus those a playbook declares (issue 13, item 3).

Where each unknown role is reported is pinned by the case files ``tests/cases/ref.unknown_role*``;
these tests pin what the cases cannot: which owners the bundled rule sets use and that declaring
roles does not change a rule set's content hash.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import tierflow
from tierflow.errors import RulesetError
from tierflow.spec import BUILTIN_ROLES

ROOT = Path(__file__).resolve().parents[2]

SMALL = """
id: small
name: Small
version: "1"
{roles}
tiers:
  - {{id: tier1, level: 1, default: true}}
interventions:
  - {{id: call, tier: tier1, owner: {owner}}}
"""


def test_every_owner_of_the_bundled_rule_sets_is_built_in() -> None:
    # Read with plain PyYAML, not the compiler: the owners the files write, listed by hand.
    owners = set()
    for path in sorted((ROOT / "rulesets").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        owners |= {iv["owner"] for iv in data.get("interventions", []) if "owner" in iv}
    assert owners == {
        "attendance_clerk",
        "attendance_officer",
        "attendance_team",
        "case_manager",
        "counselor",
        "family_liaison",
        "foster_liaison",
        "mentor",
        "nurse",
        "social_worker",
    }
    assert owners <= set(BUILTIN_ROLES)


def test_a_declared_role_is_accepted_and_an_undeclared_one_is_not() -> None:
    tierflow.parse_ruleset(SMALL.format(roles="roles: [tutor]", owner="tutor"))
    with pytest.raises(RulesetError) as info:
        tierflow.parse_ruleset(SMALL.format(roles="", owner="tutor"))
    assert info.value.codes == ["ref.unknown_role"]


def test_declaring_roles_keeps_the_content_hash() -> None:
    # Roles only check owners (hashed with their interventions): a store written before a
    # playbook declared its roles still matches it.
    plain = tierflow.parse_ruleset(SMALL.format(roles="", owner="counselor"))
    declared = tierflow.parse_ruleset(SMALL.format(roles="roles: [tutor]", owner="counselor"))
    assert plain.content_hash == declared.content_hash
