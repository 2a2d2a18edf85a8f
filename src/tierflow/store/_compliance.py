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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.evaluate import CompiledRuleset
from tierflow.facts._read import HistoryView, InterventionView
from tierflow.ingest import Person
from tierflow.store._aging import CorrectionFlag, LegalAging, correction_flags, legal_aging
from tierflow.store._export import Cell, Markup, csv_text, html, join, json_text
from tierflow.workflow import Intervention, Repository, WorkflowEvent
from tierflow.workflow._tried import Starts, conferences_recorded, support_tried

__all__ = ["ComplianceReport", "PriorIntervention", "StepCheck", "compliance_report"]

NO_PRIOR_SUPPORT = "no_prior_support"
"""Flag: no supportive intervention was documented on or before the step's date."""
REQUIREMENTS_UNMET = "requirements_unmet"
"""Flag: the records do not show something the rule set requires for the step."""
UNKNOWN_STEP = "unknown_step"
"""Flag: the rule set the report checks against has no such step."""
ISSUED_LATE = "issued_late"
"""Flag: the step was issued after its deadline (``deadline_school_days``)."""
GROUNDS_REMOVED = "grounds_removed"
"""Flag: corrected data removed the step's grounds and nobody rescinded it or notified yet."""


@dataclass(frozen=True)
class PriorIntervention:
    """A supportive intervention documented on or before a legal step.

    Attributes:
        intervention_id: Its id in the store.
        intervention: Its catalogue id (``weekly-checkin``).
        tier_level: Its tier's level.
        opened_on: The date it opened.
        started_on: The date it was started (its owner's ``start``, or a first check-in).
        outcome: The last outcome recorded at a check-in on or before the step, if any.
        outcome_on: The date of that check-in.
    """

    intervention_id: str
    intervention: str
    tier_level: int
    opened_on: dt.date
    started_on: dt.date
    outcome: str | None
    outcome_on: dt.date | None

    def describe(self) -> str:
        """``iv-0000012 weekly-checkin (tier 2) opened 2025-10-06, started 2025-10-07, ...``."""
        text = f"{self.intervention_id} {self.intervention} (tier {self.tier_level}) opened "
        text += f"{self.opened_on}, started {self.started_on}"
        if self.outcome is not None:
            return f"{text}, outcome {self.outcome} on {self.outcome_on}"
        return f"{text}, no outcome recorded"


