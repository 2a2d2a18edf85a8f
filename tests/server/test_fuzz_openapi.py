"""Schemathesis against the served OpenAPI document: no 5xx, and every answer as documented.

For each operation the document describes, Schemathesis generates requests from its schema
(bounded: a few dozen each) and sends them to a real uvicorn on the loopback. Every response
must be no server error, carry a status and a media type the document declares for the
operation, and match the declared body schema (errors included: ``ErrorBody``). The semantic
refusals of a rules engine (facts the rule set needs, an unknown rule set) are 404 or 422
answers the document declares; "schema-valid data must be accepted" is not asked, since a
schema cannot say which facts a district's rule set requires.

The same runs without a token (every /v1 operation must refuse it) and with a token that has
only the ``evaluate`` scope (casework and admin operations must refuse it). A larger run is
marked slow (CI's second pass).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import checks  # noqa: E402

from server.served import Served, auth, serving, tokens_file  # noqa: E402
from tierflow.server import ServerConfig  # noqa: E402

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
OPEN = {"/health", "/ready", "/metrics"}
"""Operations any caller may use (no token needed)."""


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder: Path = tmp_path_factory.mktemp("fuzzed")
    config = ServerConfig(
        rulesets=("mtss",),
        db=str(folder / "store.db"),
        tokens=tokens_file(folder),
        max_body=64 * 1024,
    )
    with serving(config) as served:
        yield served


def _fuzz(served: Served, examples: int, headers: dict[str, str]) -> dict[str, list[int]]:
    """Every operation, ``examples`` generated requests each; the statuses seen per operation."""
    schema = schemathesis.openapi.from_url(f"{served.url}/v1/openapi.json")
    seen: dict[str, list[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        seen[f"{operation.method.upper()} {operation.path}"] = _statuses(
            operation, examples, headers
        )
    return seen


def _statuses(operation: Any, examples: int, headers: dict[str, str]) -> list[int]:
    codes: list[int] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        codes.append(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

    check()
    return codes


def test_every_operation_answers_as_documented_with_every_scope(fuzzed: Served) -> None:
    seen = _fuzz(fuzzed, 25, auth("root"))
    assert len(seen) >= 25  # evaluate, rule sets, casework, operations
    assert all(code < 500 for codes in seen.values() for code in codes)
    assert any(code == 200 for code in seen["GET /v1/rulesets"])


@pytest.mark.slow  # 6 s: every scope is also checked by tests/server/test_tokens.py
def test_without_a_token_every_v1_operation_refuses(fuzzed: Served) -> None:
    seen = _fuzz(fuzzed, 5, {})
    for name, codes in seen.items():
        if name.split(" ", 1)[1] not in OPEN:
            assert set(codes) == {401}, (name, sorted(set(codes)))


def test_an_evaluate_token_cannot_do_casework_or_administer(fuzzed: Served) -> None:
    seen = _fuzz(fuzzed, 5, auth("evaluator"))
    for name, codes in seen.items():
        path = name.split(" ", 1)[1]
        if path.startswith("/v1/casework") or name.startswith("PUT /v1/rulesets"):
            assert set(codes) == {403}, (name, sorted(set(codes)))


@pytest.mark.slow
def test_a_longer_run_finds_no_server_error(fuzzed: Served) -> None:
    seen = _fuzz(fuzzed, 150, auth("root"))
    assert all(code < 500 for codes in seen.values() for code in codes)
