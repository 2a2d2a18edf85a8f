"""The tierflow exception hierarchy.

Every error tierflow raises is a :class:`TierflowError`. Errors found in user input also subclass
the matching builtin, so existing ``except ValueError`` handlers keep working. The tree lists
every exception class tierflow defines, with its bases (``tests/test_errors.py`` keeps it
complete); the classes outside this module are named with their module::

    TierflowError
    ├── RulesetError(TierflowError, ValueError)        found before evaluation: YAML, schema,
    │                                                  expression, compile; carries every Problem
    ├── ExprSyntaxError(TierflowError, ValueError)     tierflow.expr: a condition's text cannot be
    │                                                  read; the compiler makes it a Problem
    ├── DataError(TierflowError, ValueError)           a bad input record (ingest, evaluate)
    │   └── ExprEvalError(DataError)                   tierflow.expr: an operation failed for one
    │                                                  student's values
    ├── JsonProblem(TierflowError, ValueError)         tierflow.ingest: a refused JSON text; the
    │                                                  readers make it a DataError
    ├── XmlRefused(TierflowError, ExpatError)          tierflow.ingest: an XML document refused
    │                                                  (a DOCTYPE); the readers make it a DataError
    ├── WorkflowError(TierflowError)                   illegal transition, unknown intervention
    │   ├── IllegalTransitionError(WorkflowError)      tierflow.workflow: a trigger the
    │   │                                              lifecycle does not allow
    │   └── UnknownInterventionError(WorkflowError, KeyError)
    │                                                  no intervention with that id in the store
    ├── StoreError(TierflowError)                      persistence, concurrency conflicts
    │   ├── ConflictError(StoreError)                  another writer got there first: retry
    │   └── Unreadable(StoreError)                     tierflow.store: a stored row that is not
    │                                                  as tierflow writes it
    ├── NoticeError(TierflowError, ValueError)         tierflow.notices: a notice that cannot be
    │                                                  rendered (no template in a required
    │                                                  language, a template over its bounds)
    ├── PropertyFailure(TierflowError, AssertionError) tierflow.testing: a rule set property does
    │                                                  not hold; the message is a test case
    ├── ServeError(TierflowError)                      tierflow.server: a request the HTTP service
    │                                                  refuses (a serve.* code and its status)
    └── OutsideFragment(TierflowError)                 tierflow.analysis: a condition the exact
                                                       coverage cannot reason about (caught there)

A :class:`RulesetError` holds a sorted list of :class:`Problem` values (at most
:data:`MAX_PROBLEMS`); its message prints one per line, as compilers do::

    rulesets/district.yaml:8:11: expr.unknown_name: 'absense_rate' is not defined; did you mean
    'absence_rate'? (tiers[1].when)
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tierflow.source import SourceSpan

__all__ = [
    "MAX_PROBLEMS",
    "ConflictError",
    "DataError",
    "DataReport",
    "Problem",
    "RulesetError",
    "StoreError",
    "TierflowError",
    "UnknownInterventionError",
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

    def with_source(
        self, file: str | None = None, line: int | None = None, student: str | None = None
    ) -> DataError:
        """The same error, told where it came from: what it already knows is kept.

        An error raised deep down (a cell parser, an evaluation) knows its reason but not its
        file; the reader or loop that caught it does. The source and student id are filled in
        only where the error has none, so the most precise place wins.

        >>> err = DataError("facts.missing", "days_enrolled is missing", field="days_enrolled")
        >>> str(err.with_source("students.csv", 3, "s1"))
        'students.csv:3, student s1: facts.missing: days_enrolled is missing'
        >>> err.with_source("students.csv", 3, "s1").with_source("record 9").source
        'students.csv:3'

        Args:
            file: The file, or a whole source such as ``record 12`` or ``student s1``.
            line: The 1-based line within ``file``, when known.
            student: The student the record is about, when known.
        """
        source = self.source
        if source is None and file is not None:
            source = file if line is None else f"{file}:{line}"
        student_id = self.student_id if self.student_id is not None else student
        if source == self.source and student_id == self.student_id:
            return self
        return DataError(
            self.code, self.reason, student_id=student_id, source=source, field=self.field
        )


# --- the report of a run over records: what was accepted, what was rejected and why ----------


@dataclass
class DataReport:
    """What happened to every record read: ``read == accepted + rejected`` always.

    The one way tierflow reports bad records, as a compiler's diagnostics list: every reader
    (:mod:`tierflow.ingest`), :class:`~tierflow.attendance.FactsBuilder` and
    :meth:`~tierflow.CompiledRuleset.evaluate_many` take one and fill it, and go on with the
    next record. A record is counted once, by whoever decides its fate: a reader counts the
    records it refuses, and whoever takes the records it yields (the builder, evaluation)
    counts those. Named for :class:`DataError`, whose instances it collects (the ``report``
    package holds exports such as the compliance report: a different thing).

    >>> report = DataReport()
    >>> report.accept()
    >>> report.reject(DataError("facts.missing", "days_enrolled is missing", source="f.csv:3"))
    >>> report.summary()
    'read 2, accepted 1, rejected 1 (facts.missing 1)'

    Attributes:
        read: Records counted.
        accepted: Records kept.
        rejects: One :class:`DataError` per rejected record, with its source, the student
            and a reason code.
        warnings: Problems found in records that were kept (a session stating a day count
            its calendar dates contradict; the dates are used).
        assumptions: Choices made for data that was not given (e.g. full-year enrollment).
        ignored: Values or records kept out on purpose, with why (a student characteristic
            that maps to no tierflow group, a student listed again), so nothing goes
            unmentioned.
    """

    read: int = 0
    accepted: int = 0
    rejects: list[DataError] = field(default_factory=list)
    warnings: list[DataError] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def accept(self) -> None:
        """Count one record as read and kept."""
        self.read += 1
        self.accepted += 1

    def reject(self, error: DataError) -> None:
        """Count one record as read and rejected, for the reason ``error`` gives."""
        self.read += 1
        self.rejects.append(error)

    @property
    def rejected(self) -> int:
        """Records rejected."""
        return len(self.rejects)

    def by_code(self) -> dict[str, int]:
        """Rejected records per reason code."""
        return dict(Counter(r.code for r in self.rejects))

    def summary(self) -> str:
        """One line: read, accepted, rejected (by code)."""
        codes = ", ".join(f"{k} {v}" for k, v in sorted(self.by_code().items()))
        return f"read {self.read}, accepted {self.accepted}, rejected {self.rejected}" + (
            f" ({codes})" if codes else ""
        )


# --- end of the data report --------------------------------------------------------------------


class WorkflowError(TierflowError):
    """An illegal workflow operation, such as a check-in on a closed intervention."""


# --- workflow errors raised by stores (owner: workflow) -----------------------------------------


class UnknownInterventionError(WorkflowError, KeyError):
    """No intervention has this id: ``Repository.get`` of every store raises it.

    It is a :class:`KeyError` too (the store is a mapping of ids), so ``except KeyError``
    around a lookup keeps working.

    Attributes:
        intervention_id: The id asked for.
    """

    def __init__(self, intervention_id: str) -> None:
        super().__init__(intervention_id)
        self.intervention_id = intervention_id

    def __str__(self) -> str:
        """Say which id is unknown (a plain ``KeyError`` prints only the key's ``repr``)."""
        return f"no intervention {self.intervention_id!r}"


# --- end of workflow errors raised by stores ---------------------------------------------------


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
