"""``/v1/casework``: the workflow over the store, one engine call per request.

Each write builds an :class:`~tierflow.workflow.Engine` on a borrowed store connection inside
:meth:`~tierflow.store.SqlRepository.run_batch` (tried again when another writer got there
first) and makes the one call the matching CLI command makes; the events it recorded are the
answer. The actor of every event is the token's subject: a request cannot name someone else.
Reads (the queue, a timeline, a packet, the compliance report, the audit) call the same
functions as ``tierflow queue``, ``timeline``, ``export`` and ``audit verify``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from tierflow.errors import DataReport, WorkflowError
from tierflow.report import build_packet, compliance_report, event_record, work_queue
from tierflow.runner import run_days
from tierflow.server._deps import needs, server_state, shown
from tierflow.server._errors import ServeError
from tierflow.server._state import ServerState
from tierflow.server._tokens import Principal
from tierflow.store import verify
from tierflow.workflow import CONTACT_OUTCOMES, CONTACT_TYPES, Engine, WorkflowEvent

__all__ = ["router"]

router = APIRouter(prefix="/v1/casework", tags=["casework"])

Caseworker = Annotated[Principal, Depends(needs("casework"))]


def _act(
    state: ServerState, who: Principal, ruleset: str | None, action: Callable[[Engine], object]
) -> dict[str, Any]:
    """Do one engine call in one batch; the events it recorded, as the caller may see them."""
    chosen = state.rulesets.get(ruleset)
    recorded: list[WorkflowEvent] = []
    names: dict[str, str] = {}
    with state.needs_store().repository() as repo:

        def work() -> None:
            recorded.clear()  # a retried batch starts again, from what the store holds now
            engine = Engine(
                chosen, repository=repo, roster=state.roster_copy(), calendars=state.calendars
            )
            engine.subscribe(recorded.append)
            action(engine)

        repo.run_batch(work)
        for ev in recorded:
            if ev.intervention_id is not None and ev.intervention_id not in names:
                names[ev.intervention_id] = repo.get(ev.intervention_id).intervention
    events = [
        event_record(ev, names.get(ev.intervention_id or ""), with_student=True) for ev in recorded
    ]
    return {"events": shown(state, who, events)}


def _day(on: dt.date | None) -> dt.date:
    return dt.date.today() if on is None else on


class _Action(BaseModel):
    on: dt.date | None = Field(None, description="the day it happened (default: today)")
    ruleset: str | None = Field(None, description="a loaded rule set's id (default: the first)")


class RunDay(_Action):
    """A school day's facts to run the workflow on."""

    facts: list[dict[str, Any]] = Field(description="every student's facts as of the day")


class Advance(_Action):
    """A day to move missed follow-ups on."""


class Assign(_Action):
    """Who takes an intervention."""

    owner: str
    reason: str = Field(min_length=1)
    override: bool = Field(False, description="go over the caseload limit (recorded)")


class Reason(_Action):
    """Why (unassign, close)."""

    reason: str = Field(min_length=1)


class CheckIn(_Action):
    """A check-in on an intervention."""

    goal_met: bool | None = None
    contact_type: str = Field("meeting", description=", ".join(CONTACT_TYPES))
    outcome: str | None = Field(None, description="effectiveness: positive, mixed...")
    note: str = ""


class Note(_Action):
    """A note on a student's timeline."""

    text: str = Field(min_length=1)
    intervention: str | None = None


class Conference(_Action):
    """A conference held or attempted."""

    kind: str = Field(description="parent_conference, sart...")
    outcome: Literal["held", "attempted"] = "held"
    method: str | None = None
    note: str = ""


class Contact(_Action):
    """An attempt to reach the family."""

    method: str
    outcome: str = Field(description=", ".join(CONTACT_OUTCOMES))
    note: str = ""
    intervention: str | None = None


class Barrier(_Action):
    """The cause behind a student's absences."""

    cause: str
    note: str = ""
    intervention: str | None = None


class Open(_Action):
    """An intervention of the catalogue opened by hand."""

    intervention: str = Field(description="a catalogue id")
    reason: str = Field(min_length=1)
    school: str | None = None
    tier: str | None = None


class Issue(_Action):
    """A legal step issued (only when it is due on these facts)."""

    step: str
    facts: dict[str, Any]


