"""Records to canonical JSON and back, losslessly, and the hash chain over them.

Event details and fact snapshots hold dates, tuples and the odd non-finite float; plain JSON
would turn a date into a string and a tuple into a list, so a replayed timeline would differ
from the one recorded. Such values are written as tagged objects (``{"$t": "date", "v":
"2025-10-06"}``) and read back as what they were. The text is canonical (sorted keys, no
spaces) so the same record always hashes the same.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import math
import operator
import types
from collections.abc import Mapping
from typing import Any

from tierflow.errors import StoreError
from tierflow.evaluate import RulesetRef
from tierflow.workflow import CheckIn, Intervention, WorkflowEvent

__all__ = [
    "GENESIS",
    "Unreadable",
    "chain_hash",
    "check_in_from_json",
    "check_in_to_json",
    "dumps",
    "event_from_json",
    "event_to_json",
    "from_json",
    "intervention_from_json",
    "intervention_to_json",
    "loads",
    "read_changes",
    "read_check_in",
    "read_event",
    "read_intervention",
    "read_issued",
    "to_json",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first row of every student's chain."""

_TAG = "$t"


def to_json(value: Any) -> Any:
    """Turn ``value`` into plain JSON data, tagging what JSON cannot say itself.

    Raises:
        StoreError: A value of a type a record cannot hold (the type is named).
    """
    # Most values are of a handful of exact types (a run converts millions): those go by one
    # lookup; anything else (subclasses, other mappings) by the checks in order.
    kind = type(value)
    if kind in _PLAIN:
        return value
    convert = _EXACT.get(kind)
    if convert is not None:
        return convert(value)
    return _to_json_checked(value)


def _to_json_checked(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dt.datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, tuple):
        return _tuple(value)
    if isinstance(value, list):
        return _list(value)
    if isinstance(value, (set, frozenset)):
        return _set(value)
    if isinstance(value, Mapping):
        return _mapping(value)
    raise StoreError(f"cannot store a value of type {type(value).__name__}: {value!r}")


def _float(value: float) -> Any:
    return value if math.isfinite(value) else {_TAG: "float", "v": repr(value)}


def _tuple(value: tuple[Any, ...]) -> Any:
    return {_TAG: "tuple", "v": [to_json(v) for v in value]}


def _list(value: list[Any]) -> Any:
    return [v if type(v) in _PLAIN else to_json(v) for v in value]


def _set(value: set[Any] | frozenset[Any]) -> Any:
    return {_TAG: "set", "v": sorted((to_json(v) for v in value), key=dumps)}


def _mapping(value: Mapping[Any, Any]) -> Any:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str and not isinstance(key, str):
            raise StoreError(f"cannot store a mapping key of type {type(key).__name__}")
        out[key] = item if type(item) in _PLAIN else to_json(item)
    return {_TAG: "map", "v": out} if _TAG in out else out


_PLAIN = frozenset({str, int, bool, type(None)})
"""Types written as they are (exactly these: a subclass goes through the checks)."""

_EXACT: dict[type, Any] = {
    float: _float,
    dict: _mapping,
    types.MappingProxyType: _mapping,
    list: _list,
    tuple: _tuple,
    dt.date: lambda v: {_TAG: "date", "v": v.isoformat()},
    dt.datetime: lambda v: {_TAG: "datetime", "v": v.isoformat()},
    set: _set,
    frozenset: _set,
}
"""How a value of exactly one of these types is converted (what the checks would choose)."""


def from_json(data: Any) -> Any:
    """Read back what :func:`to_json` wrote."""
    if isinstance(data, list):
        return [from_json(v) for v in data]
    if not isinstance(data, dict):
        return data
    tag = data.get(_TAG)
    if tag is None:
        return {k: from_json(v) for k, v in data.items()}
    raw = data["v"]
    if tag == "date":
        return dt.date.fromisoformat(raw)
    if tag == "datetime":
        return dt.datetime.fromisoformat(raw)
    if tag == "float":
        return float(raw)
    if tag == "tuple":
        return tuple(from_json(v) for v in raw)
    if tag == "set":
        return frozenset(from_json(v) for v in raw)
    if tag == "map":
        return {k: from_json(v) for k, v in raw.items()}
    raise StoreError(f"unknown tag {tag!r} in a stored record")


def dumps(data: Any) -> str:
    """Canonical JSON text of plain JSON data (sorted keys, no spaces)."""
    return _ENCODE(data)


_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
"""What ``json.dumps`` with these options does, without building an encoder each call."""


def loads(text: str) -> Any:
    """Parse JSON text."""
    return json.loads(text)


