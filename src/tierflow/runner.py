"""School days from district files into a store: what ``tierflow run`` does.

A district runs the workflow once per school day: the facts as of that day (folded from the
calendars, enrollments and attendance events its student information system exports, or a
facts file), the engine's run over them (decisions, openings, reviews, follow-ups moved, legal
steps reported) and the records kept in a store. :func:`run_days` does that for a range of
days, one transaction a day, and returns what each day did; :func:`run_files` reads the files
first. The facts of each day come from one :class:`~tierflow.attendance.FactsBuilder` that
read every file once (a day's facts ignore the events dated after it), not from the files read
again each day: the engine's run, not the counting, is what a day costs.

Days the store has already gone past are skipped, never run again: the engine's records are a
history, and a run dated before its last records would write that history out of order.
The store's last day itself is run again, which records nothing new (the engine's runs are
idempotent), so running the same range twice changes nothing.

>>> import datetime as dt, tierflow
>>> from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
>>> from tierflow.workflow import InMemoryRepository
>>> cal = SchoolCalendar.from_pattern("lincoln", dt.date(2025, 9, 1), dt.date(2025, 9, 30))
>>> builder = FactsBuilder({"lincoln": cal})
>>> builder.add_enrollment(Enrollment("s1", "lincoln", dt.date(2025, 9, 1)))
True
>>> for day in (2, 3, 4, 5, 8):
...     _ = builder.add_event(AttendanceEvent("s1", "lincoln", dt.date(2025, 9, day),
...                                           "unexcused_absence"))
>>> repo = InMemoryRepository()
>>> days = run_days(tierflow.load_ruleset("mtss"), repo, builder.facts,
...                 school_days(builder.calendars, dt.date(2025, 9, 1), dt.date(2025, 9, 12)))
>>> [(d.day.day, d.opened) for d in days if d.opened]
[(3, 2), (12, 2)]
>>> days[-1].line()  # nobody on the roster: the openings have no owner
'2025-09-12: 1 students, opened 2, unassigned 2, transitions 0, legal due 0, blocked 0, ...'
>>> days[-1].to_dict()["events"]
{'decision': 1, 'opened': 2}
>>> again = run_days(tierflow.load_ruleset("mtss"), repo, builder.facts,
...                  school_days(builder.calendars, dt.date(2025, 9, 1), dt.date(2025, 9, 12)))
>>> [d.day.day for d in again], sum(d.recorded for d in again)
([12], 0)
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.errors import DataError, DataReport
from tierflow.evaluate import CompiledRuleset
from tierflow.ingest import facts_from_files, read_facts
from tierflow.ingest._reported import reported
from tierflow.ingest._rows import converted
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, Plan, Repository, Roster, StaffMember

__all__ = [
    "DaySummary",
    "FactsOn",
    "FilesRun",
    "last_recorded_day",
    "read_staff",
    "run_days",
    "run_facts_file",
    "run_files",
    "school_days",
]

FactsOn = Callable[[dt.date], Iterable[Mapping[str, Any]]]
"""The students' facts as of a day: ``FactsBuilder.facts``, or a function giving a file's."""


@dataclass(frozen=True)
class DaySummary:
    """What one day's run did.

    Attributes:
        day: The day run.
        students: Students whose facts were run.
        opened: Interventions opened.
        escalated: Interventions escalated at review.
        met_goal: Interventions whose goal held at review.
        withdrawn: Interventions closed because corrected data no longer supports them.
        due: Open interventions whose follow-up is due (or overdue).
        legal_due: Legal steps due.
        legal_blocked: Legal steps blocked, awaiting evidence.
        unassigned: Openings (and transfers) of the day still without an owner at its end
            (``plan.unassigned`` lists every case waiting for one, older ones too).
        rejected: Students whose facts could not be evaluated.
        events: The events the day recorded, by kind (``opened``, ``transition``...).
    """

    day: dt.date
    students: int = 0
    opened: int = 0
    escalated: int = 0
    met_goal: int = 0
    withdrawn: int = 0
    due: int = 0
    legal_due: int = 0
    legal_blocked: int = 0
    unassigned: int = 0
    rejected: int = 0
    events: Mapping[str, int] = field(default_factory=dict)

    @property
    def transitions(self) -> int:
        """Lifecycle transitions recorded (follow-ups falling due among them)."""
        return self.events.get("transition", 0)

    @property
    def recorded(self) -> int:
        """Events recorded in all (0 for a day run again)."""
        return sum(self.events.values())

    def line(self) -> str:
        """One line of counts, for people."""
        return (
            f"{self.day}: {self.students} students, opened {self.opened}, "
            f"unassigned {self.unassigned}, transitions {self.transitions}, "
            f"legal due {self.legal_due}, "
            f"blocked {self.legal_blocked}, rejected {self.rejected}, events {self.recorded}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-ready values (the date as ``YYYY-MM-DD``)."""
        return {
            "day": self.day.isoformat(),
            "students": self.students,
            "opened": self.opened,
            "escalated": self.escalated,
            "met_goal": self.met_goal,
            "withdrawn": self.withdrawn,
            "transitions": self.transitions,
            "due": self.due,
            "legal_due": self.legal_due,
            "legal_blocked": self.legal_blocked,
            "unassigned": self.unassigned,
            "rejected": self.rejected,
            "events": dict(sorted(self.events.items())),
        }


