"""``/v1/evaluate``: one student's facts, or a batch streamed both ways, into decisions.

One student: a JSON object in, a decision out (with its explanation on request). A batch: a JSON
array or JSON Lines in, JSON Lines out, one line per record as it is decided, through the same
reader the CLI uses (:func:`tierflow.ingest.read_facts`) and the same loop
(:func:`tierflow.pipeline.evaluate_records`): a record that cannot be read or evaluated is a
line ``{"source", "error"}`` and the batch goes on; the last line is the summary. A JSON Lines
body is read as it arrives and decisions are sent as they are made, so memory does not grow
with the batch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Annotated, Any

import anyio.from_thread
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from tierflow.errors import DataError, DataReport, TierflowError
from tierflow.evaluate import CompiledRuleset
from tierflow.ingest import read_facts
from tierflow.ingest._text import LineBlocks
from tierflow.pipeline import evaluate_records
from tierflow.server._deps import needs, request_id, server_state, shown
from tierflow.server._errors import ServeError, status_and_body
from tierflow.server._state import ServerState
from tierflow.server._tokens import Principal

__all__ = ["EvaluateRequest", "reject_json", "router"]

router = APIRouter(prefix="/v1", tags=["evaluate"])

_JSON_LINES = ("application/x-ndjson", "application/jsonl", "application/json-lines")
_FLUSH_EVERY = 1024
"""Lines of a batch's answer sent together at most (and at each chunk of the body read)."""


class EvaluateRequest(BaseModel):
    """One student's facts to decide on."""

    facts: dict[str, Any] = Field(
        description="the student's facts (StudentFacts' keys; student_id at least)"
    )
    as_of: dt.date = Field(description="the date the facts describe")
    ruleset: str | None = Field(None, description="a loaded rule set's id (default: the first)")
    explain: bool = Field(False, description="add the explanation (with how far the next tier is)")


def reject_json(exc: DataError) -> dict[str, Any]:
    """A reject as a batch's line says it: where, and the error with its code."""
    return {
        "source": exc.source,
        "error": {
            "code": exc.code,
            "message": exc.reason,
            "field": exc.field,
            "student_id": exc.student_id,
        },
    }


@router.post("/evaluate", summary="Decide for one student")
async def evaluate_one(
    body: EvaluateRequest,
    request: Request,
    who: Annotated[Principal, Depends(needs("evaluate"))],
) -> dict[str, Any]:
    """Evaluate one student's facts as of a date against a loaded rule set."""
    state = server_state(request)
    ruleset = state.rulesets.get(body.ruleset)
    started = time.perf_counter()
    try:
        decision = ruleset.evaluate(body.facts, as_of=body.as_of)
    except DataError as exc:
        state.metrics.rejects.labels(ruleset.id).inc()
        raise exc.with_source("facts") from None
    state.metrics.evaluations.labels(ruleset.id).inc()
    out: dict[str, Any] = {
        "ruleset": dataclasses.asdict(ruleset.ref),
        "decision": decision.to_dict(),
    }
    if body.explain:
        out["explanation"] = decision.explain().to_dict()
    if state.decision_log is not None:
        line = state.decision_log.line(
            request_id(request), decision, body.facts, time.perf_counter() - started
        )
        state.decision_log.write([line])
    result: dict[str, Any] = shown(state, who, out)
    return result


def _arriving(request: Request) -> LineBlocks:
    """The lines of a request body as it arrives, for a reader running in a worker thread.

    Each chunk is fetched from the event loop (``anyio.from_thread``) when the reader wants
    more lines, so the body is read only as fast as the records are decided. The lines are
    the file reader's (:class:`~tierflow.ingest._text.LineBlocks`: a line that is not UTF-8
    or is too long is rejected, a lone carriage return ends a line, a byte order mark at the
    start is dropped).
    """
    body = request.stream()

    async def next_chunk() -> bytes | None:
        try:
            return await body.__anext__()
        except StopAsyncIteration:
            return None

    def chunks() -> Iterator[bytes]:
        while (chunk := anyio.from_thread.run(next_chunk)) is not None:
            if chunk:
                yield chunk

    return LineBlocks(chunks())


class _Stream(StreamingResponse):
    """A streamed response made in one worker thread, that leaves the request's body to it.

    Starlette's own response runs a synchronous iterator one item at a time in the thread pool
    (a hop to a thread and back for every block), and listens for a disconnect on ``receive``
    while it streams (under ASGI spec versions before 2.4, uvicorn's included), which would take
    the body's chunks from the reader. Here the whole answer is made by one call in a worker
    thread, which hands each block to the event loop as it is made, and the reader owns
    ``receive``: a batch of 20,000 students made 80 hops to the thread pool, and the event loop
    spent about 1 µs a student on them.

    Most HTTP clients send the whole body before they read the answer. Sending each block as
    it is made would then stop at the first full socket buffer: the server waits for the
    client to read, the client for the server to read, and neither does (a batch of 20,000
    students did). So the blocks go to the sender through a queue: the body is read on while
    the answer waits. A client that reads as it sends keeps the queue short (constant memory);
    one that does not makes the server hold the answer until it reads, no more than the answer
    to a body ``--max-batch`` allows. When the client goes away, the maker stops at its next
    block.
    """

    def __init__(self, blocks: Iterator[bytes], **kwargs: Any) -> None:
        """Stream ``blocks`` (made in a worker thread); ``kwargs`` as StreamingResponse's."""
        super().__init__(iter(()), **kwargs)
        self._blocks = blocks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stream_response(send)

    async def stream_response(self, send: Send) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        stop = threading.Event()

        def make() -> None:  # in a worker thread: every block, in one hop
            made = self._blocks
            try:
                for block in made:
                    loop.call_soon_threadsafe(queue.put_nowait, block)
                    if stop.is_set():
                        return
            finally:
                close = getattr(made, "close", None)
                if close is not None:
                    close()

        maker = asyncio.ensure_future(anyio.to_thread.run_sync(make))
        # Put after the blocks: a thread's call_soon_threadsafe calls run in their order.
        maker.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            while (block := await queue.get()) is not None:
                await send({"type": "http.response.body", "body": block, "more_body": True})
            await maker  # its error, if it failed, is the request's
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            if not maker.done():  # the client went away: stop reading and deciding
                stop.set()
                maker.cancel()


