"""Reading a student's history and attendance log out of the facts a host passes.

The evaluator reads facts as plain mappings (what the JSON Lines and CSV readers produce) or as
:class:`~tierflow.facts.StudentFacts`. The history and the attendance log are read here: plain
dicts in the common shape through a fast path that builds read-only views, anything else through
pydantic validation, whose messages become ``facts.invalid`` errors naming the student.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from pydantic import ValidationError

from tierflow.errors import DataError, suggest
from tierflow.facts._model import (
    _ID,
    MAX_NUMBER,
    OUTCOMES,
    AttendanceRecord,
    Conference,
    History,
    IssuedStep,
    TriedIntervention,
)

__all__ = [
    "EMPTY_HISTORY_VIEW",
    "ConferenceView",
    "HistoryView",
    "InterventionView",
    "StepView",
    "attendance_log_of",
    "check_terms",
    "history_of",
    "history_view",
    "issued_steps",
]


def _data_error(facts: Mapping[str, Any], name: str, exc: ValidationError) -> DataError:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in (name, *first["loc"]))
    return DataError(
        "facts.invalid",
        f"{loc}: {first['msg']}",
        student_id=str(facts.get("student_id")),
        field=name,
    )


_TERM_WORDS = {"causes": "cause", "groups": "student group"}


def check_terms(facts: Mapping[str, Any], name: str, value: Any, known: frozenset[str]) -> None:
    """Check that every item of the list fact ``name`` (``causes``, ``groups``) is a known id.

    ``known`` is the rule set's vocabulary: the standard ids (:data:`CAUSES`, :data:`GROUPS`)
    and those it declares under ``facts.causes`` / ``facts.groups``. A misspelt id would
    otherwise be read as a cause or group no rule names, and the rules about the one meant would
    silently never fire for the student.

    Raises:
        DataError: ``facts.invalid`` naming the student, the fact and the first unknown item,
            with a did-you-mean suggestion when one is close.

    >>> from tierflow.facts import CAUSES
    >>> check_terms({"student_id": "s1"}, "causes", ["health"], frozenset(CAUSES))
    >>> check_terms({"student_id": "s1"}, "causes", ["transportaton"], frozenset(CAUSES))
    Traceback (most recent call last):
    ...
    tierflow.errors.DataError: student s1: facts.invalid: fact 'causes' has an unknown cause \
