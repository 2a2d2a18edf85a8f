"""Chronic absence (FS195's definition) against figures computed by hand.

The district below, worked on paper (days absent / days enrolled):

========  ==========  =======================  ========================================
student   school      days                     FS195 verdict
========  ==========  =======================  ========================================
s1        lincoln     1 / 10                   exactly 10 days, exactly 10%: chronic
s2        lincoln     0.5 / 10                 5%: not chronic
s3        lincoln     5 / 9                    under 10 days: not counted
s4        washington  1.9 / 20                 9.5%: not chronic
s5        washington  2.3 / 23                 exactly 10% (a float trap): chronic
s6        lincoln     2 / 12                   16.7%: chronic at lincoln
s6        washington  0 / 6                    under 10 days: not counted at washington
s7        lincoln     2.9 / 30                 9.67%: not chronic
========  ==========  =======================  ========================================

lincoln: s1, s2, s6, s7 counted, s1 and s6 chronic: 2 of 4; s3 short.
washington: s4, s5 counted, s5 chronic: 1 of 2; s6 short.
district (a student's days summed): s6 has 2 / 18 = 11.1%: chronic; s3 short; so 3 of 6.
english_learner {s1, s2}: 1 of 2; iep {s5, s6}: 2 of 2; homeless {s5}: 1 of 1;
foster: nobody (rate None).
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from tierflow.report import ChronicAbsence, chronic_absence

FACTS = [
    {"student_id": "s1", "school_id": "lincoln", "days_enrolled": 10, "days_absent": 1,
     "groups": ["english_learner"], "race_ethnicity": "hispanic", "sex": "F"},
    {"student_id": "s2", "school_id": "lincoln", "days_enrolled": 10, "days_absent": 0.5,
     "groups": ["english_learner"], "sex": "M"},
    {"student_id": "s3", "school_id": "lincoln", "days_enrolled": 9, "days_absent": 5,
     "groups": []},
    {"student_id": "s4", "school_id": "washington", "days_enrolled": 20, "days_absent": 1.9},
    {"student_id": "s5", "school_id": "washington", "days_enrolled": 23, "days_absent": 2.3,
     "groups": ["homeless", "iep"], "sex": "female"},
    {"student_id": "s6", "school_id": "lincoln", "days_enrolled": 12, "days_absent": 2,
     "groups": ["iep"]},
    {"student_id": "s6", "school_id": "washington", "days_enrolled": 6, "days_absent": 0,
     "groups": ["iep"]},
    {"student_id": "s7", "school_id": "lincoln", "days_enrolled": 30, "days_absent": 2.9},
]  # fmt: skip


@pytest.fixture
def report() -> ChronicAbsence:
    return chronic_absence(FACTS)


def _counts(r: object) -> tuple[int, int, int]:
    return (r.enrolled, r.chronic, r.short_enrollment)  # type: ignore[attr-defined]


def test_the_district_is_unduplicated(report: ChronicAbsence) -> None:
    assert _counts(report.district) == (6, 3, 1)
    assert report.district.rate == 0.5


def test_each_school_counts_its_own_enrollments(report: ChronicAbsence) -> None:
    assert _counts(report.school("lincoln")) == (4, 2, 1)
    assert _counts(report.school("washington")) == (2, 1, 1)
    # s6 is chronic at lincoln and not counted at washington (6 days)
    verdicts = {(e.student_id, e.school_id): (e.counted, e.chronic) for e in report.enrollments}
    assert verdicts[("s6", "lincoln")] == (True, True)
    assert verdicts[("s6", "washington")] == (False, False)


def test_the_boundaries_are_inclusive(report: ChronicAbsence) -> None:
    verdicts = {s.student_id: (s.counted, s.chronic) for s in report.students}
    assert verdicts["s1"] == (True, True)  # 10 days, 10%
    assert verdicts["s5"] == (True, True)  # 2.3 of 23 is 10%, not 9.999...%
    assert verdicts["s3"] == (False, False)  # 9 days
    assert verdicts["s4"] == (True, False)  # 9.5%


def test_groups_including_one_with_nobody(report: ChronicAbsence) -> None:
    assert _counts(report.group("english_learner")) == (2, 1, 0)
    assert _counts(report.group("iep")) == (2, 2, 0)
    assert _counts(report.group("homeless")) == (1, 1, 0)
    foster = report.group("foster")
    assert _counts(foster) == (0, 0, 0)
    assert foster.rate is None
    assert _counts(report.group("race_ethnicity:hispanic")) == (1, 1, 0)
    assert _counts(report.group("sex:M")) == (1, 0, 0)


def test_two_records_at_one_school_are_summed() -> None:
    r = chronic_absence(
        [
            {"student_id": "a", "school_id": "x", "days_enrolled": 6, "days_absent": 0},
            {"student_id": "a", "school_id": "x", "days_enrolled": 4, "days_absent": 1},
        ]
    )
    assert _counts(r.school("x")) == (1, 1, 0)  # 1 of 10 days


def test_the_fs195_records(report: ChronicAbsence) -> None:
    rows = list(csv.reader(io.StringIO(report.to_fs195_csv(lea_id="0601"))))
    header, body = rows[0], rows[1:]
    assert header[:6] == [
        "file_record_number",
        "state_code",
        "state_agency_number",
        "lea_identifier",
        "school_identifier",
        "table_name",
    ]
    picked = [(r[0], r[3], r[4], r[5], r[6], r[7], r[8], r[10], r[11], r[13], r[15]) for r in body]
    assert picked == [
        ("1", "0601", "lincoln", "CHRONABSENT", "", "", "", "", "", "Y", "2"),
        ("2", "0601", "lincoln", "CHRONABSENT", "F", "HI7", "", "", "", "N", "1"),
        ("3", "0601", "lincoln", "CHRONABSENT", "F", "", "", "LEP", "", "N", "1"),
        ("4", "0601", "lincoln", "CHRONABSENT", "M", "", "", "LEP", "", "N", "0"),
        ("5", "0601", "washington", "CHRONABSENT", "", "", "", "", "", "Y", "1"),
        ("6", "0601", "washington", "CHRONABSENT", "F", "", "WDIS", "", "", "N", "1"),
        ("7", "0601", "washington", "CHRONABSENT", "F", "", "", "", "HOMELSENRL", "N", "1"),
    ]


def test_json_csv_and_text(report: ChronicAbsence) -> None:
    data = json.loads(report.to_json())
    assert data["district"] == {
        "scope": "district",
        "key": "all",
        "enrolled": 6,
        "chronic": 3,
        "short_enrollment": 1,
        "rate": 0.5,
    }
    foster = next(g for g in data["groups"] if g["key"] == "foster")
    assert foster["rate"] is None
    lines = report.to_csv().splitlines()
    assert lines[0] == '"scope","key","enrolled","chronic","short_enrollment","rate_percent"'
    assert lines[1] == '"district","all",6,3,1,"50.0"'
    assert '"group","foster",0,0,0,""' in lines
    assert "3 of 6 students enrolled 10+ days (50.0%)" in report.to_text()


def test_a_hostile_school_id_is_inert_in_the_fs195_file() -> None:
    r = chronic_absence([{"student_id": "a", "school_id": "=cmd()", "days_enrolled": 10,
                          "days_absent": 5}])  # fmt: skip
    assert "'=cmd()" in r.to_fs195_csv()


@pytest.mark.parametrize("bad", ["lots", -1, True, None, float("nan")])
def test_days_must_be_numbers(bad: object) -> None:
    with pytest.raises(ValueError, match="s1"):
        chronic_absence([{"student_id": "s1", "days_enrolled": 10, "days_absent": bad}])
