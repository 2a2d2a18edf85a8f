"""Facts built from events count one school year: the year of the as-of date (issue 11).

California counts truancy "in one school year" (EC 48260, 48262) and Texas "in the same school
year" (TEC 25.0951). Every expected value below is counted by hand from the calendar: the
calendars are weekdays only, so a span of whole weeks has five school days a week.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest

import tierflow
from ingest.reading import calendar_problems
from tierflow.attendance import (
    AttendanceEvent,
    CalendarSet,
    Enrollment,
    FactsBuilder,
    SchoolCalendar,
    SchoolYears,
)
from tierflow.cli import main
from tierflow.errors import DataError
from tierflow.ingest import read_calendars

D = dt.date
# 2025-26: Monday 2025-08-18 to Friday 2026-06-05, 42 whole weeks = 210 school days.
# 2026-27: Monday 2026-08-17 to Friday 2027-06-04, 42 whole weeks = 210 school days.
YEAR_2026 = SchoolCalendar.from_pattern("lincoln", D(2025, 8, 18), D(2026, 6, 5))
YEAR_2027 = SchoolCalendar.from_pattern("lincoln", D(2026, 8, 17), D(2027, 6, 4))
LINCOLN = SchoolCalendar("lincoln", YEAR_2026.days + YEAR_2027.days)
# Summer school: Monday 2026-07-06 to Friday 2026-07-24, three weeks = 15 school days.
SUMMER = SchoolCalendar.from_pattern("summer", D(2026, 7, 6), D(2026, 7, 24))
# Four unexcused days in May (Monday to Thursday), one on Tuesday 2026-09-01.
MAY = [D(2026, 5, 18), D(2026, 5, 19), D(2026, 5, 20), D(2026, 5, 21)]
SEPTEMBER_1 = D(2026, 9, 1)

SAMPLE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "edfi-grand-bend"
    / "edfi-ds-5.2.0_2021-2022"
    / "EducationOrgCalendar.xml"
)


def _unexcused(sid: str, day: dt.date, school: str = "lincoln") -> AttendanceEvent:
    return AttendanceEvent(sid, school, day, "unexcused_absence", source=f"events.csv:{day}")


def _two_years(**kwargs: SchoolYears) -> FactsBuilder:
    """s1 enrolled 2025-08-18..2026-06-05 and again from 2026-08-17; truant in May and Sept."""
    builder = FactsBuilder({"lincoln": LINCOLN, "summer": SUMMER}, **kwargs)
    assert builder.add_enrollment(Enrollment("s1", "lincoln", D(2025, 8, 18), D(2026, 6, 5)))
    assert builder.add_enrollment(Enrollment("s1", "lincoln", D(2026, 8, 17)))
    for day in [*MAY, SEPTEMBER_1]:
        assert builder.add_event(_unexcused("s1", day))
    return builder


def test_two_yearly_enrollments_do_not_add_up() -> None:
    # The case: on 2026-09-04 this school year (2026-27) holds one unexcused day.
    facts = _two_years().facts_for("s1", D(2026, 9, 4))
    assert facts is not None
    assert facts["school_year"] == 2027
    assert facts["days_enrolled"] == 15  # 2026-08-17..09-04: three weeks
    assert facts["days_unexcused"] == 1
    assert facts["days_absent"] == 1
    assert facts["truancy_occasions"] == 1
    assert facts["absences_monday"] == 0 and facts["absences_tuesday"] == 1
    assert facts["longest_absence_streak"] == 1  # May's four-day run is last year's
    assert facts["attendance_log"] == [{"date": SEPTEMBER_1, "kind": "unexcused", "days": 1.0}]
    assert facts["school_days"][0] == D(2026, 8, 17) and len(facts["school_days"]) == 15
    assert facts["provenance"]["events"] == 1
    assert facts["recent_absence_rate"] == pytest.approx(1 / 15)  # 15 days < recent_days 20
    # Last year, whole: 210 days enrolled, four unexcused.
    assert facts["prior_year_days_enrolled"] == 210
    assert facts["prior_year_days_absent"] == 4
    assert facts["prior_year_days_unexcused"] == 4
    assert facts["enrolled"] is True
    ca = tierflow.load_ruleset("ca")
    decision = ca.evaluate(facts, as_of=D(2026, 9, 4))
    assert decision.legal_due == ()  # one truancy this year; NOT1 is at 3 (EC 48260)


def test_a_student_enrolled_in_two_years_reads_the_year_of_each_date() -> None:
    builder = _two_years()
    may = builder.facts_for("s1", D(2026, 5, 22))
    assert may is not None
    assert may["school_year"] == 2026
    assert may["days_enrolled"] == 200  # 2025-08-18..2026-05-22: 40 weeks
    assert may["days_unexcused"] == 4
    assert may["longest_absence_streak"] == 4
    assert may["prior_year_days_enrolled"] == 0  # not enrolled in 2024-25
    assert may["prior_year_days_unexcused"] == 0
    ca = tierflow.load_ruleset("ca")
    assert "not1" in ca.evaluate(may, as_of=D(2026, 5, 22)).legal_due  # 4 truancies >= 3
    # The last day of the school year counts the whole year, as prior_year_* do next year.
    june = builder.facts_for("s1", D(2026, 6, 30))
    later = builder.facts_for("s1", D(2027, 3, 1))
    assert june is not None and later is not None
    assert (june["days_enrolled"], june["days_absent"], june["days_unexcused"]) == (210, 4, 4)
    assert (
        later["prior_year_days_enrolled"],
        later["prior_year_days_absent"],
        later["prior_year_days_unexcused"],
    ) == (210, 4, 4)
    # In July the student has no enrollment in 2026-27 yet: no facts, and facts() skips them.
    assert builder.facts_for("s1", D(2026, 7, 15)) is None
    assert list(builder.facts(D(2026, 7, 15))) == []


def test_the_texas_parent_notice_is_not_due_on_last_years_absences() -> None:
    # TEC 25.095(b): 3 unexcused days in four weeks. Three in May, one in September.
    tx = tierflow.load_ruleset("tx")
    builder = FactsBuilder({"lincoln": LINCOLN})
    builder.add_enrollment(Enrollment("t1", "lincoln", D(2025, 8, 18), D(2026, 6, 5)))
    builder.add_enrollment(Enrollment("t1", "lincoln", D(2026, 8, 17)))
    for day in [D(2026, 5, 11), D(2026, 5, 13), D(2026, 5, 15), SEPTEMBER_1]:
        assert builder.add_event(_unexcused("t1", day))
    in_may = builder.facts_for("t1", D(2026, 5, 15))
    assert in_may is not None
    assert tx.evaluate(in_may, as_of=D(2026, 5, 15)).legal_due == (
        "parent-notice",
        "prevention-measures",
    )
    in_september = builder.facts_for("t1", D(2026, 9, 4))
    assert in_september is not None
    assert in_september["days_unexcused"] == 1
    decision = tx.evaluate(in_september, as_of=D(2026, 9, 4))
    assert decision.legal_due == ()
    assert "prevention-plan" not in decision.to_dict()["rules"]  # TEC 25.0915(a-4): 3 in 4 weeks


def test_summer_school_lands_in_the_year_its_dates_belong_to() -> None:
    # July 1 years (California, EC 37200): July's summer school opens 2026-27.
    builder = _two_years()
    assert builder.add_enrollment(Enrollment("s1", "summer", D(2026, 7, 6), D(2026, 7, 24)))
    assert builder.add_event(_unexcused("s1", D(2026, 7, 8), "summer"))
    july = builder.facts_for("s1", D(2026, 7, 24))
    assert july is not None
    assert (july["school_year"], july["days_enrolled"], july["days_unexcused"]) == (2027, 15, 1)
    assert july["school_id"] == "summer"
    assert july["prior_year_days_enrolled"] == 210
    september = builder.facts_for("s1", D(2026, 9, 4))
    assert september is not None
    assert september["days_enrolled"] == 15 + 15  # summer school and three weeks of term
    assert september["days_unexcused"] == 2  # 2026-07-08 and 2026-09-01
    assert september["provenance"]["calendars"] == ["lincoln", "summer"]
    # Years starting August 1: the same summer school closes 2025-26.
    august = _two_years(school_years=SchoolYears("08-01"))
    assert august.add_enrollment(Enrollment("s1", "summer", D(2026, 7, 6), D(2026, 7, 24)))
    assert august.add_event(_unexcused("s1", D(2026, 7, 8), "summer"))
    july = august.facts_for("s1", D(2026, 7, 24))
    assert july is not None
    assert (july["school_year"], july["days_enrolled"], july["days_unexcused"]) == (2026, 225, 5)
    september = august.facts_for("s1", D(2026, 9, 4))
    assert september is not None
    assert (september["days_enrolled"], september["days_unexcused"]) == (15, 1)
    assert september["prior_year_days_enrolled"] == 225
    assert september["prior_year_days_unexcused"] == 5


def test_a_year_without_events_gives_zeros() -> None:
    builder = FactsBuilder({"lincoln": LINCOLN})
    builder.add_enrollment(Enrollment("s2", "lincoln", D(2025, 8, 18), D(2026, 6, 5)))
    builder.add_enrollment(Enrollment("s2", "lincoln", D(2026, 8, 17)))
    for day in MAY:
        builder.add_event(_unexcused("s2", day))
    builder.add_enrollment(Enrollment("s3", "lincoln", D(2026, 8, 17)))  # new this year
    facts = builder.facts_for("s2", D(2026, 9, 4))
    assert facts is not None
    assert facts["days_enrolled"] == 15
    zero = ("days_absent", "days_excused", "days_unexcused", "days_suspended", "tardies")
    assert all(facts[name] == 0 for name in zero)
    assert facts["truancy_occasions"] == 0 and facts["tardies_over_30"] == 0
    assert facts["current_absence_streak"] == facts["longest_absence_streak"] == 0
    assert facts["recent_absence_rate"] == 0 and facts["absence_trend"] == 0
    assert facts["attendance_log"] == [] and facts["causes"] == []
    assert facts["provenance"]["events"] == 0
    assert facts["prior_year_days_unexcused"] == 4
    new = builder.facts_for("s3", D(2026, 9, 4))
    assert new is not None
    assert (new["days_enrolled"], new["days_absent"]) == (15, 0)
    assert (new["prior_year_days_enrolled"], new["prior_year_days_absent"]) == (0, 0)
    assert new["prior_year_days_unexcused"] == 0
    # The digest of a year without events is the digest of nothing.
    assert facts["provenance"]["events_sha256"] == new["provenance"]["events_sha256"]


def test_enrolled_is_false_after_a_move_out_of_the_district() -> None:
    builder = FactsBuilder({"lincoln": LINCOLN, "summer": SUMMER})
    # Leaves on Friday 2025-10-31 (11 weeks enrolled) and does not come back this year.
    builder.add_enrollment(Enrollment("m1", "lincoln", D(2025, 8, 18), D(2025, 10, 31)))
    on_the_day = builder.facts_for("m1", D(2025, 10, 31))
    after = builder.facts_for("m1", D(2025, 11, 14))
    assert on_the_day is not None and after is not None
    assert on_the_day["enrolled"] is True
    assert after["enrolled"] is False
    assert after["days_enrolled"] == 55
    # Moves between schools with days between: still this district's student.
    builder.add_enrollment(Enrollment("m2", "lincoln", D(2025, 8, 18), D(2025, 10, 31)))
    builder.add_enrollment(Enrollment("m2", "summer", D(2026, 7, 6)))
    builder.add_enrollment(Enrollment("m3", "lincoln", D(2025, 8, 18), D(2025, 10, 31)))
    builder.add_enrollment(Enrollment("m3", "lincoln", D(2025, 11, 10)))
    gap = builder.facts_for("m3", D(2025, 11, 5))
    assert gap is not None and gap["enrolled"] is True
    # Coming back next school year does not make the student enrolled in this one.
    left = builder.facts_for("m2", D(2025, 11, 14))
    assert left is not None and left["enrolled"] is False


def test_a_student_whose_only_span_ended_last_year_has_no_facts_this_year() -> None:
    builder = FactsBuilder({"lincoln": LINCOLN})
    builder.add_enrollment(Enrollment("g1", "lincoln", D(2025, 8, 18), D(2026, 6, 5)))
    builder.add_event(_unexcused("g1", MAY[0]))
    assert builder.facts_for("g1", D(2026, 9, 4)) is None
    assert builder.facts_for("g1", D(2026, 6, 5)) is not None


EDFI_SESSIONS = """<?xml version="1.0" encoding="UTF-8"?>
<InterchangeEducationOrgCalendar xmlns="http://ed-fi.org/5.2.0">
{sessions}</InterchangeEducationOrgCalendar>
"""
SESSION = """  <Session>
    <SessionName>{name}</SessionName>
    <SchoolYear>{year}</SchoolYear>
    <BeginDate>{begin}</BeginDate>
    <EndDate>{end}</EndDate>
    <TotalInstructionalDays>{days}</TotalInstructionalDays>
    <SchoolReference><SchoolIdentity><SchoolId>9</SchoolId></SchoolIdentity></SchoolReference>
  </Session>
