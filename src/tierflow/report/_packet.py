"""A student's packet: the documented timeline with the rules and statutes behind each step.

What a district hands a SARB panel, a truancy court or an auditor: every decision, opening,
transition, check-in, review, conference and legal step the workflow recorded, each with the
rule set that justified it and the references it cites, plus whether a legal step's required
elements (earlier letters, conferences, supportive interventions with outcomes) are documented.
The store holds no names or dates of birth: a packet names the student by id, and prints a name
and date of birth only when asked to (``include_personal=True``), from a roster the host passes.

Each notice rendered for the student (the outbox) is in the timeline, and listed with its
deliveries under the legal step or intervention it was for (:mod:`tierflow.report._evidence`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.evaluate import CompiledRuleset
from tierflow.ingest import Person
from tierflow.report._aging import CorrectionFlag, LegalAging, correction_flags, legal_aging
from tierflow.report._evidence import notice_json, notices_as_of, notices_section
from tierflow.report._export import Cell, Markup, csv_text, html, join, json_text
from tierflow.report._page import document, sources
from tierflow.report._readiness import Readiness, check_readiness
from tierflow.workflow import Intervention, NoticeRecord, Repository, WorkflowEvent, read_notices

__all__ = ["Packet", "PacketEntry", "build_packet"]

_KINDS = {
    "decision": "Decision",
    "opened": "Intervention opened",
    "transition": "Intervention",
    "reviewed": "Review",
    "transferred": "Moved with the student to a new school",
    "rollover": "New school year",
    "left": "Student left the district",
    "overdue": "Follow-up overdue",
    "conference": "Conference",
    "legal_due": "Legal step due",
    "legal_issued": "Legal step issued",
    "legal_withdrawn": "Legal step withdrawn",
    "legal_overdue": "Legal step overdue",
    "legal_flagged": "Legal step flagged after a correction",
    "legal_flag_resolved": "Legal step flag resolved",
    "notice_rendered": "Notice rendered",
    "notice_delivery": "Notice delivery",
}


@dataclass(frozen=True)
class PacketEntry:
    """One step of a student's timeline.

    Attributes:
        on: The date it took effect.
        kind: The event kind (``opened``, ``transition``, ``legal_issued``...).
        what: What happened, in words.
        intervention_id: The intervention, if any.
        who: Who did it.
        why: Why, as recorded.
        ruleset: The rule set (id, version, hash) whose decision justified it.
        cites: Titles of the references (statutes, guidance) behind it.
    """

    on: dt.date
    kind: str
    what: str
    intervention_id: str | None
    who: str
    why: str
    ruleset: str
    cites: tuple[str, ...]


@dataclass(frozen=True)
class Packet:
    """A student's documentation.

    Attributes:
        student_id: The student.
        as_of: The date it was prepared for.
        ruleset: The rule set used to look up citations and requirements.
        timeline: Every recorded step, in order.
        interventions: The student's interventions, oldest first.
        readiness: Whether the legal step asked about can be documented.
        include_personal: Personal data was asked for (the renderings print it).
        person: The student's name and date of birth, when asked for and in the roster.
        aging: Each legal step due or issued in ``as_of``'s school year: when it came due,
            its deadline, the school days it waited, and whether it went out late or is
            overdue now.
        flags: Legal steps issued on grounds a correction removed and not yet resolved (the
            owner is to rescind the letter or notify the family).
        notices: The notices rendered for the student by ``as_of``, each with the deliveries
            reported by then.
    """

    student_id: str
    as_of: dt.date
    ruleset: str
    timeline: tuple[PacketEntry, ...]
    interventions: tuple[Intervention, ...]
    readiness: Readiness | None
    include_personal: bool = False
    person: Person | None = None
    aging: tuple[LegalAging, ...] = ()
    flags: tuple[CorrectionFlag, ...] = ()
    notices: tuple[NoticeRecord, ...] = ()

    def to_json(self) -> str:
        """The packet as indented JSON."""
        data: dict[str, Any] = {"student_id": self.student_id}
        if self.include_personal:
            data["person"] = _person_json(self.person)
        data |= {
            "as_of": self.as_of.isoformat(),
            "ruleset": self.ruleset,
            "timeline": [
                {k: _iso(v) for k, v in _entry_row(e).items()} | {"cites": list(e.cites)}
                for e in self.timeline
            ],
            "interventions": [
                {k: _iso(v) for k, v in dataclasses.asdict(iv).items()} for iv in self.interventions
            ],
            "readiness": None
            if self.readiness is None
            else {k: _iso(v) for k, v in dataclasses.asdict(self.readiness).items()},
            "legal_aging": [
                {k: _iso(v) for k, v in dataclasses.asdict(a).items()} for a in self.aging
            ],
            "flags": [{k: _iso(v) for k, v in dataclasses.asdict(f).items()} for f in self.flags],
            "notices": [notice_json(n) for n in self.notices],
        }
        return json_text(data)

    def to_csv(self) -> str:
        """The timeline as CSV, one row a step (citations joined by ``; ``).

        After the timeline, one row (kind ``legal_aging``) for each legal step of
        :attr:`aging`, dated the day it came due (or was issued), and one (kind ``open_flag``)
        for each open correction flag, dated the day it was flagged; their ``why`` says how
        long the step waited, or what the correction removed.

        Each row starts with the student id; with personal data asked for, the name and date
        of birth follow it. Cells are written as :func:`~tierflow.report._export.csv_text`
        writes them: text quoted, and a single quote before text a spreadsheet would read as a
        formula (docs/exports.md).
        """
        who: list[Cell] = [self.student_id]
        header: list[Cell] = ["student_id"]
        if self.include_personal:
            header += ["name", "birth_date"]
            p = self.person
            who += ["", ""] if p is None else [p.name, p.birth_date]
        return csv_text(
            [
                [
                    *header,
                    "date",
                    "kind",
                    "what",
                    "intervention_id",
                    "who",
                    "why",
                    "ruleset",
                    "cites",
                ],
                *([*who, *_entry_row(e).values(), "; ".join(e.cites)] for e in self.timeline),
                *(
                    [
                        *who,
                        a.due_on or a.issued_on,
                        "legal_aging",
                        f"{a.label}: {a.status}",
                        None,
                        None,
                        a.describe(),
                        self.ruleset,
                        None,
                    ]
                    for a in self.aging
                ),
                *(
                    [
                        *who,
                        _cell(f.flagged_on),
                        "open_flag",
                        f"{f.label}: to rescind or notify",
                        None,
                        f.owner,
                        f.describe(),
                        self.ruleset,
                        None,
                    ]
                    for f in self.flags
                ),
            ]
        )

    def to_html(self) -> str:
        """A printable page: A4 or letter, each section on its own pages, rows never split.

        Every printed page carries the student id (and the name, when personal data was
        asked for), the preparation date and ``page N of M`` in its margins; the table
        headers repeat on every page. Citations are numbered and listed once, at the end.
        Every value is escaped (:func:`~tierflow.report._export.html` builds the page).
        """
        refs: dict[str, int] = {}
        for e in self.timeline:
            for c in e.cites:
                refs.setdefault(c, len(refs) + 1)
        rows = join(
            "\n",
            (
                html(
                    '<tr><td class="date">{on}</td><td>{what}</td><td class="id">{iv}</td>'
                    '<td>{who}</td><td>{why}</td><td class="cites">{cites}</td></tr>',
                    on=e.on,
                    what=e.what,
                    iv=e.intervention_id,
                    who=e.who,
                    why=e.why,
                    cites=" ".join(f"[{refs[c]}]" for c in e.cites),
                )
                for e in self.timeline
            ),
        )
        ivs = join(
            "\n",
            (
                html(
                    '<tr><td class="id">{id}</td><td>{name}</td><td>{tier}</td><td>{owner}</td>'
                    '<td>{state}</td><td class="date">{opened}</td>'
                    '<td class="date">{ended}</td></tr>',
                    id=iv.id,
                    name=iv.intervention,
                    tier=iv.tier_level,
                    owner=iv.owner or "unassigned",
                    state=iv.state,
                    opened=iv.opened_on,
                    ended=iv.ended_on,
                )
                for iv in self.interventions
            ),
        ) or Markup('<tr><td colspan="7">No interventions recorded.</td></tr>')
        ready = Markup()
        if self.readiness is not None:
            r = self.readiness
            items = [html('<li class="ok">{p}</li>', p=p) for p in r.present]
            items += [html('<li class="missing">missing: {m}</li>', m=m) for m in r.missing]
            items += [html('<li class="missing">notice: {m}</li>', m=m) for m in r.notices_missing]
            ready = html(
                '<section class="readiness">\n<h2>{label}: {verdict}</h2>\n'
                "<ul>{items}</ul>\n</section>",
                label=r.label,
                verdict=r.verdict,
                items=join("", items),
            )
        legal = _legal_section(self.aging, self.flags)
        legal = html(
            "{legal}{notices}", legal=legal, notices=notices_section(self.notices, self.aging)
        )
        who = f"Student {self.student_id}"
        student = html("{id}", id=self.student_id)
        if self.include_personal:
            if self.person is not None:
                who += f" - {self.person.describe()}"
                student = html(
                    "{id}<br>{person}", id=self.student_id, person=self.person.describe()
                )
            else:
                student = html("{id}<br>(not in the roster given)", id=self.student_id)
        title = f"Attendance intervention record: student {self.student_id}"
        body = html(
            _BODY,
            student=student,
            as_of=self.as_of,
            ruleset=self.ruleset,
            entries=len(self.timeline),
            rows=rows or Markup('<tr><td colspan="6">No events recorded.</td></tr>'),
            ivs=ivs,
            ready=ready,
            legal=legal,
            sources=sources(refs),
        )
        return document(title=title, running=f"{who} - prepared as of {self.as_of}", body=body)


def _legal_section(aging: Sequence[LegalAging], flags: Sequence[CorrectionFlag]) -> Markup:
    """The legal steps of the school year with their aging, and the open correction flags."""
    if not aging and not flags:
        return Markup()
    rows = join(
        "\n",
        (
            html(
                '<tr><td>{label}</td><td class="date">{due}</td><td class="date">{deadline}</td>'
                '<td class="date">{issued}</td><td>{waited}</td><td>{status}</td></tr>',
                label=a.label,
                due=a.due_on or "not reported due",
                deadline=a.deadline or "none",
                issued=a.issued_on or "not issued",
                waited="" if a.waited_school_days is None else a.waited_school_days,
                status=a.status
                + (f", {a.late_school_days} school days late" if a.late_school_days else ""),
            )
            for a in aging
        ),
    )
    table = Markup()
    if aging:
        table = html(
            "<table>\n<thead><tr><th>Step</th><th>Came due</th><th>Deadline</th><th>Issued</th>"
            "<th>School days waited</th><th>Status</th></tr></thead>\n<tbody>\n{rows}\n"
            "</tbody>\n</table>",
            rows=rows,
        )
    open_flags = Markup()
    if flags:
        open_flags = html(
            "<h2>Flagged after a correction: rescind or notify</h2>\n<ul>{items}</ul>",
            items=join(
                "",
                (
                    html('<li class="missing">{label}: {f}</li>', label=f.label, f=f.describe())
                    for f in flags
                ),
            ),
        )
    return html(
        "<section>\n<h2>Legal steps this school year</h2>\n{table}\n{flags}\n</section>",
        table=table,
        flags=open_flags,
    )


def _cell(value: Any) -> Cell:
    """A date as it is; anything else a record holds (text from elsewhere) as text."""
    if value is None or isinstance(value, dt.date):
        return value
    return str(value)


def _iso(value: Any) -> Any:
    """A date as ``YYYY-MM-DD`` for JSON; anything else as it is."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _person_json(person: Person | None) -> dict[str, Any] | None:
    if person is None:
        return None
    born = None if person.birth_date is None else person.birth_date.isoformat()
    return {"name": person.name, "birth_date": born}