def _batch_lines(
    state: ServerState,
    who: Principal,
    ruleset: CompiledRuleset,
    as_of: dt.date,
    explain: bool,
    rid: str,
    name: str,
    stream: Any,
) -> Iterator[bytes]:
    """The JSON Lines of a batch's answer, in blocks (a block per chunk read, or per 1,024)."""
    kinds = {n: decl.type for n, decl in ruleset.spec.facts.extra.items()}
    report = DataReport()
    records = read_facts(name, stream=stream, extra_kinds=kinds, report=report)
    personal = who.has("personal")
    lines = state.lines[personal]
    log = state.decision_log
    out: list[str] = []
    logged: list[str] = []
    told = 0  # rejects already written
    flushed_at = 0
    started = time.perf_counter()

    def drain() -> None:
        nonlocal told
        for exc in report.rejects[told:]:
            item = reject_json(exc)
            out.append(json.dumps(item if personal else state.masker.mask(item)) + "\n")
        told = len(report.rejects)

    try:
        rejects = report.rejects
        add, line = out.append, lines.line
        for record, decision in evaluate_records(ruleset, records, as_of=as_of, report=report):
            if len(rejects) != told:
                drain()
            if explain:
                item: dict[str, Any] = {"source": record.source, "decision": decision.to_dict()}
                item["explanation"] = decision.explain().to_dict()
                add(json.dumps(item if personal else state.masker.mask(item)) + "\n")
            else:  # written from the outcome's cached JSON: a fifth of the cost
                add(line(record.source, decision))
            if log is not None:
                logged.append(log.line(rid, decision, record.facts, time.perf_counter() - started))
            chunks = getattr(stream, "chunks", 0)
            if len(out) >= _FLUSH_EVERY or chunks != flushed_at:
                flushed_at = chunks
                if log is not None:
                    log.write(logged)
                    logged.clear()
                yield "".join(out).encode()
                out.clear()
        drain()
    except TierflowError as exc:  # the body went over its limit while it was read
        found = status_and_body(exc)
        assert found is not None
        out.append(json.dumps(found[1]) + "\n")
    if log is not None:
        log.write(logged)
    state.metrics.evaluations.labels(ruleset.id).inc(report.accepted)
    state.metrics.rejects.labels(ruleset.id).inc(len(report.rejects))
    summary = {
        "summary": {
            "read": report.read,
            "accepted": report.accepted,
            "rejected": len(report.rejects),
            "ruleset": dataclasses.asdict(ruleset.ref),
        }
    }
    out.append(json.dumps(summary) + "\n")
    yield "".join(out).encode()


_BATCH_BODY = {
    "content": {
        "application/x-ndjson": {
            "schema": {"type": "string", "description": "one JSON object of facts per line"}
        },
        "application/json": {
            "schema": {"type": "array", "items": {"type": "object"}},
        },
    },
    "required": True,
}


@router.post(
    "/evaluate/batch",
    summary="Decide for many students (JSON array or JSON Lines in, JSON Lines out)",
    response_class=StreamingResponse,
    openapi_extra={"requestBody": _BATCH_BODY},
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
async def evaluate_batch(
    request: Request,
    who: Annotated[Principal, Depends(needs("evaluate"))],
    as_of: Annotated[dt.date, Query(description="the date the facts describe")],
    ruleset: Annotated[str | None, Query(description="a loaded rule set's id")] = None,
    explain: Annotated[bool, Query(description="add each decision's explanation")] = False,
) -> StreamingResponse:
    """Evaluate a batch: each line (or array item) one student's facts."""
    state = server_state(request)
    chosen = state.rulesets.get(ruleset)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    stream: Any
    if media == "application/json":
        text = (await request.body()).decode("utf-8", errors="surrogateescape")
        stream, name = io.StringIO(text), "request" + ".json"  # the suffix names the format
    elif media in _JSON_LINES:
        stream, name = _arriving(request), "request" + ".jsonl"
    else:
        raise ServeError(
            "serve.unsupported_media",
            f"send application/json (an array) or application/x-ndjson, not {media or 'nothing'!r}",
            415,
        )
    lines = _batch_lines(state, who, chosen, as_of, explain, request_id(request), name, stream)
    headers = {"X-Tierflow-Ruleset": f"{chosen.id} {chosen.version} {chosen.content_hash}"}
    return _Stream(lines, media_type="application/x-ndjson", headers=headers)
