"""The registry of functions a rule may call.

A function has a typed signature checked at load time and a plain Python implementation. Functions
marked ``context=True`` receive the :class:`EvalContext` (the student's facts and the as-of date)
as their first argument; the others are pure and are folded at compile time when every argument is
a literal.

This module knows nothing of what facts mean: it holds the registry and the language's pure
functions (:data:`PURE_FUNCTIONS`). The context functions that read a student's attendance log
and history live in :mod:`tierflow.facts`, which registers them explicitly into its own copy
(:data:`tierflow.facts.DEFAULT_FUNCTIONS`); importing a module never adds a function anywhere.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from tierflow.expr._types import DATE, NUMBER, STRING, Duration, Type, list_of

__all__ = [
    "PURE_FUNCTIONS",
    "EvalContext",
    "Function",
    "FunctionRegistry",
    "add_duration",
    "round_half_up",
    "same_items",
    "subtract_duration",
]


class EvalContext:
    """What a context function may read: one student's facts, the as-of date, the catalogue.

    Parsed views of the facts (the history, the attendance log) are built on first use and cached,
    so a rule set that never reads them never pays for them.

    Attributes:
        facts: The student's facts.
        as_of: The date the facts describe.
        unsupportive: Ids of the interventions the rule set's catalogue marks
            ``supportive: false``; ``interventions_tried`` does not count them.
    """

    __slots__ = ("_cache", "as_of", "facts", "unsupportive")

    def __init__(
        self,
        facts: Mapping[str, Any],
        as_of: dt.date,
        unsupportive: frozenset[str] = frozenset(),
        history: Any = None,
    ) -> None:
        """Create the context of one evaluation.

        Args:
            facts: The student's facts.
            as_of: The date the facts describe.
            unsupportive: Interventions the catalogue marks ``supportive: false``.
            history: The history the history functions read, when the caller already has it
                (a legal step's checklist reads this school year's records only); None: the
                ``history`` fact, read on first use.
        """
        self.facts = facts
        self.as_of = as_of
        self.unsupportive = unsupportive
        self._cache: dict[str, Any] = {} if history is None else {"history": history}

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """Return ``build()``, computed at most once per context."""
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = build()
            return value


@dataclass(frozen=True)
class Function:
    """A function callable from rule expressions.

    Attributes:
        name: The name rules call it by.
        params: Parameter types. A ``Type`` whose ``vocabulary`` is set and ``values`` is None is
            resolved against the rule set (e.g. ``legal_step``), so literals can be checked.
        returns: The result type.
        impl: The implementation.
        doc: One line for the function reference.
        context: Whether ``impl`` takes an :class:`EvalContext` first.
        variadic: Whether the last parameter may repeat (``min``, ``max``).
        reads: Facts the function reads, so a missing one is reported by name.
    """

    name: str
    params: tuple[Type, ...]
    returns: Type
    impl: Callable[..., Any]
    doc: str
    context: bool = False
    variadic: bool = False
    reads: tuple[str, ...] = ()

    @property
    def signature(self) -> str:
        """Render as ``name(type, ...) -> type`` for messages and docs."""
        params = [str(p) if p.vocabulary == "" else f"{p.vocabulary}" for p in self.params]
        if self.variadic:
            params.append("...")
        return f"{self.name}({', '.join(params)}) -> {self.returns}"


_FUNCTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
"""A function's name: an ASCII letter, then ASCII letters, digits and underscores."""


@dataclass
class FunctionRegistry:
    """A set of functions, looked up by name. Copy it before adding your own."""

    functions: dict[str, Function] = field(default_factory=dict)

    def register(self, function: Function) -> Function:
        """Add ``function``; a name may be registered once."""
        if function.name in self.functions:
            raise ValueError(f"function {function.name!r} is already registered")
        # ASCII only: Python normalises identifiers in source (NFKC), so a name such as 'ﬁ'
        # would be written as _fn_ﬁ in the generated code but compiled as _fn_fi, another
        # function's name. The condition language reads only ASCII names anyway.
        if _FUNCTION_NAME.fullmatch(function.name) is None:
            raise ValueError(f"invalid function name {function.name!r}")
        self.functions[function.name] = function
        return function

    def copy(self) -> FunctionRegistry:
        """Return an independent registry with the same functions."""
        return FunctionRegistry(dict(self.functions))

    def get(self, name: str) -> Function | None:
        """Return the function called ``name``, or None."""
        return self.functions.get(name)

    def __iter__(self) -> Iterator[Function]:
        return iter(sorted(self.functions.values(), key=lambda f: f.name))

    def __contains__(self, name: object) -> bool:
        return name in self.functions


