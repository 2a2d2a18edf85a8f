"""The registry of functions a rule may call.

A function has a typed signature checked at load time and a plain Python implementation. Functions
marked ``context=True`` receive the :class:`EvalContext` (the student's facts and the as-of date)
as their first argument; the others are pure and are folded at compile time when every argument is
a literal. The facts layer registers its calendar-aware window functions here too.
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

from tierflow.expr._types import BOOL, DATE, DURATION, NUMBER, STRING, Duration, Type, list_of

__all__ = [
    "ATTENDANCE_KINDS",
    "DEFAULT_FUNCTIONS",
    "EvalContext",
    "Function",
    "FunctionRegistry",
    "add_duration",
    "round_half_up",
    "same_items",
    "subtract_duration",
]

ATTENDANCE_KINDS: dict[str, frozenset[str]] = {
    "absence": frozenset({"excused", "unexcused", "suspension"}),
    "excused": frozenset({"excused"}),
    "unexcused": frozenset({"unexcused"}),
    "suspension": frozenset({"suspension"}),
    "tardy": frozenset({"tardy", "tardy_over_30"}),
    "tardy_over_30": frozenset({"tardy_over_30"}),
    "truancy": frozenset({"unexcused", "tardy_over_30"}),
}
"""Kinds a window function counts, mapped to the record kinds of ``StudentFacts.attendance_log``.

