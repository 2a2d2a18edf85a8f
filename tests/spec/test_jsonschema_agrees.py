"""The published JSON Schema accepts exactly what ``tierflow check``'s schema stage accepts.

Playbooks (whole ones, and ones extending the built-in ``mtss`` with partial overrides) are
generated valid, then edited at random places with random JSON values, keys dropped or keys
added; for each, the verdict of ``jsonschema`` over :func:`ruleset_json_schema` must equal the
verdict of the compiler's schema stage (no ``schema.*`` problem). Values are JSON as an editor
sees them (dates as text).

Two differences are documented in ``spec/_jsonschema.py`` and kept out of the generated
values: rrule text (only dateutil can say if it parses), and text the stage trims before
checking (an id with spaces around it).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierflow.compile import compile_document
from tierflow.compile._source import document_from_text
from tierflow.errors import RulesetError
from tierflow.spec._jsonschema import ruleset_json_schema
from tierflow.spec._yaml import load_yaml_file

ROOT = Path(__file__).resolve().parents[2]
_FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER
WHOLE = jsonschema.Draft202012Validator(ruleset_json_schema(), format_checker=_FORMATS)
CHILD = jsonschema.Draft202012Validator(ruleset_json_schema(child=True), format_checker=_FORMATS)


# What a schema can say about one file: its shape and types, and that placing or removing an
# entry needs a parent. Not: whether the parent exists or has an id, or ids are unique.
_SHAPE = ("schema.", "extends.no_parent", "extends.invalid")


def stage_accepts(doc: Any) -> bool:
    """Whether merging ``extends`` and the schema stage find no problem of the file's shape."""
    text = json.dumps(doc)  # JSON is YAML: the stage reads exactly these values
    try:
        c = compile_document(document_from_text(text, "district.yaml"), until="validate_schema")
        problems = c.problems
    except RulesetError as exc:
        problems = exc.problems
    return not any(p.code.startswith(_SHAPE) for p in problems)


def schema_accepts(doc: Any) -> bool:
    validator = CHILD if isinstance(doc, dict) and "extends" in doc else WHOLE
    return validator.is_valid(doc)


ids = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)
texts = st.text(st.characters(codec="ascii", min_codepoint=33, max_codepoint=126), min_size=1)
conditions = st.sampled_from(["days_absent >= 3", "absence_rate >= 0.1", "true"])
cadences = st.one_of(
    st.sampled_from(["daily", "weekly", "biweekly", "monthly"]),
    st.builds(lambda n: {"every_weeks": n}, st.integers(1, 52)),
    st.builds(lambda n: {"every_school_days": n}, st.integers(1, 200)),
    st.sampled_from([{"rrule": "FREQ=WEEKLY;BYDAY=MO"}, {"rrule": "FREQ=MONTHLY"}]),
)


@st.composite
def whole_playbooks(draw: st.DrawFn) -> dict[str, Any]:
    tier_ids = draw(st.lists(ids, min_size=1, max_size=3, unique=True))
    tiers: list[dict[str, Any]] = [
        {"id": t, "level": i + 1, "when": draw(conditions)} for i, t in enumerate(tier_ids)
    ]
    tiers[0] = {"id": tier_ids[0], "level": 1, "default": True}
    ivs = [
        {
            "id": i,
            "tier": draw(st.sampled_from(tier_ids)),
            "owner": draw(ids),
            "cadence": draw(cadences),
        }
        for i in draw(st.lists(ids, max_size=3, unique=True))
    ]
    doc: dict[str, Any] = {
        "id": draw(ids),
        "name": draw(texts),
        "version": draw(st.one_of(texts, st.integers(1, 3000))),
        "tiers": tiers,
        "interventions": ivs,
    }
    if draw(st.booleans()):
        doc["school_year"] = {"starts": draw(st.sampled_from(["07-01", "08-15", "02-28"]))}
    if draw(st.booleans()):
        doc["last_checked"] = "2026-11-22"
    return doc


@st.composite
def child_playbooks(draw: st.DrawFn) -> dict[str, Any]:
    """A playbook extending the built-in mtss: partial overrides of its entries by id."""
    doc: dict[str, Any] = {"id": draw(ids), "name": draw(texts), "version": "1", "extends": "mtss"}
    if draw(st.booleans()):
        doc["tiers"] = [{"id": "tier2", "when": draw(conditions)}]
    if draw(st.booleans()):
        doc["interventions"] = [{"id": "weekly-checkin", "cadence": draw(cadences)}]
    if draw(st.booleans()):
        doc["interventions"] = [*doc.get("interventions", []), {"id": "mentor", "remove": True}]
    if draw(st.booleans()):
        doc["attendance"] = {"recent_days": draw(st.integers(1, 60))}
    return doc


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 500),
        st.floats(-5, 500, allow_nan=False),
        st.sampled_from(["weekly", "x", "07-01", "02-30", "2025-10-01", "tier2", "a b", ""]),
    ),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(ids, inner, max_size=2),
    max_leaves=4,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


