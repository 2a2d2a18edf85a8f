"""The schema stages: validate the merged rule set against the spec models, then hash it.

Pydantic's validation errors become located problems with stable codes and hints.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError

from tierflow.compile._compilation import Compilation
from tierflow.compile._source import SourceMap
from tierflow.errors import Problem, suggest
from tierflow.spec._lifecycle import LifecycleSpec
from tierflow.spec._models import RulesetSpec

__all__ = ["hash_content", "problems_from_validation", "salvage", "validate_schema"]

_TYPE_ERRORS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "dict_type": "a mapping of keys",
    "model_type": "a mapping of keys",
    "model_attributes_type": "a mapping of keys",
    "list_type": "a list",
    "tuple_type": "a list",
}


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """Return the spec model that holds the last key of ``loc``."""
    model: Any = RulesetSpec
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _unwrap(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    for _ in range(5):
        origin = get_origin(annotation)
        if origin is None:
            return annotation
        args = [a for a in get_args(annotation) if a is not type(None) and a is not Ellipsis]
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if models:
            return models[0]
        if origin is dict and len(args) == 2:
            annotation = args[1]
        elif args:
            annotation = args[0]
        else:
            return annotation
    return annotation


def _clean_loc(loc: tuple[Any, ...], data: Any) -> tuple[str | int, ...]:
    """Keep only the parts of a pydantic ``loc`` that index the data."""
    out: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            out.append(part)
            node = node[part]
        elif isinstance(part, str) and isinstance(node, dict):
            out.append(part)  # a missing or unknown key: keep it, it names the problem
            break
        # otherwise a union or validator tag such as 'function-after[...]': skip it
    return tuple(out)


def problems_from_validation(exc: ValidationError, data: Any, smap: SourceMap) -> list[Problem]:
    """Turn every pydantic error into a :class:`Problem` at its YAML location."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(tuple(err["loc"]), data)
        kind = err["type"]
        path = smap.path_in_source(loc)
        hint = ""
        given = err.get("input")
        if kind == "extra_forbidden":
            model = _model_at(loc)
            known = sorted(model.model_fields) if model else []
            name = str(loc[-1]) if loc else ""
            hint = suggest(name, known) or (f"known keys: {', '.join(known)}" if known else "")
            problems.append(
                Problem(
                    smap.key_span(loc), "schema.unknown_field", f"unknown key {name!r}", path, hint
                )
            )
            continue
        if kind == "missing":
            name = str(loc[-1]) if loc else ""
            parent = loc[:-1]
            problems.append(
                Problem(
                    smap.span(parent),
                    "schema.missing_field",
                    f"required key {name!r} is missing",
                    smap.path_in_source(parent),
                )
            )
            continue
        span = smap.span(loc)
        if kind == "string_pattern_mismatch":
            code = "schema.invalid_id"
            message = f"{given!r} is not a valid id"
            hint = "ids use lower-case letters, digits, '_' and '-', starting with a letter"
            if isinstance(given, str):
                slug = re.sub(r"[^a-z0-9_-]+", "-", given.strip().lower()).strip("-")
                slug = re.sub(r"^[^a-z]+", "", slug)
                if slug and slug != given:
                    hint = f"write {slug!r}"
        elif kind in _TYPE_ERRORS:
            code = "schema.invalid_type"
            message = f"expected {_TYPE_ERRORS[kind]}, got {_describe(given)}"
            if kind == "string_type" and isinstance(given, (int, float, bool, dt.date)):
                hint = _quote_hint(smap, loc, given)
        elif kind in ("literal_error", "enum"):
            code = "schema.invalid_value"
            expected = err.get("ctx", {}).get("expected", "")
            message = f"{given!r} is not allowed; expected {expected}"
        elif kind == "value_error":
            code = "schema.invalid_value"
            message = str(err.get("ctx", {}).get("error", err["msg"]))
        else:
            code = "schema.invalid_value"
            message = f"{err['msg']}, got {_describe(given)}"
        problems.append(Problem(span, code, message, path, hint))
    return problems


def _quote_hint(smap: SourceMap, loc: tuple[str | int, ...], given: Any) -> str:
    """Say to quote a value YAML read as a number, true/false or a date where text is wanted."""
    written = str(given).lower() if isinstance(given, bool) else str(given)
    span = smap.span(loc)
    lines = smap.document(loc).text.splitlines()
    if 0 < span.line <= len(lines) and span.col > 0:
        token = re.match(r"[^,\]}#]*", lines[span.line - 1][span.col - 1 :])
        if token and token.group(0).strip():
            written = token.group(0).strip()
    key = f"{loc[-1]}: " if loc and isinstance(loc[-1], str) else ""
    return f'quote it: {key}"{written}" (unquoted, YAML reads it as {_yaml_kind(given)})'


