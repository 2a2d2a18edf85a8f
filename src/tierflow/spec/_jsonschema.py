"""The JSON Schema of the rule set format, generated from the spec models."""

from __future__ import annotations

from typing import Any

from tierflow.spec._models import RulesetSpec

__all__ = ["ruleset_json_schema"]

SCHEMA_ID = "https://tierflow.dev/schema/ruleset-1.json"


def ruleset_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a rule set file, for editors and CI.

    >>> schema = ruleset_json_schema()
    >>> schema["title"], "tiers" in schema["properties"]
    ('tierflow rule set', True)
    """
    schema = RulesetSpec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "tierflow rule set"
    return schema
