"""The JSON Schema of the rule set format, generated from the spec models.

Pydantic writes most of it from the models. What the models accept through their own
validators is added here, so the schema accepts what ``tierflow check``'s schema stage
accepts: a cadence named in one word (``weekly``), exactly one cadence field, a version
written as a number, a school year's start as a day every year has (``MM-DD``).

A playbook that ``extends`` another is checked by the stage after the merge, so its own file
may leave out anything its parent gives. :func:`ruleset_json_schema` with ``child=True``
describes such a file: only ``id``, ``name``, ``version`` and ``extends`` are required, an
entry of a merged section (tiers, rules, interventions, ...) needs only its ``id`` (the rest
overrides the parent's entry key by key, and ``null`` clears a key the entry may leave out)
and may say ``remove: true`` or where it goes (``before``/``after``); ``facts`` and
``attendance`` are merged key by key too, and ``translations`` (``null`` there drops the
parent's). In every file a rule's ``tiers``, ``causes`` and
``groups`` list at least one item (merging refuses an empty one: the rule could never fire).

Two things the schema cannot say are left to the stage: whether an ``rrule`` is one
dateutil can read, and text the stage trims (an id written with spaces around it).
"""

from __future__ import annotations

import copy
from typing import Any

from tierflow.spec._models import CADENCE_NAMES, ENTRY_SECTIONS, RulesetSpec

__all__ = ["CHILD_SCHEMA_ID", "SCHEMA_ID", "ruleset_json_schema"]

SCHEMA_ID = "https://tierflow.dev/schema/ruleset-1.json"
"""The ``$id`` of the schema of a whole playbook."""
CHILD_SCHEMA_ID = "https://tierflow.dev/schema/ruleset-child-1.json"
"""The ``$id`` of the schema of a playbook that extends another."""

_MERGED_MAPPINGS = ("facts", "attendance", "lifecycle", "translations")
_MONTH_DAY = (
    r"^(?:(?:01|03|05|07|08|10|12)-(?:0[1-9]|[12]\d|3[01])"
    r"|(?:04|06|09|11)-(?:0[1-9]|[12]\d|30)"
    r"|02-(?:0[1-9]|1\d|2[0-8]))$"
)
_CADENCE_FIELDS = ("every_school_days", "every_weeks", "rrule")
_PLACEMENT = ("remove", "before", "after")
_NON_EMPTY_RULE_KEYS = ("tiers", "causes", "groups")
# A rule restricted to an empty list never fires: merging refuses ``tiers: []`` (see
# compile/_merge.py, ``NON_EMPTY``), so the schema asks for at least one item.
_ANNOTATIONS = ("title", "description", "default")


