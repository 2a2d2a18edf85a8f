"""Durable workflow records: an event-sourced, hash-chained SQL store (SQLite or PostgreSQL).

SQLAlchemy is imported here, never by ``import tierflow``. PostgreSQL needs its driver
(``pip install 'tierflow[postgres]'``).

>>> import tierflow
>>> from tierflow.store import SqlRepository, verify
>>> from tierflow.workflow import Engine
>>> repo = SqlRepository(":memory:")
>>> engine = Engine(tierflow.load_ruleset("mtss"), repository=repo)
>>> verify(repo)
[]
"""

try:
    import sqlalchemy  # noqa: F401  (checked here so the error says what to install)
except ImportError as exc:  # pragma: no cover - a core dependency
    raise ImportError("tierflow.store needs SQLAlchemy: pip install 'sqlalchemy>=2.0'") from exc

from tierflow.errors import ConflictError, StoreError
from tierflow.store._audit import Anchor, Finding, Replayed, anchor, replay, verify
from tierflow.store._connect import is_url, store_url
from tierflow.store._sqlite import ChainRow, SqliteRepository, SqlRepository

__all__ = [
    "Anchor",
    "ChainRow",
    "ConflictError",
    "Finding",
    "Replayed",
    "SqlRepository",
    "SqliteRepository",
    "StoreError",
    "anchor",
    "is_url",
    "replay",
    "store_url",
    "verify",
]
