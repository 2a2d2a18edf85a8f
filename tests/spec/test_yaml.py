"""The safe YAML loader: spans, duplicate keys, merges, tags, documents, encoding and limits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from tierflow.errors import Problem, RulesetError
from tierflow.source import SourceSpan
from tierflow.spec import YamlLimits, _yaml_compose, load_yaml
from tierflow.spec import _yaml as yaml_module
from tierflow.spec._yaml import load_yaml_file
from tierflow.spec._yaml_limits import DEFAULT_LIMITS, MAX_DEPTH_LIMIT


@pytest.fixture(
    autouse=True,
    params=[
        pytest.param(
            "libyaml", marks=pytest.mark.skipif(not yaml.__with_libyaml__, reason="no libyaml")
        ),
        "python",
    ],
)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test with libyaml's parser (when PyYAML has it) and with the pure-Python one."""
    if request.param == "python":
        monkeypatch.setattr(_yaml_compose, "_LOADER", _yaml_compose._PyLoader)
    else:
        assert _yaml_compose._LOADER is _yaml_compose._CLoader
    return str(request.param)


def fails(text: str | bytes, **limits: int) -> list[Problem]:
    with pytest.raises(RulesetError) as info:
        load_yaml(text, "f.yaml", limits=YamlLimits(**limits))
    assert isinstance(info.value, ValueError)
    return list(info.value.problems)


def one(text: str | bytes, **limits: int) -> Problem:
    found = fails(text, **limits)
    assert len(found) == 1, found
    return found[0]


def at(p: Problem) -> tuple[str, int, int]:
    return (p.code, p.span.line, p.span.col)


# --- data and spans ---------------------------------------------------------------------------

DOC = """\
id: demo
tiers:
  - id: tier1
    when: days_absent >= 3
  - {id: tier2, when: "x > 1"}
note: |
  two
  lines
empty:
"""


def test_data() -> None:
    doc = load_yaml(DOC, "d.yaml")
    assert doc.file == "d.yaml"
    assert doc.data == {
        "id": "demo",
        "tiers": [{"id": "tier1", "when": "days_absent >= 3"}, {"id": "tier2", "when": "x > 1"}],
        "note": "two\nlines\n",
        "empty": None,
    }


@pytest.mark.parametrize(
    ("path", "line", "col"),
    [
        ((), 1, 1),
        (("id",), 1, 5),
        (("tiers",), 3, 3),
        (("tiers", 0), 3, 5),
        (("tiers", 0, "when"), 4, 11),
        (("tiers", 1), 5, 5),
        (("tiers", 1, "when"), 5, 23),
        (("note",), 6, 7),  # a block scalar is located at its indicator
        (("tiers", 0, "missing"), 3, 5),  # the nearest known ancestor
        (("nowhere", 3), 1, 1),
    ],
)
def test_spans_are_1_based(path: tuple[Any, ...], line: int, col: int) -> None:
    doc = load_yaml(DOC, "d.yaml")
    assert doc.span_of(path) == SourceSpan("d.yaml", line, col)


@pytest.mark.parametrize(
    ("path", "line", "col"),
    [
        (("id",), 1, 1),
        (("tiers", 0, "when"), 4, 5),
        (("tiers", 1, "when"), 5, 17),
        (("tiers", 0), 3, 5),  # no key: falls back to the value
    ],
)
def test_key_spans(path: tuple[Any, ...], line: int, col: int) -> None:
    doc = load_yaml(DOC, "d.yaml")
    assert doc.key_span_of(path) == SourceSpan("d.yaml", line, col)


def test_span_of_an_empty_document_root() -> None:
    doc = load_yaml("[]", "e.yaml")
    assert doc.data == []
    assert doc.span_of((0,)) == SourceSpan("e.yaml", 1, 1)


def test_scalars_use_the_safe_core_schema() -> None:
    doc = load_yaml(
        "a: 1\nb: 1.5\nc: true\nd: null\ne: 2026-02-02\nf: '3'\ng: !!str 4\nh: !!binary aGk=\n"
        "i: 0x10\nj: ~\n"
    )
    assert doc.data == {
        "a": 1,
        "b": 1.5,
        "c": True,
        "d": None,
        "e": dt.date(2026, 2, 2),
        "f": "3",
        "g": "4",
        "h": b"hi",
        "i": 16,
        "j": None,
    }


# --- duplicate keys -----------------------------------------------------------------------------