def chain_hash(prev_hash: str, body: str) -> str:
    """The sha256 (hex) of the previous row's hash followed by this row's canonical body."""
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _ref_to_json(ref: RulesetRef | None) -> Any:
    return None if ref is None else dict(_ref_fields(ref))


@functools.lru_cache(maxsize=64)
def _ref_fields(ref: RulesetRef) -> dict[str, Any]:
    # Every event carries its rule set's reference: convert each distinct one once.
    return dataclasses.asdict(ref)


def _ref_from_json(data: Any) -> RulesetRef | None:
    return None if data is None else RulesetRef(**data)


def event_to_json(event: WorkflowEvent) -> dict[str, Any]:
    """A workflow event as plain JSON data (without ``seq``: the store numbers rows)."""
    values = _EVENT_VALUES(event)
    out = {name: to_json(value) for name, value in zip(_EVENT_FIELDS, values, strict=True)}
    out["ruleset"] = _ref_to_json(event.ruleset)
    return out


_EVENT_FIELDS = tuple(n for n in WorkflowEvent._fields[1:] if n != "ruleset")
"""A workflow event's fields written as values (not ``seq``, nor ``ruleset``: a reference)."""
_EVENT_VALUES = operator.itemgetter(*(WorkflowEvent._fields.index(n) for n in _EVENT_FIELDS))


def event_from_json(data: Mapping[str, Any], seq: int) -> WorkflowEvent:
    """Read back a workflow event written by :func:`event_to_json`, numbered ``seq``."""
    fields = {
        name: from_json(data[name]) for name in WorkflowEvent._fields[1:] if name != "ruleset"
    }
    fields["ruleset"] = _ref_from_json(data["ruleset"])
    return WorkflowEvent(seq, **fields)


def intervention_to_json(iv: Intervention) -> dict[str, Any]:
    """Every field of an intervention as plain JSON data."""
    return {name: to_json(getattr(iv, name)) for name in _INTERVENTION_FIELDS}


_INTERVENTION_FIELDS = tuple(f.name for f in dataclasses.fields(Intervention))


def intervention_from_json(data: Mapping[str, Any]) -> Intervention:
    """Read back an intervention written by :func:`intervention_to_json`."""
    return Intervention(**{k: from_json(v) for k, v in data.items()})


def check_in_to_json(check_in: CheckIn) -> dict[str, Any]:
    """A check-in as plain JSON data."""
    return {name: to_json(getattr(check_in, name)) for name in CheckIn._fields}


def check_in_from_json(data: Mapping[str, Any]) -> CheckIn:
    """Read back a check-in written by :func:`check_in_to_json`."""
    return CheckIn(**{k: from_json(v) for k, v in data.items()})


# --- reading rows that may have been changed outside tierflow --------------------------------

_DATE = (dt.date,)
_TEXT = (str,)
_MAYBE_TEXT = (str, type(None))
_MAYBE_DATE = (dt.date, type(None))

_INTERVENTION_TYPES: dict[str, tuple[type, ...]] = {
    "id": _TEXT,
    "student_id": _TEXT,
    "school_id": _MAYBE_TEXT,
    "intervention": _TEXT,
    "tier_level": (int,),
    "owner_role": _TEXT,
    "owner": _MAYBE_TEXT,
    "state": _TEXT,
    "opened_on": _DATE,
    "next_follow_up": _MAYBE_DATE,
    "review_on": _MAYBE_DATE,
    "escalates_to": _MAYBE_TEXT,
    "escalated_from": _MAYBE_TEXT,
    "reason": _TEXT,
    "ended_on": _MAYBE_DATE,
    "overdue": (bool,),
    "version": (int,),
}
"""The type each intervention field holds (the annotations of :class:`Intervention`)."""

_EVENT_TYPES: dict[str, tuple[type, ...]] = {
    "at": _DATE,
    "student_id": _TEXT,
    "kind": _TEXT,
    "intervention_id": _MAYBE_TEXT,
    "trigger": _MAYBE_TEXT,
    "from_state": _MAYBE_TEXT,
    "to_state": _MAYBE_TEXT,
    "who": _TEXT,
    "why": _TEXT,
    "facts": (Mapping, type(None)),
    "detail": (Mapping, type(None)),
}
"""The type each workflow event field holds (``ruleset`` is checked as it is read)."""

_CHECK_IN_TYPES: dict[str, tuple[type, ...]] = {
    "intervention_id": _TEXT,
    "on": _DATE,
    "by": _TEXT,
    "goal_met": (bool, type(None)),
    "contact_type": _TEXT,
    "note": _TEXT,
    "outcome": _MAYBE_TEXT,
}
"""The type each check-in field holds."""

