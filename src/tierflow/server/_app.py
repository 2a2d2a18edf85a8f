"""The ASGI app: routes under /v1, health, readiness, metrics, and errors as JSON.

:func:`create_app` wires the routers of :mod:`._evaluate`, :mod:`._admin` and
:mod:`._casework` to one :class:`~._state.ServerState`. Around them, one ASGI middleware gives
each request an id (``X-Request-ID``), refuses a body over the limit (``serve.too_large``),
and counts and times the request for ``/metrics``. Every error, routing's own included, is a
JSON body with a code (:mod:`._errors`); nothing else reaches the caller.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tierflow.errors import StoreError, TierflowError
from tierflow.server._errors import ERROR_RESPONSES, ServeError, error_body, status_and_body
from tierflow.server._raw import RAW_PATH
from tierflow.server._state import ServerConfig, ServerState

__all__ = ["BATCH_PATH", "create_app"]

BATCH_PATH = "/v1/evaluate/batch"
"""The one route whose body is streamed (its limit is ``max_batch``, not ``max_body``)."""

_LARGE = frozenset((BATCH_PATH, RAW_PATH))
"""Routes whose bodies are a district's records: limited by ``max_batch``."""

_LOG = logging.getLogger(__name__)
_GOOD_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_STATUS_CODES = {
    400: "serve.bad_request",
    401: "serve.unauthorized",
    403: "serve.forbidden",
    404: "serve.not_found",
    405: "serve.method_not_allowed",
    413: "serve.too_large",
    415: "serve.unsupported_media",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tierflow")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


def _too_large(limit: int) -> ServeError:
    """The request body is over its limit (said before reading, or found while reading)."""
    return ServeError("serve.too_large", f"the request body is over {limit:,} bytes", 413)


class _Guard:
    """Request ids, the body limit, and metrics, as one ASGI middleware."""

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        rid = given if _GOOD_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        config = self.state.config
        limit = config.max_batch if scope["path"] in _LARGE else config.max_body
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            declared = int(headers.get("content-length", "0") or 0)
        except ValueError:
            declared = 0
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))  # only a body message has one
            if seen > limit:
                raise _too_large(limit)
            return message

        try:
            if declared > limit:
                await self._refuse(_too_large(limit), send_with_id)
            else:
                await self.app(scope, counted, send_with_id)
        finally:  # a fault of ours is answered outside this middleware: counted as a 500
            path = getattr(scope.get("route"), "path", "unmatched")
            metrics = self.state.metrics
            metrics.requests.labels(scope["method"], path, str(status)).inc()
            metrics.latency.labels(scope["method"], path).observe(time.perf_counter() - started)

    @staticmethod
    async def _refuse(exc: ServeError, send: Send) -> None:
        response = JSONResponse(error_body(exc), status_code=exc.status)
        await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:  # pragma: no cover - a response does not read
    raise RuntimeError("a response read the request")


def _error(request: Request, exc: Exception) -> JSONResponse:
    found = status_and_body(exc)
    if found is None:
        rid = request.scope.get("state", {}).get("request_id", "")
        _LOG.error("request %s failed", rid, exc_info=exc)
        body = ServeError("serve.internal", f"tierflow failed; the log has request {rid}", 500)
        return JSONResponse(error_body(body), status_code=500)
    status, body_json = found
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body_json, status_code=status, headers=headers)


async def _on_tierflow(request: Request, exc: Exception) -> Response:
    return _error(request, exc)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if isinstance(exc.__cause__, ServeError):  # FastAPI wraps what reading the body raised
        return _error(request, exc.__cause__)
    code = _STATUS_CODES.get(exc.status_code, "serve.bad_request")
    error = ServeError(code, str(exc.detail), exc.status_code)
    return JSONResponse(error_body(error), status_code=exc.status_code, headers=exc.headers)


async def _on_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "where": ".".join(str(p) for p in e.get("loc", ())),
            "message": str(e.get("msg", "")),
        }
        for e in exc.errors()
    ]
    first = problems[0] if problems else {"where": "", "message": "bad request"}
    message = f"{first['where']}: {first['message']}"
    error = ServeError("serve.bad_request", message, 400, problems=problems)
    return JSONResponse(error_body(error), status_code=400)


async def _on_recursion(request: Request, exc: Exception) -> Response:
    error = ServeError("serve.bad_request", "the JSON is nested too deeply", 400)
    return JSONResponse(error_body(error), status_code=400)


def create_app(config: ServerConfig | None = None) -> FastAPI:
    """Make the service's ASGI app (serve it with uvicorn, or call it with a test client).

    Args:
        config: What to serve (default: the built-in ``mtss`` rule set, no store, no tokens).

    Raises:
        RulesetError: A rule set does not compile.
        OSError: A file named in ``config`` cannot be read.
        ValueError: The tokens file is malformed.
    """
    from tierflow.server._admin import router as admin
    from tierflow.server._casework import router as casework
    from tierflow.server._evaluate import router as evaluate
    from tierflow.server._notices import router as notices
    from tierflow.server._raw import router as raw

    state = ServerState(config or ServerConfig())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title="tierflow",
        version=_version(),
        description="Attendance playbooks as a service: decisions, explanations and casework.",
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.tierflow = state
    app.add_middleware(_Guard, state=state)
    app.add_exception_handler(ServeError, _on_tierflow)
    app.add_exception_handler(TierflowError, _on_tierflow)
    app.add_exception_handler(HTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_invalid)
    app.add_exception_handler(RecursionError, _on_recursion)
    app.add_exception_handler(Exception, _on_tierflow)
    app.include_router(evaluate)
    app.include_router(raw)
    app.include_router(admin)
    app.include_router(casework)
    app.include_router(notices)

    @app.get("/health", tags=["operations"], summary="The process answers")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"], summary="Rule sets loaded and the store reachable")
    def ready() -> Response:
        body: dict[str, Any] = {"status": "ready", "rulesets": state.rulesets.names()}
        if state.store is not None:
            try:
                with state.store.repository():
                    pass
            except StoreError as exc:
                body = {"status": "not ready", "store": str(exc)}
                return JSONResponse(body, status_code=503)
        return JSONResponse(body)

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics (text format)",
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
        response_class=Response,
    )
    def metrics() -> Response:
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