def test_duplicate_key_reports_the_second_key() -> None:
    p = one("a: 1\nb: 2\na: 3\n")
    assert at(p) == ("yaml.duplicate_key", 3, 1)
    assert p.message == "duplicate key 'a' (first at line 1)"
    assert p.path == "a"


def test_nested_duplicate_key_line_and_column() -> None:
    p = one("top:\n  x:\n    k: 1\n    other: 2\n    k: 3\n")
    assert at(p) == ("yaml.duplicate_key", 5, 5)
    assert p.path == "top.x.k"
    assert "first at line 3" in p.message


def test_duplicate_key_in_a_flow_mapping() -> None:
    p = one("items:\n  - {a: 1, b: 2, a: 3}\n")
    assert at(p) == ("yaml.duplicate_key", 2, 18)
    assert p.path == "items[0].a"


def test_every_duplicate_is_reported() -> None:
    found = fails("a: 1\na: 2\nb: 1\nb: 2\na: 3\n")
    assert [at(p) for p in found] == [
        ("yaml.duplicate_key", 2, 1),
        ("yaml.duplicate_key", 4, 1),
        ("yaml.duplicate_key", 5, 1),
    ]


def test_quoted_and_plain_spellings_of_a_key_are_the_same_key() -> None:
    assert at(one("a: 1\n'a': 2\n")) == ("yaml.duplicate_key", 2, 1)
    assert at(one('a: 1\n"a": 2\n')) == ("yaml.duplicate_key", 2, 1)


# --- merge keys -------------------------------------------------------------------------------

MERGE = """\
base: &base
  x: 1
  y: 2
derived:
  <<: *base
  y: 3
"""


def test_merge_key_explicit_keys_win() -> None:
    doc = load_yaml(MERGE)
    assert doc.data["derived"] == {"x": 1, "y": 3}
    assert doc.data["base"] == {"x": 1, "y": 2}


def test_merged_values_are_located_where_they_are_written() -> None:
    doc = load_yaml(MERGE, "m.yaml")
    assert doc.span_of(("derived", "y")) == SourceSpan("m.yaml", 6, 6)
    assert doc.span_of(("derived", "x")) == SourceSpan("m.yaml", 2, 6)


def test_merge_of_several_mappings_first_wins() -> None:
    doc = load_yaml("a: &a {k: 1, a: 1}\nb: &b {k: 2, b: 2}\nc:\n  <<: [*a, *b]\n")
    assert doc.data["c"] == {"k": 1, "a": 1, "b": 2}


def test_explicit_key_before_the_merge_also_wins() -> None:
    doc = load_yaml("b: &b {x: 1}\nc: {x: 2, <<: *b}\n")
    assert doc.data["c"] == {"x": 2}


def test_inline_merge() -> None:
    assert load_yaml("- <<: {a: 1}\n  b: 2\n").data == [{"a": 1, "b": 2}]


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [("c:\n  <<: 1\n", 2, 7), ("c:\n  <<: [1]\n", 2, 8), ("c:\n  <<: [{a: 1}, [2]]\n", 2, 16)],
)
def test_merge_of_a_non_mapping(text: str, line: int, col: int) -> None:
    p = one(text)
    assert at(p) == ("yaml.invalid_merge", line, col)
    assert p.message == "'<<' merges mappings only"


def test_a_repeated_merge_key_is_a_duplicate() -> None:
    p = one("c:\n  <<: {x: 1}\n  <<: {x: 2}\n")
    assert at(p) == ("yaml.duplicate_key", 3, 3)
    assert "'<<'" in p.message and "first at line 2" in p.message


# --- tags -------------------------------------------------------------------------------------

REFUSED_TAGS = [
    "!!python/object:os.system {}",
    "!!python/object/apply:os.system ['echo pwned']",
    "!!python/object/new:builtins.dict {}",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/tuple [1, 2]",
    "!!python/str x",
    "!!set {a, b}",
    "!!omap [{a: 1}]",
    "!!pairs [{a: 1}]",
    "!custom 1",
    "!<tag:example.com,2000:app/foo> 1",
]


@pytest.mark.parametrize("value", REFUSED_TAGS)
def test_unsupported_tags_are_refused(value: str) -> None:
    p = one(f"key: {value}\n")
    assert at(p) == ("yaml.unsupported_tag", 1, 6)
    assert p.path == "key"
    assert "is not allowed" in p.message


