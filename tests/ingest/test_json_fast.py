"""orjson's fast path in SafeJson gives what the exact decoder gives, for any text.

The oracle is the exact decoder itself (``SafeJson(fast=False)``: the standard library's
scanner with the bounds of issue 10), a second implementation of the same decoding; the cases
named below are the ones the screen exists for, each with what the module's docstring says.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tierflow.ingest import _json
from tierflow.ingest._json import MAX_DEPTH, JsonProblem, SafeJson

pytest.importorskip("orjson", reason="the fast path needs the `fast` extra (orjson)")


def outcome(text: str, *, fast: bool) -> tuple[Any, ...]:
    """Everything a caller can see of decoding ``text``: value (typed), flag or problem."""
    decoder = SafeJson(fast=fast)
    try:
        value = decoder.decode(text)
    except JsonProblem as exc:
        return ("problem", exc.code, exc.message, exc.line, exc.column, repr(exc.value), exc.key)
    return ("value", repr(value), decoder.large)


def items(text: str, *, fast: bool) -> list[tuple[Any, ...]]:
    decoder = SafeJson(fast=fast)
    out: list[tuple[Any, ...]] = []
    for index, item in decoder.items(text):
        if isinstance(item, JsonProblem):
            out.append((index, item.code, item.message, item.line, item.column, item.key))
        else:
            out.append((index, repr(item)))
    out.append(("large", decoder.large))
    return out


def same(text: str) -> None:
    assert outcome(text, fast=True) == outcome(text, fast=False), text
    assert items(text, fast=True) == items(text, fast=False), text


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**22), max_value=10**22)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)

# Numbers as JSON may write them: long runs, leading zeros in exponents, signs, fractions.
number_texts = st.from_regex(
    r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,5})?", fullmatch=True
)

# What could make the two ways differ, put anywhere in a text.
TRICKY = [
    "e", "E", "1e400", "-1e400", "1e16", "1E-7", ".", "-", "0" * 20, "9" * 120, "NaN",
    "Infinity", "-Infinity", "[", "]", "{", "}", '"', "\\", "\\ud800", "\\udc00", "\\u0041",
    "\ud800", "\ufeff", "\x00", "\x1f", " ", "\n", "\t", "\x0c", ",", ":", "true", "null",
    "\\u00e9", "\\u00E9", "\\u0e00", "\\\\u00e9", "1\\u00e9", "\\u00e", "\\u12345678901234567",
    "é", "😀", "[" * 70,
]  # fmt: skip


@st.composite
def texts(draw: st.DrawFn) -> str:
    value = draw(json_values)
    text = json.dumps(
        value,
        ensure_ascii=draw(st.booleans()),
        indent=draw(st.sampled_from([None, 0, 2])),
        separators=draw(st.sampled_from([None, (",", ":"), (" , ", " : ")])),
    )
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from(TRICKY)) + text[at:]
        else:
            text = text[:at] + text[at + 1 :]
    return text


@settings(max_examples=600, deadline=None)
@given(texts())
@example('{"days_absent": 0.' + "0" * 150 + "1}")  # refused: 153 characters, value below 1
@example('{"days_absent": 1e20}')  # decoded, and flagged large
@example('{"days_absent": 1' + "0" * 16 + "}")  # decoded, and flagged large
@example('{"days_absent": 1e400}')  # refused: infinity
@example('{"student_id": "\\ud800"}')  # refused: a lone surrogate
@example('{"student_id": "\\ud83d\\ude00"}')  # a pair: one character either way
@example('{"student_id": "s1", "student_id": "s2"}')  # the last key wins either way
@example("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))  # too deep
@example('"' + "[" * (MAX_DEPTH + 1) + '"')  # brackets in a string: not too deep
@example("\ufeff{}")
def test_any_text_decodes_the_same_with_and_without_orjson(text: str) -> None:
    same(text)


@settings(max_examples=400, deadline=None)
@given(number_texts, st.sampled_from(["{}", '{{"n": {}}}', "[{}, 1]"]))
@example("1" + "0" * 15, "{}")
@example("123456789012345.123456789012345", "{}")
@example("0.1", "{}")
def test_numbers_decode_the_same_with_and_without_orjson(number: str, shape: str) -> None:
    same(shape.format(number))


def test_a_record_of_facts_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The property above holds trivially if orjson is never asked: count that it is."""
    calls: list[bytes] = []
    real = _json._orjson.loads

    def counting(data: bytes) -> Any:
        calls.append(data)
        return real(data)

    monkeypatch.setattr(_json._orjson, "loads", counting)
    line = '{"student_id": "s1", "days_absent": 12, "days_enrolled": 60, "rate": 0.2}'
    assert SafeJson().decode(line) == json.loads(line)
    assert len(calls) == 1
    for risky in ['{"n": 1e3}', '{"n": 1234567890123456}', '{"n": "\ud800"}']:
        SafeJson().decode(risky)  # a lone surrogate in a str is the reader's to name
    assert len(calls) == 1, "a text the screen cannot clear must go the exact way"
    # json.dumps writes é as \u00e9 by default: its "0e" is no exponent, so orjson decodes it
    accented = json.dumps({"student_id": "Zoé", "name": "Inés Peña", "days_absent": 3})
    assert "\\u00e9" in accented and SafeJson().decode(accented) == json.loads(accented)
    assert len(calls) == 2
    assert SafeJson(fast=False).decode(line) == json.loads(line)
    assert len(calls) == 2
