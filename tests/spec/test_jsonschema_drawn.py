"""A second generator (tests/playbooks.py) checks the JSON Schemas against the schema stage.

Independent of tests/spec/test_jsonschema_agrees.py's: it found the bounds of optional numbers
(``every_weeks: 53``) that the schema wrote under names validators ignore.

``jsonschema`` is a test dependency only (the dev extra): the library never needs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml
from hypothesis import given, settings
from pydantic import ValidationError

from playbooks import child_playbooks, playbooks
from tierflow.compile import compile_document
from tierflow.compile._source import document_from_text
from tierflow.errors import RulesetError
from tierflow.spec import RulesetSpec, ruleset_json_schema

ROOT = Path(__file__).parents[2]
FULL = jsonschema.Draft202012Validator(ruleset_json_schema())
CHILD = jsonschema.Draft202012Validator(ruleset_json_schema(child=True))


def _schema_stage_errors(text: str, name: str = "drawn.yaml") -> list[str]:
    """The problem codes of the stages up to and including the schema stage."""
    doc = document_from_text(text, name, base_dir=ROOT / "rulesets")
    try:
        compile_document(doc, until="validate_schema")
    except RulesetError as exc:
        return [p.code for p in exc.problems]
    return []


def test_documented_shorthands_are_accepted() -> None:
    def doc(cadence: Any) -> dict[str, Any]:
        entry = {"id": "x", "tier": "t", "owner": "counselor", "cadence": cadence}
        return {"id": "a", "name": "A", "version": "1", "interventions": [entry]}

    for name in ("daily", "weekly", "biweekly", "monthly"):  # docs/ruleset-format.md
        assert FULL.is_valid(doc(name))
    assert not FULL.is_valid(doc("weekly!"))
    assert not FULL.is_valid(doc({"every_weeks": 53}))  # bounds are JSON Schema's, not pydantic's


@settings(max_examples=150, deadline=None)
@given(playbooks())
def test_full_schema_agrees_with_the_model(doc: dict[str, Any]) -> None:
    try:
        RulesetSpec.model_validate(doc)
        model_ok = True
    except ValidationError:
        model_ok = False
    assert FULL.is_valid(doc) == model_ok, list(FULL.iter_errors(doc))


@settings(max_examples=60, deadline=None)
@given(child_playbooks())
def test_child_schema_agrees_with_the_schema_stage(doc: dict[str, Any]) -> None:
    stage_ok = not _schema_stage_errors(yaml.safe_dump(doc))
    assert CHILD.is_valid(doc) == stage_ok, list(CHILD.iter_errors(doc))