def test_python_tags_are_never_constructed(tmp_path: Path) -> None:
    target = tmp_path / "made"
    text = (
        f"a: !!python/object/apply:os.mkdir ['{target}']\n"
        f"b: !!python/object/apply:builtins.exec [\"open('{target}x', 'w')\"]\n"
    )
    found = fails(text)
    assert [p.code for p in found] == ["yaml.unsupported_tag", "yaml.unsupported_tag"]
    assert list(tmp_path.iterdir()) == []


def test_tags_inside_collections_are_refused_too() -> None:
    found = fails("a:\n  - 1\n  - !!python/none ''\n  - {b: !foo x}\n")
    assert [(at(p), p.path) for p in found] == [
        (("yaml.unsupported_tag", 3, 5), "a[1]"),
        (("yaml.unsupported_tag", 4, 9), "a[2].b"),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!int abc", "invalid literal for int()"),
        ("!!float abc", "could not convert string to float"),
        ("!!bool abc", "'abc' is not a valid bool"),  # was an uncaught KeyError
        ("!!timestamp nope", "'nope' is not a valid timestamp"),  # was an AttributeError
        ("!!timestamp 2026-02-30", "day is out of range"),
        ("!!map abc", "expected a mapping node"),
        ("!!seq abc", "expected a sequence node"),
        ("!!str [1]", "does not fit a list"),  # was silently a list
        ("!!int {a: 1}", "does not fit a mapping"),
        ("!!seq {a: 1}", "does not fit a mapping"),
        ("!!map [1]", "does not fit a list"),
    ],
)
def test_values_that_do_not_fit_their_tag(value: str, message: str) -> None:
    p = one(f"a: {value}\n")
    assert at(p) == ("yaml.invalid_value", 1, 4)
    assert message in p.message


@pytest.mark.parametrize(
    ("text", "shown", "hint"),
    [
        ("1: a\n", "'1'", "quote it: '1'"),
        ("null: a\n", "'null'", "quote it"),
        ("true: a\n", "'true'", "quote it"),
        ("2026-01-01: a\n", "'2026-01-01'", "quote it"),
        ("? [a, b]\n: c\n", "'a collection'", ""),
        ("? {a: 1}\n: c\n", "'a collection'", ""),
    ],
)
def test_keys_must_be_text(text: str, shown: str, hint: str) -> None:
    p = one(text)
    assert p.code == "yaml.invalid_key"
    assert p.message == f"mapping keys must be text, got {shown}"
    assert hint in p.hint
    if not hint:
        assert p.hint == ""


# --- documents and syntax -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: 1\n---\nb: 2\n", 2),
        ("---\na: 1\n---\nb: 2\n", 3),
        ("a: 1\n---\n", 2),
        ("a: 1\n...\n---\nb: 2\n", 3),
        ("a: 1\n--- b\n", 2),
    ],
)
def test_one_document_only(text: str, line: int) -> None:
    p = one(text)
    assert at(p) == ("yaml.multiple_documents", line, 1)


def test_explicit_document_markers_around_one_document() -> None:
    assert load_yaml("---\na: 1\n...\n").data == {"a": 1}


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty(text: str) -> None:
    p = one(text)
    assert at(p) == ("yaml.empty", 1, 1)


@pytest.mark.parametrize(
    ("text", "line"), [("---\n...\n", 1), ("---\n", 1), ("# c\n\n--- # x\n\n...\n", 3)]
)
def test_an_empty_document_is_yaml_empty_at_its_marker(text: str, line: int) -> None:
    p = one(text)
    assert at(p) == ("yaml.empty", line, 1)
    assert p.message == "the YAML document is empty"


@pytest.mark.parametrize("text", ["null\n", "~\n", "--- null\n", "''\n"])
def test_a_written_null_or_empty_text_is_a_value(text: str) -> None:
    assert load_yaml(text).data in (None, "")


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ("a: [1, 2\n", 2, 1),
        ("a:\n\tb: 1\n", 2, 1),
        ("a: 'x\n", 2, 1),
        ("a: *nowhere\n", 1, 4),
        ("a: b: c\n", 1, 5),
        ("- a\nb: 1\n", 2, 1),
    ],
)
def test_syntax_errors_are_located(text: str, line: int, col: int) -> None:
    assert at(one(text)) == ("yaml.syntax", line, col)


