"""``/v1/rulesets``: list the rule sets held, check YAML, load a new version, run inline tests.

Checking is ``tierflow check`` and ``tierflow test`` over the posted text (problems with their
file, line and column; the analysis' warnings; each inline test's result). Loading a new version
(``PUT``) checks it the same way and swaps it in only when it compiles and every inline test
passes (:meth:`~._rulesets.Rulesets.replace`): otherwise the old version stays and the answer
says why.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from tierflow.server._deps import needs, server_state
from tierflow.server._errors import ServeError
from tierflow.server._rulesets import check_text, ruleset_json
from tierflow.server._tokens import Principal

__all__ = ["router"]

router = APIRouter(prefix="/v1/rulesets", tags=["rulesets"])

_YAML_BODY = {
    "requestBody": {
        "content": {"application/yaml": {"schema": {"type": "string"}}},
        "required": True,
    }
}


async def _yaml_text(request: Request) -> str:
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ServeError(
            "serve.bad_request", f"the rule set is not UTF-8 text: {exc}", 400
        ) from exc


@router.get("", summary="The rule sets this server holds")
def list_rulesets(
    request: Request, who: Annotated[Principal, Depends(needs("evaluate"))]
) -> dict[str, Any]:
    """Each rule set's id, name, version, content hash, tiers and required facts."""
    held = server_state(request).rulesets
    return {"rulesets": [ruleset_json(held.get(n)) for n in held.names()]}


@router.get("/{name}", summary="One rule set held")
def get_ruleset(
    name: str, request: Request, who: Annotated[Principal, Depends(needs("evaluate"))]
) -> dict[str, Any]:
    """The rule set's id, name, version, content hash, tiers and required facts."""
    return ruleset_json(server_state(request).rulesets.get(name))


@router.get("/{name}/tests", summary="Run a held rule set's inline tests")
async def test_ruleset(
    name: str, request: Request, who: Annotated[Principal, Depends(needs("evaluate"))]
) -> dict[str, Any]:
    """Each inline test's name, location, result and differences (``tierflow test``)."""
    ruleset = server_state(request).rulesets.get(name)
    results = await run_in_threadpool(ruleset.run_tests)
    tests = [
        {"name": r.name, "passed": r.passed, "location": str(r.location), "diffs": list(r.diffs)}
        for r in results
    ]
    return {"ruleset": ruleset_json(ruleset), "ok": all(t["passed"] for t in tests), "tests": tests}


@router.post("/check", summary="Check a rule set's YAML", openapi_extra=_YAML_BODY)
async def check_ruleset(
    request: Request, who: Annotated[Principal, Depends(needs("admin"))]
) -> dict[str, Any]:
    """Compile, analyse and test the posted YAML; ``ok`` is False on a problem or a failed test.

    The text may ``extends`` a built-in rule set (or a file under ``--extends-root``).
    """
    text = await _yaml_text(request)
    roots = server_state(request).config.extends_roots
    _, report = await run_in_threadpool(check_text, text, "posted", roots)
    return report


@router.put("/{name}", summary="Load a new version of a rule set", openapi_extra=_YAML_BODY)
async def replace_ruleset(
    name: str, request: Request, who: Annotated[Principal, Depends(needs("admin"))]
) -> dict[str, Any]:
    """Swap in the posted YAML as rule set ``name`` if it checks; else keep the old one.

    Requests already running finish on the version they started with.
    """
    text = await _yaml_text(request)
    state = server_state(request)
    return await run_in_threadpool(state.rulesets.replace, name, text, state.config.extends_roots)
