"""A rule set's ``translations:``: whether EC 48985's required translations apply, and how.

Expected values come from the statute (Cal. Educ. Code 48985: 15 percent) and from the rule
set texts written in each test.
"""

from __future__ import annotations

import jsonschema
import pytest

import tierflow
from tierflow.errors import RulesetError
from tierflow.spec import ruleset_json_schema

HEAD = 'id: district\nname: District\nversion: "1"\nextends: ca\n'
CHILD = jsonschema.Draft202012Validator(ruleset_json_schema(child=True))
WHOLE = jsonschema.Draft202012Validator(ruleset_json_schema())


def test_california_states_ec_48985_and_the_others_do_not() -> None:
    ca = tierflow.load_ruleset("ca")
    translations = ca.program.notices.translations
    assert translations is not None
    assert (translations.required_share, translations.cites) == (0.15, ("ec-48985",))
    assert dict(translations.schools) == {}
    ref = next(r for r in ca.spec.references if r.id == "ec-48985")
    assert "48985" in ref.title and "15 percent" in ref.title
    for name in ("tx", "mtss"):
        assert tierflow.load_ruleset(name).program.notices.translations is None


def test_a_child_adds_its_schools_and_keeps_the_share_and_citation() -> None:
    text = HEAD + "translations:\n  schools:\n    oak-es: [vi, es-MX]\n    '255901001': [es]\n"
    assert not list(
        CHILD.iter_errors(
            {
                "id": "d",
                "name": "D",
                "version": "1",
                "extends": "ca",
                "translations": {"schools": {"oak-es": ["vi", "es-MX"]}},
            }
        )
    )
    rs = tierflow.parse_ruleset(text, name="d.yaml")
    t = rs.program.notices.translations
    assert t is not None
    assert (t.required_share, t.cites) == (0.15, ("ec-48985",))
    assert dict(t.schools) == {"oak-es": ("vi", "es-MX"), "255901001": ("es",)}


def test_a_child_may_drop_the_rule() -> None:
    rs = tierflow.parse_ruleset(HEAD + "translations: null\n", name="d.yaml")
    assert rs.program.notices.translations is None
    assert not list(
        CHILD.iter_errors(
            {"id": "d", "name": "D", "version": "1", "extends": "ca", "translations": None}
        )
    )


def test_a_required_language_without_templates_is_a_load_warning() -> None:
    # ca's notices have en and es templates: es is covered, vi is not.
    rs = tierflow.parse_ruleset(
        HEAD + "translations:\n  schools:\n    oak-es: [es-MX, vi, en]\n", name="d.yaml"
    )
    missing = [w for w in rs.program.notices.warnings if w.code == "notice.missing_translation"]
    notices = [n.id for n in rs.program.notices.notices.values()]
    assert len(missing) == len(notices) > 0
    assert all(w.severity == "warning" and "'vi'" in w.message for w in missing)
    assert missing[0].span.file == "d.yaml" and missing[0].span.line == 7


@pytest.mark.parametrize(
    ("section", "code"),
    [
        ("translations:\n  required_share: 0\n", "schema.invalid_value"),
        ("translations:\n  required_share: 1.5\n", "schema.invalid_value"),
        ("translations:\n  schools: {oak: [Spanish]}\n", "schema.invalid_id"),
        ("translations:\n  cites: [ec-48958]\n", "ref.unknown_citation"),
        ("translations:\n  languages: [es]\n", "schema.unknown_field"),
    ],
)
def test_a_wrong_translations_section_is_a_load_error(section: str, code: str) -> None:
    with pytest.raises(RulesetError) as caught:
        tierflow.parse_ruleset(HEAD + section, name="d.yaml")
    assert [p.code for p in caught.value.problems] == [code]
    assert caught.value.problems[0].span.line >= 5


def test_the_schema_takes_the_section_the_stage_takes() -> None:
    whole = {
        "id": "d",
        "name": "D",
        "version": "1",
        "translations": {"required_share": 0.15, "schools": {"oak": ["es"]}, "cites": ["x"]},
    }
    assert [e.message for e in WHOLE.iter_errors(whole) if "translations" in e.json_path] == []
    whole["translations"] = {"required_share": 0}
    assert [e for e in WHOLE.iter_errors(whole) if "translations" in e.json_path]