# --- encoding ---------------------------------------------------------------------------------


def test_utf8_bytes_and_bom() -> None:
    assert load_yaml("name: café 中\n".encode()).data == {"name": "café 中"}
    assert load_yaml(b"\xef\xbb\xbfa: 1\n").data == {"a": 1}
    assert load_yaml("\ufeffa: 1\n").data == {"a": 1}


@pytest.mark.parametrize(
    ("raw", "line", "col", "byte"),
    [
        (b"a: 1\nb: \xff\n", 2, 4, 8),
        (b"\xff\xfea\x00:\x00", 1, 1, 0),  # UTF-16
        (b"a: caf\xe9\n", 1, 7, 6),  # Latin-1
        ("x: é\na: «é» ".encode() + b"\xe9\n", 2, 8, 16),  # columns count characters, not bytes
    ],
)
def test_non_utf8_bytes(raw: bytes, line: int, col: int, byte: int) -> None:
    p = one(raw)
    assert at(p) == ("yaml.encoding", line, col)
    assert f"at byte {byte}" in p.message
    assert p.hint == "save the file as UTF-8"


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ("a: 1\nname: x\udc80\n", 2, 8),  # bytes read with errors='surrogateescape'
        ("\ud800", 1, 1),
    ],
)
def test_lone_surrogates_in_text_are_an_encoding_problem(text: str, line: int, col: int) -> None:
    # A str that is not Unicode text crashed the size check with UnicodeEncodeError.
    p = one(text)
    assert at(p) == ("yaml.encoding", line, col)
    assert "surrogate" in p.message


def test_control_characters_are_a_syntax_error() -> None:
    assert one("a: \x00\n").code == "yaml.syntax"


# --- limits -------------------------------------------------------------------------------------


def test_default_limits() -> None:
    assert (
        YamlLimits(max_bytes=2_000_000, max_depth=50, max_nodes=200_000, max_aliases=1_000)
        == DEFAULT_LIMITS
    )


def test_max_bytes_counts_utf8_bytes() -> None:
    text = "a: " + "é" * 10  # 23 bytes, 13 characters
    assert load_yaml(text, limits=YamlLimits(max_bytes=23)).data == {"a": "é" * 10}
    p = one(text, max_bytes=22)
    assert at(p) == ("yaml.too_large", 1, 1)
    assert "22 bytes" in p.message
    assert one(text.encode(), max_bytes=22).code == "yaml.too_large"


def test_load_yaml_file_reads_at_most_one_byte_too_many(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 5000)
    with pytest.raises(RulesetError) as info:
        load_yaml_file(path, limits=YamlLimits(max_bytes=100), display_name="shown.yaml")
    (p,) = info.value.problems
    assert p.code == "yaml.too_large"
    assert p.span.file == "shown.yaml"
    small = tmp_path / "small.yaml"
    small.write_bytes(b"a: 1\n")
    doc = load_yaml_file(small)
    assert doc.data == {"a": 1}
    assert doc.file == str(small)


def _laughs(levels: int = 10, fan: int = 9) -> str:
    lines = ['a0: &a0 "lol"']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * fan)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    # Count the builder's steps instead of timing it: without the limit it would take 9**9.
    calls = 0
    build = yaml_module._Builder.build

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return build(self, *args, **kwargs)

    monkeypatch.setattr(yaml_module._Builder, "build", counting)
    p = one(_laughs())
    assert p.code == "yaml.alias_expansion"
    assert "alias bomb" in p.hint
    assert calls <= DEFAULT_LIMITS.max_aliases + 200


def test_aliases_within_the_limit_work() -> None:
    text = "a: &x 1\nb: *x\nc: *x\n"
    assert load_yaml(text, limits=YamlLimits(max_aliases=2)).data == {"a": 1, "b": 1, "c": 1}
    p = one(text, max_aliases=1)
    assert p.code == "yaml.alias_expansion"
    assert p.path == "c"
    # Located at the alias that is one too many, not at the anchored value.
    assert (p.span.line, p.span.col) == (3, 4)