@router.post("/run", summary="Run the workflow for a school day")
def run_day(body: RunDay, request: Request, who: Caseworker) -> dict[str, Any]:
    """Open, review and escalate interventions from the day's facts (``tierflow run --facts``)."""
    state = server_state(request)
    ruleset = state.rulesets.get(body.ruleset)
    on = _day(body.on)
    report = DataReport()
    with state.needs_store().repository() as repo:
        days = run_days(
            ruleset,
            repo,
            lambda day: body.facts,
            [on],
            roster=state.roster,
            calendars=state.calendars,
            report=report,
        )
    rejected = [
        {"source": r.source, "student_id": r.student_id, "code": r.code, "message": r.reason}
        for r in report.rejects
    ]
    out = {"days": [d.to_dict() for d in days], "skipped": [] if days else [on.isoformat()]}
    return {**out, "rejected": shown(state, who, rejected)}


@router.post("/advance", summary="Move missed follow-ups to due, flag the overdue")
def advance(body: Advance, request: Request, who: Caseworker) -> dict[str, Any]:
    """``tierflow advance``: the follow-ups due as of the day."""
    state = server_state(request)
    ruleset = state.rulesets.get(body.ruleset)
    now = _day(body.on)
    with state.needs_store().repository() as repo:
        plan = repo.run_batch(
            lambda: Engine(ruleset, repository=repo, calendars=state.calendars).advance(now)
        )
    due = [
        {
            "id": iv.id,
            "student_id": iv.student_id,
            "intervention": iv.intervention,
            "owner": iv.owner,
            "state": iv.state,
            "next_follow_up": None if iv.next_follow_up is None else iv.next_follow_up.isoformat(),
            "overdue": iv.overdue,
        }
        for iv in plan.due
    ]
    return {"day": now.isoformat(), "due": shown(state, who, due)}


@router.get("/queue", summary="An owner's, role's or school's work")
def queue(
    request: Request,
    who: Caseworker,
    as_of: Annotated[dt.date | None, Query(description="default: today")] = None,
    owner: str | None = None,
    role: str | None = None,
    school: str | None = None,
) -> Any:
    """``tierflow queue --format json``: overdue, due, upcoming and unassigned work."""
    state = server_state(request)
    with state.needs_store().repository() as repo:
        found = work_queue(
            repo,
            _day(as_of),
            owner=owner,
            role=role,
            school=school,
            calendars=state.calendars,
        )
    return shown(state, who, json.loads(found.to_json()))


def _intervention_action(
    path: str, summary: str, model: type[_Action], call: Callable[[Engine, str, Any, str], object]
) -> None:
    def endpoint(intervention_id: str, body: Any, request: Request, who: Caseworker) -> Any:
        state = server_state(request)
        return _act(state, who, body.ruleset, lambda e: call(e, intervention_id, body, who.subject))

    endpoint.__annotations__ = {**endpoint.__annotations__, "body": model}
    endpoint.__name__ = path.replace("-", "_")
    router.post(f"/interventions/{{intervention_id}}/{path}", summary=summary)(endpoint)


def _student_action(
    path: str, summary: str, model: type[_Action], call: Callable[[Engine, str, Any, str], object]
) -> None:
    def endpoint(student_id: str, body: Any, request: Request, who: Caseworker) -> Any:
        state = server_state(request)
        return _act(state, who, body.ruleset, lambda e: call(e, student_id, body, who.subject))

    endpoint.__annotations__ = {**endpoint.__annotations__, "body": model}
    endpoint.__name__ = "student_" + path.replace("-", "_")
    router.post(f"/students/{{student_id}}/{path}", summary=summary)(endpoint)


def _reassign(e: Engine, iid: str, b: Assign, by: str) -> object:
    if e.repository.get(iid).owner is None:
        raise WorkflowError(f"{iid} has no owner to move; use assign")
    return e.assign(iid, b.owner, on=_day(b.on), by=by, reason=b.reason, override=b.override)


