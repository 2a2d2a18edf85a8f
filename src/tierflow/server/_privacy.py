"""Personal data out of a response, unless the token has the ``personal`` scope.

What counts as personal here: a student's id (replaced by a keyed pseudonym, stable for the
life of the server, so a caller can still tell two records of one student apart), the facts an
event was decided on (left out), and the free text staff wrote (notes and reasons, replaced by
``"(masked)"``). Attendance figures, tiers and rule ids stay: without an id they name nobody.

>>> masker = Masker(b"k")
>>> masker.mask({"student_id": "s1", "note": "called mom", "tier": "tier2", "facts": {}})
{'student_id': 'anon-38aeb20015af4b6a', 'note': '(masked)', 'tier': 'tier2'}
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

__all__ = ["Masker"]

_IDS = frozenset({"student_id", "student"})
_TEXT = frozenset({"note", "notes", "text", "why", "reason"})
_DROPPED = frozenset({"facts", "person"})


class Masker:
    """Masks personal data in JSON values (see the module's documentation).

    Args:
        key: The pseudonyms' key (default: random, so pseudonyms change when the server
            restarts and cannot be matched across restarts or servers).
    """

    def __init__(self, key: bytes | None = None) -> None:
        self._key = os.urandom(32) if key is None else key

    def pseudonym(self, student_id: str) -> str:
        """The masked form of a student id."""
        digest = hmac.new(self._key, student_id.encode(), hashlib.sha256).hexdigest()
        return "anon-" + digest[:16]

    def mask(self, value: Any) -> Any:
        """A copy of a JSON value with personal data masked (a key's name says what it holds)."""
        if isinstance(value, list):
            return [self.mask(v) for v in value]
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k in _DROPPED:
                continue
            if k in _IDS and isinstance(v, str):
                out[k] = self.pseudonym(v)
            elif k in _TEXT and isinstance(v, str) and v:
                out[k] = "(masked)"
            else:
                out[k] = self.mask(v)
        return out