@dataclass(frozen=True)
class StepCheck:
    """One legal step issued, and the documentation that preceded it.

    Attributes:
        student_id: The student.
        step: The step id (``not2``).
        label: Its label in the rule set.
        issued_on: The date it was issued.
        issued_by: Who issued it (empty when the store records no ``legal_issued`` event).
        ruleset: The rule set named when it was issued (empty when not recorded).
        cites: Titles of the statutes and guidance the rule set cites for the step.
        earlier_steps: ``(step, date)`` of the steps issued before it (on an earlier date, or
            on the same date and earlier in the ladder).
        conferences: ``(kind, date)`` of the conferences held on or before its date (attempts
            are not listed here; they count where a step accepts them).
        interventions: The supportive interventions opened on or before its date.
        missing: What the rule set requires for the step that the records did not show then.
        flags: ``no_prior_support``, ``requirements_unmet``, ``unknown_step``,
            ``issued_late``, ``grounds_removed``; empty when the step was documented as
            required.
        due_on: The day the engine first reported it due (None: not reported due).
        deadline: The last school day to issue it on time (None: no deadline).
        waited_school_days: School days from coming due to being issued (None: unknown).
        late_school_days: School days past the deadline (0 on time; None: no deadline).
        correction: A correction flag on it, in words: open (``grounds_removed``) or how it
            was resolved; empty when there is none.
    """

    student_id: str
    step: str
    label: str
    issued_on: dt.date
    issued_by: str
    ruleset: str
    cites: tuple[str, ...]
    earlier_steps: tuple[tuple[str, dt.date], ...]
    conferences: tuple[tuple[str, dt.date], ...]
    interventions: tuple[PriorIntervention, ...]
    missing: tuple[str, ...]
    flags: tuple[str, ...]
    due_on: dt.date | None = None
    deadline: dt.date | None = None
    waited_school_days: int | None = None
    late_school_days: int | None = None
    correction: str = ""

    @property
    def status(self) -> str:
        """``issued``, or ``issued late`` past its deadline."""
        return "issued late" if self.late_school_days else "issued"

    @property
    def ok(self) -> bool:
        """Nothing was flagged."""
        return not self.flags


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
                | {f.name: _jsonable(getattr(a, f.name)) for f in dataclasses.fields(a)
                   if f.name != "student_id"}
                for a in self.pending
            ],
        }  # fmt: skip
        return json_text(data)

    def to_csv(self) -> str:
        """One row a step issued, then one a step due and not issued; lists joined by ``; ``.

        The ``status`` column tells them apart: ``issued``, ``issued late``, ``due`` or
        ``overdue``; a step due and not issued has no ``issued_on``.

        Cells are written as :func:`~tierflow.store._export.csv_text` writes them: text
        quoted, and a single quote before text a spreadsheet would read as a formula
        (docs/exports.md).
        """
        personal: list[Cell] = ["name", "birth_date"] if self.include_personal else []
        rows: list[list[Cell]] = [
            ["student_id", *personal, "step", "label", "issued_on", "issued_by", "ruleset",
             "flags", "missing", "interventions", "conferences", "earlier_steps", "cites",
             "status", "due_on", "deadline", "waited_school_days", "late_school_days",
             "correction"]
        ]  # fmt: skip
        for s in self.steps:
            who: list[Cell] = list(self._person(s.student_id).values())
            rows.append(
                [s.student_id, *who, s.step, s.label, s.issued_on, s.issued_by, s.ruleset,
                 "; ".join(s.flags), "; ".join(s.missing),
                 "; ".join(i.describe() for i in s.interventions),
                 "; ".join(f"{k} {d}" for k, d in s.conferences),
                 "; ".join(f"{k} {d}" for k, d in s.earlier_steps), "; ".join(s.cites),
                 s.status, s.due_on, s.deadline, s.waited_school_days, s.late_school_days,
                 s.correction]
            )  # fmt: skip
        for a in self.pending:
            who = list(self._person(a.student_id).values())
            rows.append(
                [a.student_id, *who, a.step, a.label, None, None, self.ruleset, None, None,
                 None, None, None, None, a.status, a.due_on, a.deadline, a.waited_school_days,
                 a.late_school_days, None]
            )  # fmt: skip
        return csv_text(rows)

    def to_html(self) -> str:
        """A printable page: one row a step, flagged rows marked, statutes listed once.

        Every value is escaped (:func:`~tierflow.store._export.html` builds the page).
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
        sources = join("\n", (html("<li>{c}</li>", c=c) for c in refs))
        pending = Markup()
        if self.pending:
            pending = html(
                "<section>\n<h2>Due and not issued</h2>\n<table>\n<thead><tr><th>Student</th>"
                "<th>Step</th><th>Came due</th><th>Deadline</th><th>School days waited</th>"
                "<th>Status</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n"
                "</section>",
                rows=join("\n", (
                    html('<tr><td class="id">{student}</td><td>{label}</td>'
                         '<td class="date">{due}</td><td class="date">{deadline}</td>'
                         '<td>{waited}</td><td class="{row}">{status}</td></tr>',
                         row="missing" if a.status == "overdue" else "ok", student=a.student_id,
                         label=a.label, due=a.due_on, deadline=a.deadline or "none",
                         waited=a.waited_school_days,
                         status=a.status + (f", {a.late_school_days} school days late"
                                            if a.late_school_days else ""))
                    for a in self.pending
                )),
            )  # fmt: skip
        return html(
            _PAGE,
            ruleset=self.ruleset,
            pending=pending,
            summary=self.summary(),
            rows=join("\n", rows)
            or Markup('<tr><td colspan="7">No legal step was issued.</td></tr>'),
            sources=sources or Markup("<li>None cited.</li>"),
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, PriorIntervention):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def _check(
    repository: Repository,
    ruleset: CompiledRuleset,
    student_id: str,
    step: str,
    issued_on: dt.date,
    issued: Mapping[str, dt.date],
    event: Any,
    unsupportive: frozenset[str],
    timeline: Sequence[WorkflowEvent],
    starts: Starts,
    interventions: Sequence[Intervention],
    aging: LegalAging | None = None,
    correction: CorrectionFlag | None = None,
) -> StepCheck:
    steps = [s.id for s in ruleset.legal_steps]
    refs = {r.id: r.title for r in ruleset.spec.references}
    index = steps.index(step) if step in steps else None
    spec = ruleset.legal_steps[index] if index is not None else None
    order = {s: i for i, s in enumerate(steps)}
    rank = order.get(step, len(steps))
    earlier = tuple(
        sorted(((s, d) for s, d in issued.items() if s != step and (d < issued_on or (
                    d == issued_on and order.get(s, len(steps)) < rank))),
               key=lambda item: (item[1], order.get(item[0], len(steps))))
    )  # fmt: skip
    recorded = conferences_recorded(timeline, as_of=issued_on)
    held = tuple((c.kind, c.held_on) for c in recorded if c.outcome == "held")
    prior: list[PriorIntervention] = []
    tried: list[InterventionView] = []
    # Started (by the step) and not withdrawn on corrected data (by then), from its start: the
    # support the engine would have counted on the day the step was issued.
    for t in support_tried(
        repository, student_id, as_of=issued_on, starts=starts, interventions=interventions
    ):
        tried.append(
            InterventionView(
                t.intervention, t.tier_level, t.started_on, t.ended_on, t.outcome, t.check_ins
            )
        )
        if t.intervention not in unsupportive:
            prior.append(
                PriorIntervention(
                    t.intervention_id, t.intervention, t.tier_level, t.opened_on, t.started_on,
                    t.outcome, t.outcome_on,
                )
            )  # fmt: skip
    flags: list[str] = []
    if spec is None:
        missing: tuple[str, ...] = (f"rule set {ruleset.id} has no legal step {step!r}",)
        flags.append(UNKNOWN_STEP)
    else:
        history = HistoryView((), tuple(tried), tuple(recorded))  # attempts too: they may count
        assert index is not None
        missing = ruleset.ladder.missing(index, history, dict(earlier), issued_on)
    if not prior:
        flags.insert(0, NO_PRIOR_SUPPORT)
    if missing and spec is not None:
        flags.append(REQUIREMENTS_UNMET)
    if aging is not None and aging.late_school_days:
        flags.append(ISSUED_LATE)
    if correction is not None and correction.open:
        flags.append(GROUNDS_REMOVED)
    return StepCheck(
        student_id,
        step,
        (spec.label or spec.id) if spec is not None else step,
        issued_on,
        "" if event is None else str(event.who),
        "" if event is None or event.ruleset is None else str(event.ruleset),
        tuple(refs.get(c, c) for c in spec.cites) if spec is not None else (),
        earlier,
        held,
        tuple(prior),
        missing,
        tuple(flags),
        None if aging is None else aging.due_on,
        None if aging is None else aging.deadline,
        None if aging is None else aging.waited_school_days,
        None if aging is None else aging.late_school_days,
        "" if correction is None else correction.describe(),
    )


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
        starts = Starts.read(timeline)
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
                sid, timeline, labels, as_of=until, since=ruleset.school_years.start_of(until),
                calendars=calendars,
            ):  # fmt: skip
                if a.issued_on is None:
                    pending.append(a)
        for a in legal_aging(sid, timeline, labels, as_of=dt.date.max, since=dt.date.min,
                             pending=False):  # fmt: skip
            ages[(a.step, a.issued_on)] = a
        corrections = {(f.step, f.issued_on): f for f in correction_flags(sid, timeline, labels)}
        for step, on in issued.items():
            checks.append(
                _check(repository, ruleset, sid, step, on, issued, events.get(step), unsupportive,
                       timeline, starts, interventions, ages.get((step, on)),
                       corrections.get((step, on)))
            )  # fmt: skip
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


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Legal steps and the interventions before them</title>
<style>
  body {{ font: 10pt/1.35 "DejaVu Sans", system-ui, sans-serif; color: #111; margin: 2em; }}
  h1 {{ font-size: 15pt; margin: 0 0 .3em; }}
  h2 {{ font-size: 12pt; margin: 1.2em 0 .4em; }}
  table {{ border-collapse: collapse; width: 100%; }}
  th, td {{ border: 1px solid #999; padding: .25em .4em; text-align: left; vertical-align: top; }}
  th {{ background: #eee; }}
  td.date, td.cites {{ white-space: nowrap; }}
  td ul {{ margin: 0; padding-left: 1.1em; }}
  tr.flagged td {{ background: #fde8e8; }}
  tr.flagged td:nth-child(6), td.missing {{ color: #a00; font-weight: bold; }}
  @page {{
    size: landscape;
    margin: 16mm 12mm 14mm;
    @top-left {{ content: "Legal steps and the interventions before them";
                 font: 8.5pt sans-serif; color: #444; }}
    @bottom-right {{ content: "page " counter(page) " of " counter(pages);
                     font: 8.5pt sans-serif; color: #444; }}
  }}
  @media print {{
    body {{ margin: 0; font-size: 8.5pt; }}
    thead {{ display: table-header-group; }}
    tr, li {{ break-inside: avoid; }}
    h2 {{ break-after: avoid; }}
    section.sources {{ break-before: page; }}
    tr.flagged td {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  }}
</style>
</head>
<body>
<h1>Legal steps and the interventions before them</h1>
<p>Checked against rule set {ruleset}. {summary}.</p>
<table>
<thead><tr><th>Student</th><th>Step</th><th>Issued</th><th>By</th>
<th>Documented before it</th><th>Finding</th><th>Cites</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
{pending}
<section class="sources">
<h2>Rules and statutes cited</h2>
<ol>
{sources}
</ol>
</section>
</body>
</html>
"""
