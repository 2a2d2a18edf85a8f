"""The effectiveness report: hand-computed windows, a planted effect recovered, none found.

The tiny case is counted by hand on a calendar of ten school days (1-12 September 2025, a
window of 3). The synthetic districts plant a known effect: served students' chance of missing
a day drops by a set amount from their start, while every student's chance rises by the same
district-wide drift, so the served students' own change is the effect minus the drift and
only the comparison recovers the effect itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from pathlib import Path

import pytest

from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.cli import main
from tierflow.report import DailyAttendance, Effectiveness, effectiveness
from tierflow.store import SqlRepository
from tierflow.workflow import InMemoryRepository, Intervention, Repository, WorkflowEvent

D = dt.date
SEPT = SchoolCalendar.from_pattern("lincoln", D(2025, 9, 1), D(2025, 9, 12))
KIND = "weekly-checkin"


def _decision(repo: Repository, sid: str, on: dt.date, tier: str = "tier2") -> None:
    detail = {"tier": tier, "interventions": [KIND], "legal": []}
    repo.append(WorkflowEvent(0, on, sid, "decision", detail=detail))


def _served(
    repo: Repository,
    n: int,
    sid: str,
    opened: dt.date,
    started: dt.date | None,
    *,
    state: str = "active",
    ended: dt.date | None = None,
    owner: str = "ms-lee",
) -> None:
    iv = Intervention(
        f"iv-{n:07d}", sid, "lincoln", KIND, 2, "mentor", owner, state, opened, None, None, None
    )
    iv.ended_on = ended
    repo.add(iv)
    if started is not None:
        repo.append(
            WorkflowEvent(0, started, sid, "transition", iv.id, "start", "assigned", "active")
        )


def _tiny(repo: Repository) -> FactsBuilder:
    b = FactsBuilder({"lincoln": SEPT})
    for sid in ("a", "b", "c", "d"):
        assert b.add_enrollment(Enrollment(sid, "lincoln", D(2025, 9, 1), grade=4))
    for sid, day, category, duration in [
        ("a", 3, "unexcused_absence", None),
        ("a", 4, "partial", 0.5),
        ("a", 9, "excused_absence", None),
        ("c", 2, "unexcused_absence", None),
        ("c", 3, "partial", 0.5),
    ]:
        event = AttendanceEvent(sid, "lincoln", D(2025, 9, day), category, duration=duration)
        assert b.add_event(event)
    # a: decided on the 4th, opened the 4th, started Friday the 5th; its goal was met.
    _decision(repo, "a", D(2025, 9, 4))
    _served(repo, 1, "a", D(2025, 9, 4), D(2025, 9, 5), state="met_goal", ended=D(2025, 9, 12))
    # b starts on the 2nd (one school day before), d on the 11th (two from it), e has no days.
    _served(repo, 2, "b", D(2025, 9, 2), D(2025, 9, 2))
    _served(repo, 3, "d", D(2025, 9, 11), None)  # never started: counted from its opening
    _served(repo, 4, "e", D(2025, 9, 8), D(2025, 9, 8))
    # c met the same trigger (tier2, weekly-checkin) and was never served.
    _decision(repo, "c", D(2025, 9, 1))
    return b


def test_before_and_after_rates_counted_by_hand() -> None:
    repo = InMemoryRepository()
    builder = _tiny(repo)
    report = effectiveness(repo, builder, as_of=D(2025, 9, 12), window=3, min_n=1)
    (row,) = report.rows
    # a: before = 2, 3, 4 Sept: missed 0 + 1 + 0.5 -> 1 - 1.5/3 = 0.5;
    #    after = 5, 8, 9 Sept: missed 0 + 0 + 1 -> 1 - 1/3 = 2/3; change 1/6.
    assert (row.served, row.analysed) == (4, 1)
    assert row.before_rate == pytest.approx(0.5)
    assert row.after_rate == pytest.approx(2 / 3)
    assert row.change == pytest.approx(1 / 6)
    assert row.change_ci == pytest.approx((1 / 6, 1 / 6))  # one student: every resample alike
    # c on the same days: before missed 1 + 0.5 -> 0.5 (within the caliper of a's 0.5);
    # after missed nothing -> 1.0; change 0.5; difference-in-differences 1/6 - 1/2 = -1/3.
    assert (row.matched, row.unmatched) == (1, 0)
    assert row.comparison_change == pytest.approx(0.5)
    assert row.did == pytest.approx(-1 / 3)
    assert (row.ended, row.goal_met, row.goal_met_share) == (1, 1, 1.0)


def test_students_with_too_few_days_are_counted_not_dropped() -> None:
    repo = InMemoryRepository()
    report = effectiveness(repo, _tiny(repo), as_of=D(2025, 9, 12), window=3, min_n=1)
    (row,) = report.rows
    assert dict(row.left_out) == {"no_attendance": 1, "too_few_before": 1, "too_few_after": 1}
    assert row.served == row.analysed + row.left_out_total()
    assert "left out: no attendance 1, too few before 1, too few after 1" in report.to_text()
    # The days after as_of are not yet attended: a's after window (5, 8, 9) is short on the
    # 8th, and d, opened on the 11th, is not served yet.
    repo = InMemoryRepository()
    (short,) = effectiveness(repo, _tiny(repo), as_of=D(2025, 9, 8), window=3, min_n=1).rows
    assert dict(short.left_out) == {"no_attendance": 1, "too_few_before": 1, "too_few_after": 1}
    assert (short.served, short.analysed) == (3, 0)


def test_below_min_n_there_are_counts_but_no_estimate() -> None:
    repo = InMemoryRepository()
    row = effectiveness(repo, _tiny(repo), as_of=D(2025, 9, 12), window=3).rows[0]
    assert (row.analysed, row.matched) == (1, 1)
    assert (row.change, row.change_ci, row.did, row.did_ci) == (None, None, None, None)


def test_a_comparison_served_later_counts_one_served_within_the_window_does_not() -> None:
    days = tuple(SEPT.days_between(D(2025, 9, 1), D(2025, 9, 12)))
    never = (0.0,) * 10
    repo = InMemoryRepository()
    attendance = {
        sid: DailyAttendance(sid, days, never, grade="4") for sid in ("s", "late", "soon", "g5")
    }
    for sid in attendance:
        _decision(repo, sid, D(2025, 9, 1))
    _served(repo, 1, "s", D(2025, 9, 5), D(2025, 9, 5))
    _served(repo, 2, "soon", D(2025, 9, 9), D(2025, 9, 9))  # inside s's after window
    _served(repo, 3, "late", D(2025, 9, 10), D(2025, 9, 10))  # after it: a comparison
    attendance["g5"] = DailyAttendance("g5", days, never, grade="5")  # another grade
    report = effectiveness(repo, attendance, as_of=D(2025, 9, 12), window=3, min_n=1)
    (row,) = report.rows
    # s (windows 2-4 and 5-9 Sept) is matched to late, first served on the 10th; not to soon,
    # served on the 9th, nor g5 (grade 5). soon (after window 9-11) and late (10-12) find
    # nobody: the others were served before their windows ended, g5 is in another grade.
    assert (row.served, row.analysed, row.matched, row.unmatched) == (3, 3, 1, 2)


def _district(
    effect: float, seed: int, n: int = 360
) -> tuple[InMemoryRepository, dict[str, DailyAttendance]]:
    """Students each with their own chance of missing a day; every other one served.

    From the anchor day (the 40th of 80 school days) every student's chance rises by 0.03
    (a district-wide drift), and a served student's falls by ``effect``.
    """
    rng = random.Random(seed)
    cal = SchoolCalendar.from_pattern("lincoln", D(2025, 9, 1), D(2025, 12, 19))
    days = tuple(cal.days_between(D(2025, 9, 1), D(2025, 12, 19)))[:80]
    anchor = days[40]
    repo = InMemoryRepository()
    attendance = {}
    for i in range(n):
        sid = f"s{i:04d}"
        chance = rng.uniform(0.05, 0.30)
        served = i % 2 == 0
        absent = []
        for k in range(len(days)):
            p = chance + (0.03 - (effect if served else 0.0) if k >= 40 else 0.0)
            absent.append(1.0 if rng.random() < p else 0.0)
        attendance[sid] = DailyAttendance(sid, days, tuple(absent), grade=str(3 + i % 3))
        _decision(repo, sid, days[38])
        if served:
            _served(repo, i, sid, days[39], anchor)
    return repo, attendance


@pytest.mark.parametrize("seed", [1, 2])
def test_a_planted_effect_is_recovered_within_its_interval(seed: int) -> None:
    repo, attendance = _district(0.10, seed)
    report = effectiveness(repo, attendance, as_of=D(2026, 1, 1), seed=seed)
    (row,) = report.rows
    assert row.did_ci is not None and row.change_ci is not None
    assert row.did_ci[0] <= 0.10 <= row.did_ci[1]
    assert row.did_ci[0] > 0  # the effect is found
    # Without the comparison the drift hides part of it: the change is about 0.10 - 0.03.
    assert row.change_ci[0] <= 0.07 <= row.change_ci[1]
    assert row.matched > 0.8 * row.analysed


def test_no_planted_effect_gives_intervals_holding_zero() -> None:
    # A 95% interval misses now and then by design (1 in 20): of ten districts with no
    # effect, nine or ten hold 0 when the intervals are right (eight or fewer: 1.2%), and the
    # estimates centre on 0.
    holding, estimates = 0, []
    for seed in range(10):
        repo, attendance = _district(0.0, 100 + seed)
        (row,) = effectiveness(repo, attendance, as_of=D(2026, 1, 1), seed=seed).rows
        assert row.did_ci is not None and row.did is not None
        holding += row.did_ci[0] <= 0.0 <= row.did_ci[1]
        estimates.append(row.did)
    assert holding >= 9
    assert abs(sum(estimates) / len(estimates)) < 0.01


def test_the_same_seed_gives_the_same_report_and_rows_are_grouped() -> None:
    repo, attendance = _district(0.10, 5, n=60)
    one = effectiveness(repo, attendance, as_of=D(2026, 1, 1), by=("grade",), min_n=3)
    two = effectiveness(repo, attendance, as_of=D(2026, 1, 1), by=("grade",), min_n=3)
    assert one == two
    assert [r.group for r in one.rows] == [(("grade", g),) for g in ("3", "4", "5")]
    assert sum(r.served for r in one.rows) == 30


def test_exports_write_numbers_and_neutralise_text() -> None:
    repo = InMemoryRepository()
    builder = _tiny(repo)
    report = effectiveness(repo, builder, as_of=D(2025, 9, 12), window=3, min_n=1, by=["owner"])
    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert rows[0]["owner"] == "ms-lee"
    assert (rows[0]["change_bp"], rows[0]["did_bp"]) == ("1667", "-3333")  # 1/6, -1/3
    data = json.loads(report.to_json())
    assert data["rows"][0]["did"] == pytest.approx(-1 / 3)
    assert data["rows"][0]["left_out"]["no_attendance"] == 1
    hostile = InMemoryRepository()
    _served(hostile, 1, "a", D(2025, 9, 4), D(2025, 9, 5), owner="=HYPERLINK(1)")
    text = effectiveness(
        hostile, _tiny(InMemoryRepository()), as_of=D(2025, 9, 12), window=3, by=["owner"]
    ).to_csv()
    assert '"\'=HYPERLINK(1)"' in text


def test_bad_settings_are_refused() -> None:
    repo = InMemoryRepository()
    with pytest.raises(ValueError, match="unknown grouping"):
        effectiveness(repo, {}, by=["race"])
    with pytest.raises(ValueError, match="window must be 1 or more"):
        effectiveness(repo, {}, window=0)
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        DailyAttendance("x", (D(2025, 9, 1),), (1.5,))


def test_the_command_reads_the_store_and_the_files(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqlRepository(str(db)) as repo:
        _tiny(repo)
    (tmp_path / "cal.csv").write_text(
        "calendar_id,date\n"
        + "".join(f"lincoln,{d}\n" for d in SEPT.days_between(D(2025, 9, 1), D(2025, 9, 12)))
    )
    (tmp_path / "enr.csv").write_text(
        "student_id,school_id,entry_date,grade\n"
        + "".join(f"{s},lincoln,2025-09-01,4\n" for s in "abcd")
    )
    (tmp_path / "ev.csv").write_text(
        "student_id,school_id,date,category,duration\n"
        "a,lincoln,2025-09-03,unexcused_absence,\n"
        "a,lincoln,2025-09-04,partial,0.5\n"
        "a,lincoln,2025-09-09,excused_absence,\n"
        "c,lincoln,2025-09-02,unexcused_absence,\n"
        "c,lincoln,2025-09-03,partial,0.5\n"
    )
    out = io.StringIO()
    code = main(
        [
            "report",
            "effectiveness",
            "--db",
            str(db),
            "--calendar",
            str(tmp_path / "cal.csv"),
            "--events",
            str(tmp_path / "ev.csv"),
            "--enrollments",
            str(tmp_path / "enr.csv"),
            "--as-of",
            "2025-09-12",
            "--window",
            "3",
            "--min-n",
            "1",
            "--format",
            "json",
        ],
        out,
    )
    assert code == 0
    row = json.loads(out.getvalue())["rows"][0]
    assert row["did"] == pytest.approx(-1 / 3)
    assert row["left_out"] == {"no_attendance": 1, "too_few_before": 1, "too_few_after": 1}
    assert isinstance(Effectiveness, type)


def test_the_command_offers_the_library_groupings() -> None:
    from tierflow.cli._insight_effect import _BY
    from tierflow.report import EFFECT_BY

    assert ("intervention", *_BY) == EFFECT_BY


def test_the_command_refuses_a_bad_window_and_a_missing_store(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqlRepository(str(db)) as repo:
        _tiny(repo)
    (tmp_path / "cal.csv").write_text("calendar_id,date\nlincoln,2025-09-01\n")
    (tmp_path / "ev.csv").write_text("student_id,school_id,date,category\n")
    files = ["--calendar", str(tmp_path / "cal.csv"), "--events", str(tmp_path / "ev.csv")]
    with pytest.raises(SystemExit, match="window must be 1 or more"):
        main(["report", "effectiveness", "--db", str(db), *files, "--window", "0"])
    missing = ["report", "effectiveness", "--db", str(tmp_path / "none.db"), *files]
    assert main(missing) == 2


def test_a_student_in_two_groups_counts_in_each() -> None:
    days = tuple(SEPT.days_between(D(2025, 9, 1), D(2025, 9, 12)))
    repo = InMemoryRepository()
    attendance = {
        "a": DailyAttendance("a", days, (0.0,) * 10, grade="4", groups=("el", "iep")),
        "b": DailyAttendance("b", days, (0.0,) * 10, grade="4"),
    }
    _served(repo, 1, "a", D(2025, 9, 5), D(2025, 9, 5))
    _served(repo, 2, "b", D(2025, 9, 5), D(2025, 9, 5))
    report = effectiveness(
        repo, attendance, as_of=D(2025, 9, 12), window=3, by=("group", "school"), min_n=1
    )
    assert [(r.group, r.served) for r in report.rows] == [
        ((("group", "el"), ("school", "lincoln")), 1),
        ((("group", "iep"), ("school", "lincoln")), 1),
        ((("group", None), ("school", "lincoln")), 1),
    ]
    header = report.to_csv().splitlines()[0]
    assert header.startswith('"intervention","group","school","served"')


def test_a_large_row_gets_the_normal_interval_which_the_bootstrap_agrees_with() -> None:
    from tierflow.report._effect_calc import BOOTSTRAP_DRAWS, bootstrap

    rng = random.Random(5)
    values = [rng.gauss(0.02, 0.1) for _ in range(1_500)]
    # Past the cap: mean +- 1.959964 * s / sqrt(n), computed here by hand.
    n = len(values)
    m = sum(values) / n
    s = (sum((v - m) ** 2 for v in values) / (n - 1)) ** 0.5
    low, high = bootstrap(values, random.Random(1), BOOTSTRAP_DRAWS // n + 1, 0.95)
    assert low == pytest.approx(m - 1.959964 * s / n**0.5, abs=1e-6)
    assert high == pytest.approx(m + 1.959964 * s / n**0.5, abs=1e-6)
    # Under the cap the percentile bootstrap is drawn, and lands within a few percent of it.
    b_low, b_high = bootstrap(values, random.Random(1), BOOTSTRAP_DRAWS // n, 0.95)
    assert (b_low, b_high) != (low, high)
    assert b_low == pytest.approx(low, abs=0.15 * (high - low))
    assert b_high == pytest.approx(high, abs=0.15 * (high - low))


def test_grouped_separately_each_key_alone_after_the_district() -> None:
    days = tuple(SEPT.days_between(D(2025, 9, 1), D(2025, 9, 12)))
    repo = InMemoryRepository()
    attendance = {
        "a": DailyAttendance("a", days, (0.0,) * 10, grade="4", groups=("el", "iep")),
        "b": DailyAttendance("b", days, (0.0,) * 10, grade="5"),
        "c": DailyAttendance("c", days, (0.0,) * 10, grade="5", groups=("el",)),
    }
    for n, sid in enumerate(attendance):
        _served(repo, n, sid, D(2025, 9, 5), D(2025, 9, 5))
    report = effectiveness(
        repo,
        attendance,
        as_of=D(2025, 9, 12),
        window=3,
        by=("grade", "group"),
        min_n=1,
        separately=True,
    )
    # Counted by hand: three served in all; grade 4 has a, grade 5 b and c; el a and c, iep
    # a, and b is in no group. No row is by grade and group at once.
    assert [(r.group, r.served) for r in report.rows] == [
        ((), 3),
        ((("grade", "4"),), 1),
        ((("grade", "5"),), 2),
        ((("group", "el"),), 2),
        ((("group", "iep"),), 1),
        ((("group", None),), 1),
    ]
    # The district row is the report without grouping; a key's rows, the report by that key.
    alone = effectiveness(repo, attendance, as_of=D(2025, 9, 12), window=3, min_n=1)
    by_grade = effectiveness(
        repo, attendance, as_of=D(2025, 9, 12), window=3, by=("grade",), min_n=1
    )
    assert report.rows[0] == alone.rows[0]
    assert report.rows[1:3] == by_grade.rows
    lines = report.to_csv().splitlines()
    assert lines[0].startswith('"intervention","grouped_by","grade","group","served"')
    # The district row and the no-group row differ only by the column that says which is which.
    assert lines[1].split(",")[:4] == ['"weekly-checkin"', '"district"', '""', '""']
    assert lines[6].split(",")[:4] == ['"weekly-checkin"', '"group"', '""', '""']
    assert json.loads(report.to_json())["separately"] is True
