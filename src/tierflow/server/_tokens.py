"""Bearer tokens with scopes, kept hashed: who may call which part of the service.

A tokens file is JSON: a list of ``{"subject": ..., "scopes": [...], "hash": ...}``. The hash
is ``sha256:<hex>`` (for long random tokens, where a fast hash is enough) or
``scrypt:<n>:<r>:<p>:<salt hex>:<hex>`` (for tokens a person may have chosen);
:func:`hash_token` makes either. The file never holds a token itself, so a copy of it lets
nobody in. A token that checked once is remembered by its SHA-256 for the life of the
process, so scrypt's cost is paid once per token, not once per request.

>>> line = hash_token("s3cret-token", method="sha256")
>>> tokens = Tokens([Principal("ms-lee", frozenset({"casework"}), line)])
>>> tokens.authorize("s3cret-token", "casework").subject
'ms-lee'
>>> tokens.authorize("s3cret-token", "admin")
Traceback (most recent call last):
    ...
tierflow.server._errors.ServeError: serve.forbidden: the token of 'ms-lee' lacks the scope 'admin'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tierflow.server._errors import ServeError

__all__ = ["SCOPES", "Principal", "Tokens", "hash_token", "read_tokens"]

SCOPES = ("evaluate", "casework", "admin", "personal")
"""``evaluate``: decisions and explanations, and listing rule sets; ``casework``: the workflow
over the store; ``admin``: checking and loading rule sets, verifying the audit chain;
``personal``: student ids and notes as they are (without it they are masked)."""

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True)
class Principal:
    """Who a token stands for and what it may do.

    Attributes:
        subject: The name recorded as the actor of every casework event (a staff id).
        scopes: Some of :data:`SCOPES`.
        hash: The token's hash as the tokens file keeps it ("" for the open server's caller).
    """

    subject: str
    scopes: frozenset[str]
    hash: str = ""

    def has(self, scope: str) -> bool:
        """Whether the token carries ``scope``."""
        return scope in self.scopes


def hash_token(token: str, *, method: str = "scrypt") -> str:
    """Hash a token for a tokens file: ``scrypt`` (salted, slow) or ``sha256``.

    >>> hash_token("abc", method="sha256")
    'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    >>> hash_token("abc").startswith("scrypt:16384:8:1:")
    True
    """
    if method == "sha256":
        return "sha256:" + hashlib.sha256(token.encode()).hexdigest()
    if method != "scrypt":
        raise ValueError(f"method must be 'scrypt' or 'sha256', got {method!r}")
    salt = os.urandom(16)
    digest = hashlib.scrypt(token.encode(), salt=salt, **_SCRYPT)
    n, r, p = _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"]
    return f"scrypt:{n}:{r}:{p}:{salt.hex()}:{digest.hex()}"


def _matches(token: str, stored: str) -> bool:
    """Whether ``token`` hashes to ``stored`` (compared in constant time)."""
    kind, _, rest = stored.partition(":")
    if kind == "sha256":
        return hmac.compare_digest(hashlib.sha256(token.encode()).hexdigest(), rest)
    if kind == "scrypt":
        n, r, p, salt, digest = rest.split(":")
        found = hashlib.scrypt(
            token.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
        return hmac.compare_digest(found.hex(), digest)
    return False


class Tokens:
    """The tokens a server accepts; ``Tokens(None)`` is the open server (no tokens file).

    The open server lets every request in as ``local`` with every scope: for a sidecar on
    127.0.0.1 only (``tierflow serve`` refuses another address without ``--tokens``).
    """

    def __init__(self, principals: Iterable[Principal] | None) -> None:
        self.open = principals is None
        self.principals = tuple(principals or ())
        self._known: dict[str, Principal] = {}  # sha256 of a token checked once -> its principal
        self._lock = threading.Lock()

    def authorize(self, token: str | None, scope: str) -> Principal:
        """The principal of ``token`` if it carries ``scope``.

        Raises:
            ServeError: ``serve.unauthorized`` (no token, or not one of ours),
                ``serve.forbidden`` (the token lacks the scope).
        """
        if self.open:
            return Principal("local", frozenset(SCOPES))
        if not token:
            raise ServeError("serve.unauthorized", "send 'Authorization: Bearer <token>'", 401)
        key = hashlib.sha256(token.encode()).hexdigest()
        found = self._known.get(key)
        if found is None:
            found = next((p for p in self.principals if _matches(token, p.hash)), None)
            if found is None:
                raise ServeError("serve.unauthorized", "the token is not known", 401)
            with self._lock:
                self._known[key] = found
        if not found.has(scope):
            raise ServeError(
                "serve.forbidden", f"the token of {found.subject!r} lacks the scope {scope!r}", 403
            )
        return found


def read_tokens(path: str | Path) -> Tokens:
    """Read a tokens file (see the module's documentation).

    Raises:
        OSError: The file cannot be read.
        ValueError: It is not a list of tokens with a subject, known scopes and a hash.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: a tokens file is a JSON list of tokens")
    principals = []
    for i, item in enumerate(data):
        where = f"{path}: token {i + 1}"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: expected an object")
        subject, scopes, stored = item.get("subject"), item.get("scopes"), item.get("hash")
        if not isinstance(subject, str) or not subject:
            raise ValueError(f"{where}: 'subject' must be a non-empty string")
        if not isinstance(scopes, list) or not all(s in SCOPES for s in scopes):
            raise ValueError(f"{where}: 'scopes' must be a list of {', '.join(SCOPES)}")
        if not isinstance(stored, str) or stored.partition(":")[0] not in ("sha256", "scrypt"):
            raise ValueError(f"{where}: 'hash' must be 'sha256:...' or 'scrypt:...'")
        principals.append(Principal(subject, frozenset(scopes), stored))
    return Tokens(principals)
