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
