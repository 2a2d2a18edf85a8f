"""A deterministic generator of realistic student facts, for the demo and the benchmarks.

The distribution follows published shapes rather than any real district: most students miss
under 5% of days, about one in six is chronically absent, a few are severely so; unexcused
absences are a share of all absences; causes and student groups appear at plausible rates.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from tierflow.facts._model import CAUSES

__all__ = ["SAMPLE_AS_OF", "generate_facts"]

SAMPLE_AS_OF = dt.date(2026, 1, 30)
"""The as-of date the generated facts describe (mid school year)."""

_GROUP_RATES = {
    "iep": 0.13,
    "section_504": 0.04,
    "english_learner": 0.10,
    "foster": 0.01,
    "homeless": 0.03,
    "economically_disadvantaged": 0.45,
    "pregnant_or_parenting": 0.005,
    "principal_earner": 0.003,
}
_SCHOOLS = ("lincoln-es", "washington-ms", "roosevelt-hs")


def _student(rng: random.Random, index: int) -> dict[str, Any]:
    school = _SCHOOLS[index % len(_SCHOOLS)]
    grade = {0: rng.randint(0, 5), 1: rng.randint(6, 8), 2: rng.randint(9, 12)}[index % 3]
    enrolled = rng.choice((100, 100, 100, 95, 90, 80, 60, 30, 8))
    band = rng.random()
    if band < 0.65:
        rate = rng.uniform(0, 0.05)
    elif band < 0.83:
        rate = rng.uniform(0.05, 0.10)
    elif band < 0.96:
        rate = rng.uniform(0.10, 0.20)
    else:
        rate = rng.uniform(0.20, 0.45)
    absent = round(enrolled * rate * 2) / 2
    unexcused = round(absent * rng.choice((0.0, 0.2, 0.4, 0.6, 0.8, 1.0)) * 2) / 2
    suspended = 1.0 if rng.random() < 0.03 and absent - unexcused >= 1 else 0.0
    tardies = rng.choice((0, 0, 0, 1, 2, 3, 5, 8))
    facts: dict[str, Any] = {
        "student_id": f"S{index + 1:06d}",
        "school_id": school,
        "grade": grade,
        "days_enrolled": enrolled,
        "days_absent": absent,
        "days_excused": absent - unexcused - suspended,
        "days_unexcused": unexcused,
        "days_suspended": suspended,
        "tardies": tardies,
        "tardies_over_30": min(tardies, rng.choice((0, 0, 0, 1, 2))),
        "causes": sorted(rng.sample(CAUSES[:-1], k=rng.choice((1, 1, 2))))
        if rate >= 0.05 and rng.random() < 0.6
        else [],
        "groups": sorted(g for g, p in _GROUP_RATES.items() if rng.random() < p),
    }
    truancies = unexcused + facts["tardies_over_30"]
    if truancies >= 3 and rng.random() < 0.7:
        steps = [{"step": "not1", "issued_on": "2025-10-20"}]
        tried = [
            {"intervention": "root-cause-meeting", "tier_level": 2, "started_on": "2025-10-27"}
        ]
        if truancies >= 6 and rng.random() < 0.6:
            steps.append({"step": "not2", "issued_on": "2025-12-08"})
            tried.append(
                {
                    "intervention": "weekly-checkin",
                    "tier_level": 2,
                    "started_on": "2025-12-10",
                    "outcome": rng.choice(("mixed", "no_discernible", "positive")),
                }
            )
        facts["history"] = {"legal_steps": steps, "interventions": tried}
        if rng.random() < 0.5:
            facts["history"]["conferences"] = [
                {"kind": "parent_conference", "held_on": "2025-11-05"}
            ]
    return facts


def generate_facts(count: int, seed: int = 2025) -> Iterator[dict[str, Any]]:
    """Yield ``count`` student fact records, the same for the same seed.

    >>> first = next(generate_facts(1))
    >>> first["student_id"], first["days_absent"] <= first["days_enrolled"]
    ('S000001', True)
    """
    rng = random.Random(seed)
    for i in range(count):
        yield _student(rng, i)
