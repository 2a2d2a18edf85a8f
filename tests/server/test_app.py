"""The service's frame: health, readiness, OpenAPI, metrics, request ids, errors, body limits."""

from __future__ import annotations

import re

import tierflow
from server.served import Served


def test_health_and_ready(open_server: Served) -> None:
    with open_server.client() as c:
        assert c.get("/health").json() == {"status": "ok"}
        ready = c.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "rulesets": ["ca", "mtss"]}


def test_the_openapi_document_describes_every_route_under_v1(open_server: Served) -> None:
    with open_server.client() as c:
        spec = c.get("/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    assert {"/v1/evaluate", "/v1/evaluate/batch", "/v1/rulesets", "/v1/casework/run"} <= paths
    assert all(p.startswith("/v1/") for p in paths - {"/health", "/ready", "/metrics"})
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_unknown_route_and_method_are_json_errors(open_server: Served) -> None:
    with open_server.client() as c:
        missing = c.get("/v1/nothing-here")
        wrong = c.delete("/v1/evaluate")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "serve.not_found"
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "serve.method_not_allowed"


def test_malformed_json_is_a_bad_request_never_a_traceback(open_server: Served) -> None:
    with open_server.client() as c:
        r = c.post(
            "/v1/evaluate", content=b'{"facts": {', headers={"content-type": "application/json"}
        )
        deep = c.post(
            "/v1/evaluate",
            content=b'{"as_of": "2025-11-03", "facts": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            headers={"content-type": "application/json"},
        )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "serve.bad_request"
    assert "Traceback" not in r.text
    assert deep.status_code == 400
    assert "Traceback" not in deep.text


def test_a_body_over_the_limit_is_refused_declared_or_streamed(open_server: Served) -> None:
    big = b'{"pad": "' + b"x" * (64 * 1024) + b'"}'
    with open_server.client() as c:
        declared = c.post("/v1/evaluate", content=big, headers={"content-type": "application/json"})
        streamed = c.post(
            "/v1/evaluate",
            content=iter([big[:1000], big[1000:]]),  # chunked: no Content-Length
            headers={"content-type": "application/json"},
        )
    for r in (declared, streamed):
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "serve.too_large"


def test_request_ids_are_echoed_or_made(open_server: Served) -> None:
    with open_server.client() as c:
        given = c.get("/health", headers={"X-Request-ID": "host-42"})
        made = c.get("/health")
        refused = c.get("/health", headers={"X-Request-ID": "bad id\twith tab"})
    assert given.headers["x-request-id"] == "host-42"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])


def test_metrics_count_requests_by_route_and_status(open_server: Served) -> None:
    with open_server.client() as c:
        c.get("/v1/rulesets")
        c.get("/v1/rulesets/nope")
        text = c.get("/metrics").text
    assert 'tierflow_requests_total{method="GET",route="/v1/rulesets",status="200"}' in text
    assert 'route="/v1/rulesets/{name}",status="404"' in text
    assert "tierflow_request_seconds_bucket" in text


def test_import_tierflow_does_not_import_the_server() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tierflow; "
        "print(any(m.split('.')[0] in ('fastapi', 'uvicorn') or m.startswith('tierflow.server')"
        " for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    assert tierflow.__version__