def _entry_row(e: PacketEntry) -> dict[str, Cell]:
    return {
        "date": e.on,
        "kind": e.kind,
        "what": e.what,
        "intervention_id": e.intervention_id,
        "who": e.who,
        "why": e.why,
        "ruleset": e.ruleset,
    }


class _Citations:
    """Reference titles behind tiers, interventions and legal steps of one rule set."""

    def __init__(self, ruleset: CompiledRuleset) -> None:
        refs = {r.id: r.title for r in ruleset.spec.references}
        self.tier = {t.id: tuple(refs.get(c, c) for c in t.cites) for t in ruleset.tiers}
        self.intervention = {
            i.id: tuple(refs.get(c, c) for c in i.cites) + self.tier.get(i.tier, ())
            for i in ruleset.interventions.values()
        }
        self.step = {s.id: tuple(refs.get(c, c) for c in s.cites) for s in ruleset.legal_steps}
        self.label = {s.id: s.label or s.id for s in ruleset.legal_steps}

    def of(self, ev: WorkflowEvent, catalogue: dict[str, str]) -> tuple[str, ...]:
        detail = ev.detail or {}
        if ev.kind == "decision":
            found = list(self.tier.get(str(detail.get("tier")), ()))
            for item in detail.get("legal", ()):
                found += self.step.get(str(item).split(":")[0], ())
            return tuple(dict.fromkeys(found))
        if ev.kind.startswith("legal_"):
            return self.step.get(str(detail.get("step")), ())
        if ev.kind.startswith("notice_"):  # a notice for a legal step: the step's law
            return self.step.get(str(detail.get("for")), ())
        if ev.intervention_id is not None:
            return self.intervention.get(catalogue.get(ev.intervention_id, ""), ())
        return ()

    def what(self, ev: WorkflowEvent, catalogue: dict[str, str]) -> str:
        detail = ev.detail or {}
        name = catalogue.get(ev.intervention_id or "", "")
        if ev.kind == "decision":
            return f"Decision: {detail.get('tier', '')}"
        if ev.kind == "opened":
            return f"Intervention opened: {name}"
        if ev.kind == "transition":
            what = f"{name}: {ev.trigger} ({ev.from_state} to {ev.to_state})"
            extra = [f"outcome {detail['outcome']}"] if detail.get("outcome") else []
            extra += [f"note: {detail['note']}"] if detail.get("note") else []
            return "; ".join([what, *extra])
        if ev.kind in ("reviewed", "overdue", "transferred"):
            return f"{_KINDS[ev.kind]}: {name}"
        if ev.kind == "conference":
            return f"Conference: {detail.get('kind', '')}"
        if ev.kind.startswith("legal_"):
            step = str(detail.get("step"))
            return f"{_KINDS.get(ev.kind, ev.kind)}: {self.label.get(step, step)}"
        if ev.kind in ("notice_rendered", "notice_delivery"):
            target = str(detail.get("for"))
            what = f"{detail.get('notice', '')} for {self.label.get(target, target)}"
            if ev.kind == "notice_rendered":
                return (
                    f"Notice rendered: {what} ({detail.get('channel')}, {detail.get('language')})"
                )
            return f"Notice {detail.get('status', '')}: {what}"
        return _KINDS.get(ev.kind, ev.kind)


