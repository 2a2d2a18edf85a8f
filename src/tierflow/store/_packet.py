"""A student's packet: the documented timeline with the rules and statutes behind each step.

What a district hands a SARB panel, a truancy court or an auditor: every decision, opening,
transition, check-in, review, conference and legal step the workflow recorded, each with the
rule set that justified it and the references it cites, plus whether a legal step's required
elements (earlier letters, conferences, supportive interventions with outcomes) are documented.
Only ids are printed: the store holds no names or dates of birth.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import html
import io
import json
from dataclasses import dataclass
from typing import Any

from tierflow.evaluate import CompiledRuleset
from tierflow.facts import History
from tierflow.workflow import Engine, Intervention, Repository, WorkflowEvent

__all__ = ["Packet", "PacketEntry", "Readiness", "build_packet"]

_KINDS = {
    "decision": "Decision",
    "opened": "Intervention opened",
    "transition": "Intervention",
    "reviewed": "Review",
    "overdue": "Follow-up overdue",
    "conference": "Conference",
    "legal_due": "Legal step due",
    "legal_issued": "Legal step issued",
    "legal_withdrawn": "Legal step withdrawn",
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
class Readiness:
    """Whether a legal step's required elements are documented.

    Attributes:
        step: The legal step id (``sarb-referral``).
        label: Its label.
        ready: Nothing is missing.
        present: The documented elements, in words.
        missing: The elements still missing, in words (as the rule set states them).
    """

    step: str
    label: str
    ready: bool
    present: tuple[str, ...]
    missing: tuple[str, ...]


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
    """

    student_id: str
    as_of: dt.date
    ruleset: str
    timeline: tuple[PacketEntry, ...]
    interventions: tuple[Intervention, ...]
    readiness: Readiness | None

    def to_json(self) -> str:
        """The packet as indented JSON."""
        data = {
            "student_id": self.student_id,
            "as_of": self.as_of.isoformat(),
            "ruleset": self.ruleset,
            "timeline": [_entry_row(e) | {"cites": list(e.cites)} for e in self.timeline],
            "interventions": [
                {
                    k: v.isoformat() if isinstance(v, dt.date) else v
                    for k, v in dataclasses.asdict(iv).items()
                }
                for iv in self.interventions
            ],
            "readiness": None if self.readiness is None else dataclasses.asdict(self.readiness),
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        """The timeline as CSV, one row a step (citations joined by ``; ``)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["date", "kind", "what", "intervention_id", "who", "why", "ruleset", "cites"]
        )
        for e in self.timeline:
            writer.writerow([*_entry_row(e).values(), "; ".join(e.cites)])
        return out.getvalue()

    def to_html(self) -> str:
        """A printable page (A4 or letter; the table header repeats on every page)."""
        esc = html.escape
        rows = "\n".join(
            f"<tr><td>{e.on}</td><td>{esc(e.what)}</td><td>{esc(e.intervention_id or '')}</td>"
            f"<td>{esc(e.who)}</td><td>{esc(e.why)}</td>"
            f"<td>{'<br>'.join(esc(c) for c in e.cites)}</td></tr>"
            for e in self.timeline
        )
        ivs = "\n".join(
            f"<tr><td>{esc(iv.id)}</td><td>{esc(iv.intervention)}</td><td>{iv.tier_level}</td>"
            f"<td>{esc(iv.owner or 'unassigned')}</td><td>{esc(iv.state)}</td>"
            f"<td>{iv.opened_on}</td><td>{iv.ended_on or ''}</td></tr>"
            for iv in self.interventions
        )
        ready = ""
        if self.readiness is not None:
            r = self.readiness
            items = [f'<li class="ok">{esc(p)}</li>' for p in r.present]
            items += [f'<li class="missing">missing: {esc(m)}</li>' for m in r.missing]
            verdict = "ready" if r.ready else "not ready"
            ready = f"<h2>{esc(r.label)}: {verdict}</h2>\n<ul>{''.join(items)}</ul>"
        return _PAGE.format(
            title=esc(f"Attendance intervention record: student {self.student_id}"),
            student=esc(self.student_id),
            as_of=self.as_of,
            ruleset=esc(self.ruleset),
            rows=rows,
            ivs=ivs,
            ready=ready,
        )


def _entry_row(e: PacketEntry) -> dict[str, Any]:
    return {
        "date": e.on.isoformat(),
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
        if ev.kind in ("reviewed", "overdue"):
            return f"{_KINDS[ev.kind]}: {name}"
        if ev.kind == "conference":
            return f"Conference: {detail.get('kind', '')}"
        if ev.kind.startswith("legal_"):
            step = str(detail.get("step"))
            return f"{_KINDS[ev.kind]}: {self.label.get(step, step)}"
        return _KINDS.get(ev.kind, ev.kind)


def _readiness(engine: Engine, student_id: str, step_id: str, as_of: dt.date) -> Readiness:
    ruleset = engine.ruleset
    steps = list(ruleset.legal_steps)
    index = next((i for i, s in enumerate(steps) if s.id == step_id), None)
    if index is None:
        known = ", ".join(s.id for s in steps) or "none"
        raise KeyError(f"rule set {ruleset.id} has no legal step {step_id!r} (it has: {known})")
    facts = engine.with_history({"student_id": student_id})
    history = History.model_validate(facts.get("history") or {})
    issued = engine.repository.issued(student_id)
    chain: list[int] = []
    todo = [index]
    while todo:  # the earlier steps it needs, transitively (NOT1-3 before a SARB referral)
        i = todo.pop()
        req = steps[i].requires
        needs = [i - 1] if req.previous and i > 0 else []
        needs += [j for j, s in enumerate(steps) if s.id in req.steps]
        for j in needs:
            if j not in chain:
                chain.append(j)
                todo.append(j)
    present: list[str] = []
    missing: list[str] = []
    for j in sorted(chain):
        s = steps[j]
        if s.id in issued:
            present.append(f"{s.label or s.id} issued on {issued[s.id]}")
        else:
            missing.append(f"{s.label or s.id} has not been issued")
    for c in history.conferences:
        present.append(f"{c.kind.replace('_', ' ')} held on {c.held_on}")
    for tried in history.interventions:
        outcome = f", outcome {tried.outcome}" if tried.outcome else ", no outcome recorded"
        present.append(
            f"{tried.intervention} (tier {tried.tier_level}) from {tried.started_on}{outcome}"
        )
    for m in ruleset.missing_evidence(index, history, issued, as_of):
        if m not in missing:
            missing.append(m)
    return Readiness(
        step_id, steps[index].label or step_id, not missing, tuple(present), tuple(missing)
    )


def build_packet(
    repository: Repository,
    student_id: str,
    ruleset: CompiledRuleset,
    *,
    as_of: dt.date,
    step: str | None = None,
) -> Packet:
    """Gather a student's documentation from a repository.

    Args:
        repository: Where the records are (any workflow repository).
        student_id: The student.
        ruleset: The rule set whose references and legal requirements to use.
        as_of: The date the packet is prepared for (waiting periods count to it).
        step: A legal step to check readiness for (``sarb-referral``); None for none.

    Raises:
        KeyError: The rule set has no such legal step.
    """
    engine = Engine(ruleset, repository=repository)
    ivs = repository.for_student(student_id)
    catalogue = {iv.id: iv.intervention for iv in ivs}
    cites = _Citations(ruleset)
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
        for ev in repository.events(student_id)
    )
    ready = None if step is None else _readiness(engine, student_id, step, as_of)
    return Packet(student_id, as_of, str(ruleset.ref), timeline, tuple(ivs), ready)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
  body {{ font: 11pt/1.4 system-ui, sans-serif; color: #111; margin: 2em; }}
  h1 {{ font-size: 16pt; margin: 0 0 .2em; }}
  h2 {{ font-size: 13pt; margin: 1.2em 0 .4em; }}
  .meta {{ color: #444; margin: 0 0 1em; }}
  table {{ border-collapse: collapse; width: 100%; }}
  th, td {{ border: 1px solid #999; padding: .25em .4em; text-align: left; vertical-align: top; }}
  th {{ background: #eee; }}
  li.missing {{ color: #a00; }}
  @page {{ margin: 1.5cm; }}
  @media print {{
    body {{ margin: 0; font-size: 9.5pt; }}
    thead {{ display: table-header-group; }}
    tr {{ break-inside: avoid; }}
    h2 {{ break-after: avoid; }}
    th {{ background: none; }}
  }}
</style>
</head>
<body>
<h1>{title}</h1>
<p class="meta">Prepared as of {as_of} under rule set {ruleset}.</p>
{ready}
<h2>Interventions</h2>
<table>
<thead><tr><th>Id</th><th>Intervention</th><th>Tier</th><th>Owner</th><th>State</th>
<th>Opened</th><th>Ended</th></tr></thead>
<tbody>
{ivs}
</tbody>
</table>
<h2>Timeline</h2>
<table>
<thead><tr><th>Date</th><th>What</th><th>Intervention</th><th>Who</th><th>Why</th>
<th>Rule and statute</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
