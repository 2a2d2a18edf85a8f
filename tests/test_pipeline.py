"""tierflow.pipeline and tierflow.demo called as a host calls them, without the CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from importlib import resources
from pathlib import Path

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.demo import evaluate_sample, run_sample_day, sample_staff
from tierflow.errors import DataReport
from tierflow.pipeline import evaluate_built_facts, evaluate_facts_file

AS_OF = dt.date(2025, 11, 3)


def test_a_facts_file_evaluates_each_good_line_and_locates_each_bad_one(tmp_path: Path) -> None:
    # mtss: tier 2 from 5% of enrolled days missed (docs/builtin-rulesets.md); s1 misses 2 of
    # 60 (3.3%), s3 misses 6 of 60 (10%): counted by hand.
    lines = [
        {"student_id": "s1", "days_enrolled": 60, "days_absent": 2, "days_unexcused": 0},
        "not json",
        {"student_id": "s3", "days_enrolled": 60, "days_absent": 6, "days_unexcused": 0},
        {"student_id": "s4", "days_enrolled": "sixty", "days_absent": 1, "days_unexcused": 0},
    ]
    path = tmp_path / "facts.jsonl"
    path.write_text(
        "".join(x + "\n" if isinstance(x, str) else json.dumps(x) + "\n" for x in lines)
    )
    report = DataReport()
    seen: list[int] = []
    got = [
        (r.facts["student_id"], d.tier)
        for r, d in evaluate_facts_file(
            tierflow.load_ruleset("mtss"),
            str(path),
            as_of=AS_OF,
            report=report,
            on_record=seen.append,
        )
    ]
    assert got == [("s1", "tier1"), ("s3", "tier2")]
    assert (report.read, report.accepted, report.rejected) == (4, 2, 2)
    assert [(Path(str(e.source)).name, e.student_id) for e in report.rejects] == [
        ("facts.jsonl:2", None),
        ("facts.jsonl:4", "s4"),
    ]
    # The progress hook counts every record read so far, refused ones included: after s1 one
    # record, after s3 three (the unreadable line 2 came between).
    assert seen == [1, 3]


def test_built_facts_evaluate_per_student() -> None:
    # Ten school days, Monday 2025-10-20 to Friday 2025-10-31; s1 is absent unexcused on two
    # of them (20% of enrolled days: above mtss's 5% line for tier 2), s2 on none.
    calendar = SchoolCalendar.from_pattern("lincoln", dt.date(2025, 10, 20), dt.date(2025, 10, 31))
    builder = FactsBuilder({"lincoln": calendar})
    for sid in ("s1", "s2"):
        assert builder.add_enrollment(Enrollment(sid, "lincoln", dt.date(2025, 10, 20)))
    for day in (dt.date(2025, 10, 21), dt.date(2025, 10, 22)):
        assert builder.add_event(AttendanceEvent("s1", "lincoln", day, "unexcused_absence"))
    report = DataReport()
    ruleset = tierflow.load_ruleset("mtss")
    decisions = evaluate_built_facts(ruleset, builder, as_of=dt.date(2025, 10, 31), report=report)
    got = {
        r.facts["student_id"]: (r.source, r.facts["days_enrolled"], r.facts["days_absent"], d.tier)
        for r, d in decisions
    }
    assert got["s1"][:3] == ("student s1", 10, 2)
    assert got["s2"] == ("student s2", 10, 0, "tier1")
    assert got["s1"][3] != "tier1"
    assert (report.read, report.accepted, report.rejected) == (2, 2, 0)


def _sample_lines() -> list[dict[str, object]]:
    sample = resources.files("tierflow") / "data" / "sample_district.jsonl"
    text = sample.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_the_sample_is_every_student_of_the_bundled_file() -> None:
    students = _sample_lines()
    sample = evaluate_sample(tierflow.load_ruleset("mtss"))
    assert sample.report.read == len(students) == len(sample.students)
    assert sum(sample.tiers.values()) == len(students)

    # mtss's tier bands (rulesets/mtss.yaml), written out by hand: the rate decides from 10
    # enrolled days (tier 3 from 20%, tier 2 from 5%); before that, 2 absences are tier 2.
    def tier(s: dict[str, object]) -> str:
        enrolled, absent = float(s["days_enrolled"]), float(s["days_absent"])  # type: ignore[arg-type]
        if enrolled >= 10:
            rate = absent / enrolled
            return "tier3" if rate >= 0.20 else "tier2" if rate >= 0.05 else "tier1"
        return "tier2" if absent >= 2 else "tier1"

    assert sample.tiers == Counter(tier(s) for s in students)


def test_a_sample_day_twice_adds_nothing_the_second_time(tmp_path: Path) -> None:
    ruleset = tierflow.load_ruleset("mtss")
    sample = evaluate_sample(ruleset)
    db = str(tmp_path / "demo.db")
    first = run_sample_day(sample, db)
    assert first.events_before == 0 and first.events_added > 0
    assert len(first.plan.opened) > 0
    again = run_sample_day(sample, db)
    assert again.events_added == 0 and again.events_before == first.events_after
    assert again.location == str(tmp_path / "demo.db")


def test_sample_staff_has_four_people_per_role_and_school() -> None:
    ruleset = tierflow.load_ruleset("mtss")
    students = tuple(dict(s) for s in _sample_lines())
    schools = {s["school_id"] for s in students}
    roles = {iv.owner for iv in ruleset.interventions.values()}
    roster = sample_staff(ruleset, students)
    assert len(roster.staff) == 4 * len(schools) * len(roles)
