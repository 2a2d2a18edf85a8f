"""``tierflow serve``: decisions and casework over HTTP, for hosts that are not Python.

The optional ``server`` extra (``pip install 'tierflow[server]'``: FastAPI, uvicorn and
prometheus_client); ``import tierflow`` never imports this package. :func:`create_app` makes the
ASGI app from a :class:`ServerConfig`; ``tierflow serve`` runs it under uvicorn. The endpoints,
tokens and error codes are described in docs/serve.md.

>>> from fastapi.testclient import TestClient  # doctest: +SKIP
>>> client = TestClient(create_app(ServerConfig(rulesets=["mtss"])))  # doctest: +SKIP
>>> client.get("/health").json()  # doctest: +SKIP
{'status': 'ok'}
"""

from __future__ import annotations

try:
    import fastapi  # noqa: F401  (checked here so the error says what to install)
    import prometheus_client  # noqa: F401
except ImportError as exc:  # pragma: no cover - the extra is not installed
    raise ImportError(
        "tierflow.server needs the server extra: pip install 'tierflow[server]'"
    ) from exc

from tierflow.server._app import create_app
from tierflow.server._errors import ServeError
from tierflow.server._privacy import Masker
from tierflow.server._state import ServerConfig
from tierflow.server._tokens import SCOPES, Principal, Tokens, hash_token, read_tokens

__all__ = [
    "SCOPES",
    "Masker",
    "Principal",
    "ServeError",
    "ServerConfig",
    "Tokens",
    "create_app",
    "hash_token",
    "read_tokens",
]
