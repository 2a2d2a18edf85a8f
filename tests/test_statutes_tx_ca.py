"""The built-in tx and ca rule sets against the statutes' text (issue 11, items 4 and 5).

Every expected value here is worked out by hand from the statute quoted in the test, not read
from the rule set: Tex. Educ. Code 25.0915(a-3) and (a-4), and Cal. Educ. Code 48263.6.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import tierflow

# Ten unexcused days, two weeks apart, from 2025-09-01 to 2026-01-05: all inside the six months
# before 2026-01-20, never three in four weeks (TEC 25.0951(a): 10 within six months).
TEN_IN_SIX_MONTHS = [
    "2025-09-01",
    "2025-09-15",
    "2025-09-29",
    "2025-10-13",
    "2025-10-27",
    "2025-11-10",
    "2025-11-24",
    "2025-12-08",
    "2025-12-22",
    "2026-01-05",
]


def _statuses(decision: tierflow.Decision) -> dict[str, str]:
    return {a.step: a.status for a in decision.legal_actions}


def _referral_facts(groups: list[str]) -> dict[str, Any]:
    """A Texas student at 10 unexcused days after prevention measures failed."""
    return {
        "student_id": "tx-a3",
        "days_enrolled": 90,
        "days_absent": 10,
        "groups": groups,
        "attendance_log": [{"date": d, "kind": "unexcused"} for d in TEN_IN_SIX_MONTHS],
        "history": {
            "legal_steps": [
                {"step": "parent-notice", "issued_on": "2025-12-01"},
                {"step": "prevention-measures", "issued_on": "2025-12-02"},
            ],
            "interventions": [
                {
                    "intervention": "behavior-improvement-plan",
                    "tier_level": 2,
                    "started_on": "2025-12-02",
                    "outcome": "negative",
                }
            ],
        },
    }


# TEC 25.0915(a-3): no referral to truancy court if the truancy results from (1) pregnancy,
# (2) being in the state foster program, (3) homelessness, (4) severe or life-threatening
# illness or related treatment, or (5) being the principal income earner for the family.
@pytest.mark.parametrize(
    "group",
    ["pregnant_or_parenting", "foster", "homeless", "severe_illness", "principal_earner"],
)
def test_tx_court_referral_exempts_every_a3_ground(group: str) -> None:
    tx = tierflow.load_ruleset("tx")
    decision = tx.evaluate(_referral_facts([group]), as_of=dt.date(2026, 1, 20))
    assert _statuses(decision) == {"court-referral": "exempt"}


def test_tx_court_referral_is_due_without_an_exemption() -> None:
    """The same student in none of the (a-3) groups: 10 days in six months, measures failed."""
    tx = tierflow.load_ruleset("tx")
    decision = tx.evaluate(_referral_facts([]), as_of=dt.date(2026, 1, 20))
    assert _statuses(decision) == {"court-referral": "due"}


def test_tx_cites_subsection_a3_for_the_exemptions() -> None:
    tx = tierflow.load_ruleset("tx")
    (step,) = [s for s in tx.spec.legal if s.id == "court-referral"]
    assert "severe_illness" in step.exempt_groups
    assert "tec-25-0915-a3" in step.cites
    (ref,) = [r for r in tx.spec.references if r.id == "tec-25-0915-a3"]
    assert "25.0915(a-3)" in ref.title
    assert "severe or life-threatening illness" in ref.title


# TEC 25.0915(a-4): the district initiates truancy prevention measures when the student fails
# to attend without excuse on 3 or more days or parts of days within a four-week period: the
# trigger of the parent notice (25.095(b)), not the notice itself.
def test_tx_prevention_measures_are_due_with_the_parent_notice() -> None:
    tx = tierflow.load_ruleset("tx")
    facts = {
        "student_id": "tx-a4",
        "days_enrolled": 45,
        "days_absent": 3,
        # 2025-10-06 .. 2025-10-30 is 24 days: 3 within four weeks; the last is half a day.
        "attendance_log": [
            {"date": "2025-10-06", "kind": "unexcused"},
            {"date": "2025-10-20", "kind": "unexcused"},
            {"date": "2025-10-30", "kind": "unexcused", "days": 0.5},
        ],
    }
    decision = tx.evaluate(facts, as_of=dt.date(2025, 10, 31))
    assert _statuses(decision) == {"parent-notice": "due", "prevention-measures": "due"}


def test_tx_no_measures_below_the_trigger() -> None:
    tx = tierflow.load_ruleset("tx")
    facts = {
        "student_id": "tx-a4-below",
        "days_enrolled": 45,
        "days_absent": 2,
        "attendance_log": [
            {"date": "2025-10-06", "kind": "unexcused"},
            {"date": "2025-10-20", "kind": "unexcused"},
        ],
    }
    assert _statuses(tx.evaluate(facts, as_of=dt.date(2025, 10, 31))) == {}


# EC 48263.6: absent without a valid excuse for 10 percent or more of the schooldays in one
# school year, from the date of enrollment to the current date, is a chronic truant.
@pytest.mark.parametrize(
    ("enrolled", "unexcused", "chronic"),
    [
        (9, 1, True),  # 1/9 = 11.1%
        (10, 1, True),  # 1/10 = 10%
        (11, 1, False),  # 1/11 = 9.1%
        (1, 1, True),  # 100% on the first day enrolled
        (5, 0, False),
        (0, 0, False),  # not enrolled yet: no schooldays to count
    ],
)
def test_ca_chronic_truant_counts_from_enrollment(
    enrolled: int, unexcused: int, chronic: bool
) -> None:
    ca = tierflow.load_ruleset("ca")
    facts = {
        "student_id": "ca-c",
        "days_enrolled": enrolled,
        "days_absent": unexcused,
        "days_unexcused": unexcused,
    }
    decision = ca.evaluate(facts, as_of=dt.date(2025, 9, 1))
    assert ("chronic-truant-sart" in decision.rules) is chronic


def test_a_district_can_keep_the_early_year_minimum(tmp_path: Path) -> None:
    """A district that does not flag chronic truants before 10 enrolled days says so by id."""
    path = tmp_path / "minimum-district.yaml"
    path.write_text(
        "\n".join(
            [
                "id: minimum-district",
                "name: A district that waits for 10 enrolled days",
                'version: "1"',
                "extends: ca",
                "metrics:",
                "  - id: chronic_truant_min_days",
                "    expr: rate_min_days",
                "",
            ]
        ),
        encoding="utf-8",
    )
    district = tierflow.load_ruleset(path)
    facts = {"student_id": "m", "days_enrolled": 9, "days_absent": 1, "days_unexcused": 1}
    ca = tierflow.load_ruleset("ca")
    assert "chronic-truant-sart" in ca.evaluate(facts, as_of=dt.date(2025, 9, 1)).rules
    assert "chronic-truant-sart" not in district.evaluate(facts, as_of=dt.date(2025, 9, 1)).rules
    facts = {"student_id": "m", "days_enrolled": 10, "days_absent": 1, "days_unexcused": 1}
    assert "chronic-truant-sart" in district.evaluate(facts, as_of=dt.date(2025, 9, 1)).rules
