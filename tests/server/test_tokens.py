"""Bearer tokens: hashed in their file, scopes refused on every route, the actor recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.served import Served, auth
from tierflow.server import ServeError, Tokens, hash_token, read_tokens


def test_sha256_hash_is_the_fips_test_vector() -> None:
    # FIPS 180-2, appendix B.1: SHA-256("abc")
    assert hash_token("abc", method="sha256") == (
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_scrypt_hashes_are_salted_and_check(tmp_path: Path) -> None:
    one, two = hash_token("pw"), hash_token("pw")
    assert one != two and one.startswith("scrypt:16384:8:1:")
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps([{"subject": "a", "scopes": ["admin"], "hash": one}]))
    tokens = read_tokens(path)
    assert tokens.authorize("pw", "admin").subject == "a"
    assert tokens.authorize("pw", "admin").subject == "a"  # the second time from memory
    with pytest.raises(ServeError, match="not known"):
        tokens.authorize("pw2", "admin")
    assert "pw" not in path.read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{}", "a JSON list"),
        ('[{"subject": "", "scopes": [], "hash": "sha256:00"}]', "subject"),
        ('[{"subject": "a", "scopes": ["root"], "hash": "sha256:00"}]', "scopes"),
        ('[{"subject": "a", "scopes": [], "hash": "md5:00"}]', "hash"),
    ],
)
def test_a_malformed_tokens_file_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_tokens(path)


def test_the_open_server_lets_everyone_in_as_local() -> None:
    who = Tokens(None).authorize(None, "admin")
    assert who.subject == "local" and who.has("personal")


def _scope(method: str, path: str) -> str:
    if path in ("/v1/rulesets/check", "/v1/casework/audit/verify") or method == "put":
        return "admin"
    return "casework" if path.startswith("/v1/casework") else "evaluate"


def _routes(served: Served) -> list[tuple[str, str]]:
    with served.client() as c:
        spec = c.get("/v1/openapi.json").json()
    return [
        (method, path)
        for path, item in spec["paths"].items()
        if path.startswith("/v1/")
        for method in item
    ]


def test_every_route_needs_a_token_and_its_scope(secured: Served) -> None:
    routes = _routes(secured)
    assert len(routes) >= 25
    other = {"evaluate": "ms-lee", "casework": "evaluator", "admin": "ms-lee-personal"}
    with secured.client() as c:
        for method, path in routes:
            url = path.replace("{intervention_id}", "iv-1").replace("{student_id}", "s1")
            url = url.replace("{name}", "mtss")
            anonymous = c.request(method, url)
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            assert anonymous.json()["error"]["code"] == "serve.unauthorized"
            assert anonymous.headers["www-authenticate"] == "Bearer"
            wrong = c.request(method, url, headers=auth(other[_scope(method, path)]))
            assert wrong.status_code == 403, (method, path, wrong.text)
            assert wrong.json()["error"]["code"] == "serve.forbidden"
            unknown = c.request(method, url, headers={"Authorization": "Bearer nope"})
            assert unknown.status_code == 401


def test_operations_routes_need_no_token(secured: Served) -> None:
    with secured.client() as c:
        assert c.get("/health").status_code == 200
        assert c.get("/ready").status_code == 200
        assert c.get("/metrics").status_code == 200
        assert c.get("/v1/openapi.json").status_code == 200