def _yaml_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, dt.date):
        return "a date"
    return "a number"


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def validate_schema(c: Compilation) -> None:
    """Validate the merged rule set into a :class:`~tierflow.spec.RulesetSpec`.

    When it fails, its problems are reported and a salvaged spec (see :func:`salvage`) lets
    the later stages still look for problems elsewhere in the file.
    """
    try:
        c.spec = RulesetSpec.model_validate(c.merged)
    except ValidationError as exc:
        c.problems.extend(problems_from_validation(exc, c.merged, c.smap))
        c.spec, stubbed = salvage(c.merged, exc)
        if c.spec is not None:
            # Inside a stand-in, and at the entry that holds one (an unknown key may be the
            # one the entry misses: 'defualt: true'), problems only restate the schema's.
            c.stubbed = frozenset(
                {(c.smap.path_in_source(loc), True) for loc in stubbed}
                | {(c.smap.path_in_source(loc[:-1]), False) for loc in stubbed if loc[:-1]}
            )


_ROUNDS = 8
"""Validation rounds a salvage may take (a stand-in mapping may need stand-ins of its own)."""


def salvage(
    data: dict[str, Any], exc: ValidationError
) -> tuple[RulesetSpec | None, list[tuple[str | int, ...]]]:
    """Return a valid spec with a stand-in at each place ``exc`` found invalid, and those places.

    An unknown key is dropped; any other invalid or missing value is replaced by a stand-in
    of its type (``false`` for a condition, ``broken`` for an id, the least allowed number),
    or, for an optional key whose stand-in fails too, dropped. Entries keep their positions, so
    the later stages report every other problem where it is written; what they find at a
    stand-in is left out (it only restates the schema problem). A metric's ``expr`` gets a
    stand-in only when YAML read it as a number or true/false (its text has the type meant);
    another broken one gives up (None): the expressions are then checked without a spec
    (``check_unvalidated_expressions``).
    """
    fixed = copy.deepcopy(data)
    touched: list[tuple[str | int, ...]] = []
    for _ in range(_ROUNDS):
        for err in exc.errors(include_url=False):
            loc = _clean_loc(tuple(err["loc"]), fixed)
            if not _repair(fixed, loc, err["type"], loc in touched, err.get("input")):
                return None, touched
            touched.append(loc)
        try:
            return RulesetSpec.model_validate(fixed), touched
        except ValidationError as again:
            exc = again
    return None, touched


def _repair(
    data: dict[str, Any], loc: tuple[str | int, ...], kind: str, again: bool, given: Any
) -> bool:
    """Put a stand-in at ``loc`` (or drop it); return whether that was possible."""
    if not loc:
        return False
    if len(loc) == 3 and loc[0] == "metrics" and loc[2] == "expr":
        # A metric's type is its expression's: only an unquoted number or true/false (which
        # the author meant as text) has a stand-in of the same type, its text.
        if again or not isinstance(given, (bool, int, float)) or not isinstance(data, dict):
            return False
        entry = data["metrics"][loc[1]]
        entry["expr"] = str(given).lower() if isinstance(given, bool) else str(given)
        return True
    parent: Any = data
    for part in loc[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return False
    key = loc[-1]
    if isinstance(key, int):
        if not isinstance(parent, list) or key >= len(parent) or isinstance(parent[key], dict):
            return False
        parent[key] = "broken" if not isinstance(parent[key], list) else {}
        return True
    if not isinstance(parent, dict):
        return False
    if kind == "extra_forbidden":
        parent.pop(key, None)
        return True
    model = _model_at(loc)
    field = model.model_fields.get(key) if model is not None else None
    if field is None:
        return False
    if again and field.is_required():
        return False  # its stand-in failed too
    if again or (kind == "value_error" and not field.is_required()):
        parent.pop(key, None)  # an optional key whose value a validator refused: its default
        return True
    parent[key] = _stand_in(key, field.annotation)
    return True


def _stand_in(key: str, annotation: Any) -> Any:
    """A valid value of ``annotation`` that says nothing: no condition holds, no id is real."""
    if key in ("when", "stay_while", "exempt_when"):
        return "false"
    origin = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not type(None) and a is not Ellipsis]
    if origin is Literal:
        return args[0]
    if origin is tuple:
        return ["broken"]
    if origin is dict or annotation is dict:
        return {}
    if args:  # a union (X | None): a stand-in of X
        return _stand_in(key, args[0])
    if annotation is bool:
        return False
    if annotation is int or annotation is float:
        return 1
    if annotation is dt.date:
        return dt.date(2000, 1, 1)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {}
    return "broken"


def hash_content(c: Compilation) -> None:
    """Hash the validated rule set (without its tests): the same rules give the same hash."""
    # The declared roles only check the owners, which are hashed with their interventions;
    # leaving them out keeps the hash a store recorded before roles could be declared.
    # The built-in lifecycle is left out too: a rule set without a ``lifecycle:`` section keeps
    # the hash it had before lifecycles could be written.
    spec = c.the_spec
    leave_out = {"tests", "roles"}
    if spec.lifecycle == LifecycleSpec():
        leave_out.add("lifecycle")
    body = spec.model_dump(mode="json", exclude=leave_out, by_alias=True)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    c.content_hash = hashlib.sha256(canonical.encode()).hexdigest()
