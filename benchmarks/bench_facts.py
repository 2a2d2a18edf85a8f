"""Benchmark: one district-year of raw attendance events turned into facts.

Generates (fixed seed) a district of N students (default 50,000) on one 180-day calendar with
realistic absence patterns, recorded as Ed-Fi does: exceptions only (absences, partial days,
tardies), so a student with no event on a school day was present. Then measures:

1. ``FactsBuilder``: ingesting every event (validation, conflict rules) and computing all facts
   (counts, streaks, weekday pattern, recent rate, attendance log) for every student as of the
   last day, against a straightforward hand-written computation of the same metrics on the
   same events; the two must agree for every student before any time is reported;
2. reading the events from tierflow CSV and from Ed-Fi XML (on a sample of the students);
3. peak memory (resident set size) of a fresh process doing step 1 with events streamed.

Run::

    python benchmarks/bench_facts.py                  # 50,000 students
    python benchmarks/bench_facts.py --students 2000  # quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tierflow.attendance import (
    AttendanceEvent,
    Enrollment,
    FactsBuilder,
    SchoolCalendar,
    read_events,
)

SCHOOL = "district-hs"
FIRST, LAST = dt.date(2025, 8, 18), dt.date(2026, 5, 29)
HOLIDAYS = [dt.date(2025, 9, 1), dt.date(2025, 11, 11), dt.date(2026, 1, 19), dt.date(2026, 2, 16)]
BREAKS = [
    (dt.date(2025, 11, 24), dt.date(2025, 11, 28)),
    (dt.date(2025, 12, 22), dt.date(2026, 1, 2)),
    (dt.date(2026, 3, 30), dt.date(2026, 4, 3)),
]
COMPARED = (
    "days_enrolled",
    "days_absent",
    "days_excused",
    "days_unexcused",
    "tardies",
    "tardies_over_30",
    "current_absence_streak",
    "longest_absence_streak",
    "absences_monday",
    "absences_friday",
    "recent_absence_rate",
)


def calendar() -> SchoolCalendar:
    """The district's calendar: 180 instructional days, weekdays minus holidays and breaks."""
    cal = SchoolCalendar.from_pattern(SCHOOL, FIRST, LAST, holidays=HOLIDAYS, breaks=BREAKS)
    return SchoolCalendar(SCHOOL, cal.days[:180])


def generate(
    students: int, seed: int, cal: SchoolCalendar, explicit: bool = False
) -> Iterator[AttendanceEvent]:
    """Yield the district's events, student by student.

    Exceptions only, like Ed-Fi; with ``explicit``, also a ``present`` record for every other
    school day, as some SIS exports have (the exceptions are the same for the same seed).
    """
    rng = random.Random(seed)
    days = cal.days
    n = len(days)
    weights = [1.5 if d.weekday() in (0, 4) else 1.0 for d in days]  # Monday/Friday skew
    for i in range(students):
        sid = f"{i + 1:07d}"
        band = rng.random()
        rate = (
            rng.uniform(0, 0.05)
            if band < 0.65
            else rng.uniform(0.05, 0.10)
            if band < 0.85
            else rng.uniform(0.10, 0.20)
            if band < 0.97
            else rng.uniform(0.20, 0.45)
        )
        wanted = round(rate * n)
        absent: set[int] = set()
        while len(absent) < wanted:
            if rng.random() < 0.25:  # a streak of 2-5 days
                start = rng.randrange(n)
                absent.update(range(start, min(n, start + rng.randint(2, 5))))
            else:
                absent.add(rng.choices(range(n), weights)[0])
        unexcused_share = rng.choice((0.0, 0.2, 0.5, 0.8, 1.0))
        for k in sorted(absent):
            day = days[k]
            if rng.random() < 0.04:
                yield AttendanceEvent(sid, SCHOOL, day, "partial", minutes=rng.randint(60, 200))
            elif rng.random() < unexcused_share:
                yield AttendanceEvent(sid, SCHOOL, day, "unexcused_absence")
            else:
                yield AttendanceEvent(sid, SCHOOL, day, "excused_absence", reason="sick")
        for _ in range(rng.choice((0, 0, 0, 1, 2, 3, 5, 8))):
            k = rng.randrange(n)
            if k not in absent:
                absent.add(k)  # one event per student-day
                yield AttendanceEvent(sid, SCHOOL, days[k], "tardy", minutes=rng.randint(5, 45))
        if explicit:
            for k in range(n):
                if k not in absent:
                    yield AttendanceEvent(sid, SCHOOL, days[k], "present")


# --- the hand-written computation -----------------------------------------------------------


