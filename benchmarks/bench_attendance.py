"""Benchmark: a district-year of raw attendance events, two schools, moves, into facts.

Generates (fixed seed) N students (default 50,000) at two high schools, each with its own
180-day calendar (different holidays, a Saturday make-up day, two half days), 3% of them moving
between the schools mid-year. Absences follow the usual shape: most students miss a few days,
about 15% are chronically absent (10% or more), absences cluster in streaks, Mondays and
Fridays are skewed; some days are partial (minutes, measured against the half days too), some
absences are suspensions, and tardies carry minutes. Recorded as Ed-Fi does, exceptions only
(with ``--explicit``, also one ``present`` record for every other student school day, about 9
million, as some SIS exports have).

Then, after checking that both give the same numbers for every student:

1. ``FactsBuilder``: add every enrollment and event (validation, conflict rules) and compute all
   facts for every student as of the last day; against
2. a hand-written computation of the same metrics (a dict of days per student, one loop);
3. the same events written as tierflow CSV and as an Ed-Fi XML interchange, read back with
   ``read_events``, ingested, and checked against the hand-written metrics again;
4. memory: the builder's own peak in this process, and the peak of a fresh process that
   streams the records into a builder and computes every student's facts without keeping
   them (memory grows with students, not records); with ``--explicit``, the same with the
   explicit daily records.

Run::

    python benchmarks/bench_attendance.py                   # 50,000 students
    python benchmarks/bench_attendance.py --explicit        # also 9 million daily records
    python benchmarks/bench_attendance.py --students 2000   # quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.errors import DataReport
from tierflow.ingest import read_events

FIRST, LAST = dt.date(2025, 8, 18), dt.date(2026, 6, 12)
SCHOOL_DAYS = 180
MINUTES_PER_DAY = 360.0  # the policy's default
COMPARED = (
    "days_enrolled",
    "days_present",
    "days_absent",
    "days_excused",
    "days_unexcused",
    "days_suspended",
    "tardies",
    "tardies_over_30",
    "current_absence_streak",
    "longest_absence_streak",
    "absences_monday",
    "absences_tuesday",
    "absences_wednesday",
    "absences_thursday",
    "absences_friday",
    "recent_absence_rate",
)


def calendars() -> dict[str, SchoolCalendar]:
    """Two schools' calendars, 180 instructional days each."""
    breaks = [
        (dt.date(2025, 11, 24), dt.date(2025, 11, 28)),
        (dt.date(2025, 12, 22), dt.date(2026, 1, 2)),
    ]
    plans = {
        "north-hs": (
            [dt.date(2025, 9, 1), dt.date(2025, 10, 13), dt.date(2026, 1, 19)],
            [*breaks, (dt.date(2026, 3, 30), dt.date(2026, 4, 3))],
            [dt.date(2026, 2, 7)],  # a Saturday make-up day
        ),
        "south-hs": (
            [dt.date(2025, 9, 1), dt.date(2025, 11, 11), dt.date(2026, 2, 16)],
            [*breaks, (dt.date(2026, 4, 6), dt.date(2026, 4, 10))],
            [dt.date(2026, 1, 31)],
        ),
    }
    out = {}
    for school, (holidays, off, makeup) in plans.items():
        full = SchoolCalendar.from_pattern(
            school, FIRST, LAST, holidays=holidays, breaks=off, makeup_days=makeup
        )
        days = full.days[:SCHOOL_DAYS]
        half = {days[40]: 0.5, days[120]: 0.5}  # half days before the breaks, say
        out[school] = SchoolCalendar(school, days, half)
    return out


