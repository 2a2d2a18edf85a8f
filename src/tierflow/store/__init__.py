"""Durable workflow records: an event-sourced, hash-chained SQLite repository.

Needs SQLAlchemy (``pip install 'tierflow[sql]'``); ``import tierflow`` never imports it.

>>> import tierflow
>>> from tierflow.store import SqliteRepository, verify
>>> from tierflow.workflow import Engine
>>> repo = SqliteRepository(":memory:")
>>> engine = Engine(tierflow.load_ruleset("mtss"), repository=repo)
>>> verify(repo)
[]
"""

try:
    import sqlalchemy  # noqa: F401  (checked here so the error says which extra to install)
except ImportError as exc:  # pragma: no cover - the dev extra installs it
    raise ImportError("tierflow.store needs SQLAlchemy: pip install 'tierflow[sql]'") from exc

from tierflow.store._audit import Finding, Replayed, replay, verify
from tierflow.store._packet import Packet, PacketEntry, Readiness, build_packet
from tierflow.store._sqlite import ChainRow, SqliteRepository

__all__ = [
    "ChainRow",
    "Finding",
    "Packet",
    "PacketEntry",
    "Readiness",
    "Replayed",
    "SqliteRepository",
    "build_packet",
    "replay",
    "verify",
]