def by_hand(
    events: Iterator[AttendanceEvent], students: int, cal: SchoolCalendar, as_of: dt.date
) -> dict[str, dict[str, Any]]:
    """The same metrics, computed the straightforward way: a dict of days per student."""
    days = [d for d in cal.days if d <= as_of]
    index = {d: i for i, d in enumerate(days)}
    per_student: dict[str, dict[dt.date, AttendanceEvent]] = {}
    for e in events:
        per_student.setdefault(e.student_id, {})[e.date] = e
    out = {}
    for i in range(students):
        sid = f"{i + 1:07d}"
        recorded = per_student.get(sid, {})
        excused = unexcused = 0.0
        tardies = over = 0
        monday = friday = 0.0
        missed = [0.0] * len(days)
        for day, e in recorded.items():
            if day > as_of:
                continue
            if e.category == "tardy":
                tardies += 1
                over += e.minutes is not None and e.minutes > 30
                continue
            part = 1.0 if e.minutes is None else min(1.0, e.minutes / 360)
            if e.category == "unexcused_absence":
                unexcused += part
            else:
                excused += part
            missed[index[day]] = part
            if day.weekday() == 0:
                monday += part
            elif day.weekday() == 4:
                friday += part
        longest = run = 0
        for part in missed:
            run = run + 1 if part >= 0.5 else 0
            longest = max(longest, run)
        recent = missed[-20:]
        out[sid] = {
            "days_enrolled": len(days),
            "days_absent": excused + unexcused,
            "days_excused": excused,
            "days_unexcused": unexcused,
            "tardies": tardies,
            "tardies_over_30": over,
            "current_absence_streak": run,
            "longest_absence_streak": longest,
            "absences_monday": monday,
            "absences_friday": friday,
            "recent_absence_rate": sum(recent) / len(recent),
        }
    return out


def with_tierflow(
    events: Iterator[AttendanceEvent], students: int, cal: SchoolCalendar, as_of: dt.date
) -> tuple[FactsBuilder, list[dict[str, Any]]]:
    builder = FactsBuilder({SCHOOL: cal})
    for i in range(students):
        builder.add_enrollment(Enrollment(f"{i + 1:07d}", SCHOOL, cal.first_day))
    add = builder.add_event
    for e in events:
        add(e)
    return builder, list(builder.facts(as_of))


# --- files ----------------------------------------------------------------------------------


