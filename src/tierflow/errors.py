"""The tierflow exception hierarchy.

Every error tierflow raises is a :class:`TierflowError`. Errors found in user input also subclass
the matching builtin, so existing ``except ValueError`` handlers keep working::

    TierflowError
    ├── RulesetError(TierflowError, ValueError)   found before evaluation: YAML, schema,
    │                                             expression, compile; carries every Problem
    ├── DataError(TierflowError, ValueError)      a bad input record (ingest, evaluate)
    ├── WorkflowError(TierflowError)              illegal transition, unknown intervention
    └── StoreError(TierflowError)                 persistence, concurrency conflicts
        └── ConflictError(StoreError)             another writer got there first: retry

A :class:`RulesetError` holds a sorted list of :class:`Problem` values (at most
:data:`MAX_PROBLEMS`); its message prints one per line, as compilers do::

    rulesets/district.yaml:8:11: expr.unknown_name: 'absense_rate' is not defined; did you mean
    'absence_rate'? (tiers[1].when)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tierflow.source import SourceSpan

__all__ = [
    "MAX_PROBLEMS",
    "ConflictError",
    "DataError",
    "Problem",
    "RulesetError",
    "StoreError",
    "TierflowError",
    "WorkflowError",
    "suggest",
]

MAX_PROBLEMS = 20
"""A :class:`RulesetError` reports at most this many problems (plus a count of the rest)."""


class TierflowError(Exception):
    """Base class of every error raised by tierflow."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a rule set, with where it is and what to do.

    Attributes:
        span: Where the problem is (file, 1-based line and column).
        code: A dotted, stable error code such as ``expr.unknown_name``.
        message: What is wrong, in plain words.
        path: The data path inside the document, such as ``tiers[1].when``.
        hint: A suggestion for fixing it, when one is known.
        severity: ``"error"`` or ``"warning"``.
    """

    span: SourceSpan
    code: str
    message: str
    path: str = ""
    hint: str = field(default="", compare=False)
    severity: str = field(default="error", compare=False)

    def __str__(self) -> str:
        """Render as ``file:line:col: code: message (path)``."""
        text = f"{self.span}: {self.code}: {self.message}"
        if self.hint:
            text += f"; {self.hint}"
        if self.path:
            text += f" ({self.path})"
        return text


class RulesetError(TierflowError, ValueError):
    """A rule set could not be loaded: every problem found, sorted by location."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        ordered = sorted(problems)
        if not ordered:
            raise ValueError("RulesetError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(ordered[:MAX_PROBLEMS])
        self.omitted: int = max(0, len(ordered) - MAX_PROBLEMS)
        lines = [str(p) for p in self.problems]
        if self.omitted:
            lines.append(f"... and {self.omitted} more problems")
        super().__init__("\n".join(lines))

    @property
    def codes(self) -> list[str]:
        """The error codes of the reported problems, in order."""
        return [p.code for p in self.problems]


class DataError(TierflowError, ValueError):
    """A bad input record: names the source, the student and the reason.

    Attributes:
        code: A dotted reason code such as ``facts.missing``.
        student_id: The student the record is about, when known.
        source: Where the record came from (``file:line`` or ``record 12``), when known.
        field: The fact or column at fault, when known.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        student_id: str | None = None,
        source: str | None = None,
        field: str | None = None,
    ) -> None:
        self.code = code
        self.reason = message
        self.student_id = student_id
        self.source = source
        self.field = field
        where = []
        if source:
            where.append(source)
        if student_id is not None:
            where.append(f"student {student_id}")
        prefix = ": ".join([", ".join(where), code]) if where else code
        super().__init__(f"{prefix}: {message}")


class WorkflowError(TierflowError):
    """An illegal workflow operation, such as a check-in on a closed intervention."""


class StoreError(TierflowError):
    """A persistence failure or a concurrency conflict."""


class ConflictError(StoreError):
    """Someone else changed the same records first: the change was refused, and is safe to retry.

    Raised for a stale intervention version, a student's event chain extended by another
    writer, or a row another writer added first. Nothing of the refused change was kept; doing
    it again from fresh reads (a new engine on the store) is correct.
    """


def suggest(name: str, candidates: Sequence[str] | Iterable[str]) -> str:
    """Return a "did you mean" hint for a misspelt name, or an empty string.

    >>> suggest("absense_rate", ["absence_rate", "days_absent"])
    "did you mean 'absence_rate'?"
    >>> suggest("zzz", ["absence_rate"])
    ''
    """
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean {matches[0]!r}?" if matches else ""