def school_days(
    calendars: Mapping[str, SchoolCalendar], start: dt.date, end: dt.date
) -> list[dt.date]:
    """The days from ``start`` to ``end`` (both included) that any calendar holds, in order.

    >>> cal = SchoolCalendar.from_pattern("lincoln", dt.date(2025, 9, 1), dt.date(2025, 9, 30))
    >>> [d.day for d in school_days({"lincoln": cal}, dt.date(2025, 9, 5), dt.date(2025, 9, 9))]
    [5, 8, 9]
    """
    found: set[dt.date] = set()
    for calendar in calendars.values():
        found.update(calendar.days_between(start, end))
    return sorted(d for d in found if start <= d <= end)


def last_recorded_day(repository: Repository) -> dt.date | None:
    """The date of the store's latest event (None: the store is empty).

    Reads every student's events: one pass over the store, which a run over a range makes
    anyway (each student's history is read to decide).
    """
    last: dt.date | None = None
    for student in repository.students():
        for event in repository.events(student):
            if last is None or event.at > last:
                last = event.at
    return last


def _plan_summary(plan: Plan, students: int, events: Counter[str]) -> DaySummary:
    today = {iv.id for iv in (*plan.opened, *plan.transferred)}
    return DaySummary(
        plan.as_of,
        students=students,
        opened=len(plan.opened),
        escalated=len(plan.escalated),
        met_goal=len(plan.met_goal),
        withdrawn=len(plan.withdrawn),
        due=len(plan.due),
        legal_due=len(plan.legal_due),
        legal_blocked=len(plan.legal_blocked),
        unassigned=sum(1 for u in plan.unassigned if u.intervention_id in today),
        rejected=len(plan.rejected),
        events=dict(events),
    )


def _batch(repository: Repository) -> AbstractContextManager[None]:
    """A day's work as one transaction of a SQL store; as it is for another repository."""
    if isinstance(repository, SqlRepository):
        return repository.batch()
    return nullcontext()


