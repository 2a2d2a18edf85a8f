"""A real uvicorn on 127.0.0.1 (a free port) serving tierflow, for the server tests.

``serving(config)`` starts uvicorn in a thread of the test process, waits until it listens,
and stops it on leaving; the tests call it with httpx over the loopback, as a host would.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tierflow.server import ServerConfig, create_app, hash_token

TOKENS = {
    "evaluator": ("tok-evaluate", ["evaluate"]),
    "ms-lee": ("tok-casework", ["casework"]),
    "ms-lee-personal": ("tok-casework-personal", ["casework", "personal", "evaluate"]),
    "root": ("tok-admin", ["admin", "evaluate", "personal"]),
}
"""Subject -> (token, scopes) of the tokens file :func:`tokens_file` writes."""


def tokens_file(folder: Path) -> str:
    """Write a tokens file with :data:`TOKENS` (SHA-256 hashes; one scrypt) and return its path."""
    rows = [
        {
            "subject": subject,
            "scopes": scopes,
            "hash": hash_token(token, method="scrypt" if subject == "root" else "sha256"),
        }
        for subject, (token, scopes) in TOKENS.items()
    ]
    path = folder / "tokens.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return str(path)


def auth(subject: str) -> dict[str, str]:
    """The Authorization header of a subject of :data:`TOKENS`."""
    return {"Authorization": f"Bearer {TOKENS[subject][0]}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    """A running server: its base URL and the app's state."""

    url: str
    app: Any

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def serving(config: ServerConfig) -> Iterator[Served]:
    """Serve ``config`` on a free loopback port for the length of the ``with`` block."""
    app = create_app(config)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