def student_records(
    i: int, rng: random.Random, cals: dict[str, SchoolCalendar], explicit: bool = False
) -> tuple[list[Enrollment], list[AttendanceEvent]]:
    """One student's enrollments and exception events (and present records with ``explicit``).

    The present records draw nothing from ``rng``, so the exceptions are the same either way.
    """
    schools = sorted(cals)
    sid = f"{i + 1:07d}"
    home = schools[i % 2]
    cal = cals[home]
    spans: list[Enrollment] = []
    events: list[AttendanceEvent] = []
    # Where the student is on each school day of its own year: (school, day) in order.
    if rng.random() < 0.03:  # moves to the other school mid-year
        other = schools[1 - i % 2]
        leave = cal.days[rng.randrange(40, 140)]
        arrive = next(d for d in cals[other].days if d > leave + dt.timedelta(days=2))
        spans.append(Enrollment(sid, home, cal.first_day, leave, grade=9 + i % 4))
        spans.append(Enrollment(sid, other, arrive, grade=9 + i % 4))
        days = [(home, d) for d in cal.days if d <= leave]
        days += [(other, d) for d in cals[other].days if d >= arrive]
    else:
        spans.append(Enrollment(sid, home, cal.first_day, grade=9 + i % 4))
        days = [(home, d) for d in cal.days]
    n = len(days)
    band = rng.random()
    if band < 0.70:
        rate = rng.uniform(0.0, 0.04)
    elif band < 0.85:
        rate = rng.uniform(0.04, 0.10)
    else:  # chronically absent
        rate = rng.uniform(0.10, 0.35)
    weights = [1.6 if d.weekday() in (0, 4) else 1.0 for _, d in days]
    absent: set[int] = set()
    wanted = round(rate * n)
    while len(absent) < wanted:
        if rng.random() < 0.3:  # a streak of 2-6 school days
            start = rng.randrange(n)
            absent.update(range(start, min(n, start + rng.randint(2, 6))))
        else:
            absent.add(rng.choices(range(n), weights)[0])
    unexcused_share = rng.choice((0.1, 0.3, 0.5, 0.8))
    for k in sorted(absent):
        school, day = days[k]
        roll = rng.random()
        if roll < 0.05:
            minutes = float(rng.randrange(60, 241, 15))
            events.append(AttendanceEvent(sid, school, day, "partial", minutes=minutes))
        elif roll < 0.08:
            events.append(AttendanceEvent(sid, school, day, "suspension_out", reason="fight"))
        elif rng.random() < unexcused_share:
            events.append(AttendanceEvent(sid, school, day, "unexcused_absence"))
        else:
            reason = rng.choice(("sick", "doctor appointment", "family emergency", None))
            events.append(AttendanceEvent(sid, school, day, "excused_absence", reason=reason))
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2, 3, 5, 9))):
        k = rng.randrange(n)
        if k not in absent:  # one event per student-day
            absent.add(k)
            school, day = days[k]
            minutes = float(rng.randint(3, 50))
            events.append(AttendanceEvent(sid, school, day, "tardy", minutes=minutes))
    if explicit:
        present = [AttendanceEvent(sid, *days[k], "present") for k in range(n) if k not in absent]
        events.extend(present)
    return spans, events


def generate(
    students: int, seed: int, cals: dict[str, SchoolCalendar]
) -> tuple[list[Enrollment], list[AttendanceEvent]]:
    """The district's enrollments and its exception events, student by student."""
    rng = random.Random(seed)
    spans: list[Enrollment] = []
    events: list[AttendanceEvent] = []
    for i in range(students):
        more_spans, more_events = student_records(i, rng, cals)
        spans += more_spans
        events += more_events
    return spans, events


def stream(
    students: int, seed: int, cals: dict[str, SchoolCalendar], explicit: bool
) -> Iterator[Enrollment | AttendanceEvent]:
    """The same records one student at a time (enrollments first), holding one student's."""
    rng = random.Random(seed)
    for i in range(students):
        spans, events = student_records(i, rng, cals, explicit)
        yield from spans
        yield from events


# --- the hand-written computation ------------------------------------------------------------