def test_an_alias_is_located_where_it_is_used() -> None:
    text = "a: &x {k: 1}\nb: &y 2\nc:\n  - *x\n  - *y\n"
    doc = load_yaml(text, "f.yaml")
    assert doc.data == {"a": {"k": 1}, "b": 2, "c": [{"k": 1}, 2]}
    assert doc.span_of(("c", 0)) == SourceSpan("f.yaml", 4, 5)
    assert doc.span_of(("c", 1)) == SourceSpan("f.yaml", 5, 5)
    assert doc.span_of(("b",)) == SourceSpan("f.yaml", 2, 4)  # the anchored value itself
    # Inside an aliased collection, values are where the anchor's own children are written.
    assert doc.span_of(("c", 0, "k")) == SourceSpan("f.yaml", 1, 11)


def test_an_undefined_alias_is_a_syntax_error() -> None:
    p = one("a: *nowhere\n")
    assert at(p) == ("yaml.syntax", 1, 4)
    assert "undefined alias 'nowhere'" in p.message


def test_an_aliased_collection_counts_its_nodes_again() -> None:
    text = "a: &x [1, 2]\nb: *x\n"
    doc = load_yaml(text, limits=YamlLimits(max_aliases=3))
    assert doc.data == {"a": [1, 2], "b": [1, 2]}
    assert doc.data["a"] is not doc.data["b"]  # built twice: changing one leaves the other
    assert one(text, max_aliases=2).code == "yaml.alias_expansion"


def test_small_laughs_within_generous_limits() -> None:
    doc = load_yaml(_laughs(levels=3, fan=3))
    assert doc.data["a2"] == [["lol"] * 3] * 3


def test_max_nodes_boundary() -> None:
    text = "[" + ", ".join(str(i) for i in range(9)) + "]"  # the list and 9 items
    assert load_yaml(text, limits=YamlLimits(max_nodes=10)).data == list(range(9))
    p = one(text, max_nodes=9)
    assert p.code == "yaml.alias_expansion"
    assert "more than 9 nodes" in p.message
    assert p.path == "[8]"


def test_max_depth_boundary() -> None:
    text = "a:\n  b:\n    c: 1\n"  # the value 1 is at depth 3
    assert load_yaml(text, limits=YamlLimits(max_depth=3)).data == {"a": {"b": {"c": 1}}}
    p = one(text, max_depth=2)
    assert at(p) == ("yaml.too_deep", 3, 8)
    assert p.path == "a.b.c"
    assert p.message == "nesting deeper than 2 levels"


def test_keys_do_not_count_as_depth() -> None:
    assert load_yaml("a: {b: 1}\n", limits=YamlLimits(max_depth=2)).data == {"a": {"b": 1}}


@pytest.mark.parametrize(
    ("text", "line", "col", "path"),
    [
        ("[" * 60 + "]" * 60, 1, 52, "[0]" * 51),
        ("a:\n" + "".join("  " * i + "- b:\n" for i in range(1, 60)), 27, 53, None),
    ],
)
def test_depth_bombs(text: str, line: int, col: int, path: str | None) -> None:
    p = one(text, max_depth=50)
    assert at(p)[0] == "yaml.too_deep"
    if path is not None:
        assert (p.span.line, p.span.col, p.path) == (line, col, path)


@pytest.mark.parametrize("levels", [30_000, 500_000])
def test_deep_flow_nesting_is_refused_before_composing(levels: int) -> None:
    # libyaml's composer recurses once per level: 30,000 levels crashed the interpreter with a
    # segmentation fault before the depth limit was looked at.
    p = one("[" * levels + "]" * levels)
    assert at(p) == ("yaml.too_deep", 1, DEFAULT_LIMITS.max_depth + 2)


def test_deep_nesting_with_a_syntax_error_first_reports_the_syntax_error() -> None:
    p = one("a: [1, 2\nb: " + "[" * 100 + "]" * 100)
    assert p.code == "yaml.syntax"


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        # The first collection refused is at depth 51 (the root is at 0): "? " * 1000 at 2 * 51 + 1.
        ("? " * 1_000, 1, 103),  # keys that are mappings nest as deep as values
        ("? [" * 1_000, 1, 78),  # a mapping and a list each "? ": the 26th's "[" (3 * 25 + 3)
        ("- " * 3_000, 1, 103),
        ("{" * 999 + "}" * 999, 1, 52),
        ("[\n" * 3_000 + "]" * 3_000, 52, 1),
        # A sequence and a mapping a line: the 51st is line 26's mapping, at column 4 * 25 + 3.
        ("".join(" " * (4 * i) + "- x:\n" for i in range(600)), 26, 103),
    ],
)
def test_deep_block_flow_and_key_nesting_is_tierflows_refusal(
    text: str, line: int, col: int
) -> None:
    # libyaml refuses 1,000 levels in its scanner (a yaml.syntax at column 1001 or so); and
    # "? " * 1000 raised RecursionError: its keys were not counted, libyaml's refusal was
    # swallowed and PyYAML's composer recursed.
    p = one(text)
    assert at(p) == ("yaml.too_deep", line, col)
    assert p.message == "nesting deeper than 50 levels"


