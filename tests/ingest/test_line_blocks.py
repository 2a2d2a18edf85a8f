"""JSON Lines read in blocks (LineBlocks, SafeJson.decode_lines) give what line by line gives.

The oracle is the line-by-line reader, a second implementation of the same reading:
:class:`~tierflow.ingest._text.TextLines` handing each line as text to the reader, each text
decoded by :meth:`SafeJson.decode` (itself checked against the exact decoder in
``test_json_fast.py``). The block path screens a block of lines at once and decodes them with
orjson; every line it cannot clear goes the line-by-line way.
"""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tierflow.errors import DataReport
from tierflow.ingest import read_facts
from tierflow.ingest._json import MAX_DEPTH, MISS, JsonProblem, SafeJson
from tierflow.ingest._text import LineBlocks, TextLines

pytest.importorskip("orjson", reason="the block path decodes with the `fast` extra (orjson)")

# Lines a facts file may hold, good and bad: each is one line (no newline inside).
GOOD = [
    '{"student_id": "s1", "days_enrolled": 60, "days_absent": 7}',
    '{"student_id": "\\u00e9l\\u00e8ve", "grade": 3, "rate": 0.25, "groups": ["el"]}',
    '{"student_id": "s2", "history": [{"step": "NOT1", "date": "2025-10-01"}]}',
    '  {"student_id": "s3"}  ',
    '{"student_id": "é", "days_absent": 0}\r',
]
BAD = [
    "",
    "   ",
    "\x0c",
    "\u00a0",  # not an ASCII space, but str.isspace: a blank line to the text reader
    "[1, 2]",
    "null",
    '"s1"',
    '{"student_id": "s4", "days_absent": 1e400}',
    '{"student_id": "s5", "days_absent": 1e20}',
    '{"student_id": "s6", "days_absent": 12345678901234567}',
    '{"student_id": "s7", "days_absent": NaN}',
    '{"student_id": "s8", "days_absent": 7',
    '{"student_id": "\\ud800"}',
    '{"student_id": "s9", "x": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}",
    '{"student_id": "s10", "x": "' + "[" * (MAX_DEPTH + 1) + '"}',
    '{"student_id": "s11", "days_absent": 5} trailing',
    '{"student_id": "0e0", "note": "1234567890123456"}',
]


def _records(stream: Any) -> list[tuple[Any, ...]]:
    report = DataReport()
    got: list[tuple[Any, ...]] = [
        ("record", r.source, repr(r.facts))
        for r in read_facts("f.jsonl", stream=stream, report=report)
    ]
    got += [("reject", e.source, e.code, e.reason, e.student_id, e.field) for e in report.rejects]
    return got


def _by_lines(body: bytes) -> list[tuple[Any, ...]]:
    """The oracle: the body's lines as text, one at a time (the reader's text path)."""
    return _records(TextLines(io.BytesIO(body)))


def _by_blocks(body: bytes, cuts: list[int]) -> list[tuple[Any, ...]]:
    """The body arriving in chunks cut at ``cuts``, read in blocks."""
    edges = [0, *sorted(set(cuts)), len(body)]
    chunks = [body[a:b] for a, b in itertools.pairwise(edges) if b > a]
    return _records(LineBlocks(chunks))


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    lines = draw(st.lists(st.sampled_from(GOOD + BAD), min_size=1, max_size=12))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))  # a lone CR ends a line too
    body = end.join(lines) + draw(st.sampled_from(["", end]))
    data = body.encode("utf-8")
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=4))
    return data, cuts


@settings(max_examples=300, deadline=None)
@given(bodies())
@example((("\n".join(GOOD + BAD) + "\n").encode(), []))
@example((("\n".join(GOOD) + "\n").encode(), [7, 100]))
@example((b'{"student_id": "s1"}\n\xff\n{"student_id": "s2"}', [3]))  # a spoilt line: text
@example((b"\xef\xbb\xbf" + ("\n".join(GOOD)).encode(), []))  # a byte order mark at the start
def test_a_body_read_in_blocks_is_read_as_line_by_line(case: tuple[bytes, list[int]]) -> None:
    body, cuts = case
    assert _by_blocks(body, cuts) == _by_lines(body)


def test_a_file_is_read_in_blocks_as_line_by_line(tmp_path: Any) -> None:
    """read_facts on a path or a binary-backed stream takes the block path: same records."""
    body = ("\n".join(GOOD + BAD + GOOD) + "\n").encode()
    path = tmp_path / "f.jsonl"
    path.write_bytes(body)
    want = _by_lines(body)
    report = DataReport()
    got = [
        ("record", r.source.replace(str(path), "f.jsonl"), repr(r.facts))
        for r in read_facts(path, report=report)
    ]
    got += [
        ("reject", e.source.replace(str(path), "f.jsonl"), e.code, e.reason, e.student_id, e.field)
        for e in report.rejects
    ]
    assert got == want
    assert _records(io.TextIOWrapper(io.BytesIO(body))) == want


def _decoded(text: str) -> Any:
    """The exact way's value of a line, or None when it flags or refuses anything."""
    decoder = SafeJson(fast=False)
    try:
        value = decoder.decode(text)
    except JsonProblem:
        return None
    return None if decoder.large else ("value", repr(value))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(GOOD + BAD), min_size=1, max_size=12), st.booleans())
def test_a_line_decoded_in_a_block_is_the_exact_ways_value(lines: list[str], end: bool) -> None:
    """A value never comes for a line the exact way flags or refuses, whatever the block holds
    beside it (the block's screen is made at once: a risky line must not pass for its
    neighbours' sake)."""
    end = end or lines[-1] == ""  # "a\n" is one line: an empty last line needs its end
    block = ("\n".join(lines) + ("\n" if end else "")).encode()
    got = list(SafeJson().decode_lines(block))
    assert [raw for raw, _ in got] == [line.encode() for line in lines]
    for line, (_, value) in zip(lines, got, strict=True):
        if value is not MISS:
            assert ("value", repr(value)) == _decoded(line), line


def test_a_block_of_good_records_is_decoded_by_orjson() -> None:
    """The properties above hold trivially if every line were MISS: good lines are not."""
    block = ("\n".join(GOOD) + "\n").encode()
    values = [value for _, value in SafeJson().decode_lines(block)]
    assert values == [json.loads(line) for line in GOOD]
    assert all(value is MISS for _, value in SafeJson(fast=False).decode_lines(block))
