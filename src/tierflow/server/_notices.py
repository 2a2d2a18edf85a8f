"""Family notices and the audit anchor over HTTP: the outbox, deliveries, ``audit anchor``.

The CLI's ``tierflow outbox``, ``tierflow delivery`` and ``tierflow audit anchor``, on the
same functions (:func:`tierflow.report.outbox`, :func:`tierflow.workflow.delivery_event`,
:func:`tierflow.store.anchor`). A delivery is recorded as reported by the token's subject (a
request cannot name someone else), in a batch that is tried again when another writer got
there first; the outbox is shown masked without the ``personal`` scope. The anchor is an
administrator's: its heads name every student, so it is answered with their ids only to a
token that also has ``personal``, else with its digest and the number of chains.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from tierflow.report import event_record, outbox
from tierflow.server._deps import needs, server_state, shown
from tierflow.server._errors import ServeError
from tierflow.server._tokens import Principal
from tierflow.store import anchor
from tierflow.workflow import WorkflowEvent
from tierflow.workflow._notices import delivery_event

__all__ = ["router"]

router = APIRouter(prefix="/v1/casework", tags=["casework"])

Caseworker = Annotated[Principal, Depends(needs("casework"))]


@router.get("/outbox", summary="Notices with their last delivery status (tierflow outbox)")
def list_outbox(
    request: Request,
    who: Caseworker,
    status: Annotated[list[str] | None, Query(description="only these statuses")] = None,
    school: Annotated[str | None, Query(description="only this school's notices")] = None,
    student: Annotated[list[str] | None, Query(description="only these students")] = None,
) -> dict[str, Any]:
    """The store's notices, oldest first, as ``tierflow outbox --format json`` prints them."""
    state = server_state(request)
    with state.needs_store().repository() as repo:
        try:
            box = outbox(repo, status=status or None, school=school, students=student)
        except ValueError as exc:  # an unknown status, with a did-you-mean
            raise ServeError("serve.bad_request", str(exc), 400) from None
    result: dict[str, Any] = shown(state, who, json.loads(box.to_json()))
    return result


class Delivery(BaseModel):
    """What became of a notice: reported by the token's subject."""

    status: Literal["sent", "delivered", "returned", "bounced", "read"] = Field(
        description="the notice's new status"
    )
    on: dt.date | None = Field(None, description="the day it happened (default: today)")
    note: str = Field("", max_length=2000, description="what was reported (the carrier's words)")


@router.post(
    "/students/{student_id}/notices/{notice}/delivery",
    summary="Record what became of a notice (tierflow delivery)",
)
def record_delivery(
    student_id: str, notice: int, body: Delivery, request: Request, who: Caseworker
) -> dict[str, Any]:
    """Record a notice's delivery status; its event, as the caller may see it."""
    state = server_state(request)
    on = dt.date.today() if body.on is None else body.on
    with state.needs_store().repository() as repo:

        def work() -> WorkflowEvent:
            # Read inside the batch: a retry checks against what the other writer kept.
            events = repo.notice_events([student_id]).get(student_id, [])
            event = delivery_event(
                events, student_id, notice, body.status, on=on, by=who.subject, note=body.note
            )
            return repo.append(event)

        recorded = repo.run_batch(work)
    return {"events": shown(state, who, [event_record(recorded, None, with_student=True)])}


@router.post("/audit/anchor", summary="Anchor the event chains' heads (tierflow audit anchor)")
def audit_anchor(
    request: Request, who: Annotated[Principal, Depends(needs("admin"))]
) -> dict[str, Any]:
    """The anchor of every chain head now: keep it (and its digest) somewhere else."""
    state = server_state(request)
    with state.needs_store().repository() as repo:
        saved = anchor(repo)
    data: dict[str, Any] = json.loads(saved.to_json())
    if not who.has("personal"):  # the heads are keyed by student id
        return {"digest": saved.digest, "chains": len(data["heads"])}
    return data
