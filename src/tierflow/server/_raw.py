"""``/v1/evaluate/raw``: a district's raw attendance files in, facts, decisions and rejects out.

A host that keeps attendance events, not facts, sends what ``tierflow evaluate --events``
reads: calendars, attendance events, and optionally enrollments and student groups, each as
the text of a file in one of the formats the library reads (CSV; JSON Lines or a JSON array;
Ed-Fi JSON or XML). The same readers fold them into facts
(:func:`tierflow.ingest.facts_from_files`, with the rule set's attendance policy and school
years) and the same loop decides (:func:`tierflow.pipeline.evaluate_built_facts`): no second
implementation. A record that cannot be read is a reject with its file, line and student id,
and the rest goes on.

The files are JSON strings in a JSON body, not a multipart upload: nothing the caller names
becomes a path. Each is written to a private temporary folder under a name the server makes
(``events-0.csv``: the kind, its place in the list, the format's suffix), which is what a
reject's source names, and the folder is removed when the answer is made. The body may be as
large as a batch's (``--max-batch``): attendance files are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from tierflow.errors import DataError, DataReport
from tierflow.ingest import facts_from_files
from tierflow.pipeline import evaluate_built_facts
from tierflow.server._deps import needs, request_id, server_state, shown
from tierflow.server._evaluate import reject_json
from tierflow.server._tokens import Principal

__all__ = ["RAW_PATH", "RawFile", "RawRequest", "router"]

RAW_PATH = "/v1/evaluate/raw"
"""The route, whose body is limited like a batch's."""

router = APIRouter(prefix="/v1", tags=["evaluate"])

_SUFFIX = {"csv": ".csv", "jsonl": ".jsonl", "json": ".json", "xml": ".xml"}


class RawFile(BaseModel):
    """One file's text and its format."""

    format: Literal["csv", "jsonl", "json", "xml"] = Field(
        description="csv; jsonl (JSON Lines); json (a JSON array, or Ed-Fi JSON); xml (Ed-Fi)"
    )
    content: str = Field(description="the file's text")


class RawRequest(BaseModel):
    """Raw attendance records of a district (or a school) to decide on."""

    as_of: dt.date = Field(description="the date to fold the records and decide as of")
    ruleset: str | None = Field(None, description="a loaded rule set's id (default: the first)")
    calendars: list[RawFile] = Field(min_length=1, description="school calendars")
    events: list[RawFile] = Field(min_length=1, description="attendance events")
    enrollments: list[RawFile] = Field([], description="enrollment spans (with grades)")
    groups: list[RawFile] = Field([], description="student groups")
    assume_full_year: bool = Field(
        False, description="without enrollments, enrol each student for the whole year"
    )
    include_facts: bool = Field(False, description="add each student's facts to the answer")


def _written(folder: Path, kind: str, files: list[RawFile]) -> list[Path]:
    paths = []
    for index, file in enumerate(files):
        path = folder / f"{kind}-{index}{_SUFFIX[file.format]}"
        path.write_text(file.content, encoding="utf-8", errors="surrogateescape")
        paths.append(path)
    return paths


def _reject(exc: DataError, folder: str) -> dict[str, Any]:
    """A reject as a batch's line says it, without the server's folder (not the caller's news)."""
    item = reject_json(exc)
    item["source"] = (item["source"] or "").replace(folder + os.sep, "")
    item["error"]["message"] = item["error"]["message"].replace(folder + os.sep, "")
    return item


@router.post(RAW_PATH.removeprefix("/v1"), summary="Decide from raw attendance files")
def evaluate_raw(
    body: RawRequest,
    request: Request,
    who: Annotated[Principal, Depends(needs("evaluate"))],
) -> dict[str, Any]:
    """Fold raw attendance files into facts as of a date and decide for every student."""
    state = server_state(request)
    ruleset = state.rulesets.get(body.ruleset)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tierflow-raw-") as name:
        folder = Path(name)
        calendar_report = DataReport()
        builder = facts_from_files(
            _written(folder, "calendars", body.calendars),
            _written(folder, "events", body.events),
            enrollments=_written(folder, "enrollments", body.enrollments),
            groups=_written(folder, "groups", body.groups),
            policy=ruleset.attendance_policy,
            school_years=ruleset.school_years,
            assume_full_year=body.assume_full_year,
            calendar_report=calendar_report,
        )
        report = DataReport()
        report.rejects.extend(builder.report.rejects)
        decided = list(evaluate_built_facts(ruleset, builder, as_of=body.as_of, report=report))
    rid, log = request_id(request), state.decision_log
    if log is not None:
        log.write([log.line(rid, d, r.facts, time.perf_counter() - started) for r, d in decided])
    state.metrics.evaluations.labels(ruleset.id).inc(len(decided))
    state.metrics.rejects.labels(ruleset.id).inc(len(report.rejects))
    students = []
    for record, decision in decided:
        item: dict[str, Any] = {"source": record.source, "decision": decision.to_dict()}
        if body.include_facts:
            item["facts"] = {k: v for k, v in record.facts.items() if k != "attendance_log"}
        students.append(item)
    out = {
        "ruleset": dataclasses.asdict(ruleset.ref),
        "as_of": body.as_of.isoformat(),
        "students": students,
        "rejects": [_reject(exc, name) for exc in report.rejects],
        "warnings": [_reject(w, name) for w in calendar_report.rejects + calendar_report.warnings],
        "assumed": list(builder.report.assumptions),
        "summary": {
            "records": builder.report.summary(),
            "students": len(decided),
            "rejected": len(report.rejects),
        },
    }
    result: dict[str, Any] = shown(state, who, out)
    return result