def _fixed_in_a_child(path: tuple[Any, ...]) -> bool:
    """An entry of a child and its id: which entry of the parent it changes.

    A child's schema cannot know the parent's ids: an entry with a new id must be complete,
    which only the stage (after the merge) can check. The generated children change only
    entries the parent has, and the edits leave those entries and their ids in place.
    """
    return len(path) == 2 or (len(path) == 3 and path[2] == "id")


@st.composite
def edited(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    doc = copy.deepcopy(draw(base))  # sampled_from hands out the same dicts: never edit them
    child = "extends" in doc
    for _ in range(draw(st.integers(0, 2))):
        paths = [
            p
            for p in _paths(doc)
            if p and p != ("extends",) and not (child and _fixed_in_a_child(p))
        ]
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "drop" and isinstance(parent, dict) and not (child and path[-1] == "id"):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(ids)] = draw(json_values)
        else:
            parent[path[-1]] = draw(json_values)
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=edited(whole_playbooks()))
def test_the_schema_and_the_schema_stage_agree_on_whole_playbooks(doc: dict[str, Any]) -> None:
    assert schema_accepts(doc) == stage_accepts(doc), json.dumps(doc)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=edited(child_playbooks()))
def test_the_schema_and_the_schema_stage_agree_on_child_playbooks(doc: dict[str, Any]) -> None:
    assert schema_accepts(doc) == stage_accepts(doc), json.dumps(doc)


def test_the_documented_shorthand_and_partial_overrides_validate() -> None:
    # The two cases of the issue: a cadence in one word, a partial override in a child.
    whole = {
        "id": "d",
        "name": "D",
        "version": 2025.1,
        "tiers": [{"id": "t1", "level": 1, "default": True}],
        "interventions": [{"id": "c", "tier": "t1", "owner": "mentor", "cadence": "weekly"}],
    }
    assert WHOLE.is_valid(whole) and stage_accepts(whole)
    child = {"id": "r", "name": "R", "version": "1", "extends": "mtss", "tiers": [{"id": "tier2"}]}
    assert CHILD.is_valid(child) and stage_accepts(child)
    assert not WHOLE.is_valid(child)  # a whole playbook's tier needs its level


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _playbook_files() -> list[Path]:
    return sorted((ROOT / "rulesets").rglob("*.yaml"))


@pytest.mark.parametrize("path", _playbook_files(), ids=lambda p: p.name)
def test_every_bundled_playbook_validates(path: Path) -> None:
    doc = _plain(load_yaml_file(path).data)
    errors = [e.message for e in (CHILD if "extends" in doc else WHOLE).iter_errors(doc)]
    assert errors == []


def _docs_playbooks() -> list[tuple[str, Any]]:
    """YAML code blocks in docs/ that are playbooks (they have an id, a name and a version)."""
    found = []
    for md in sorted((ROOT / "docs").glob("*.md")):
        text = md.read_text()
        for n, block in enumerate(text.split("```yaml")[1:]):
            body = block.split("```", 1)[0]
            try:
                doc = yaml.safe_load(body)
            except (yaml.YAMLError, ValueError):  # an example of a bad file
                continue
            if isinstance(doc, dict) and {"id", "name", "version"} <= doc.keys():
                found.append((f"{md.name}#{n}", _plain(doc)))
    return found


@pytest.mark.parametrize(("where", "doc"), _docs_playbooks(), ids=[w for w, _ in _docs_playbooks()])
def test_the_schema_agrees_with_the_stage_on_every_playbook_in_the_docs(
    where: str, doc: Any
) -> None:
    # docs/errors.md shows broken ones on purpose: the schema must refuse those too.
    assert schema_accepts(doc) == stage_accepts(doc), where


@pytest.mark.parametrize(("child", "name"), [(False, "ruleset"), (True, "ruleset-child")])
def test_the_shipped_schema_files_are_the_generated_schemas(child: bool, name: str) -> None:
    # They never drift: regenerate with `tierflow schema [--child] -o src/tierflow/data/...`.
    shipped = ROOT / "src" / "tierflow" / "data" / f"{name}.schema.json"
    assert shipped.read_text() == json.dumps(ruleset_json_schema(child=child), indent=2) + "\n"


def test_the_cli_writes_either_schema(tmp_path: Path) -> None:
    from tierflow.cli import main

    assert main(["schema", "--child", "-o", str(tmp_path / "c.json")]) == 0
    assert main(["schema", "-o", str(tmp_path / "w.json")]) == 0
    child = json.loads((tmp_path / "c.json").read_text())
    whole = json.loads((tmp_path / "w.json").read_text())
    # A partial override of a tier: valid as a child, not as a whole playbook.
    doc = {"id": "r", "name": "R", "version": "1", "extends": "ca", "tiers": [{"id": "tier2"}]}
    assert jsonschema.Draft202012Validator(child).is_valid(doc)
    assert not jsonschema.Draft202012Validator(whole).is_valid(doc)