def same_items(a: Iterable[Any], b: Iterable[Any]) -> bool:
    """Whether two lists hold the same items as often, in any order: what list ``==`` means.

    Lists in conditions are ids in practice (``causes``, ``groups``), which hosts pass in
    whatever order their records keep them (a list, a tuple, even a set), so a decision must not
    depend on that order: ``causes == ['health', 'housing']`` holds for either order. An item
    repeated counts as often as it is repeated (``[1, 1] == [1]`` is false), as ``len`` sees it.

    >>> same_items(["health", "housing"], ("housing", "health"))
    True
    >>> same_items(["health"], ["health", "housing"])
    False
    >>> same_items([1, 1], [1])
    False
    """
    rest = list(b)
    for item in a:
        for k, other in enumerate(rest):
            if other == item:
                del rest[k]
                break
        else:
            return False
    return not rest


def add_duration(day: dt.date, span: Duration) -> dt.date:
    """Return ``day`` moved forward by ``span`` on the calendar."""
    return day + relativedelta(months=span.months, days=span.days)


def subtract_duration(day: dt.date, span: Duration) -> dt.date:
    """Return ``day`` moved back by ``span`` on the calendar."""
    return day - relativedelta(months=span.months, days=span.days)


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def round_half_up(x: float, digits: int) -> float:
    """Round ``x`` to ``digits`` decimal places as written, a half going away from zero.

    This is how people and spreadsheets round (Excel's ROUND), and what a district expects on a
    letter: the decimal number as written is rounded, not its binary approximation, and a half
    never goes to the even neighbour as Python's ``round`` does (``round(0.125, 2)`` is 0.12,
    ``round(2.675, 2)`` is 2.67). An ``int`` stays an ``int``. Negative ``digits`` round to tens,
    hundreds...

    >>> round_half_up(0.125, 2), round_half_up(2.675, 2), round_half_up(2.5, 0)
    (0.13, 2.68, 3.0)
    >>> round_half_up(-2.5, 0), round_half_up(0.0995, 3), round_half_up(1250, -2)
    (-3.0, 0.1, 1300)
    """
    if isinstance(x, float) and not math.isfinite(x):
        return x
    if isinstance(x, int):
        if digits >= 0:
            return x
        # Whole numbers round in whole numbers: Decimal's 28 digits would refuse 10^40 + 1.
        if digits < -400:  # a step larger than any whole number a rule set computes
            return 0
        step = int(10**-digits)
        return (abs(x) + step // 2) // step * step * (1 if x >= 0 else -1)
    if digits < -400:  # beyond any float: every number rounds to zero
        return math.copysign(0.0, x)
    value = Decimal(repr(x))
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent >= -digits:
        return x  # nothing beyond the place rounded to
    rounded = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return float(rounded)


def _round(x: float, digits: float) -> float:
    if math.isnan(digits):
        raise ValueError("the number of places is not a number (NaN)")
    # More places than any number has (or fewer than any has) round the same: bounded first,
    # so round(x, 1e300) is x rather than a 300-digit place value.
    return round_half_up(x, int(max(-401.0, min(401.0, digits))))


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _days_between(a: dt.date, b: dt.date) -> int:
    return (b - a).days


def _pure_functions() -> FunctionRegistry:
    registry = FunctionRegistry()
    for fn in (
        Function(
            "min", (NUMBER, NUMBER), NUMBER, min, "The smallest of its arguments.", variadic=True
        ),
        Function(
            "max", (NUMBER, NUMBER), NUMBER, max, "The largest of its arguments.", variadic=True
        ),
        Function("abs", (NUMBER,), NUMBER, abs, "The absolute value."),
        Function(
            "round", (NUMBER, NUMBER), NUMBER, _round, "x rounded to n decimal places (half up)."
        ),
        Function("ratio", (NUMBER, NUMBER), NUMBER, _ratio, "a / b, or 0 when b is 0."),
        Function("len", (list_of(Type("any")),), NUMBER, len, "The number of items in a list."),
        Function("date", (STRING,), DATE, _date, "The date written 'YYYY-MM-DD'."),
        Function("days_between", (DATE, DATE), NUMBER, _days_between, "Calendar days from a to b."),
    ):
        registry.register(fn)
    return registry


PURE_FUNCTIONS = _pure_functions()
"""The language's own functions: pure, folded at compile time when every argument is a literal.

They read no facts. The functions that read a student's facts (attendance windows, history
counts) belong to the facts layer, which adds them to a copy of this registry to make
:data:`tierflow.facts.DEFAULT_FUNCTIONS`; the expression tools here default to this one.
"""