_REF_TYPES: dict[str, tuple[type, ...]] = {
    "id": _TEXT,
    "name": _TEXT,
    "version": _TEXT,
    "content_hash": _TEXT,
}
"""The type each field of a rule set reference holds."""


class Unreadable(StoreError):
    """A stored text is not a record tierflow wrote (changed outside tierflow, or damaged)."""


def _object(text: Any, kind: str) -> dict[str, Any]:
    if not isinstance(text, str):
        raise Unreadable(f"the {kind} is not text but {type(text).__name__}")
    try:
        data = loads(text)
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"the {kind} is not JSON ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise Unreadable(f"the {kind} is not a JSON object")
    return data


def _typed(
    values: Mapping[str, Any], types_: Mapping[str, tuple[type, ...]], what: str
) -> dict[str, Any]:
    """``values`` read back, each of its field's type; a field not in ``types_`` refused."""
    out = {}
    for name, value in values.items():
        allowed = types_.get(name)
        if allowed is None:
            extra = ", ".join(sorted(set(values) - set(types_)))
            raise Unreadable(f"the {what} has fields tierflow does not write: {extra}")
        if type(value) in _PLAIN:  # most fields: written as they are
            read = value
        else:
            try:
                read = from_json(value)
            except (
                StoreError,
                ValueError,
                TypeError,
                KeyError,
                AttributeError,
                RecursionError,
            ) as exc:
                raise Unreadable(f"the {what}'s {name} cannot be read ({exc})") from exc
        # bool is an int: only a field that holds a bool takes one.
        if not isinstance(read, allowed) or (type(read) is bool and bool not in allowed):
            raise Unreadable(f"the {what}'s {name} is a {type(read).__name__}")
        out[name] = read
    return out


def read_changes(before: Intervention, changes: Any) -> Intervention:
    """``before`` with the stored ``changes`` of a save applied, each checked like a field.

    Raises:
        Unreadable: The changes are not a change of an intervention's fields as tierflow writes.
    """
    if not isinstance(changes, Mapping) or "id" in changes or "student_id" in changes:
        raise Unreadable("its changes are not a change tierflow writes")
    return dataclasses.replace(before, **_typed(changes, _INTERVENTION_TYPES, "change"))


def read_intervention(data: Any) -> Intervention:
    """An intervention from its stored JSON text (or its parsed state), checked field by field.

    Raises:
        Unreadable: It is not an intervention as tierflow writes one.
    """
    if not isinstance(data, Mapping):
        data = _object(data, "intervention")
    try:
        return Intervention(**_typed(data, _INTERVENTION_TYPES, "intervention"))
    except TypeError as exc:  # a field missing
        raise Unreadable(f"the intervention lacks a field ({exc})") from exc


def read_event(text: Any, row: int) -> WorkflowEvent:
    """A workflow event from its stored JSON text, numbered ``row``, checked field by field.

    Raises:
        Unreadable: It is not a workflow event as tierflow writes one.
    """
    data = _object(text, "event")
    ref = data.pop("ruleset", None)
    missing = sorted(set(_EVENT_TYPES) - set(data))
    if missing:
        raise Unreadable(f"the event lacks {', '.join(missing)}")
    fields = _typed(data, _EVENT_TYPES, "event")
    if ref is not None:
        if not isinstance(ref, Mapping) or set(ref) != set(_REF_TYPES):
            raise Unreadable("the event's rule set reference is not one")
        ref = RulesetRef(**_typed(ref, _REF_TYPES, "rule set reference"))
    return WorkflowEvent(row, ruleset=ref, **fields)


def read_check_in(text: Any) -> CheckIn:
    """A check-in from its stored JSON text, checked field by field.

    Raises:
        Unreadable: It is not a check-in as tierflow writes one.
    """
    data = _typed(_object(text, "check-in"), _CHECK_IN_TYPES, "check-in")
    try:
        return CheckIn(**data)
    except TypeError as exc:
        raise Unreadable(f"the check-in lacks a field ({exc})") from exc


def read_issued(text: Any) -> tuple[str, dt.date]:
    """A legal step issued (its id and date) from its stored JSON text.

    Raises:
        Unreadable: It is not a legal step issued as tierflow writes one.
    """
    data = _typed(_object(text, "issued step"), {"on": _DATE, "step": _TEXT}, "issued step")
    if len(data) != 2:
        raise Unreadable("the issued step lacks its step or date")
    return data["step"], data["on"]