def build_packet(
    repository: Repository,
    student_id: str,
    ruleset: CompiledRuleset,
    *,
    as_of: dt.date,
    step: str | None = None,
    people: Mapping[str, Person] | None = None,
    include_personal: bool = False,
    calendars: Mapping[str, SchoolCalendar] | None = None,
    facts: Mapping[str, Any] | None = None,
) -> Packet:
    """Gather a student's documentation from a repository.

    Args:
        repository: Where the records are (any workflow repository).
        student_id: The student.
        ruleset: The rule set whose references and legal requirements to use.
        as_of: The date the packet is prepared for (waiting periods count to it).
        step: A legal step to check readiness for (``sarb-referral``); None for none.
        people: A roster of names and dates of birth by student id (see
            :func:`tierflow.ingest.read_people`); used only with ``include_personal``.
        include_personal: Print the student's name and date of birth from ``people``
            (default: the id only).
        calendars: School calendars by id, to count the school days a step still due has
            waited (Monday to Friday without one; a step issued carries its own count).
        facts: The student's facts as of ``as_of``, to check ``step``'s condition on
            (default: the decisive facts the engine recorded last, on or before ``as_of``).

    Raises:
        KeyError: The rule set has no such legal step.
        ValueError: ``include_personal`` without ``people``.
    """
    if include_personal and people is None:
        raise ValueError("include_personal=True needs people: a roster (read_people(path))")
    ivs = repository.for_student(student_id)
    catalogue = {iv.id: iv.intervention for iv in ivs}
    cites = _Citations(ruleset)
    events = list(repository.events(student_id))  # read once: the timeline and readiness
    timeline = tuple(
        PacketEntry(
            ev.at,
            ev.kind,
            cites.what(ev, catalogue),
            ev.intervention_id,
            ev.who,
            ev.why,
            str(ev.ruleset or ""),
            cites.of(ev, catalogue),
        )
        for ev in events
    )
    ready = (
        None
        if step is None
        else check_readiness(ruleset, repository, student_id, step, as_of, events, facts)
    )
    person = people.get(student_id) if include_personal and people is not None else None
    labels = cites.label
    aging = legal_aging(
        student_id,
        events,
        labels,
        as_of=as_of,
        since=ruleset.school_years.start_of(as_of),
        calendars=calendars,
    )
    flags = tuple(f for f in correction_flags(student_id, events, labels, as_of=as_of) if f.open)
    notices = tuple(notices_as_of(read_notices(events), as_of))
    return Packet(
        student_id,
        as_of,
        str(ruleset.ref),
        timeline,
        tuple(ivs),
        ready,
        include_personal,
        person,
        aging,
        flags,
        notices,
    )


_BODY = """<table class="meta">
<tr><th>Student</th><td>{student}</td></tr>
<tr><th>Prepared as of</th><td>{as_of}</td></tr>
<tr><th>Rule set</th><td>{ruleset}</td></tr>
</table>
{ready}
{legal}
<section class="interventions">
<h2>Interventions</h2>
<table>
<thead><tr><th>Id</th><th>Intervention</th><th>Tier</th><th>Owner</th><th>State</th>
<th>Opened</th><th>Ended</th></tr></thead>
<tbody>
{ivs}
</tbody>
</table>
</section>
<section class="timeline">
<h2>Timeline ({entries} recorded steps)</h2>
<table>
<thead><tr><th>Date</th><th>What</th><th>Intervention</th><th>Who</th><th>Why</th>
<th>Cites</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</section>
{sources}"""