"""


def _sessions_file(tmp_path: Path, rows: list[tuple[str, str, str, str, int]]) -> Path:
    path = tmp_path / "EducationOrgCalendar.xml"
    text = "".join(SESSION.format(name=n, year=y, begin=b, end=e, days=d) for n, y, b, e, d in rows)
    path.write_text(EDFI_SESSIONS.format(sessions=text), encoding="utf-8")
    return path


def test_ed_fi_sessions_say_when_the_school_years_run(tmp_path: Path) -> None:
    # A district whose 2026-27 starts with summer school on 2026-07-06 (SchoolYear 2027) and whose
    # 2025-26 ran from 2025-08-18: July 1 is no boundary for it.
    path = _sessions_file(
        tmp_path,
        [
            ("Fall", "2025-2026", "2025-08-18", "2025-12-19", 90),
            ("Spring", "2025-2026", "2026-01-05", "2026-06-05", 110),
            ("Summer", "2027", "2026-07-06", "2026-07-24", 15),
            ("Fall", "2026-2027", "2026-08-17", "2026-12-18", 90),
        ],
    )
    found = read_calendars(path)
    assert sorted(set(found.sessions)) == [
        (2026, D(2025, 8, 18), D(2025, 12, 19)),
        (2026, D(2026, 1, 5), D(2026, 6, 5)),
        (2027, D(2026, 7, 6), D(2026, 7, 24)),
        (2027, D(2026, 8, 17), D(2026, 12, 18)),
    ]
    years = found.school_years()
    # 2025-26 runs from its first session to the day before 2026-27's first one.
    assert years.of(D(2026, 7, 3)) == (2026, D(2025, 8, 18), D(2026, 7, 5))
    assert years.of(D(2026, 7, 6)).label == 2027
    # A date before every session follows the start day: 2025-07-01..2025-08-17 is 2024-25's.
    assert years.of(D(2025, 8, 1)).label == 2025
    builder = _two_years(school_years=years)
    assert builder.add_enrollment(Enrollment("s1", "summer", D(2026, 7, 6), D(2026, 7, 24)))
    assert builder.add_event(_unexcused("s1", D(2026, 7, 8), "summer"))
    # 2026-07-03, a Friday after the last session: still 2025-26 by the district's sessions, and
    # the student's 2025-26 enrollment (ended 06-05) gives its facts.
    june = builder.facts_for("s1", D(2026, 7, 3))
    assert june is not None
    assert (june["school_year"], june["days_enrolled"], june["days_unexcused"]) == (2026, 210, 4)
    assert june["enrolled"] is False  # left on 2026-06-05 and no later span in 2025-26
    september = builder.facts_for("s1", D(2026, 9, 4))
    assert september is not None
    assert september["school_year"] == 2027
    assert (september["days_enrolled"], september["days_unexcused"]) == (30, 2)
    assert september["prior_year_days_enrolled"] == 210


def test_sessions_that_do_not_name_a_year_are_refused_with_a_warning(tmp_path: Path) -> None:
    path = _sessions_file(tmp_path, [("Fall", "next year", "2025-08-18", "2025-12-19", 90)])
    found = read_calendars(path)
    assert found.sessions == []
    assert [(w.code, w.source, w.field) for w in calendar_problems(found)] == [
        ("calendar.invalid", f"{path}:3", "SchoolYear")
    ]
    assert "SchoolYear 'next year' is not a school year" in str(calendar_problems(found)[0])
    assert found.school_years("08-01") == SchoolYears("08-01")
    # A year whose two halves are not one after the other is no school year either.
    skipped = _sessions_file(tmp_path, [("Fall", "2025-2027", "2025-08-18", "2025-12-19", 90)])
    assert [w.code for w in calendar_problems(read_calendars(skipped))] == ["calendar.invalid"]


def test_sessions_whose_years_are_out_of_order_are_refused() -> None:
    # 2026-27's session begins before 2025-26's: no date can belong to both in order.
    found = CalendarSet(
        sessions=[(2026, D(2025, 8, 18), D(2026, 6, 5)), (2027, D(2025, 8, 1), D(2027, 6, 4))]
    )
    with pytest.raises(DataError) as info:
        found.school_years()
    assert info.value.code == "calendar.invalid"


@pytest.mark.skipif(
    not SAMPLE.exists() and not os.environ.get("TIERFLOW_REQUIRE_SAMPLE_DATA"),
    reason=f"the Ed-Fi Grand Bend sample is not at {SAMPLE}",
)
def test_the_grand_bend_sessions_make_2021_2022() -> None:
    # Fall 2021-08-23..2021-12-17 and Spring 2022-01-04..2022-05-27, SchoolYear 2021-2022.
    years = read_calendars(SAMPLE).school_years()
    year = years.of(D(2021, 9, 1))
    assert (year.label, year.start, year.end) == (2022, D(2021, 8, 23), D(2022, 6, 30))
    assert years.of(D(2021, 8, 20)).label == 2021  # before the first session: July 1 years


def _cli(tmp_path: Path, calendar: Path, as_of: str) -> list[dict[str, list[str]]]:
    """The legal steps ``tierflow evaluate ca --events`` finds due over s1's two years."""
    enrollments = tmp_path / "enrollments.csv"
    enrollments.write_text(
        "student_id,school_id,entry_date,exit_date\n"
        "s1,lincoln,2025-08-18,2026-06-05\ns1,lincoln,2026-08-17,\n",
        encoding="utf-8",
    )
    events = tmp_path / "events.csv"
    events.write_text(
        "student_id,school_id,date,category\n"
        + "".join(f"s1,lincoln,{d},unexcused_absence\n" for d in [*MAY, SEPTEMBER_1]),
        encoding="utf-8",
    )
    argv = ["evaluate", "-r", "ca", "--events", str(events), "--calendar", str(calendar)]
    argv += ["--enrollments", str(enrollments), "--as-of", as_of]
    out = io.StringIO()
    with contextlib.redirect_stderr(io.StringIO()):
        assert main(argv, out=out) == 0
    decisions = [json.loads(line) for line in out.getvalue().splitlines()]
    return [
        {"legal_due": [a["step"] for a in d["legal_actions"] if a["status"] == "due"]}
        for d in decisions
    ]