_intervention_action(
    "assign",
    "Give an intervention to a staff member",
    Assign,
    lambda e, iid, b, by: e.assign(
        iid, b.owner, on=_day(b.on), by=by, reason=b.reason, override=b.override
    ),
)
_intervention_action("reassign", "Move an owned intervention to another owner", Assign, _reassign)
_intervention_action(
    "unassign",
    "Take an intervention from its owner",
    Reason,
    lambda e, iid, b, by: e.unassign(iid, on=_day(b.on), by=by, reason=b.reason),
)
_intervention_action(
    "check-in",
    "Record a check-in",
    CheckIn,
    lambda e, iid, b, by: e.check_in(
        iid,
        on=_day(b.on),
        by=by,
        goal_met=b.goal_met,
        contact_type=b.contact_type,
        note=b.note,
        outcome=b.outcome,
    ),
)
_intervention_action(
    "close",
    "Close an open intervention",
    Reason,
    lambda e, iid, b, by: e.close(iid, on=_day(b.on), by=by, reason=b.reason),
)
_student_action(
    "notes",
    "Add a note to a student's timeline",
    Note,
    lambda e, sid, b, by: e.add_note(
        sid, b.text, on=_day(b.on), by=by, intervention_id=b.intervention
    ),
)
_student_action(
    "conferences",
    "Record a conference held or attempted",
    Conference,
    lambda e, sid, b, by: e.record_conference(
        sid, b.kind, on=_day(b.on), by=by, outcome=b.outcome, method=b.method, note=b.note
    ),
)
_student_action(
    "contacts",
    "Record an attempt to reach the family",
    Contact,
    lambda e, sid, b, by: e.record_contact(
        sid, b.method, b.outcome, on=_day(b.on), by=by, note=b.note, intervention_id=b.intervention
    ),
)
_student_action(
    "barriers",
    "Record the cause behind the absences",
    Barrier,
    lambda e, sid, b, by: e.record_barrier(
        sid, b.cause, on=_day(b.on), by=by, note=b.note, intervention_id=b.intervention
    ),
)
_student_action(
    "interventions",
    "Open an intervention of the catalogue by hand",
    Open,
    lambda e, sid, b, by: e.open_intervention(
        sid,
        b.intervention,
        on=_day(b.on),
        by=by,
        reason=b.reason,
        school_id=b.school,
        tier=b.tier,
    ),
)
_student_action(
    "legal",
    "Record a legal step issued (only when due)",
    Issue,
    lambda e, sid, b, by: e.issue_legal(sid, b.step, on=_day(b.on), by=by, facts=b.facts),
)


@router.get("/students/{student_id}/timeline", summary="Everything recorded for a student")
def timeline(student_id: str, request: Request, who: Caseworker) -> dict[str, Any]:
    """``tierflow timeline --format json``."""
    state = server_state(request)
    with state.needs_store().repository() as repo:
        events = repo.events(student_id)
        names = {iv.id: iv.intervention for iv in repo.for_student(student_id)}
    if not events:
        raise ServeError("serve.not_found", f"no records for student {student_id!r}", 404)
    rows = [event_record(e, names.get(e.intervention_id or ""), with_student=True) for e in events]
    return {"events": shown(state, who, rows)}


@router.get("/students/{student_id}/packet", summary="A student's packet (JSON)")
def packet(
    student_id: str,
    request: Request,
    who: Caseworker,
    as_of: Annotated[dt.date | None, Query(description="default: today")] = None,
    step: Annotated[str | None, Query(description="check a legal step's readiness")] = None,
    ruleset: str | None = None,
) -> Any:
    """``tierflow export packet --format json``.

    With the ``personal`` scope and a server started with ``--students``, the student's name
    and date of birth are in ``person`` (as ``--include-pii`` prints them); otherwise the
    packet names the student by id only (masked without the scope).
    """
    state = server_state(request)
    chosen = state.rulesets.get(ruleset)
    with state.needs_store().repository() as repo:
        found = build_packet(
            repo,
            student_id,
            chosen,
            as_of=_day(as_of),
            step=step,
            calendars=state.calendars,
            **state.people_for(who.has("personal")),
        )
    return shown(state, who, json.loads(found.to_json()))


@router.get("/compliance", summary="The compliance report (JSON)")
def compliance(
    request: Request,
    who: Caseworker,
    as_of: Annotated[dt.date | None, Query(description="default: today")] = None,
    ruleset: str | None = None,
) -> Any:
    """``tierflow export compliance --format json``: each legal step and its evidence.

    With the ``personal`` scope and ``--students``, each student's name and date of birth.
    """
    state = server_state(request)
    chosen = state.rulesets.get(ruleset)
    with state.needs_store().repository() as repo:
        found = compliance_report(
            repo,
            chosen,
            as_of=_day(as_of),
            calendars=state.calendars,
            **state.people_for(who.has("personal")),
        )
    return shown(state, who, json.loads(found.to_json()))


@router.get("/audit/verify", summary="Find edited or deleted rows of the event chains")
def audit_verify(
    request: Request, who: Annotated[Principal, Depends(needs("admin"))]
) -> dict[str, Any]:
    """``tierflow audit verify``: every finding (none: the chains are intact)."""
    state = server_state(request)
    with state.needs_store().repository() as repo:
        findings = verify(repo)
        students = len(repo.chain_heads())
    rows = [dataclasses.asdict(f) | {"text": str(f)} for f in findings]
    if not who.has("personal"):
        rows = [state.masker.mask({k: v for k, v in r.items() if k != "text"}) for r in rows]
    return {"ok": not findings, "students": students, "findings": rows}