def run_days(
    ruleset: CompiledRuleset,
    repository: Repository,
    facts_on: FactsOn,
    days: Iterable[dt.date],
    *,
    roster: Roster | None = None,
    calendars: Mapping[str, SchoolCalendar] | None = None,
    report: DataReport | None = None,
    sources: Mapping[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[DaySummary]:
    """Run the engine on each day, in order, keeping its records in ``repository``.

    Each day is one transaction of a SQL store: a day that fails (another writer changed the
    same records first, the database went away) leaves nothing of itself behind and ends the
    run with its error, and running the range again resumes from that day. Days before the
    store's last recorded day are skipped (see the module's docstring); the days run are
    returned.

    Args:
        ruleset: The compiled rule set.
        repository: Where the records are kept (a :class:`~tierflow.store.SqlRepository` or any
            :class:`~tierflow.workflow.Repository`).
        facts_on: The students' facts as of a day (``builder.facts``).
        days: The days to run (:func:`school_days`).
        roster: Staff by school and role (default: nobody; every opening is unassigned). It is
            copied: the copy's caseloads are counted from the store, so the same roster can be
            given to every call. (Which of two equally loaded people gets a case is taken in
            turn, and turns are not stored: a range run in one call or in several may give
            such a case to the other person.)
        calendars: School calendars by school id, for follow-up dates.
        report: Where each student the engine could not evaluate is put, once per student and
            problem, located with ``sources`` (default: a report that is not kept).
        sources: Where each student's facts came from (``file:line``), by student id.
        progress: Called after each day with the days run so far and the days to run (a
            progress display's hook).

    Returns:
        One summary per day run, in order.

    Raises:
        StoreError: The store cannot be written (the failing day is undone).
    """
    report = DataReport() if report is None else report
    seen: set[tuple[str | None, str]] = set()
    last = last_recorded_day(repository)
    # One engine for the whole range, as a host running day after day keeps one. Its roster is
    # a copy: an engine counts the store's caseloads into the roster it is given, so a roster
    # shared by two calls would count them twice and fill up with cases nobody holds.
    staff = Roster(() if roster is None else roster.staff.values())
    engine = Engine(ruleset, repository=repository, roster=staff, calendars=calendars)
    kinds: Counter[str] = Counter()
    engine.subscribe(lambda event: kinds.update((event.kind,)))
    out: list[DaySummary] = []
    wanted = [d for d in sorted(set(days)) if last is None or d >= last]
    for day in wanted:
        facts = list(facts_on(day))
        kinds.clear()
        with _batch(repository):
            plan = engine.run(day, facts)
        summary = _plan_summary(plan, len(facts), kinds)
        _report_rejects(plan, report, seen, sources or {})
        out.append(summary)
        if progress is not None:
            progress(len(out), len(wanted))
    return out


def _report_rejects(
    plan: Plan,
    report: DataReport,
    seen: set[tuple[str | None, str]],
    sources: Mapping[str, str],
) -> None:
    """Put the students the engine refused in ``report``, located, once per problem."""
    for exc in plan.rejected:
        if not isinstance(exc, DataError):  # the engine rejects only bad facts; keep others
            report.reject(DataError("facts.invalid", str(exc)))
            continue
        key = (exc.student_id, exc.code)
        if key in seen:
            continue
        seen.add(key)
        sid = exc.student_id
        where = sources.get(sid, f"student {sid}") if sid is not None else "facts"
        report.reject(exc.with_source(f"{where} (on {plan.as_of})"))


def _staff_member(source: str, row: dict[str, Any]) -> StaffMember:
    def text(name: str) -> str:
        value = row.get(name)
        return "" if value is None else str(value).strip()

    sid, school = text("staff_id"), text("school_id")
    roles = tuple(r.strip() for r in text("roles").split(";") if r.strip())
    if not sid or not school or not roles:
        missing = [
            n for n, v in (("staff_id", sid), ("school_id", school), ("roles", roles)) if not v
        ]
        raise DataError(
            "staff.invalid", f"empty {', '.join(missing)}", student_id=None, source=source
        )
    limit = text("caseload_limit") or "25"
    try:
        caseload = int(limit)
    except ValueError:
        raise DataError(
            "staff.invalid",
            f"caseload_limit must be a whole number, got {limit!r}",
            source=source,
            field="caseload_limit",
        ) from None
    if caseload < 0:
        raise DataError(
            "staff.invalid",
            f"caseload_limit must not be negative, got {caseload}",
            source=source,
            field="caseload_limit",
        )
    return StaffMember(sid, school, roles, caseload_limit=caseload, name=text("name"))


def read_staff(path: str | Path, *, report: DataReport | None = None) -> Roster:
    r"""Read the staff who own interventions: CSV, JSON Lines or JSON.

    Columns: ``staff_id, school_id, roles`` (separated by ``;``), and optionally
    ``caseload_limit`` (default 25) and ``name``. A bad record goes to ``report`` with its
    ``file:line`` (code ``staff.invalid``) and the file is read on.

    >>> import pathlib, tempfile
    >>> staff = pathlib.Path(tempfile.mkdtemp()) / "staff.csv"
    >>> _ = staff.write_text("staff_id,school_id,roles,caseload_limit\n"
    ...                      "ms-lee,lincoln,mentor;counselor,30\nmr-x,lincoln,,5\n")
    >>> report = DataReport()
    >>> [m.id for m in read_staff(staff, report=report).candidates("lincoln", "mentor")]
    ['ms-lee']
    >>> [str(r).replace(str(staff), "staff.csv") for r in report.rejects]
    ['staff.csv:3: staff.invalid: empty roles']

    Raises:
        OSError: The file cannot be opened.
        DataError: A record is bad and no ``report`` was given.
    """
    needed = ("staff_id", "school_id", "roles")
    roster = Roster()
    for member in reported(converted(Path(path), needed, None, _staff_member), report):
        roster.add(member)
        if report is not None:
            report.accept()
    return roster


@dataclass(frozen=True)
class FilesRun:
    """What :func:`run_files` read and did.

    Attributes:
        days: One summary per day run.
        skipped: Days in the range the store had already gone past.
        report: Every record read (calendars apart), accepted or rejected with its source.
        calendar_report: The calendar files' records, their rejects and warnings.
    """

    days: list[DaySummary]
    skipped: list[dt.date]
    report: DataReport
    calendar_report: DataReport


def run_files(
    ruleset: CompiledRuleset,
    repository: Repository,
    *,
    calendars: Sequence[str | Path],
    events: Sequence[str | Path],
    enrollments: Sequence[str | Path] = (),
    groups: Sequence[str | Path] = (),
    mapping: str | Path | None = None,
    staff: str | Path | None = None,
    start: dt.date,
    end: dt.date,
    assume_full_year: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> FilesRun:
    """Read a district's files and run every school day from ``start`` to ``end``.

    The files are read once (:func:`~tierflow.ingest.facts_from_files`); every bad record
    goes to the returned report with its ``file:line`` and student, and the run goes on.

    Args:
        ruleset: The compiled rule set (its attendance policy and school years count the
            events).
        repository: Where the records are kept.
        calendars: Calendar files; their instructional days are the days run.
        events: Attendance event files.
        enrollments: Enrollment files (see ``assume_full_year`` without them).
        groups: Student group files.
        mapping: A column-mapping file for vendor exports.
        staff: The staff file (:func:`read_staff`); without one, openings are unassigned.
        start: The first day of the range.
        end: The last day of the range (included).
        assume_full_year: Take a student with events but no enrollment as enrolled all year.
        progress: As for :func:`run_days`.

    Returns:
        The days run, the days skipped, and the records read.

    Raises:
        OSError: A file cannot be opened.
        RulesetError: ``mapping`` is not a valid mapping file.
        StoreError: The store cannot be written.
    """
    calendar_report = DataReport()
    builder = facts_from_files(
        calendars,
        events,
        enrollments=enrollments,
        groups=groups,
        mapping=mapping,
        policy=ruleset.attendance_policy,
        school_years=ruleset.school_years,
        assume_full_year=assume_full_year,
        calendar_report=calendar_report,
    )
    report = builder.report
    roster = None if staff is None else read_staff(staff, report=report)
    wanted = school_days(builder.calendars, start, end)
    done = run_days(
        ruleset,
        repository,
        builder.facts,
        wanted,
        roster=roster,
        calendars=builder.calendars,
        report=report,
        progress=progress,
    )
    ran = {d.day for d in done}
    return FilesRun(done, [d for d in wanted if d not in ran], report, calendar_report)


def run_facts_file(
    ruleset: CompiledRuleset,
    repository: Repository,
    path: str | Path,
    *,
    on: dt.date,
    roster: Roster | None = None,
    calendars: Mapping[str, SchoolCalendar] | None = None,
    report: DataReport | None = None,
) -> list[DaySummary]:
    """Run one day on the students of a facts file (CSV, JSON Lines, JSON).

    A facts file describes one day, ``on``. A record that cannot be read goes to ``report``
    with its ``file:line``, and so does a student the engine cannot evaluate; the rest run.

    Returns:
        The day's summary (an empty list when the store has gone past ``on``).

    Raises:
        OSError: The file cannot be opened.
        StoreError: The store cannot be written.
    """
    report = DataReport() if report is None else report
    kinds = {name: decl.type for name, decl in ruleset.spec.facts.extra.items()}
    records = list(read_facts(path, extra_kinds=kinds, report=report))
    sources = {str(r.facts.get("student_id")): r.source for r in records}
    facts = [r.facts for r in records]
    before = report.rejected
    done = run_days(
        ruleset,
        repository,
        lambda _day: facts,
        [on],
        roster=roster,
        calendars=calendars,
        report=report,
        sources=sources,
    )
    # A record the engine refused was counted as read when it was rejected.
    kept = len(records) - (report.rejected - before)
    report.read += kept
    report.accepted += kept
    return done
