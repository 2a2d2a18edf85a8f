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
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {_TAG: "float", "v": repr(value)}
    if isinstance(value, dt.datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, tuple):
        return {_TAG: "tuple", "v": [to_json(v) for v in value]}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {_TAG: "set", "v": sorted((to_json(v) for v in value), key=dumps)}
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise StoreError(f"cannot store a mapping key of type {type(key).__name__}")
            out[key] = to_json(item)
        return {_TAG: "map", "v": out} if _TAG in out else out
    raise StoreError(f"cannot store a value of type {type(value).__name__}: {value!r}")


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
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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
    out = {
        name: to_json(getattr(event, name))
        for name in WorkflowEvent._fields[1:]
        if name != "ruleset"
    }
    out["ruleset"] = _ref_to_json(event.ruleset)
    return out


def event_from_json(data: Mapping[str, Any], seq: int) -> WorkflowEvent:
    """Read back a workflow event written by :func:`event_to_json`, numbered ``seq``."""
    fields = {
        name: from_json(data[name]) for name in WorkflowEvent._fields[1:] if name != "ruleset"
    }
    fields["ruleset"] = _ref_from_json(data["ruleset"])
    return WorkflowEvent(seq, **fields)


def intervention_to_json(iv: Intervention) -> dict[str, Any]:
    """Every field of an intervention as plain JSON data."""
    return {f.name: to_json(getattr(iv, f.name)) for f in dataclasses.fields(Intervention)}


def intervention_from_json(data: Mapping[str, Any]) -> Intervention:
    """Read back an intervention written by :func:`intervention_to_json`."""
    return Intervention(**{k: from_json(v) for k, v in data.items()})


def check_in_to_json(check_in: CheckIn) -> dict[str, Any]:
    """A check-in as plain JSON data."""
    return {name: to_json(getattr(check_in, name)) for name in CheckIn._fields}


def check_in_from_json(data: Mapping[str, Any]) -> CheckIn:
    """Read back a check-in written by :func:`check_in_to_json`."""
    return CheckIn(**{k: from_json(v) for k, v in data.items()})
