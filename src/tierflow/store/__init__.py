"""Durable workflow records: an event-sourced, hash-chained SQL store (SQLite or PostgreSQL).

Persistence and its audit only: an engine takes a store as its repository
(``Engine(ruleset, repository=SqlRepository(target))``), and the packet and compliance
report read it as any repository (:mod:`tierflow.report`). SQLAlchemy is imported here, never
by ``import tierflow``. PostgreSQL needs its driver (``pip install 'tierflow[postgres]'``).

>>> import datetime as dt
>>> from tierflow.store import SqlRepository, verify
>>> repo = SqlRepository(":memory:")
>>> repo.record_issued("s1", "letter1", dt.date(2025, 10, 6))
>>> repo.issued("s1"), verify(repo)
({'letter1': datetime.date(2025, 10, 6)}, [])
"""

try:
    import sqlalchemy  # noqa: F401  (checked here so the error says what to install)
except ImportError as exc:  # pragma: no cover - a core dependency
    raise ImportError("tierflow.store needs SQLAlchemy: pip install 'sqlalchemy>=2.0'") from exc

from tierflow.errors import ConflictError, StoreError
from tierflow.store._audit import Anchor, Discrepancy, Replayed, anchor, replay, verify
from tierflow.store._connect import is_url, store_url
from tierflow.store._rows import ChainRow
from tierflow.store._sql import SqlRepository

__all__ = [
    "Anchor",
    "ChainRow",
    "ConflictError",
    "Discrepancy",
    "Replayed",
    "SqlRepository",
    "StoreError",
    "anchor",
    "is_url",
    "replay",
    "store_url",
    "verify",
]