def by_hand(
    spans: Iterable[Enrollment],
    events: Iterable[AttendanceEvent],
    cals: dict[str, SchoolCalendar],
    as_of: dt.date,
) -> dict[str, dict[str, Any]]:
    """The same metrics the straightforward way: each student's school days and a dict of days.

    Written for this data set: at most one event per student-day, every event valid, the
    default policy (full-day equivalents, suspensions count, 30 tardy minutes, 360-minute
    days, 0.5 for a streak, 20 recent days).
    """
    school_days: dict[str, list[tuple[dt.date, float]]] = {}
    for s in spans:
        cal = cals[s.school_id]
        end = min(as_of, s.exit or as_of)
        school_days.setdefault(s.student_id, []).extend(
            (d, cal.fraction(d)) for d in cal.days if s.entry <= d <= end
        )
    recorded: dict[str, dict[dt.date, AttendanceEvent]] = {}
    for e in events:
        recorded.setdefault(e.student_id, {})[e.date] = e
    out = {}
    for sid, days in school_days.items():
        days.sort()
        on = recorded.get(sid, {})
        excused = unexcused = suspended = 0.0
        tardies = over = 0
        weekday = [0.0] * 7
        missed = []
        for day, length in days:
            event = on.get(day)
            part = 0.0
            if event is not None and event.category == "tardy":
                tardies += 1
                over += event.minutes is not None and event.minutes > 30
            elif event is not None:
                if event.minutes is not None:
                    part = min(1.0, event.minutes / (MINUTES_PER_DAY * length))
                else:
                    part = 1.0
                if event.category == "unexcused_absence":
                    unexcused += part
                elif event.category == "suspension_out":
                    suspended += part
                else:  # excused, or a partial day without a reason (the policy: excused)
                    excused += part
                weekday[day.weekday()] += part
            missed.append(part)
        longest = run = 0
        for part in missed:
            run = run + 1 if part >= 0.5 else 0
            longest = max(longest, run)
        absent = excused + unexcused + suspended
        recent = missed[-20:]
        out[sid] = {
            "days_enrolled": len(days),
            "days_present": len(days) - absent,
            "days_absent": absent,
            "days_excused": excused,
            "days_unexcused": unexcused,
            "days_suspended": suspended,
            "tardies": tardies,
            "tardies_over_30": over,
            "current_absence_streak": run,
            "longest_absence_streak": longest,
            "absences_monday": weekday[0],
            "absences_tuesday": weekday[1],
            "absences_wednesday": weekday[2],
            "absences_thursday": weekday[3],
            "absences_friday": weekday[4],
            "recent_absence_rate": sum(recent) / len(recent) if recent else 0.0,
        }
    return out


def with_tierflow(
    spans: Iterable[Enrollment],
    events: Iterable[AttendanceEvent],
    cals: dict[str, SchoolCalendar],
    as_of: dt.date,
    report: DataReport | None = None,
) -> tuple[FactsBuilder, list[dict[str, Any]]]:
    """Ingest everything into a ``FactsBuilder`` and compute every student's facts.

    ``report`` is the one the events' reader fills, so its refusals are counted too.
    """
    builder = FactsBuilder(cals, report=report)
    builder.add_enrollments(spans)
    builder.add_events(events)
    return builder, list(builder.facts(as_of))


def compare(facts: list[dict[str, Any]], want: dict[str, dict[str, Any]]) -> list[str]:
    """Every difference between tierflow's facts and the hand-written ones, one line each."""
    problems = []
    if len(facts) != len(want):
        problems.append(f"{len(facts)} students' facts, {len(want)} by hand")
    for f in facts:
        expected = want.get(f["student_id"])
        if expected is None:
            problems.append(f"{f['student_id']}: not computed by hand")
            continue
        for key in COMPARED:
            if abs(f[key] - expected[key]) > 1e-9:
                problems.append(f"{f['student_id']}: {key} {f[key]} != {expected[key]} by hand")
    return problems


# --- files -----------------------------------------------------------------------------------


