"""Every error as JSON with a stable dotted code, the CLI's where the CLI has one.

A response for an error is ``{"error": {"code", "message", "status", ...}}`` and never a
traceback: a :class:`~tierflow.RulesetError` adds its ``problems`` (file, line, column, code,
message, path, hint) and takes the first one's code; a :class:`~tierflow.DataError` keeps its
own code (``facts.missing``) with the ``field``, ``student_id`` and ``source``; the rest are the
server's own ``serve.*`` codes (documented in docs/errors.md). A fault of tierflow's is logged
on the server with its traceback and answered ``serve.internal`` with the request id only.

>>> error_body(ServeError("serve.not_found", "no rule set 'x'", 404))
{'error': {'code': 'serve.not_found', 'message': "no rule set 'x'", 'status': 404}}
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from tierflow.errors import (
    ConflictError,
    DataError,
    Problem,
    RulesetError,
    StoreError,
    TierflowError,
    UnknownInterventionError,
    WorkflowError,
)

__all__ = [
    "ERROR_RESPONSES",
    "ErrorBody",
    "ServeError",
    "error_body",
    "problem_json",
    "status_and_body",
]


class ServeError(TierflowError):
    """A request the server refuses: a ``serve.*`` code, a message and the HTTP status.

    Attributes:
        code: The dotted code (``serve.forbidden``).
        message: What is wrong, in words.
        status: The HTTP status of the response.
        extra: More members of the error object (``problems``, ``results``).
    """

    def __init__(self, code: str, message: str, status: int, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.extra = code, message, status, extra


class ErrorDetail(BaseModel):
    """What went wrong: a dotted code, words, the HTTP status, and more members by code."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    status: int


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


_ERRORS = {
    400: "The body is not JSON, or nested too deeply",
    401: "No token, or a token the server does not know",
    403: "The token lacks the scope",
    404: "No such rule set, student, intervention, or no store",
    405: "A method the route does not take",
    409: "A change the lifecycle refuses, or another writer changed the records first",
    413: "The body is over the server's limit",
    415: "A media type the endpoint does not read",
    422: "The request, a rule set or a student's facts are not valid",
    500: "A fault of tierflow's (logged with the request id)",
    503: "The store failed",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in _ERRORS.items()
}
"""The error responses every operation may give, as the OpenAPI document declares them."""


def problem_json(p: Problem) -> dict[str, Any]:
    """A rule set problem as ``tierflow check --format json`` prints it."""
    return {
        "file": p.span.file,
        "line": p.span.line,
        "col": p.span.col,
        "code": p.code,
        "message": p.message,
        "path": p.path,
        "hint": p.hint,
        "severity": p.severity,
    }


def error_body(exc: ServeError) -> dict[str, Any]:
    """The JSON body of a refused request."""
    return {"error": {"code": exc.code, "message": exc.message, "status": exc.status, **exc.extra}}


def status_and_body(exc: Exception) -> tuple[int, dict[str, Any]] | None:
    """The status and body for an error tierflow raised, or None for a fault of ours."""
    if isinstance(exc, ServeError):
        return exc.status, error_body(exc)
    if isinstance(exc, RulesetError):
        problems = [problem_json(p) for p in exc.problems]
        return 422, error_body(
            ServeError(exc.codes[0], str(exc), 422, problems=problems, omitted=exc.omitted)
        )
    if isinstance(exc, DataError):
        fields = {"field": exc.field, "student_id": exc.student_id, "source": exc.source}
        return 422, error_body(ServeError(exc.code, exc.reason, 422, **fields))
    if isinstance(exc, UnknownInterventionError):
        return 404, error_body(ServeError("serve.not_found", str(exc).strip("'\""), 404))
    if isinstance(exc, WorkflowError):
        return 409, error_body(ServeError("serve.refused", str(exc), 409))
    if isinstance(exc, ConflictError):
        return 409, error_body(ServeError("serve.conflict", str(exc), 409))
    if isinstance(exc, StoreError):
        return 503, error_body(ServeError("serve.store", str(exc), 503))
    if isinstance(exc, TierflowError):
        return 422, error_body(ServeError("serve.bad_request", str(exc), 422))
    return None
