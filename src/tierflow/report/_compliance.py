"""The district compliance report: every legal step issued, and what was documented before it.

For an auditor or a SARB board: each truancy letter, conference notice or referral the store
records, with the supportive interventions opened before it (ids, tiers, dates, the outcome
recorded by then), the conferences held and the earlier steps issued, what the rule set
required that the records do not show, and the statutes cited. A step issued without any
documented supportive intervention before it is flagged, whatever the rule set requires; so is
one issued past its deadline, and one whose grounds a correction removed (until resolved).
Each step shows its aging: when it came due, its deadline and the school days it waited. Steps
due and not issued are listed too, with how long they have waited and whether they are overdue.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.evaluate import CompiledRuleset
from tierflow.ingest import Person
from tierflow.report._aging import LegalAging, correction_flags, legal_aging
from tierflow.report._export import Cell, Markup, csv_text, html, join, json_text
from tierflow.report._page import document, sources
from tierflow.report._step_check import StepCheck, check_step
from tierflow.workflow import Repository, Tried
from tierflow.workflow._tried import Starts

__all__ = ["ComplianceReport", "compliance_report"]


@dataclass(frozen=True)
class ComplianceReport:
    """Every legal step issued across a store, checked against a rule set.

    Attributes:
        ruleset: The rule set the steps were checked against (id, version, hash).
        steps: One check per step issued, by date, then student, then step.
        students: How many students' records were read.
        include_personal: Personal data was asked for (the renderings print it).
        people: Names and dates of birth of the students listed, when asked for.
        pending: Legal steps due and not issued, with how long they have waited and whether
            they are overdue (status ``due`` or ``overdue``), by date due.
    """

    ruleset: str
    steps: tuple[StepCheck, ...]
    students: int
    include_personal: bool = False
    people: Mapping[str, Person] = dataclasses.field(default_factory=dict)
    pending: tuple[LegalAging, ...] = ()

    @property
    def flagged(self) -> tuple[StepCheck, ...]:
        """The steps with a flag."""
        return tuple(s for s in self.steps if s.flags)

    def summary(self) -> str:
        """One line: how many steps were issued, and how many are flagged by which flag."""
        counts: dict[str, int] = {}
        for s in self.steps:
            for f in s.flags:
                counts[f] = counts.get(f, 0) + 1
        detail = ", ".join(f"{n} {f.replace('_', ' ')}" for f, n in sorted(counts.items()))
        overdue = sum(1 for a in self.pending if a.status == "overdue")
        waiting = (
            f"; {len(self.pending)} due and not issued ({overdue} overdue)" if self.pending else ""
        )
        return (
            f"{len(self.steps)} legal steps issued to {len({s.student_id for s in self.steps})} "
            f"of {self.students} students; {len(self.flagged)} flagged"
            + (f" ({detail})" if detail else "")
            + waiting
        )

    def _person(self, student_id: str) -> dict[str, Any]:
        if not self.include_personal:
            return {}
        p = self.people.get(student_id)
        born = None if p is None or p.birth_date is None else p.birth_date.isoformat()
        return {"name": None if p is None else p.name, "birth_date": born}

    def to_json(self) -> str:
        """The report as indented JSON."""
        rows = []
        for s in self.steps:
            row = {"student_id": s.student_id, **self._person(s.student_id)}
            for f in dataclasses.fields(s):
                if f.name != "student_id":
                    row[f.name] = _jsonable(getattr(s, f.name))
            rows.append(row)
        data = {
            "ruleset": self.ruleset,
            "summary": self.summary(),
            "students": self.students,
            "issued": len(self.steps),
            "flagged": len(self.flagged),
            "steps": rows,
            "pending": [
                {"student_id": a.student_id, **self._person(a.student_id)}
                | {
                    f.name: _jsonable(getattr(a, f.name))
                    for f in dataclasses.fields(a)
                    if f.name != "student_id"
                }
                for a in self.pending
            ],
        }
        return json_text(data)

    def to_csv(self) -> str:
        """One row a step issued, then one a step due and not issued; lists joined by ``; ``.

        The ``status`` column tells them apart: ``issued``, ``issued late``, ``due`` or
        ``overdue``; a step due and not issued has no ``issued_on``.

        Cells are written as :func:`~tierflow.report._export.csv_text` writes them: text
        quoted, and a single quote before text a spreadsheet would read as a formula
        (docs/exports.md).
        """
        personal: list[Cell] = ["name", "birth_date"] if self.include_personal else []
        rows: list[list[Cell]] = [
            [
                "student_id",
                *personal,
                "step",
                "label",
                "issued_on",
                "issued_by",
                "ruleset",
                "flags",
                "missing",
                "interventions",
                "conferences",
                "earlier_steps",
                "cites",
                "status",
                "due_on",
                "deadline",
                "waited_school_days",
                "late_school_days",
                "correction",
            ]
        ]
        for s in self.steps:
            who: list[Cell] = list(self._person(s.student_id).values())
            rows.append(
                [
                    s.student_id,
                    *who,
                    s.step,
                    s.label,
                    s.issued_on,
                    s.issued_by,
                    s.ruleset,
                    "; ".join(s.flags),
                    "; ".join(s.missing),
                    "; ".join(i.describe() for i in s.interventions),
                    "; ".join(f"{k} {d}" for k, d in s.conferences),
                    "; ".join(f"{k} {d}" for k, d in s.earlier_steps),
                    "; ".join(s.cites),
                    s.status,
                    s.due_on,
                    s.deadline,
                    s.waited_school_days,
                    s.late_school_days,
                    s.correction,
                ]
            )
        for a in self.pending:
            who = list(self._person(a.student_id).values())
            rows.append(
                [
                    a.student_id,
                    *who,
                    a.step,
                    a.label,
                    None,
                    None,
                    self.ruleset,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    a.status,
                    a.due_on,
                    a.deadline,
                    a.waited_school_days,
                    a.late_school_days,
                    None,
                ]
            )
        return csv_text(rows)

    def to_html(self) -> str:
        """A printable page: one row a step, flagged rows marked, statutes listed once.

        Every value is escaped (:func:`~tierflow.report._export.html` builds the page).
        """
        refs: dict[str, int] = {}
        for s in self.steps:
            for c in s.cites:
                refs.setdefault(c, len(refs) + 1)
        rows = []
        for s in self.steps:
            student = html("{id}", id=s.student_id)
            if self.include_personal:
                p = self.people.get(s.student_id)
                student = (
                    html("{id}<br>{person}", id=s.student_id, person=p.describe())
                    if p
                    else html("{id}<br>(not in the roster given)", id=s.student_id)
                )
            evidence = [html("{iv}", iv=i.describe()) for i in s.interventions]
            evidence += [
                html("{kind} held {on}", kind=k.replace("_", " "), on=d) for k, d in s.conferences
            ]
            evidence += [html("{step} issued {on}", step=k, on=d) for k, d in s.earlier_steps]
            finding = Markup("documented")
            aging = Markup()
            if s.due_on is not None:
                aging = html(
                    "<br>due {due}{deadline}, waited {waited} school days{late}",
                    due=s.due_on,
                    deadline=f", deadline {s.deadline}" if s.deadline else "",
                    waited=s.waited_school_days,
                    late=f", {s.late_school_days} late" if s.late_school_days else "",
                )
            if s.flags:
                finding = html(
                    "<ul>{flags}{missing}{correction}</ul>",
                    flags=join("", (html("<li>{f}</li>", f=f.replace("_", " ")) for f in s.flags)),
                    missing=join("", (html("<li>missing: {m}</li>", m=m) for m in s.missing)),
                    correction=html("<li>correction: {c}</li>", c=s.correction)
                    if s.correction
                    else Markup(),
                )
            elif s.correction:
                finding = html("documented<br>correction: {c}", c=s.correction)
            rows.append(
                html(
                    '<tr class="{row}"><td class="id">{student}</td><td>{label}</td>'
                    '<td class="date">{on}{aging}</td><td>{by}</td><td>{evidence}</td>'
                    '<td>{finding}</td><td class="cites">{cites}</td></tr>',
                    row="flagged" if s.flags else "ok",
                    student=student,
                    label=s.label,
                    on=s.issued_on,
                    aging=aging,
                    by=s.issued_by or "not recorded",
                    evidence=join("<br>", evidence) or "none documented",
                    finding=finding,
                    cites=" ".join(f"[{refs[c]}]" for c in s.cites),
                )
            )
        pending = Markup()
        if self.pending:
            pending = html(
                "<section>\n<h2>Due and not issued</h2>\n<table>\n<thead><tr><th>Student</th>"
                "<th>Step</th><th>Came due</th><th>Deadline</th><th>School days waited</th>"
                "<th>Status</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n"
                "</section>",
                rows=join(
                    "\n",
                    (
                        html(
                            '<tr><td class="id">{student}</td><td>{label}</td>'
                            '<td class="date">{due}</td><td class="date">{deadline}</td>'
                            '<td>{waited}</td><td class="{row}">{status}</td></tr>',
                            row="missing" if a.status == "overdue" else "ok",
                            student=a.student_id,
                            label=a.label,
                            due=a.due_on,
                            deadline=a.deadline or "none",
                            waited=a.waited_school_days,
                            status=a.status
                            + (
                                f", {a.late_school_days} school days late"
                                if a.late_school_days
                                else ""
                            ),
                        )
                        for a in self.pending
                    ),
                ),
            )
        body = html(
            _BODY,
            ruleset=self.ruleset,
            pending=pending,
            summary=self.summary(),
            rows=join("\n", rows)
            or Markup('<tr><td colspan="7">No legal step was issued.</td></tr>'),
            sources=sources(refs),
        )
        return document(title=_TITLE, running=_TITLE, body=body, landscape=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Tried):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def compliance_report(
    repository: Repository,
    ruleset: CompiledRuleset,
    *,
    students: Iterable[str] | None = None,
    people: Mapping[str, Person] | None = None,
    include_personal: bool = False,
    as_of: dt.date | None = None,
    calendars: Mapping[str, SchoolCalendar] | None = None,
) -> ComplianceReport:
    """Check every legal step issued in a store against the documentation before it.

    A step's evidence is what the records show on or before the date it was issued:
    supportive interventions opened (with the last outcome recorded by then), conferences
    held and earlier steps issued. The rule set's requirements for the step (earlier steps
    and the days between them, conferences, supportive interventions of a tier, with
    outcomes) are checked on that evidence, as the engine checks them before issuing.

    Args:
        repository: The records (a :class:`~tierflow.store.SqlRepository`, or any workflow
            repository).
        ruleset: The rule set whose requirements and citations to check against.
        students: The students to report on (default: every student in the store).
        people: Names and dates of birth by student id; used only with ``include_personal``.
        include_personal: Print names and dates of birth from ``people`` (default: ids only).
        as_of: The date steps due and not issued are aged to, in its school year (default:
            each student's latest recorded event, the engine's last change).
        calendars: School calendars by id, to count the school days a step still due has
            waited (Monday to Friday without one; a step issued carries its own count).

    Raises:
        ValueError: ``include_personal`` without ``people``.
    """
    if include_personal and people is None:
        raise ValueError("include_personal=True needs people: a roster (read_people(path))")
    if students is None:
        students = repository.students()
    unsupportive = frozenset(iv.id for iv in ruleset.spec.interventions if not iv.supportive)
    labels = {s.id: s.label or s.id for s in ruleset.legal_steps}
    pending: list[LegalAging] = []
    checks: list[StepCheck] = []
    count = 0
    for sid in students:
        count += 1
        issued = dict(repository.issued(sid))
        # The timeline and interventions are read once a student, not once a step.
        timeline = list(repository.events(sid))
        starts = Starts.read(timeline, ruleset.lifecycle)
        interventions = repository.for_student(sid)
        events: dict[str, Any] = {}
        for ev in timeline:
            if ev.kind == "legal_issued" and ev.detail is not None:
                events[str(ev.detail["step"])] = ev
        for step, ev in events.items():
            issued.setdefault(step, ev.at)  # an event whose issued row is gone: still reported
        dated = [ev.at for ev in timeline if isinstance(ev.at, dt.date)]
        until = as_of if as_of is not None else max(dated, default=None)
        ages: dict[tuple[str, Any], LegalAging] = {}
        if until is not None:
            for a in legal_aging(
                sid,
                timeline,
                labels,
                as_of=until,
                since=ruleset.school_years.start_of(until),
                calendars=calendars,
            ):
                if a.issued_on is None:
                    pending.append(a)
        for a in legal_aging(
            sid, timeline, labels, as_of=dt.date.max, since=dt.date.min, pending=False
        ):
            ages[(a.step, a.issued_on)] = a
        corrections = {(f.step, f.issued_on): f for f in correction_flags(sid, timeline, labels)}
        for step, on in issued.items():
            checks.append(
                check_step(
                    repository,
                    ruleset,
                    sid,
                    step,
                    on,
                    issued,
                    events.get(step),
                    unsupportive,
                    timeline,
                    starts,
                    interventions,
                    ages.get((step, on)),
                    corrections.get((step, on)),
                )
            )
    checks.sort(key=lambda c: (c.issued_on, c.student_id, c.step))
    shown = {}
    if include_personal and people is not None:
        shown = {c.student_id: people[c.student_id] for c in checks if c.student_id in people}
    pending.sort(key=lambda a: (a.due_on or dt.date.min, a.student_id, a.step))
    if include_personal and people is not None:
        shown |= {a.student_id: people[a.student_id] for a in pending if a.student_id in people}
    return ComplianceReport(
        str(ruleset.ref), tuple(checks), count, include_personal, shown, tuple(pending)
    )


_TITLE = "Legal steps and the interventions before them"

_BODY = """<p>Checked against rule set {ruleset}. {summary}.</p>
<table>
<thead><tr><th>Student</th><th>Step</th><th>Issued</th><th>By</th>
<th>Documented before it</th><th>Finding</th><th>Cites</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
{pending}
{sources}"""
