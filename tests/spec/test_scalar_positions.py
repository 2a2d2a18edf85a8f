"""Offsets into a YAML scalar's value map back to the line and column where they are written."""

from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tierflow import source as source_module
from tierflow.source import SourceSpan, position_in_scalar
from tierflow.spec import load_yaml


def where(text: str, needle: str) -> tuple[int, int]:
    """Load ``text`` (key ``v``), find ``needle`` in the value, return its mapped line:col."""
    doc = load_yaml(text, "f.yaml")
    value = doc.data["v"]
    span = position_in_scalar(text, doc.span_of(("v",)), value, value.index(needle))
    return span.line, span.col


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ("v: a and NAME\n", 1, 10),
        ("v: a and NAME # comment\n", 1, 10),
        ("v: a and\n  b and NAME\n", 2, 9),
        ("v: a and\n\n  NAME\n", 3, 3),  # a blank line folds to a line break
        ("v: a and   \n     NAME\n", 2, 6),  # trailing and leading spaces are dropped
        ("v: 'it''s NAME'\n", 1, 11),
        ("v: 'a ''b'' ''c''\n  NAME'\n", 2, 3),
        ('v: "a \\"b\\" NAME"\n', 1, 13),
        ('v: "\\x41\\u00e9\\U0001F600 NAME"\n', 1, 26),
        ('v: "a and \\\n     NAME"\n', 2, 6),  # an escaped line break is no character
        ('v: "a and\n   NAME"\n', 2, 4),
        ("v: |\n  a\n    and NAME\n", 3, 9),
        ("v: |-\n\n  a\n  NAME\n", 4, 3),
        ("v: >\n  a\n  b\n\n  NAME\n", 5, 3),
        ("v: >\n  a\n    more\n  NAME\n", 4, 3),  # a more-indented line keeps its break
        ("v: >2\n   a NAME\n", 2, 6),
        ("v:   \t NAME\n", 1, 8),
    ],
)
def test_each_style(text: str, line: int, col: int) -> None:
    assert where(text, "NAME") == (line, col)


def test_a_plain_value_in_a_flow_mapping() -> None:
    text = "x: {k: 1, v: a or\n  NAME, w: 2}\n"
    doc = load_yaml(text, "f.yaml")
    value = doc.data["x"]["v"]
    span = position_in_scalar(text, doc.span_of(("x", "v")), value, value.index("NAME"))
    assert (span.line, span.col) == (2, 3)


def test_just_past_the_end_is_the_column_after_the_last_character() -> None:
    text = 'v: "a and"\n'
    doc = load_yaml(text, "f.yaml")
    assert position_in_scalar(text, doc.span_of(("v",)), "a and", 5) == SourceSpan("f.yaml", 1, 10)


@pytest.mark.parametrize(
    "text",
    ["a: &x a and NAME\nv: *x\n", "v: !!str a and NAME\n", "v: &y 'a and NAME'\n"],
)
def test_what_cannot_be_aligned_is_located_at_the_start(text: str) -> None:
    doc = load_yaml(text, "f.yaml")
    start = doc.span_of(("v",))
    value = doc.data["v"]
    assert position_in_scalar(text, start, value, value.index("NAME")) == start


@pytest.mark.parametrize(
    ("start", "pos"),
    [(SourceSpan("f.yaml"), 0), (SourceSpan("f.yaml", 9, 1), 0), (SourceSpan("f.yaml", 1, 4), -1)],
)
def test_unknown_places_return_the_start(start: SourceSpan, pos: int) -> None:
    assert position_in_scalar("v: abc\n", start, "abc", pos) == start


def test_a_large_file_after_the_scalar_is_not_read() -> None:
    # Aligning 'x' must stop long before the end of a big remainder (nothing after it matters).
    text = "v: 'x'\n" + "k: value\n" * 200_000
    assert position_in_scalar(text, SourceSpan("f.yaml", 1, 4), "x", 0) == SourceSpan(
        "f.yaml", 1, 5
    )


WORDS = st.text(alphabet=string.ascii_lowercase + "'\"\\é#:-", min_size=1, max_size=8)
STYLES = st.sampled_from([None, "'", '"', "|", ">"])


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(WORDS, max_size=12),
    after=st.lists(WORDS, max_size=4),
    style=STYLES,
    width=st.integers(min_value=10, max_value=40),
    blank=st.booleans(),
)
def test_every_style_the_emitter_writes_maps_back(
    before: list[str], after: list[str], style: str | None, width: int, blank: bool
) -> None:
    # PyYAML's emitter chooses escapes, folds long lines and may fall back to another style;
    # whatever it writes, the name's offset must map to where the name is in the text.
    value = " ".join([*before, "NAME", *after])
    if blank and before:
        value = value.replace(" NAME", "\n\nNAME", 1)
    text = yaml.dump({"k": {"v": value}}, default_style=style, width=width, allow_unicode=True)
    doc = load_yaml(text, "f.yaml")
    assert doc.data["k"]["v"] == value
    start = doc.span_of(("k", "v"))
    span = position_in_scalar(text, start, value, value.index("NAME"))
    lines = text.splitlines()
    assert lines[span.line - 1][span.col - 1 :].startswith("NAME"), (text, span)


def test_a_file_is_split_into_lines_once_for_all_its_positions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each position split the whole file again: 16,000 broken conditions in a 930 KB rule set
    # took 460 s to report.
    splits: list[str] = []

    class CountingBreak:
        def split(self, text: str) -> list[str]:
            splits.append(text)
            return real.split(text)

    real = source_module._BREAK
    monkeypatch.setattr(source_module, "_BREAK", CountingBreak())
    source_module._lines.cache_clear()
    text = "".join(f"r{i}:\n  when: x{i} > {i}\n" for i in range(200)) + "tail: 1\n"
    doc = load_yaml(text, "f.yaml")
    # The value of r{i} is on line 2i + 2 (1-based), its 'x' at column 9.
    for i in (0, 7, 199, 3):
        value = doc.data[f"r{i}"]["when"]
        span = position_in_scalar(text, doc.span_of((f"r{i}", "when")), value, 0)
        assert (span.line, span.col) == (2 * i + 2, 9)
    assert splits == [text]
