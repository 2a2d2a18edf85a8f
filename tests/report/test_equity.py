"""Equity and coverage against a hand-worked district and a generated one.

The hand-worked district (as of Friday 2025-10-31; lincoln has interventions, roosevelt none):

=======  =========  ===================  ===========================================  ==========
student  school     groups               records                                      days
=======  =========  ===================  ===========================================  ==========
a        lincoln    english_learner      tier2 10-01; support started 10-06, open     5 / 40
b        lincoln    english_learner,     tier1 09-15, tier3 10-10; legal step 10-15;  8 / 40
                    homeless             support started 10-20, closed 10-27
c        lincoln    -                    tier2 09-20; support started 09-25, open;    2 / 40
                                         legal step 10-01
d        roosevelt  english_learner      tier2 10-01; legal step 10-20; no support    4 / 40
e        roosevelt  foster               tier1 09-15                                  1 / 9
f        roosevelt  homeless             tier2 10-05, tier1 10-25; no support         0 / 40
=======  =========  ===================  ===========================================  ==========

By hand: Tier 2/3 by the latest decision: a, b, c, d (4); active support: a, c (b's ended):
coverage 2/4. Triggers: a 10-01, b 10-10, c 09-20, d 10-01, f 10-05; calendar days to the
first support after it: a 5, b 10, c 5 (median 5); d and f wait (2). Chronic (FS195): a 12.5%,
b 20%, d exactly 10%; e is under 10 days: 3 of 5. Legal steps: b, c, d (3 of 6); support
before the first step: c only (1/3). With the 10-point margin a group is flagged at a share of
1/3 - 0.10 or less: english_learner (0 of 2: b, d) and homeless (0 of 1: b) are; foster (no
step) is not. homeless has no active support at all; roosevelt has no intervention.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import statistics

import pytest

import tierflow
from tierflow.report import EquityReport, equity_report
from tierflow.workflow import InMemoryRepository, Intervention, WorkflowEvent

D = dt.date
AS_OF = D(2025, 10, 31)


def _decision(repo: InMemoryRepository, sid: str, on: dt.date, tier: str) -> None:
    repo.append(WorkflowEvent(0, on, sid, "decision", detail={"tier": tier}))


def _support(
    repo: InMemoryRepository,
    sid: str,
    school: str,
    opened: dt.date,
    started: dt.date | None,
    ended: dt.date | None = None,
) -> None:
    iid = f"iv-{sid}-{opened.isoformat()}"
    state = "closed" if ended else ("active" if started else "assigned")
    repo.add(
        Intervention(iid, sid, school, "weekly-checkin", 2, "mentor", "ms-lee", state, opened,
                     None, None, None, ended_on=ended)
    )  # fmt: skip
    repo.append(WorkflowEvent(0, opened, sid, "opened", iid, to_state="assigned"))
    if started is not None:
        repo.append(
            WorkflowEvent(0, started, sid, "transition", iid, "start", "assigned", "active")
        )
    if ended is not None:
        repo.append(WorkflowEvent(0, ended, sid, "transition", iid, "close", "active", "closed"))


def _legal(repo: InMemoryRepository, sid: str, on: dt.date) -> None:
    repo.append(WorkflowEvent(0, on, sid, "legal_issued", detail={"step": "not1"}))
    repo.record_issued(sid, "not1", on)


def _facts(sid: str, school: str, groups: list[str], absent: float, enrolled: int = 40) -> dict:  # type: ignore[type-arg]
    return {"student_id": sid, "school_id": school, "groups": groups,
            "days_enrolled": enrolled, "days_absent": absent}  # fmt: skip


@pytest.fixture
def district() -> tuple[InMemoryRepository, list[dict]]:  # type: ignore[type-arg]
    repo = InMemoryRepository()
    _decision(repo, "a", D(2025, 10, 1), "tier2")
    _support(repo, "a", "lincoln", D(2025, 10, 2), D(2025, 10, 6))
    _decision(repo, "b", D(2025, 9, 15), "tier1")
    _decision(repo, "b", D(2025, 10, 10), "tier3")
    _legal(repo, "b", D(2025, 10, 15))
    _support(repo, "b", "lincoln", D(2025, 10, 10), D(2025, 10, 20), D(2025, 10, 27))
    _decision(repo, "c", D(2025, 9, 20), "tier2")
    _support(repo, "c", "lincoln", D(2025, 9, 22), D(2025, 9, 25))
    _legal(repo, "c", D(2025, 10, 1))
    _decision(repo, "d", D(2025, 10, 1), "tier2")
    _legal(repo, "d", D(2025, 10, 20))
    _decision(repo, "e", D(2025, 9, 15), "tier1")
    _decision(repo, "f", D(2025, 10, 5), "tier2")
    _decision(repo, "f", D(2025, 10, 25), "tier1")
    facts = [
        _facts("a", "lincoln", ["english_learner"], 5),
        _facts("b", "lincoln", ["english_learner", "homeless"], 8),
        _facts("c", "lincoln", [], 2),
        _facts("d", "roosevelt", ["english_learner"], 4),
        _facts("e", "roosevelt", ["foster"], 1, enrolled=9),
        _facts("f", "roosevelt", ["homeless"], 0),
    ]
    return repo, facts


@pytest.fixture
def report(district: tuple[InMemoryRepository, list[dict]]) -> EquityReport:  # type: ignore[type-arg]
    repo, facts = district
    return equity_report(repo, facts, as_of=AS_OF, ruleset=tierflow.load_ruleset("mtss"))


def test_the_district(report: EquityReport) -> None:
    d = report.district
    assert (d.students, d.tier23, d.tier23_supported, d.coverage) == (6, 4, 2, 0.5)
    assert sorted(d.days_to_support) == [5, 5, 10]
    assert (d.median_days_to_support, d.waiting) == (5.0, 2)
    assert (d.chronic_enrolled, d.chronic, d.chronic_rate) == (5, 3, 0.6)
    assert (d.legal, d.legal_rate, d.legal_support_first) == (3, 0.5, 1)
    assert report.day_unit == "calendar days"


def test_groups_and_the_flag(report: EquityReport) -> None:
    el = report.group("english_learner")
    assert (el.students, el.tier23, el.tier23_supported) == (3, 3, 1)
    assert (sorted(el.days_to_support), el.median_days_to_support, el.waiting) == ([5, 10], 7.5, 1)
    assert (el.chronic, el.chronic_enrolled, el.legal, el.legal_support_first) == (3, 3, 2, 0)
    homeless = report.group("homeless")  # a group with no support
    assert (homeless.tier23, homeless.tier23_supported, homeless.coverage) == (1, 0, 0.0)
    assert (homeless.legal, homeless.support_first, homeless.chronic_rate) == (1, 0.0, 0.5)
    foster = report.group("foster")
    assert (foster.students, foster.coverage, foster.chronic_rate, foster.legal_rate) == (
        1, None, None, 0.0)  # fmt: skip
    iep = report.group("iep")  # listed with nobody in it
    assert (iep.students, iep.coverage, iep.legal_rate) == (0, None, None)
    assert [g.key for g in report.flagged] == ["english_learner", "homeless"]


def test_a_school_with_no_interventions(report: EquityReport) -> None:
    rows = {s.key: (s.students, s.tier23, s.tier23_supported, s.waiting) for s in report.schools}
    assert rows == {"lincoln": (3, 3, 2, 0), "roosevelt": (3, 1, 0, 2)}


def test_school_days_on_calendars(district: tuple[InMemoryRepository, list[dict]]) -> None:  # type: ignore[type-arg]
    repo, facts = district
    r = equity_report(repo, facts, as_of=AS_OF, calendars={})
    # Monday to Friday: Wed 10-01 -> Mon 10-06 is 3; Fri 10-10 -> Mon 10-20 is 6;
    # Sat 09-20 -> Thu 09-25 is 4
    assert sorted(r.district.days_to_support) == [3, 4, 6]
    assert r.day_unit == "school days"


def test_as_of_reads_the_records_as_they_stood(
    district: tuple[InMemoryRepository, list[dict]],  # type: ignore[type-arg]
) -> None:
    repo, facts = district
    r = equity_report(repo, facts, as_of=D(2025, 10, 12))
    # by 10-12: b at tier3 (10-10) with nothing started; a and c supported; d tier2;
    # f at tier2 (its tier1 comes 10-25); legal: c only, with support first
    d = r.district
    assert (d.tier23, d.tier23_supported, d.legal, d.legal_support_first) == (5, 2, 1, 1)
    assert d.waiting == 3  # b, d, f


def test_exports(report: EquityReport) -> None:
    data = json.loads(report.to_json())
    assert data["district"]["coverage"] == 0.5
    assert data["district"]["support_first"] == pytest.approx(1 / 3, abs=1e-6)
    assert next(g for g in data["groups"] if g["key"] == "iep")["coverage"] is None
    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    el = next(r for r in rows if r["key"] == "english_learner")
    assert (el["coverage"], el["median_days_to_support"], el["flagged"]) == ("33.3", "7.5", "yes")
    assert "flagged: english_learner, homeless" in report.summary()
    assert "! group homeless" in report.to_text()


def test_a_bad_margin() -> None:
    with pytest.raises(ValueError, match="margin"):
        equity_report(InMemoryRepository(), [], as_of=AS_OF, margin=2)


# --- a generated district, against a second computation from what was planted ----------------


def test_a_generated_district_matches_a_second_computation() -> None:
    rng = random.Random(16)
    repo = InMemoryRepository()
    facts = []
    plan = {}
    start = D(2025, 9, 2)
    for n in range(80):
        sid = f"s{n:03d}"
        school = rng.choice(["east", "west", "north"])  # north never opens an intervention
        groups = sorted(rng.sample(["english_learner", "economically_disadvantaged", "homeless"],
                                   rng.randint(0, 2)))  # fmt: skip
        enrolled = rng.choice([8, 10, 40, 40, 40])
        absent = rng.choice([0, 1, 2, 3, 4, 5, 8])
        facts.append(_facts(sid, school, groups, absent, enrolled))
        tiers = [
            (start + dt.timedelta(days=rng.randint(0, 20)), rng.choice(["tier1", "tier2", "tier3"]))
        ]
        if rng.random() < 0.4:
            tiers.append(
                (
                    tiers[0][0] + dt.timedelta(days=rng.randint(1, 20)),
                    rng.choice(["tier1", "tier2", "tier3"]),
                )
            )
        for on, tier in tiers:
            _decision(repo, sid, on, tier)
        trigger = next((on for on, t in tiers if t != "tier1"), None)
        support = None
        ended = None
        if trigger and school != "north" and "homeless" not in groups and rng.random() < 0.7:
            support = trigger + dt.timedelta(days=rng.randint(0, 15))
            if rng.random() < 0.3:
                ended = support + dt.timedelta(days=rng.randint(1, 10))
            _support(repo, sid, school, trigger, support, ended)
        legal = None
        if trigger and rng.random() < 0.4:
            legal = trigger + dt.timedelta(days=rng.randint(0, 30))
            _legal(repo, sid, legal)
        plan[sid] = (school, groups, enrolled, absent, tiers, trigger, support, ended, legal)

    r = equity_report(repo, facts, as_of=AS_OF)

    def second(members: list[str]) -> tuple:  # type: ignore[type-arg]
        tier23 = supported = waiting = counted = chronic = legal_n = first = 0
        days = []
        for sid in members:
            _, _, enrolled, absent, tiers, trigger, support, ended, legal = plan[sid]
            if tiers[-1][1] != "tier1":
                tier23 += 1
                supported += support is not None and ended is None
            if trigger is not None:
                if support is None:
                    waiting += 1
                else:
                    days.append((support - trigger).days)
            if enrolled >= 10:
                counted += 1
                chronic += absent * 10 >= enrolled
            if legal is not None:
                legal_n += 1
                first += support is not None and support <= legal
        med = statistics.median(days) if days else None
        return (len(members), tier23, supported, med, waiting, counted, chronic, legal_n, first)

    def got(row) -> tuple:  # type: ignore[no-untyped-def,type-arg]
        return (
            row.students,
            row.tier23,
            row.tier23_supported,
            row.median_days_to_support,
            row.waiting,
            row.chronic_enrolled,
            row.chronic,
            row.legal,
            row.legal_support_first,
        )

    assert got(r.district) == second(sorted(plan))
    for school in ("east", "west", "north"):
        assert got(r.school(school)) == second([s for s, p in plan.items() if p[0] == school])
    for group in ("english_learner", "economically_disadvantaged", "homeless"):
        assert got(r.group(group)) == second([s for s, p in plan.items() if group in p[1]])
    assert r.school("north").tier23_supported == 0
    assert r.group("homeless").tier23_supported == 0
    base = r.district.legal_support_first / r.district.legal
    for g in r.groups:
        expect = g.legal >= 1 and g.legal_support_first / g.legal <= base - 0.10 + 1e-9
        assert g.flagged == expect, g.key