def write_csv(path: Path, events: Iterator[AttendanceEvent]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("student_id,school_id,date,category,duration,minutes,reason\n")
        for e in events:
            minutes = "" if e.minutes is None else f"{e.minutes:g}"
            fh.write(
                f"{e.student_id},{e.school_id},{e.date},{e.category},,{minutes},{e.reason or ''}\n"
            )
            count += 1
    return count


_EDFI = {
    "excused_absence": "Excused Absence",
    "unexcused_absence": "Unexcused Absence",
    "tardy": "Tardy",
    "partial": "Partial",
}


def write_xml(path: Path, events: Iterator[AttendanceEvent]) -> int:
    count = 0
    descriptor = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        fh.write('<InterchangeStudentAttendance xmlns="http://ed-fi.org/5.2.0">\n')
        for e in events:
            minutes = (
                f"<SchoolAttendanceDuration>{e.minutes:g}</SchoolAttendanceDuration>"
                if e.minutes is not None
                else ""
            )
            fh.write(
                "<StudentSchoolAttendanceEvent><AttendanceEvent>"
                f"<EventDate>{e.date}</EventDate>"
                f"<AttendanceEventCategory>{descriptor}{_EDFI[e.category]}</AttendanceEventCategory>"
                f"<AttendanceEventReason>{e.reason or ''}</AttendanceEventReason>{minutes}"
                "</AttendanceEvent><StudentReference><StudentIdentity>"
                f"<StudentUniqueId>{e.student_id}</StudentUniqueId></StudentIdentity>"
                "</StudentReference><SchoolReference><SchoolIdentity>"
                f"<SchoolId>{e.school_id}</SchoolId></SchoolIdentity></SchoolReference>"
                "</StudentSchoolAttendanceEvent>\n"
            )
            count += 1
        fh.write("</InterchangeStudentAttendance>\n")
    return count


def ingest(path: Path, students: int, cal: SchoolCalendar) -> tuple[float, FactsBuilder]:
    builder = FactsBuilder({SCHOOL: cal})
    for i in range(students):
        builder.add_enrollment(Enrollment(f"{i + 1:07d}", SCHOOL, cal.first_day))
    start = time.perf_counter()
    for item in read_events(path):
        if isinstance(item, AttendanceEvent):
            builder.add_event(item)
        else:
            builder.reject(item)
    return time.perf_counter() - start, builder


# --- memory, in a fresh process ------------------------------------------------------------


def _peak_kib() -> int:
    """Peak resident set size of this process, in KiB.

    ``VmHWM`` from ``/proc`` where there is one: ``ru_maxrss`` survives ``exec`` on Linux, so a
    fresh child would report its parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _memory_child(students: int, seed: int, explicit: bool) -> None:
    cal = calendar()
    base = _peak_kib()
    start = time.perf_counter()
    for _ in generate(students, seed, cal, explicit):  # the cost of making the records alone
        pass
    making = time.perf_counter() - start
    start = time.perf_counter()
    builder = FactsBuilder({SCHOOL: cal})
    for i in range(students):
        builder.add_enrollment(Enrollment(f"{i + 1:07d}", SCHOOL, cal.first_day))
    for e in generate(students, seed, cal, explicit):
        builder.add_event(e)
    held = 0
    for facts in builder.facts(cal.last_day):
        held += len(facts)
    peak = _peak_kib()
    print(f"{base} {peak} {builder.report.read} {time.perf_counter() - start:.2f} {making:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--xml-share", type=float, default=0.1, help="students in the XML test")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--explicit", action="store_true", help="also measure explicit daily present records"
    )
    args = parser.parse_args(argv)
    if args.memory_child:
        _memory_child(args.students, args.seed, args.explicit)
        return 0

    cal = calendar()
    as_of = cal.last_day
    n = args.students
    version = sys.version.split()[0]
    print(f"Python {version}; {n:,} students x {len(cal)} school days (seed {args.seed})")
    start = time.perf_counter()
    events = list(generate(n, args.seed, cal))
    print(
        f"generated {len(events):,} exception events in {time.perf_counter() - start:.1f} s "
        f"(explicit daily records would be {n * len(cal):,})"
    )

    gc.collect()
    start = time.perf_counter()
    builder, facts = with_tierflow(iter(events), n, cal, as_of)
    tierflow_s = time.perf_counter() - start
    gc.collect()
    start = time.perf_counter()
    reference = by_hand(iter(events), n, cal, as_of)
    hand_s = time.perf_counter() - start

    report = builder.report
    assert report.read == report.accepted + report.rejected
    mismatches = [
        (f["student_id"], key, f[key], reference[f["student_id"]][key])
        for f in facts
        for key in COMPARED
        if abs(f[key] - reference[f["student_id"]][key]) > 1e-9
    ]
    if mismatches or len(facts) != n or report.rejected:
        print(f"MISMATCH: {len(mismatches)} values differ, {report.summary()}")
        for m in mismatches[:5]:
            print("  ", m)
        return 1
    print(f"all {n:,} students' facts equal the hand-written computation ({len(COMPARED)} metrics)")
    print("\nfacts for the district-year      seconds   events/s   ratio (target: < 30 s)")
    print(f"  hand-written                  {hand_s:8.2f} {len(events) / hand_s:10,.0f}")
    print(
        f"  tierflow FactsBuilder         {tierflow_s:8.2f} {len(events) / tierflow_s:10,.0f}"
        f"   {tierflow_s / hand_s:5.2f}x  {'ok' if tierflow_s < 30 else 'OVER'}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "events.csv"
        write_csv(csv_path, iter(events))
        csv_s, csv_builder = ingest(csv_path, n, cal)
        size = csv_path.stat().st_size
        assert csv_builder.report.accepted - n == len(events), csv_builder.report.summary()
        xml_students = max(1, int(n * args.xml_share))
        sample = [e for e in events if int(e.student_id) <= xml_students]
        xml_path = Path(tmp) / "events.xml"
        write_xml(xml_path, iter(sample))
        xml_s, xml_builder = ingest(xml_path, xml_students, cal)
        xml_size = xml_path.stat().st_size
        assert xml_builder.report.accepted - xml_students == len(sample)
    print("\nreading files (read + validate + add)   events   seconds   events/s")
    csv_label = f"tierflow CSV ({size / 1e6:,.0f} MB)"
    print(f"  {csv_label:<36} {len(events):9,} {csv_s:8.2f} {len(events) / csv_s:10,.0f}")
    xml_label = f"Ed-Fi XML ({xml_size / 1e6:,.0f} MB, {xml_students:,} students)"
    print(f"  {xml_label:<36} {len(sample):9,} {xml_s:8.2f} {len(sample) / xml_s:10,.0f}")

    for explicit in (False, True) if args.explicit else (False,):
        command = [sys.executable, __file__, "--memory-child", "--students", str(n)]
        command += ["--seed", str(args.seed)] + (["--explicit"] if explicit else [])
        child = subprocess.run(command, capture_output=True, text=True, check=True)
        base_kib, peak_kib, read, seconds, making = child.stdout.split()
        peak = int(peak_kib)
        what = "explicit daily records" if explicit else "exceptions only"
        print(
            f"\n{what}: {int(read) - n:,} events streamed into FactsBuilder and all facts "
            f"computed in {float(seconds):.1f} s, of which {float(making):.1f} s is the generator "
            f"making the records; peak memory {peak / 1024:,.0f} MiB resident "
            f"({(peak - int(base_kib)) / 1024:,.0f} MiB above the interpreter with tierflow "
            f"loaded; target < 2 GB {'ok' if peak < 2 * 1024 * 1024 else 'OVER'})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
