"""Hypothesis strategies for student facts consistent with a school year."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from tierflow.facts import CAUSES, GROUPS

__all__ = ["AS_OF", "histories", "near_thresholds", "rule_sets", "student_facts", "with_count"]

_PARTS = ("days_excused", "days_unexcused", "days_suspended")

YEAR_START = dt.date(2025, 8, 18)
AS_OF = dt.date(2026, 2, 2)
"""The as-of date the strategies generate facts for (mid school year)."""


def _dates(start: dt.date, end: dt.date) -> st.SearchStrategy[dt.date]:
    return st.dates(min_value=start, max_value=end)


@st.composite
def histories(
    draw: st.DrawFn,
    *,
    legal_steps: tuple[str, ...] = ("not1", "not2", "not3", "sarb-referral"),
    as_of: dt.date = AS_OF,
) -> dict[str, Any]:
    """A history summary: legal steps issued, interventions tried, conferences held.

    Args:
        draw: Supplied by Hypothesis.
        legal_steps: Step ids that may have been issued.
        as_of: Nothing in the history is dated after it.
    """
    steps = draw(
        st.lists(
            st.tuples(st.sampled_from(legal_steps), _dates(YEAR_START, as_of)),
            max_size=3,
            unique_by=lambda t: t[0],
        )
    )
    tried = draw(
        st.lists(
            st.tuples(
                st.integers(1, 3),
                _dates(YEAR_START, as_of),
                st.sampled_from([None, "positive", "mixed", "no_discernible", "negative"]),
            ),
            max_size=3,
        )
    )
    held = draw(
        st.lists(
            st.tuples(st.sampled_from(["parent_conference", "sart"]), _dates(YEAR_START, as_of)),
            max_size=2,
        )
    )
    return {
        "legal_steps": [{"step": s, "issued_on": d.isoformat()} for s, d in steps],
        "interventions": [
            {"intervention": "weekly-checkin", "tier_level": lvl, "started_on": d.isoformat()}
            | ({"outcome": o} if o else {})
            for lvl, d, o in tried
        ],
        "conferences": [{"kind": k, "held_on": d.isoformat()} for k, d in held],
    }


@st.composite
def student_facts(
    draw: st.DrawFn,
    *,
    as_of: dt.date = AS_OF,
    max_days: int = 180,
    legal_steps: tuple[str, ...] = ("not1", "not2", "not3", "sarb-referral"),
    future_days: int = 0,
    tiers: tuple[str, ...] = ("tier1", "tier2", "tier3"),
) -> dict[str, Any]:
    """Facts of one student, consistent with a school year.

    Absences (in half days) never exceed days enrolled, unexcused and suspension days never
    exceed absences, tardies over 30 minutes never exceed tardies, and the attendance log and
    history are dated within the year up to ``as_of``.

    Args:
        draw: Supplied by Hypothesis.
        as_of: The evaluation date the facts describe.
        max_days: The most days enrolled.
        legal_steps: Step ids the history may say were issued.
        future_days: Let the attendance log run this many days past ``as_of`` (records an
            evaluation must ignore: back-testing).
        tiers: Tier ids ``previous_tier`` may name; it is also left out (no previous decision)
            or names a tier no rule set has (one since removed).
    """
    enrolled = draw(st.integers(min_value=0, max_value=max_days))
    halves = draw(st.integers(min_value=0, max_value=2 * enrolled))
    absent = halves / 2
    unexcused = draw(st.integers(min_value=0, max_value=halves)) / 2
    suspended = draw(st.integers(min_value=0, max_value=int(absent - unexcused)))
    tardies = draw(st.integers(min_value=0, max_value=20))
    log = draw(
        st.lists(
            st.tuples(
                _dates(YEAR_START, as_of + dt.timedelta(days=future_days)),
                st.sampled_from(["excused", "unexcused", "suspension", "tardy", "tardy_over_30"]),
                st.sampled_from([1.0, 0.5]),
            ),
            max_size=20,
        )
    )
    previous = draw(st.one_of(st.none(), st.sampled_from((*tiers, "removed-tier"))))
    return {
        **({} if previous is None else {"previous_tier": previous}),
        "student_id": draw(st.from_regex(r"[A-Z][0-9]{3,6}", fullmatch=True)),
        "grade": draw(st.integers(min_value=-1, max_value=12)),
        "days_enrolled": enrolled,
        "days_absent": absent,
        "days_excused": absent - unexcused - suspended,
        "days_unexcused": unexcused,
        "days_suspended": float(suspended),
        "tardies": tardies,
        "tardies_over_30": draw(st.integers(min_value=0, max_value=tardies)),
        "causes": draw(st.lists(st.sampled_from(CAUSES), unique=True, max_size=3)),
        "groups": draw(st.lists(st.sampled_from(GROUPS), unique=True, max_size=3)),
        "attendance_log": [{"date": d.isoformat(), "kind": k, "days": f} for d, k, f in log],
        "history": draw(histories(legal_steps=legal_steps, as_of=as_of)),
    }


def with_count(
    facts: Mapping[str, Any], fact: str, enrolled: float, value: float
) -> dict[str, Any]:
    """``facts`` with ``days_enrolled`` and absence fact ``fact`` set, kept consistent.

    Unexcused or suspension days are absent days too (the other kinds make up the rest);
    tardies over 30 minutes are tardies.

    >>> f = with_count({"tardies": 0, "tardies_over_30": 0}, "days_unexcused", 100, 9)
    >>> f["days_absent"], f["days_unexcused"], f["days_excused"], f["days_suspended"]
    (9.0, 9.0, 0.0, 0.0)
    """
    out = dict(facts)
    out["days_enrolled"] = int(enrolled) if float(enrolled).is_integer() else enrolled
    if out.get("days_absent", 0) > enrolled:  # more absent days than the new enrolment allows
        out.update(dict.fromkeys(("days_absent", *_PARTS), 0.0))
    if fact.startswith("days_"):
        parts = {"days_unexcused": 0.0, "days_suspended": 0.0}
        if fact in parts:
            parts[fact] = float(value)
        out.update(parts, days_absent=float(value))
        out["days_excused"] = out["days_absent"] - sum(parts.values())
    elif fact == "tardies":
        out["tardies"] = value
        out["tardies_over_30"] = min(out.get("tardies_over_30", 0), value)
    else:
        out[fact] = value
        if fact == "tardies_over_30":
            out["tardies"] = max(out.get("tardies", 0), value)
    return out


@st.composite
def near_thresholds(
    draw: st.DrawFn, values: Mapping[float, Sequence[float]], fact: str
) -> tuple[dict[str, Any], float]:
    """A student at or near a threshold, and how much more of ``fact`` reaches a later one.

    Draws an enrolment and two of its values of ``fact`` (from
    :func:`tierflow.analysis.threshold_values`: at, just below and just above each
    threshold), the second one to three values above the first, where a gap between tier
    bands or a band's end shows; the rest of the facts are :func:`student_facts`.

    Args:
        draw: Supplied by Hypothesis.
        values: Values of ``fact`` worth trying, by days enrolled.
        fact: The absence fact (``days_absent``, ``days_unexcused``...).
    """
    enrolled = draw(st.sampled_from(sorted(e for e, v in values.items() if len(v) > 1)))
    ladder = values[enrolled]
    i = draw(st.integers(0, len(ladder) - 2))
    j = draw(st.integers(i + 1, min(i + 3, len(ladder) - 1)))
    facts = with_count(draw(student_facts()), fact, enrolled, ladder[i])
    return facts, ladder[j] - ladder[i]


@st.composite
def rule_sets(draw: st.DrawFn) -> str:
    """YAML text of small, valid rule sets with random thresholds, operators and filters.

    For fuzzing an engine that embeds tierflow: every generated rule set loads, and uses
    metrics, every shorthand filter, ``tier`` in rules, a window function, a legal ladder with
    an exemption and a prerequisite, and (on some) a ``stay_while`` on the tiers above the
    default, which keeps a student whose ``previous_tier`` is ``t3`` or ``t2``.

    Args:
        draw: Supplied by Hypothesis.
    """
    t3 = draw(st.floats(min_value=0.0, max_value=1.0, allow_nan=False))
    t2 = draw(st.floats(min_value=0.0, max_value=1.0, allow_nan=False))
    op = draw(st.sampled_from([">=", ">", "==", "!=", "<", "<="]))
    n = draw(st.integers(min_value=0, max_value=30))
    combine = draw(st.sampled_from(["and", "or"]))
    cause = draw(st.sampled_from(["transportation", "health", "housing"]))
    s3 = draw(st.floats(min_value=0.0, max_value=1.0, allow_nan=False))
    s2 = draw(st.floats(min_value=0.0, max_value=1.0, allow_nan=False))
    stay3 = draw(st.sampled_from(["", f', stay_while: "absence_rate >= {s3!r} or tardies > {n}"']))
    stay2 = draw(st.sampled_from(["", f', stay_while: "absence_rate {op} {s2!r} and load > 1"']))
    return f"""
id: generated
name: Generated
version: "1"
metrics:
  - {{id: load, expr: "days_absent * 2 - tardies / 4"}}
tiers:
  - {{id: t3, level: 3, when: "absence_rate {op} {t3!r} {combine} days_unexcused >= {n}"{stay3}}}
  - {{id: t2, level: 2, when: "absence_rate >= {t2!r} or load > {n} and not ('foster' in groups)"
     {stay2}}}
  - {{id: t1, level: 1, default: true}}
rules:
  - {{id: r1, tiers: [t2, t3], causes: [{cause}], assign: [a]}}
  - {{id: r2, when: "tier_level >= 2 and max(tardies, days_suspended) >= {n}", assign: [a, b]}}
  - {{id: r3, groups: [iep, foster], when: "tier != 't1'", assign: [b]}}
interventions:
  - {{id: a, tier: t2, owner: counselor}}
  - {{id: b, tier: t3, owner: social_worker}}
legal:
  - {{id: l1, when: "days_unexcused + tardies_over_30 >= {n}", exempt_groups: [homeless]}}
  - {{id: l2, when: "count_within('truancy', 4w) >= 2", requires: {{conferences: [sart]}}}}
"""