'transportaton'; did you mean 'transportation'?
    """
    word = _TERM_WORDS.get(name, "item")
    for item in value:
        if isinstance(item, str) and item in known:
            continue
        if isinstance(item, str):
            hint = suggest(item, sorted(known)) or f"known: {', '.join(sorted(known))}"
            if "," in item:
                hint += " (a CSV cell separates the items of a list with ';')"
            text = f"fact {name!r} has an unknown {word} {item!r}; {hint}"
        else:
            text = f"fact {name!r} must list {word} ids (text), got {type(item).__name__} {item!r}"
        student = facts.get("student_id")
        raise DataError(
            "facts.invalid",
            text,
            student_id=None if student is None else str(student),
            field=name,
        )


def history_of(facts: Mapping[str, Any]) -> History:
    """Return the student's history as a :class:`History` (empty when absent).

    Raises:
        DataError: ``facts.invalid`` when the history is malformed.
    """
    raw = facts.get("history")
    if raw is None:
        return History()
    if isinstance(raw, History):
        return raw
    try:
        return History.model_validate(raw)
    except ValidationError as exc:
        raise _data_error(facts, "history", exc) from exc


class StepView(NamedTuple):
    """A read-only issued legal step (same attributes as :class:`IssuedStep`)."""

    step: str
    issued_on: dt.date


class InterventionView(NamedTuple):
    """A read-only tried intervention (same attributes as :class:`TriedIntervention`)."""

    intervention: str
    tier_level: int
    started_on: dt.date
    ended_on: dt.date | None
    outcome: str | None
    check_ins: int | None = None


class ConferenceView(NamedTuple):
    """A read-only conference (same attributes as :class:`Conference`)."""

    kind: str
    held_on: dt.date
    outcome: str = "held"
    method: str | None = None
    note: str | None = None


class HistoryView(NamedTuple):
    """A read-only history with the attributes of :class:`History`, cheap to build."""

    legal_steps: tuple[StepView | IssuedStep, ...]
    interventions: tuple[InterventionView | TriedIntervention, ...]
    conferences: tuple[ConferenceView | Conference, ...]


EMPTY_HISTORY_VIEW = _EMPTY_VIEW = HistoryView((), (), ())
_HISTORY_KEYS = frozenset(History.model_fields)
_ID_RE = re.compile(_ID[1:-1])  # used with fullmatch: "$" would accept a final newline
_OUTCOME_SET = frozenset(OUTCOMES)


class _Irregular(Exception):
    """The fast path met something unusual; pydantic validation decides (and explains)."""


# Histories repeat the same few dates and ids across a district; remembering the ones already
# checked makes reading them cheap. Both caches are bounded (cleared when full).
_DAYS: dict[str, dt.date] = {}
_IDS: set[str] = set()
_CACHE_LIMIT = 4096


def _day(value: Any) -> dt.date:
    if type(value) is str:
        day = _DAYS.get(value)
        if day is not None:
            return day
        if len(value) == 10:
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                raise _Irregular from None
            if len(_DAYS) >= _CACHE_LIMIT:
                _DAYS.clear()
            _DAYS[value] = day
            return day
    elif type(value) is dt.date:
        return value
    raise _Irregular


def _ident(value: Any) -> str:
    if type(value) is str:
        if value in _IDS:
            return value
        if _ID_RE.fullmatch(value):
            if len(_IDS) >= _CACHE_LIMIT:
                _IDS.clear()
            _IDS.add(value)
            return value
    raise _Irregular


_new = tuple.__new__  # builds the views below without NamedTuple.__new__'s Python frame


def _items(raw: Mapping[str, Any], key: str) -> list[Any] | tuple[Any, ...]:
    """The list under ``key`` of a history (empty when absent); anything else is irregular."""
    items = raw.get(key)
    if items is None:
        return ()
    if type(items) is list or type(items) is tuple:
        return items
    raise _Irregular


def _fast_steps(raw: Any) -> tuple[StepView, ...]:
    if type(raw) is not dict or not raw.keys() <= _HISTORY_KEYS:
        raise _Irregular
    steps = []
    for item in _items(raw, "legal_steps"):
        if type(item) is not dict or len(item) != 2:
            raise _Irregular
        steps.append(_new(StepView, (_ident(item.get("step")), _day(item.get("issued_on")))))
    return tuple(steps)


def _fast_history(raw: Mapping[str, Any], steps: tuple[StepView, ...] | None = None) -> HistoryView:
    if steps is None:
        steps = _fast_steps(raw)
    elif type(raw) is not dict or not raw.keys() <= _HISTORY_KEYS:
        raise _Irregular
    tried = []
    for item in _items(raw, "interventions"):
        if type(item) is not dict or not item.keys() <= _TRIED_KEYS:
            raise _Irregular
        level = item.get("tier_level")
        if type(level) is not int or not 1 <= level <= 9:
            raise _Irregular
        ended = item.get("ended_on")
        outcome = item.get("outcome")
        if outcome is not None and outcome not in _OUTCOME_SET:
            raise _Irregular
        count = item.get("check_ins")
        if count is not None and (type(count) is not int or not 0 <= count <= MAX_NUMBER):
            raise _Irregular
        tried.append(
            _new(
                InterventionView,
                (
                    _ident(item.get("intervention")),
                    level,
                    _day(item.get("started_on")),
                    None if ended is None else _day(ended),
                    outcome,
                    count,
                ),
            )
        )
    held = []
    for item in _items(raw, "conferences"):
        if type(item) is not dict or not item.keys() <= _CONFERENCE_KEYS:
            raise _Irregular
        result = item.get("outcome", "held")
        method = item.get("method")
        note = item.get("note")
        if (
            (result != "held" and (result != "attempted" or method is None))
            or (method is not None and (type(method) is not str or len(method) > _ID_MAX))
            or (note is not None and type(note) is not str)
        ):
            raise _Irregular
        held.append(
            _new(
                ConferenceView,
                (
                    _ident(item.get("kind")),
                    _day(item.get("held_on")),
                    result,
                    None if method is None else _ident(method),
                    note,
                ),
            )
        )
    return _new(HistoryView, (steps, tuple(tried), tuple(held)))


_TRIED_KEYS = frozenset(TriedIntervention.model_fields)
_CONFERENCE_KEYS = frozenset(Conference.model_fields)
_ID_MAX = 64


def history_view(
    facts: Mapping[str, Any], steps: tuple[StepView | IssuedStep, ...] | None = None
) -> History | HistoryView:
    """Return the student's history for reading, as cheaply as possible.

    Plain dicts in the common shape are read directly; anything else goes through
    :func:`history_of` (full validation, with its error messages), so both accept the same input.

    Args:
        facts: The student's facts.
        steps: The issued steps, when :func:`issued_steps` has read them already.

    Raises:
        DataError: ``facts.invalid`` when the history is malformed.
    """
    raw = facts.get("history")
    if raw is None:
        return _EMPTY_VIEW
    if isinstance(raw, History):
        return raw
    try:
        fast = steps if steps is None or all(type(s) is StepView for s in steps) else None
        return _fast_history(raw, fast)  # type: ignore[arg-type]
    except _Irregular:
        return history_of(facts)


def issued_steps(facts: Mapping[str, Any]) -> tuple[StepView | IssuedStep, ...]:
    """Return only the legal steps already issued (the cheapest part of the history to read).

    Raises:
        DataError: ``facts.invalid`` when the history is malformed.
    """
    raw = facts.get("history")
    if raw is None:
        return ()
    if isinstance(raw, History):
        return raw.legal_steps
    try:
        return _fast_steps(raw)
    except _Irregular:
        return history_of(facts).legal_steps


def attendance_log_of(facts: Mapping[str, Any]) -> tuple[tuple[dt.date, str, float], ...]:
    """Return the dated attendance log as ``(date, kind, days)`` tuples, sorted by date.

    Rows of one kind on one date are one record (their ``days`` add up, to a whole day at
    most): a window function counts dates, not rows, so a date recorded twice counts once.

    >>> attendance_log_of({"attendance_log": [
    ...     {"date": "2025-10-01", "kind": "unexcused", "days": 0.5},
    ...     {"date": "2025-10-01", "kind": "unexcused", "days": 0.75},
    ...     {"date": "2025-10-01", "kind": "tardy", "days": 0}]})
    ((datetime.date(2025, 10, 1), 'tardy', 0.0), (datetime.date(2025, 10, 1), 'unexcused', 1.0))

    Raises:
        DataError: ``facts.missing`` when the log is absent (window functions need it), or
            ``facts.invalid`` when it is malformed (not a list, or a record that is not one).
    """
    raw = facts.get("attendance_log")
    if raw is None:
        raise DataError(
            "facts.missing",
            "fact 'attendance_log' is required by a window function and was not provided",
            student_id=str(facts.get("student_id")),
            field="attendance_log",
        )
    if not isinstance(raw, (list, tuple)):
        raise DataError(
            "facts.invalid",
            f"fact 'attendance_log' must be a list of records, got {type(raw).__name__}"
            + ("" if isinstance(raw, (dict, str)) else f" {raw!r}"),
            student_id=str(facts.get("student_id")),
            field="attendance_log",
        )
    merged: dict[tuple[dt.date, str], float] = {}
    for i, item in enumerate(raw):
        try:
            rec = (
                item
                if isinstance(item, AttendanceRecord)
                else AttendanceRecord.model_validate(item)
            )
        except ValidationError as exc:
            raise _data_error(facts, f"attendance_log[{i}]", exc) from exc
        key = (rec.date, rec.kind)
        merged[key] = min(1.0, merged.get(key, 0.0) + rec.days)
    return tuple(sorted((day, kind, days) for (day, kind), days in merged.items()))
