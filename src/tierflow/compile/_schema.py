"""The schema stages: validate the merged rule set against the spec models, then hash it.

Pydantic's validation errors become located problems with stable codes and hints.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from tierflow.compile._compilation import Compilation
from tierflow.compile._source import SourceMap
from tierflow.errors import Problem, suggest
from tierflow.spec._models import RulesetSpec

__all__ = ["hash_content", "problems_from_validation", "validate_schema"]

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
    """Validate the merged rule set into a :class:`~tierflow.spec.RulesetSpec`."""
    try:
        c.spec = RulesetSpec.model_validate(c.merged)
    except ValidationError as exc:
        c.problems.extend(problems_from_validation(exc, c.merged, c.smap))


def hash_content(c: Compilation) -> None:
    """Hash the validated rule set (without its tests): the same rules give the same hash."""
    # The declared roles only check the owners, which are hashed with their interventions;
    # leaving them out keeps the hash a store recorded before roles could be declared.
    body = c.the_spec.model_dump(mode="json", exclude={"tests", "roles"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    c.content_hash = hashlib.sha256(canonical.encode()).hexdigest()