``truancy`` follows California EC 48260: unexcused absences and tardies of more than 30 minutes.
"""


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


def _log(ctx: EvalContext) -> tuple[tuple[dt.date, str, float], ...]:
    from tierflow.facts._model import attendance_log_of

    return ctx.cached("log", lambda: attendance_log_of(ctx.facts))  # type: ignore[no-any-return]


def _window(ctx: EvalContext, kind: str, period: Duration) -> list[tuple[dt.date, str, float]]:
    kinds = ATTENDANCE_KINDS[kind]
    start = subtract_duration(ctx.as_of, period)
    return [r for r in _log(ctx) if start < r[0] <= ctx.as_of and r[1] in kinds]


def _count_within(ctx: EvalContext, kind: str, period: Duration) -> int:
    # Days, not log rows: a date logged as an excused and an unexcused part is one day of
    # 'absence' (statutes count "days or parts of days").
    return len({r[0] for r in _window(ctx, kind, period)})


def _days_within(ctx: EvalContext, kind: str, period: Duration) -> float:
    return sum(r[2] for r in _window(ctx, kind, period))


def _peak_count(ctx: EvalContext, kind: str, period: Duration) -> int:
    kinds = ATTENDANCE_KINDS[kind]
    dates = sorted({r[0] for r in _log(ctx) if r[1] in kinds and r[0] <= ctx.as_of})
    best = 0
    first = 0
    for last, end in enumerate(dates):
        start = subtract_duration(end, period)
        # A zero-length period holds nothing, so ``first`` may pass ``last``; stop at the end.
        while first <= last and dates[first] <= start:
            first += 1
        best = max(best, last - first + 1)
    return best


def _history(ctx: EvalContext) -> Any:
    from tierflow.facts._model import history_of

    return ctx.cached("history", lambda: history_of(ctx.facts))


def _legal_issued(ctx: EvalContext, step: str) -> bool:
    return any(s.step == step and s.issued_on <= ctx.as_of for s in _history(ctx).legal_steps)


def _legal_count(ctx: EvalContext) -> int:
    return sum(1 for s in _history(ctx).legal_steps if s.issued_on <= ctx.as_of)


def _interventions_tried(ctx: EvalContext, min_level: float) -> int:
    # The same count as a legal step's supportive_interventions prerequisite (without
    # with_outcome): started by the as-of date, at or above the level, not marked unsupportive.
    unsupportive = ctx.unsupportive
    return sum(
        1
        for i in _history(ctx).interventions
        if i.tier_level >= min_level
        and i.started_on <= ctx.as_of
        and i.intervention not in unsupportive
    )


def _conferences_held(ctx: EvalContext, kind: str) -> int:
    # Held only: an attempt that did not bring the family in is no meeting.
    return sum(
        1
        for c in _history(ctx).conferences
        if c.kind == kind and c.held_on <= ctx.as_of and c.outcome == "held"
    )


def _conferences_attempted(ctx: EvalContext, kind: str) -> int:
    # Held, or a documented attempt (EC 48262's "conscientious effort"): every one counts.
    return sum(1 for c in _history(ctx).conferences if c.kind == kind and c.held_on <= ctx.as_of)


def _tried_by(ctx: EvalContext) -> list[Any]:
    return [i for i in _history(ctx).interventions if i.started_on <= ctx.as_of]


def _intervention_tried(ctx: EvalContext, intervention: str) -> bool:
    # Any catalogue intervention, supportive or not (a home visit is documented effort).
    return any(i.intervention == intervention for i in _tried_by(ctx))


def _interventions_with_outcome(ctx: EvalContext, min_level: float) -> int:
    unsupportive = ctx.unsupportive
    return sum(
        1
        for i in _tried_by(ctx)
        if i.tier_level >= min_level and i.intervention not in unsupportive and i.outcome
    )


def _contacts(ctx: EvalContext) -> int:
    # Each check-in is logged with a contact type (call, meeting, home_visit, message,
    # in_person); each conference held or attempted is a contact, or an attempt, with the family.
    history = _history(ctx)
    check_ins = sum(i.check_ins or 0 for i in _tried_by(ctx))
    return check_ins + sum(1 for c in history.conferences if c.held_on <= ctx.as_of)


_KIND = Type("string", values=frozenset(ATTENDANCE_KINDS), vocabulary="attendance kind")
_LEGAL = Type("string", vocabulary="legal_step")
_INTERVENTION = Type("string", vocabulary="intervention")

DEFAULT_FUNCTIONS = FunctionRegistry()
"""The built-in functions. Copy it (``DEFAULT_FUNCTIONS.copy()``) to add your own."""

for _fn in (
    Function("min", (NUMBER, NUMBER), NUMBER, min, "The smallest of its arguments.", variadic=True),
    Function("max", (NUMBER, NUMBER), NUMBER, max, "The largest of its arguments.", variadic=True),
    Function("abs", (NUMBER,), NUMBER, abs, "The absolute value."),
    Function("round", (NUMBER, NUMBER), NUMBER, _round, "x rounded to n decimal places (half up)."),
    Function("ratio", (NUMBER, NUMBER), NUMBER, _ratio, "a / b, or 0 when b is 0."),
    Function("len", (list_of(Type("any")),), NUMBER, len, "The number of items in a list."),
    Function("date", (STRING,), DATE, _date, "The date written 'YYYY-MM-DD'."),
    Function("days_between", (DATE, DATE), NUMBER, _days_between, "Calendar days from a to b."),
    Function(
        "count_within",
        (_KIND, DURATION),
        NUMBER,
        _count_within,
        "Days or parts of days of a kind in the period ending on the as-of date.",
        context=True,
        reads=("attendance_log",),
    ),
    Function(
        "days_within",
        (_KIND, DURATION),
        NUMBER,
        _days_within,
        "Full-day equivalents of a kind in the period ending on the as-of date.",
        context=True,
        reads=("attendance_log",),
    ),
    Function(
        "peak_count",
        (_KIND, DURATION),
        NUMBER,
        _peak_count,
        "The most days or parts of days of a kind in any period of this length so far.",
        context=True,
        reads=("attendance_log",),
    ),
    Function(
        "legal_issued",
        (_LEGAL,),
        BOOL,
        _legal_issued,
        "Whether the legal step was issued on or before the as-of date.",
        context=True,
        reads=("history",),
    ),
    Function(
        "legal_count",
        (),
        NUMBER,
        _legal_count,
        "How many legal steps were issued on or before the as-of date.",
        context=True,
        reads=("history",),
    ),
    Function(
        "interventions_tried",
        (NUMBER,),
        NUMBER,
        _interventions_tried,
        "How many supportive interventions of at least this tier level were started.",
        context=True,
        reads=("history",),
    ),
    Function(
        "conferences_held",
        (STRING,),
        NUMBER,
        _conferences_held,
        "How many conferences of a kind (parent_conference, sart, ...) were held (not only "
        "attempted).",
        context=True,
        reads=("history",),
    ),
    Function(
        "conferences_attempted",
        (STRING,),
        NUMBER,
        _conferences_attempted,
        "How many conferences of a kind were held or attempted (a documented attempt counts).",
        context=True,
        reads=("history",),
    ),
    Function(
        "intervention_tried",
        (_INTERVENTION,),
        BOOL,
        _intervention_tried,
        "Whether the catalogue intervention was started on or before the as-of date.",
        context=True,
        reads=("history",),
    ),
    Function(
        "interventions_with_outcome",
        (NUMBER,),
        NUMBER,
        _interventions_with_outcome,
        "How many supportive interventions of at least this tier level were started and have "
        "a recorded outcome.",
        context=True,
        reads=("history",),
    ),
    Function(
        "contacts",
        (),
        NUMBER,
        _contacts,
        "Documented contacts with the family: check-ins of started interventions plus "
        "conferences held or attempted.",
        context=True,
        reads=("history",),
    ),
):
    DEFAULT_FUNCTIONS.register(_fn)
