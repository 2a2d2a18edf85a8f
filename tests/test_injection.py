"""Nothing a rule set's file name, name or ``extends`` path holds is ever run (issue 10, item 2).

Each vector writes a payload that, were it compiled as code, would create a marker file; the
tests check the marker, not the generated text, so they see execution however it would happen.
The payload escapes the comment that used to end each generated line (a line break), closes the
``if`` it was in and opens a function of its own, so the lines after it still compile: before the
fix it ran at load, and again at evaluation.
"""

from __future__ import annotations

import datetime as dt
import io
import linecache
import math
import os
import sys
import traceback
from dataclasses import replace
from pathlib import Path

import pytest

import tierflow
from tierflow.cli import main
from tierflow.compile import compile_document
from tierflow.compile._generate import generate
from tierflow.compile._source import document_from_text
from tierflow.expr import Const

AS_OF = dt.date(2025, 10, 1)

TINY = """\
id: tiny
name: Tiny
version: "1"
tiers:
  - {id: tier2, level: 2, when: "absence_rate >= 10%"}
  - {id: tier1, level: 1, default: true}
tests:
  - name: two of twenty is tier 2
    as_of: 2025-10-01
    facts: {student_id: s1, days_enrolled: 20, days_absent: 2}
    expect: {tier: tier2}
"""

FACTS = {"student_id": "s1", "days_enrolled": 20, "days_absent": 2}
"""2 of 20 days absent is 10%, so ``absence_rate >= 10%`` holds: tier2."""

BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
"""Every line break :meth:`str.splitlines` honours; Python's tokenizer ends a comment at the first
three (the others end a line for :mod:`linecache`, which must keep the source's line count)."""


def payload(brk: str) -> str:
    """A name that runs code if it reaches the generated source (no ``/``: a file name can't)."""
    touch = "__import__('pathlib').Path(__import__('os').environ['TIERFLOW_MARKER']).touch()"
    return f"x{brk}        pass{brk}{touch}{brk}def _g():{brk}    if 1:#"


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ran"
    monkeypatch.setenv("TIERFLOW_MARKER", str(path))
    return path


@pytest.mark.parametrize("brk", BREAKS, ids=repr)
def test_a_name_given_to_parse_ruleset_is_never_run(brk: str, marker: Path) -> None:
    rs = tierflow.parse_ruleset(TINY, name=payload(brk))
    assert not marker.exists()
    assert rs.evaluate(FACTS, as_of=AS_OF).tier == "tier2"
    assert not marker.exists()


@pytest.mark.parametrize("brk", ["\n", "\r", "\r\n"], ids=repr)
def test_a_file_name_is_never_run(brk: str, marker: Path, tmp_path: Path) -> None:
    path = tmp_path / f"{payload(brk)}.yaml"
    path.write_text(TINY)
    rs = tierflow.load_ruleset(path)
    assert not marker.exists()
    assert rs.evaluate(FACTS, as_of=AS_OF).tier == "tier2"
    assert not marker.exists()


def test_tierflow_check_and_test_of_a_folder_never_run_a_file_name(
    marker: Path, tmp_path: Path
) -> None:
    (tmp_path / f"{payload(chr(10))}.yaml").write_text(TINY)
    for command in ("check", "test"):
        out = io.StringIO()
        assert main([command, str(tmp_path)], out=out) == 0, out.getvalue()
    assert out.getvalue().endswith("1 passed, 0 failed\n")
    assert not marker.exists()


CHILD = """\
id: child
name: Child
version: "1"
extends: "{parent}"
"""


@pytest.mark.parametrize("brk", ["\n", "\r"], ids=repr)
def test_an_extends_path_is_never_run(brk: str, marker: Path, tmp_path: Path) -> None:
    parent = f"{payload(brk)}.yaml"
    (tmp_path / parent).write_text(TINY)
    escaped = parent.replace("\\", "\\\\").replace('"', '\\"').replace(brk, repr(brk)[1:-1])
    child = tmp_path / "child.yaml"
    child.write_text(CHILD.format(parent=escaped))
    rs = tierflow.load_ruleset(child)
    assert not marker.exists()
    assert rs.evaluate(FACTS, as_of=AS_OF).tier == "tier2"
    assert not marker.exists()


def test_tracebacks_still_show_where_the_rule_was_written(tmp_path: Path) -> None:
    # The location left the compiled source; the copy tracebacks read still has it, escaped
    # onto one line, at the line the failing expression is on.
    text = TINY.replace('"absence_rate >= 10%"', '"days_absent / (days_enrolled - 20) > 1"')
    rs = tierflow.parse_ruleset(text, name="odd\nname.yaml")
    fn = rs._fn
    try:
        fn(FACTS, AS_OF)
    except ZeroDivisionError:
        frame = traceback.extract_tb(sys.exc_info()[2])[-1]
    else:  # pragma: no cover - the test's premise
        pytest.fail("no ZeroDivisionError")
    assert frame.line is not None and frame.line.startswith("if (")
    assert frame.line.endswith("# odd\\nname.yaml:5:33 tiers[0].when")
    shown = linecache.getlines(frame.filename)
    assert "".join(shown) == rs.python_source
    assert len(shown) == rs.python_source.count("\n")


def test_the_compiled_source_holds_no_text_from_the_rule_set() -> None:
    rs = tierflow.parse_ruleset(TINY, name="SECRET-NAME.yaml")
    assert "SECRET-NAME" in rs.python_source  # the readable copy says where
    filename = rs._fn.__code__.co_filename
    assert "SECRET" not in filename
    # What was compiled: the code object's constants and names hold nothing from the name.
    code = rs._fn.__code__
    assert not any("SECRET" in str(c) for c in code.co_consts)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_constant_metric_that_is_not_finite_is_a_bound_constant(value: float) -> None:
    # The loader refuses 1e309 and overflowing arithmetic now, but generate must not depend on
    # that: a folded infinity used to be written as the bare name 'inf' (NameError at evaluate).
    text = TINY.replace("tiers:", 'metrics:\n  - {id: limit, expr: "5"}\ntiers:').replace(
        '"absence_rate >= 10%"', '"days_absent >= limit"'
    )
    c = compile_document(document_from_text(text, "limit.yaml"))
    old = c.metric_exprs["limit"]
    assert isinstance(old.tree, Const)
    tree = Const(old.tree.pos, value)
    tree.type = old.tree.type
    c.metric_exprs["limit"] = replace(old, tree=tree)
    fn, _ = generate(c, "limit")
    # days_absent >= limit by hand: 2 >= inf false, 2 >= -inf true, 2 >= nan false.
    expected = 0 if value == -math.inf else 1
    assert fn({**FACTS, "days_absent": 2}, AS_OF)[0] == expected


def test_the_registered_file_name_only_holds_an_identifier() -> None:
    rs = tierflow.parse_ruleset(TINY)
    assert rs._fn.__code__.co_filename.startswith("<tierflow tiny #")
    assert os.sep not in rs._fn.__code__.co_filename