def test_the_highest_depth_limit_is_reached_before_libyamls() -> None:
    p = one("[" * 5_000 + "]" * 5_000, max_depth=MAX_DEPTH_LIMIT)
    assert at(p) == ("yaml.too_deep", 1, 202)


@pytest.mark.parametrize("limits", [{"max_depth": 201}, {"max_depth": 0}, {"max_nodes": -1}])
def test_limits_out_of_range_are_refused(limits: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"max_depth may be at most 200|must be positive"):
        YamlLimits(**limits)


def test_a_syntax_error_before_libyamls_depth_limit_is_the_same_on_both_parsers() -> None:
    # In a flow sequence, '2' and 'b' make one plain scalar over two lines, which cannot be a
    # key: the ':' after 'b' (line 2, column 2) is where the sequence is broken.
    for levels in (100, 3_000):
        p = one("a: [1, 2\nb: " + "[" * levels)
        assert at(p) == ("yaml.syntax", 2, 2)
        assert p.message.startswith("while parsing a flow sequence")


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ("a: &a {<<: *a}\n", 1, 12),
        ("a: &a {b: {<<: *a}}\n", 1, 16),
        ("a: &a\n  b:\n    <<: [{c: 1}, *a]\n", 3, 18),
    ],
)
def test_a_mapping_merged_into_itself_is_refused(text: str, line: int, col: int) -> None:
    p = one(text)  # was a RecursionError
    assert at(p) == ("yaml.invalid_merge", line, col)
    assert p.message == "'<<' merges a mapping into itself"


def test_merged_mappings_count_as_alias_uses() -> None:
    # Merging an empty mapping built nothing, so 40 levels of '<<: [*prev, *prev]' went on
    # for 2**40 merges; each merge source is an alias use now.
    text = "e: &e {}\nc: {<<: [*e, *e, *e]}\n"
    assert load_yaml(text, limits=YamlLimits(max_aliases=3)).data == {"e": {}, "c": {}}
    assert at(one(text, max_aliases=2)) == ("yaml.alias_expansion", 2, 18)
    bomb = "e: &e {}\n" + "".join(
        f"a{i}: &a{i} {{<<: [*{p}, *{p}]}}\n"
        for i, p in enumerate(["e", *(f"a{i}" for i in range(39))])
    )
    assert one(bomb).code == "yaml.alias_expansion"


def test_recursive_alias_is_bounded() -> None:
    p = one("a: &a [*a]\n")
    assert p.code in ("yaml.too_deep", "yaml.alias_expansion")


def test_merge_depth_and_path() -> None:
    p = one("a:\n  <<: {b: {c: 1}}\n", max_depth=2)
    assert p.code == "yaml.too_deep"
    assert (p.span.line, p.span.col) == (2, 11)


def test_problems_of_several_kinds_are_reported_together() -> None:
    found = fails("a: 1\na: 2\nb: !!python/name:os.system\nc:\n  <<: 1\n")
    assert [at(p) for p in found] == [
        ("yaml.duplicate_key", 2, 1),
        ("yaml.unsupported_tag", 3, 4),
        ("yaml.invalid_merge", 5, 7),
    ]


def test_too_many_nodes_are_refused_before_composing(monkeypatch: pytest.MonkeyPatch) -> None:
    # A flat two-megabyte list (a million numbers) was composed before it was counted: 10 s.
    def compose_all(text: str) -> Any:
        raise AssertionError("composed")

    monkeypatch.setattr(yaml_module, "compose_all", compose_all)
    p = one("a: [1, 2, 3]\n", max_nodes=3)  # the mapping, the list, 1, 2: the 4th is '2'
    assert at(p) == ("yaml.alias_expansion", 1, 8)
    assert p.path == "a[1]"
    p = one("? [k]\n: [1, 2]\n", max_nodes=4)  # mapping, [k], k, [1, 2]: the 5th is '1'
    assert at(p) == ("yaml.alias_expansion", 2, 4)
