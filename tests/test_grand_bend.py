"""End to end on published Ed-Fi sample data: the Grand Bend ISD 2010-11 calendar and events.

The files are unchanged copies of the Ed-Fi Alliance's samples, kept beside the repository in
``../shared/data/edfi-grand-bend`` (see its NOTES.md for the figures checked here).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest

import tierflow
from ingest.reading import calendar_problems
from tierflow.attendance import FactsBuilder
from tierflow.cli import main
from tierflow.ingest import read_calendars, read_events

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "edfi-grand-bend"
CALENDAR = DATA / "edfi-ds-2.2.0_2010-2011" / "EducationOrgCalendar.xml"
EVENTS = DATA / "edfi-ds-3.2.0_2010-2011" / "StudentSchoolAttendance.xml"
LAST_DAY = dt.date(2011, 5, 27)

if not (CALENDAR.exists() and EVENTS.exists()) and os.environ.get("TIERFLOW_REQUIRE_SAMPLE_DATA"):
    raise RuntimeError(f"TIERFLOW_REQUIRE_SAMPLE_DATA is set but the Ed-Fi sample is not at {DATA}")

pytestmark = pytest.mark.skipif(
    not (CALENDAR.exists() and EVENTS.exists()),
    reason=f"the Ed-Fi Grand Bend sample is not at {DATA} (it sits beside the repository in CI)",
)


@pytest.fixture(scope="module")
def built() -> FactsBuilder:
    calendars = read_calendars(CALENDAR)
    builder = FactsBuilder(calendars.calendars, assume_full_year=True)
    builder.add_events(read_events(EVENTS, report=builder.report))
    return builder


def test_calendar_has_177_instructional_days_per_school() -> None:
    found = read_calendars(CALENDAR)
    assert {k: len(v) for k, v in found.calendars.items()} == {
        "255901001": 177,
        "255901044": 177,
        "255901107": 177,
    }
    cal = found.calendars["255901001"]
    assert cal.count(dt.date(2010, 8, 23), dt.date(2010, 12, 17)) == 81
    assert dt.date(2010, 9, 6) not in cal  # Labor Day
    assert dt.date(2011, 3, 16) not in cal  # spring break


def test_session_total_that_disagrees_with_the_calendar_is_reported() -> None:
    warnings = calendar_problems(read_calendars(CALENDAR))
    assert [w.code for w in warnings] == ["calendar.session_mismatch"] * 3
    assert all("states 88" in w.reason and "has 96" in w.reason for w in warnings)
    assert all(w.source is not None and w.source.startswith(f"{CALENDAR}:") for w in warnings)


def test_every_event_is_accepted_or_reported(built: FactsBuilder) -> None:
    report = built.report
    assert report.read == 1917
    assert report.read == report.accepted + report.rejected
    assert report.by_code() == {"event.not_instructional": 3, "event.conflict": 1}
    assert report.assumptions  # enrollment was assumed, and said so


def test_sunday_tardies_are_rejected_with_their_line(built: FactsBuilder) -> None:
    sunday = [r for r in built.report.rejects if r.code == "event.not_instructional"]
    assert sorted(r.student_id for r in sunday) == ["604891", "604906", "604923"]
    for r in sunday:
        assert "2011-05-15 (Sunday)" in r.reason
        line = int(str(r.source).rsplit(":", 1)[1])
        text = EVENTS.read_text(encoding="utf-8").splitlines()
        assert text[line - 1].strip() == "<StudentSchoolAttendanceEvent>"
        assert "2011-05-15" in text[line + 1]


def test_two_events_on_one_student_date_follow_the_conflict_rule(built: FactsBuilder) -> None:
    (conflict,) = [r for r in built.report.rejects if r.code == "event.conflict"]
    assert conflict.student_id == "604822"
    assert "2010-12-15 already has a full-day excused_absence" in conflict.reason
    facts = built.facts_for("604822", LAST_DAY)
    assert facts is not None
    # the full-day absence stands, counted once
    assert any(
        r["date"] == dt.date(2010, 12, 15) and r["kind"] == "excused" and r["days"] == 1.0
        for r in facts["attendance_log"]
    )


def test_all_227_students_get_facts_matching_the_published_distribution(
    built: FactsBuilder,
) -> None:
    facts = list(built.facts(LAST_DAY))
    assert len(facts) == 227
    absences = collections.Counter(f["days_excused"] + f["days_unexcused"] for f in facts)
    assert absences == {
        0: 35,
        3: 1,
        4: 95,
        9: 1,
        11: 12,
        12: 31,
        13: 4,
        14: 1,
        15: 1,
        16: 2,
        17: 2,
        18: 6,
        19: 21,
        20: 15,
    }
    assert sum(f["days_absent"] >= 15 for f in facts) == 47
    assert sum(f["days_unexcused"] >= 3 for f in facts) == 91
    assert max(f["days_unexcused"] for f in facts) == 19
    assert {f["days_enrolled"] for f in facts} == {177}


def test_back_testing_ignores_later_events(built: FactsBuilder) -> None:
    fall = list(built.facts(dt.date(2010, 12, 17)))
    full = {f["student_id"]: f for f in built.facts(LAST_DAY)}
    assert {f["days_enrolled"] for f in fall} == {81}
    for f in fall:
        assert f["days_absent"] <= full[f["student_id"]]["days_absent"]
        assert all(r["date"] <= dt.date(2010, 12, 17) for r in f["attendance_log"])


def test_the_california_playbook_runs_on_the_sample(built: FactsBuilder) -> None:
    ca = tierflow.load_ruleset("ca")
    decisions = [ca.evaluate(f, as_of=LAST_DAY) for f in built.facts(LAST_DAY)]
    assert len(decisions) == 227
    due = collections.Counter(a.step for d in decisions for a in d.legal_actions)
    assert due["not1"] == 91  # every student with 3+ truancies, and no letter issued yet
    assert all(d.tier in ("tier1", "tier2", "tier3") for d in decisions)


def test_command_line_evaluates_raw_events_with_a_rejects_report(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    rejects = tmp_path / "rejects.jsonl"
    with contextlib.redirect_stderr(err):
        status = main(
            [
                "evaluate",
                "-r",
                "ca",
                "--as-of",
                "2011-05-27",
                "--calendar",
                str(CALENDAR),
                "--events",
                str(EVENTS),
                "--assume-full-year",
                "--rejects",
                str(rejects),
            ],
            out=out,
        )
    assert status == 0
    decisions = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(decisions) == 227
    text = err.getvalue()
    assert "attendance records: read 1917, accepted 1913, rejected 4" in text
    assert "students: 227 evaluated, 0 rejected" in text
    assert "calendar.session_mismatch" in text
    written = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert (
        sorted(r["code"] for r in written) == ["event.conflict"] + ["event.not_instructional"] * 3
    )