def write_csv(path: Path, events: Iterable[AttendanceEvent]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("student_id,school_id,date,category,duration,minutes,reason\n")
        for e in events:
            minutes = "" if e.minutes is None else f"{e.minutes:g}"
            reason = e.reason or ""
            fh.write(f"{e.student_id},{e.school_id},{e.date},{e.category},,{minutes},{reason}\n")


_EDFI = {
    "excused_absence": "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence",
    "unexcused_absence": "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Unexcused Absence",
    "tardy": "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy",
    "partial": "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Partial",
    "suspension_out": "Out-of-school suspension",  # a local descriptor value
}


def write_xml(path: Path, events: Iterable[AttendanceEvent]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        fh.write('<InterchangeStudentAttendance xmlns="http://ed-fi.org/5.2.0">\n')
        for e in events:
            minutes = (
                ""
                if e.minutes is None
                else f"<SchoolAttendanceDuration>{e.minutes:g}</SchoolAttendanceDuration>"
            )
            reason = (
                f"<AttendanceEventReason>{e.reason}</AttendanceEventReason>" if e.reason else ""
            )
            fh.write(
                "<StudentSchoolAttendanceEvent>\n  <AttendanceEvent>"
                f"<EventDate>{e.date}</EventDate>"
                f"<AttendanceEventCategory>{_EDFI[e.category]}</AttendanceEventCategory>"
                f"{reason}{minutes}</AttendanceEvent>\n"
                "  <StudentReference><StudentIdentity>"
                f"<StudentUniqueId>{e.student_id}</StudentUniqueId>"
                "</StudentIdentity></StudentReference>\n"
                "  <SchoolReference><SchoolIdentity>"
                f"<SchoolId>{e.school_id}</SchoolId></SchoolIdentity></SchoolReference>\n"
                "</StudentSchoolAttendanceEvent>\n"
            )
        fh.write("</InterchangeStudentAttendance>\n")


# --- measuring -------------------------------------------------------------------------------


def _status_mib(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_mib() -> float:
    """Peak resident set size of this process, in MiB (Linux ``VmHWM``, else ``ru_maxrss``)."""
    peak = _status_mib("VmHWM")
    if peak is not None:
        return peak
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 / (1024 if sys.platform == "darwin" else 1)  # bytes on macOS


def reset_peak() -> float | None:
    """Start measuring a new peak; return the resident size now (None where Linux is not)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")  # resets VmHWM to the current resident size
    except OSError:
        return None
    return _status_mib("VmRSS")


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of this process spent in ``run`` (one thread: the time on an idle core).

    CPU time rather than wall time, so that other work on the machine does not count.
    """
    gc.collect()
    start = time.process_time()
    result = run()
    return time.process_time() - start, result


def memory_child(students: int, seed: int, explicit: bool) -> None:
    """Stream the records into a fresh builder, compute every student's facts, print the peak.

    Prints: resident MiB before, peak MiB, records read, accepted, seconds in all, seconds of
    it spent generating the records (measured on its own first).
    """
    cals = calendars()
    as_of = max(c.last_day for c in cals.values())
    base = peak_mib()
    making, _ = timed(lambda: sum(1 for _ in stream(students, seed, cals, explicit)))
    start = time.process_time()
    builder = FactsBuilder(cals)
    add_span, add_event = builder.add_enrollment, builder.add_event
    for record in stream(students, seed, cals, explicit):
        if isinstance(record, Enrollment):
            add_span(record)
        else:
            add_event(record)
    computed = sum(1 for _ in builder.facts(as_of))  # one student's facts held at a time
    seconds = time.process_time() - start
    report = builder.report
    assert computed == students and not report.rejected, report.summary()
    print(f"{base:.0f} {peak_mib():.0f} {report.read} {report.accepted} {seconds:.2f} {making:.2f}")


def streamed(students: int, seed: int, explicit: bool) -> str:
    """Run :func:`memory_child` in a fresh interpreter and describe what it measured."""
    command = [sys.executable, __file__, "--memory-child", "--students", str(students)]
    command += ["--seed", str(seed)] + (["--explicit"] if explicit else [])
    child = subprocess.run(command, capture_output=True, text=True, check=True)
    base, peak, read, accepted, seconds, making = child.stdout.split()
    records = int(read)
    what = "explicit daily records" if explicit else "exceptions only"
    return (
        f"  {what}: {records:,} enrollments and events ({int(accepted):,} accepted) "
        f"streamed into a fresh process's FactsBuilder, all facts computed in "
        f"{float(seconds):.1f} s "
        f"({float(making):.1f} s of it generating the records); peak {float(peak):,.0f} MiB "
        f"resident, {float(peak) - float(base):,.0f} MiB above the interpreter with tierflow "
        f"loaded (target < 2 GB: {'ok' if float(peak) < 2048 else 'OVER'})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--no-files", action="store_true", help="skip the CSV and XML readers")
    parser.add_argument(
        "--no-stream", action="store_true", help="skip the fresh-process memory measurements"
    )
    parser.add_argument(
        "--explicit", action="store_true", help="also stream explicit daily present records"
    )
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.students, args.seed, args.explicit)
        return 0

    cals = calendars()
    as_of = max(c.last_day for c in cals.values())
    print(f"Python {sys.version.split()[0]}; {args.students:,} students, seed {args.seed}")
    making, (spans, events) = timed(lambda: generate(args.students, args.seed, cals))
    explicit = sum(cals[s.school_id].count(s.entry, s.exit or as_of) for s in spans)
    print(
        f"generated {len(spans):,} enrollments and {len(events):,} exception events in "
        f"{making:.1f} s; explicit daily records would be {explicit:,} "
        f"({explicit / max(1, len(events)):.0f}x as many)"
    )

    before = reset_peak()
    tierflow_s, (builder, facts) = timed(lambda: with_tierflow(spans, events, cals, as_of))
    builder_peak = peak_mib()
    hand_s, want = timed(lambda: by_hand(spans, events, cals, as_of))
    report = builder.report
    problems = compare(facts, want)
    if report.read != report.accepted + report.rejected:
        problems.append(f"report does not add up: {report.summary()}")
    if report.rejected:
        problems.append(f"rejected records in clean data: {report.summary()}")
    if problems:
        print(f"MISMATCH: {len(problems)} differences between tierflow and the hand-written code")
        for line in problems[:10]:
            print("  " + line)
        return 1
    print(
        f"outputs equal: all {len(facts):,} students' facts equal the hand-written computation "
        f"({len(COMPARED)} metrics each)"
    )
    rate = len(events) / tierflow_s
    print("\nall facts as of the last day      CPU seconds     events/s")
    print(f"  hand-written (dict per student)     {hand_s:7.2f} {len(events) / hand_s:12,.0f}")
    print(
        f"  FactsBuilder: ingest + all facts    {tierflow_s:7.2f} {rate:12,.0f}"
        f"   ratio {tierflow_s / hand_s:.2f}x the hand-written time"
        f"   (target < 30 s: {'ok' if tierflow_s < 30 else 'OVER'})"
    )
    if before is not None:
        print(
            f"  memory: FactsBuilder holding every event and the list of all facts peaked "
            f"{builder_peak - before:,.0f} MiB above the {before:,.0f} MiB resident before it "
            f"(interpreter, tierflow and the generated records); process peak "
            f"{builder_peak:,.0f} MiB (target < 2 GB: {'ok' if builder_peak < 2048 else 'OVER'})"
        )
    del facts, builder
    if not args.no_files:
        with tempfile.TemporaryDirectory() as tmp:
            for name, write in (("events.csv", write_csv), ("events.xml", write_xml)):
                path = Path(tmp) / name
                write(path, events)
                # read_events is lazy: the file is read inside the timed call
                report = DataReport()
                events_read = read_events(path, report=report)
                run = functools.partial(with_tierflow, spans, events_read, cals, as_of, report)
                seconds, (read_builder, read_facts) = timed(run)
                got = read_builder.report
                ok = got.accepted == len(spans) + len(events) and not got.rejected
                ok = ok and not compare(read_facts, want)
                label = f"{name} ({path.stat().st_size / 1e6:,.0f} MB) read + ingest + facts"
                print(
                    f"  {label:<40} {seconds:7.2f} {len(events) / seconds:12,.0f}"
                    + ("" if ok else f"   MISMATCH: {got.summary()}")
                )
                del read_facts, read_builder
                if not ok:
                    return 1
    print(f"\npeak memory of the whole run (everything above): {peak_mib():,.0f} MiB resident")
    if not args.no_stream:
        print("\nmemory grows with students, not records (each in a fresh process):")
        for explicit in (False, True) if args.explicit else (False,):
            print(streamed(args.students, args.seed, explicit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