def test_the_cli_counts_the_school_year_of_the_as_of_date(tmp_path: Path) -> None:
    calendar = tmp_path / "calendar.csv"
    calendar.write_text(
        "calendar_id,date\n" + "".join(f"lincoln,{d}\n" for d in LINCOLN.days), encoding="utf-8"
    )
    (september,) = _cli(tmp_path, calendar, "2026-09-04")
    assert september["legal_due"] == []  # one truancy in 2026-27
    (may,) = _cli(tmp_path, calendar, "2026-05-22")
    assert may["legal_due"] == ["not1"]
    # On 2026-07-03 ca's years (July 1) have s1 not enrolled in 2026-27 yet: nobody to evaluate.
    assert _cli(tmp_path, calendar, "2026-07-03") == []


def test_the_cli_reads_the_school_years_from_the_calendars_sessions(tmp_path: Path) -> None:
    # The same calendar as Ed-Fi XML whose sessions end 2025-26 on 2026-08-16, the day before
    # 2026-27's first session: on 2026-07-03 s1 is still in 2025-26, truant four times.
    day = """  <CalendarDate>
    <Date>{}</Date>
    <CalendarEvent><EventDuration>1</EventDuration>
      <CalendarEvent><CodeValue>Instructional day</CodeValue></CalendarEvent></CalendarEvent>
    <SchoolReference><SchoolIdentity><SchoolId>lincoln</SchoolId></SchoolIdentity></SchoolReference>
  </CalendarDate>
"""
    sessions = [
        ("Year", "2025-2026", "2025-08-18", "2026-06-05", 210),
        ("Year", "2026-2027", "2026-08-17", "2027-06-04", 210),
    ]
    text = "".join(
        SESSION.format(name=n, year=y, begin=b, end=e, days=d) for n, y, b, e, d in sessions
    ).replace("<SchoolId>9</SchoolId>", "<SchoolId>lincoln</SchoolId>")
    calendar = tmp_path / "calendar.xml"
    calendar.write_text(
        EDFI_SESSIONS.format(sessions=text + "".join(day.format(d) for d in LINCOLN.days)),
        encoding="utf-8",
    )
    assert calendar_problems(read_calendars(calendar)) == []
    (july,) = _cli(tmp_path, calendar, "2026-07-03")
    assert july["legal_due"] == ["not1"]
    (september,) = _cli(tmp_path, calendar, "2026-09-04")
    assert september["legal_due"] == []