def ruleset_json_schema(*, child: bool = False) -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a rule set file, for editors and CI.

    Args:
        child: The schema of a playbook that ``extends`` another (see the module's
            documentation) instead of a whole one.

    >>> schema = ruleset_json_schema()
    >>> schema["title"], "tiers" in schema["properties"], schema["required"]
    ('tierflow rule set', True, ['id', 'name', 'version'])
    >>> ruleset_json_schema(child=True)["required"]
    ['id', 'name', 'version', 'extends']
    """
    schema = RulesetSpec.model_json_schema(mode="validation")
    _bounds_by_json_names(schema)
    defs = schema["$defs"]
    defs["CadenceSpec"] = _cadence(defs["CadenceSpec"])
    defs["NoticeTemplateSpec"] = _notice_template(defs["NoticeTemplateSpec"])
    schema["properties"]["version"] = {
        **{k: v for k, v in schema["properties"]["version"].items() if k != "type"},
        "type": ["string", "number"],
    }
    defs["SchoolYearSpec"]["properties"]["starts"]["pattern"] = _MONTH_DAY
    for key in _NON_EMPTY_RULE_KEYS:
        for branch in defs["RuleSpec"]["properties"][key]["anyOf"]:
            if branch.get("type") == "array":
                branch["minItems"] = 1
    if child:
        _as_child(schema)
    else:
        # Placing or removing an entry means something only in a file with a parent.
        for section in ENTRY_SECTIONS:
            name = schema["properties"][section]["items"]["$ref"].rsplit("/", 1)[1]
            for key in _PLACEMENT:
                defs[name]["properties"].pop(key, None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = CHILD_SCHEMA_ID if child else SCHEMA_ID
    schema["title"] = "tierflow rule set (extends another)" if child else "tierflow rule set"
    return {"$schema": schema.pop("$schema"), "$id": schema.pop("$id"), **schema}


_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _bounds_by_json_names(node: Any) -> None:
    """Rename the bounds pydantic writes under Python names, which validators ignore.

    An optional number (``every_weeks: int | None = Field(ge=1, le=52)``) comes out as
    ``{"type": "integer", "ge": 1, "le": 52}``: without this, ``every_weeks: 53`` validated.
    """
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            for python, json_name in _BOUNDS.items():
                if python in node:
                    node[json_name] = node.pop(python)
        for value in node.values():
            _bounds_by_json_names(value)
    elif isinstance(node, list):
        for value in node:
            _bounds_by_json_names(value)


def _cadence(model: dict[str, Any]) -> dict[str, Any]:
    """A cadence in one word, or a mapping with exactly one of its fields set."""
    exactly_one = []
    for name in _CADENCE_FIELDS:
        others = {o: {"type": "null"} for o in _CADENCE_FIELDS if o != name}
        exactly_one.append(
            {"required": [name], "properties": {name: {"not": {"type": "null"}}, **others}}
        )
    return {
        "description": model.get("description", ""),
        "oneOf": [
            {
                "type": "string",
                "enum": list(CADENCE_NAMES),
                "description": "; ".join(
                    f"{word}: {', '.join(f'{k} {v}' for k, v in means.items())}"
                    for word, means in CADENCE_NAMES.items()
                ),
            },
            {**model, "oneOf": exactly_one},
        ],
    }


def _notice_template(model: dict[str, Any]) -> dict[str, Any]:
    """A notice template as its text, or a mapping with exactly one of ``text`` and ``file``."""
    exactly_one = [
        {"required": [name], "properties": {name: {"type": "string"}, other: {"type": "null"}}}
        for name, other in (("text", "file"), ("file", "text"))
    ]
    return {
        "description": model.get("description", ""),
        "oneOf": [
            {"type": "string", "maxLength": 100_000, "description": "The template itself."},
            {**model, "oneOf": exactly_one},
        ],
    }


def _as_child(schema: dict[str, Any]) -> None:
    """Loosen a whole playbook's schema into one for a file that ``extends`` another."""
    defs = schema["$defs"]
    props = schema["properties"]
    props["extends"] = {
        **props.get("extends", {}),
        "type": "string",
        "description": "The playbook this one extends: a built-in id (ca) or a file path.",
    }
    schema["required"] = ["id", "name", "version", "extends"]
    for section in ENTRY_SECTIONS:
        ref = props[section]["items"]["$ref"]
        name = ref.rsplit("/", 1)[1]
        partial = copy.deepcopy(defs[name])
        required = set(partial.get("required", ()))
        # A key the entry may leave out, a child may clear with `key: null` (back to "not
        # written"); a required one it may only change.
        for key, prop in list(partial["properties"].items()):
            if key not in required and key not in _PLACEMENT:
                partial["properties"][key] = _or_null(prop)
        partial["required"] = ["id"]
        partial["properties"] = {
            **partial["properties"],
            "remove": {
                "type": "boolean",
                "description": "Remove the parent's entry with this id.",
            },
            "before": {
                "type": "string",
                "description": "Place this entry before the parent's entry with this id.",
            },
            "after": {
                "type": "string",
                "description": "Place this entry after the parent's entry with this id.",
            },
        }
        # A removed entry says nothing but its id (the stage reports any other key).
        partial["if"] = {"properties": {"remove": {"const": True}}, "required": ["remove"]}
        partial["then"] = {"propertyNames": {"enum": ["id", "remove"]}}
        partial["description"] = (
            f"{partial.get('description', '')} In a playbook that extends another: a new "
            "entry, or the keys of the parent's entry with this id to change."
        ).strip()
        defs[f"{name}Override"] = partial
        props[section] = {**props[section], "items": {"$ref": f"#/$defs/{name}Override"}}
    for key in _MERGED_MAPPINGS:
        target = props[key]
        ref = target.get("$ref") or next(
            (a["$ref"] for a in target.get("anyOf", ()) if "$ref" in a), None
        )
        if ref is None:
            continue
        name = ref.rsplit("/", 1)[1]
        partial = copy.deepcopy(defs[name])
        partial.pop("required", None)
        defs[f"{name}Override"] = partial
        override: dict[str, Any] = {"$ref": f"#/$defs/{name}Override"}
        if any(a.get("type") == "null" for a in target.get("anyOf", ())):
            override = {"anyOf": [override, {"type": "null"}]}  # an optional section
        props[key] = {
            k: v for k, v in target.items() if k not in ("$ref", "anyOf", "allOf")
        } | override


def _or_null(prop: dict[str, Any]) -> dict[str, Any]:
    """``prop`` that also accepts ``null`` (unchanged when it already does)."""
    branches = prop.get("anyOf", [prop])
    if any(b.get("type") == "null" for b in branches) or prop.get("type") == "null":
        return prop
    core = {k: v for k, v in prop.items() if k not in _ANNOTATIONS}
    notes = {k: v for k, v in prop.items() if k in _ANNOTATIONS}
    return {**notes, "anyOf": [core, {"type": "null"}]}
