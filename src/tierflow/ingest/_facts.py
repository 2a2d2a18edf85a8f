"""Read precomputed student facts from JSON Lines, JSON or CSV, record by record.

Each record comes with its source (``file:line``) so a bad one is reported where it is. CSV cells
are converted by the fact's type: numbers, lists separated by ``;``, and JSON for nested values
(``history``, ``attendance_log``). An empty cell is a missing fact.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tierflow.errors import DataError
from tierflow.facts._model import FACTS, GRADE_RANGE, grade_level
from tierflow.ingest._csv import csv_rows

__all__ = ["FactsRecord", "json_line_problem", "read_facts", "read_facts_text"]

_NESTED = frozenset({"history", "attendance_log", "extra"})
_SCALAR = frozenset({"number", "grade", "date", "bool", "string"})
"""Kinds whose cells are never JSON, even when they start with ``[`` or ``{``."""


@dataclass(frozen=True)
class FactsRecord:
    """One input record: where it came from and its facts."""

    source: str
    facts: dict[str, Any]


def _number(text: str) -> int | float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return (
        int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
    )


def _convert(column: str, cell: str, kinds: Mapping[str, str], source: str) -> Any:
    """The value of one CSV cell, by the type of its fact (``None`` for an empty cell).

    Raises:
        DataError: The cell is not a value of its fact's type (the field is ``column``).
    """
    text = cell.strip()
    if text == "":
        return None
    kind = kinds.get(column)
    if column in _NESTED or (text[:1] in "[{" and kind not in _SCALAR):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            where = (
                f"line {exc.lineno} column {exc.colno}" if "\n" in text else f"column {exc.colno}"
            )
            raise DataError(
                "ingest.invalid_json",
                f"column {column!r}: not valid JSON: {exc.msg} at {where} of the cell",
                source=source,
                field=column,
            ) from exc
    if kind == "number":
        try:
            return _number(text)
        except ValueError as exc:
            raise DataError(
                "ingest.invalid_number",
                f"column {column!r}: {text!r} is not a number",
                source=source,
                field=column,
            ) from exc
    if kind == "grade":
        level = grade_level(text)
        if level is None:
            low, high = GRADE_RANGE
            raise DataError(
                "ingest.invalid_number",
                f"column {column!r}: {text!r} is not a grade level (a whole number from {low} "
                f"to {high}, K or PK)",
                source=source,
                field=column,
            )
        return level
    if kind == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise DataError(
                "ingest.invalid_date",
                f"column {column!r}: {text!r} is not a date (YYYY-MM-DD)",
                source=source,
                field=column,
            ) from exc
    if kind == "list":
        return [part.strip() for part in text.replace("|", ";").split(";") if part.strip()]
    if kind == "bool":
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "y"):
            return True
        if lowered in ("false", "no", "0", "n"):
            return False
        raise DataError(
            "ingest.invalid_bool",
            f"column {column!r}: {text!r} is not true/false",
            source=source,
            field=column,
        )
    return text


def _kinds(extra: Mapping[str, str] | None) -> dict[str, str]:
    kinds = {name: info.type.kind for name, info in FACTS.items()}
    kinds["grade"] = "grade"  # a number, or K, PK, 3rd, an Ed-Fi grade level
    kinds.update(extra or {})
    return kinds


def _read_csv(
    fh: IO[str], name: str, kinds: Mapping[str, str]
) -> Iterator[FactsRecord | DataError]:
    for row in csv_rows(fh, name):
        if isinstance(row, DataError):
            yield row
            continue
        source, cells = row
        try:
            facts = {}
            for column, cell in cells.items():
                value = _convert(column, cell, kinds, source)
                if value is not None:
                    facts[column] = value
        except DataError as exc:
            sid = cells.get("student_id", "").strip() or None
            yield DataError(exc.code, exc.reason, source=source, student_id=sid, field=exc.field)
            continue
        yield FactsRecord(source, facts)


def json_line_problem(line: str, exc: json.JSONDecodeError) -> str:
    """Say what is wrong with one line of JSON Lines, and where, in plain words.

    A line that ends before its object does (a file cut short, a record split over two lines)
    says so, since the parser's own message ("Expecting ',' delimiter") does not.

    >>> line = '{"student_id": "s1", "days_absent": 3'
    >>> try:
    ...     json.loads(line)
    ... except json.JSONDecodeError as exc:
    ...     print(json_line_problem(line, exc))  # doctest: +ELLIPSIS
    the line ends before its JSON object does (Expecting ',' delimiter at column 38); each ...
    """
    text = line.rstrip()
    column = min(exc.pos, len(text)) + 1  # the parser counts the line's newline as a line
    cut = exc.pos >= len(text) or exc.msg.startswith("Unterminated string")
    if cut and text.lstrip()[:1] in "{[":
        return (
            f"the line ends before its JSON object does ({exc.msg} at column {column}); "
            "each line must hold one whole object"
        )
    return f"{exc.msg} at column {column}"


def _read_jsonl(fh: IO[str], name: str) -> Iterator[FactsRecord | DataError]:
    for number, line in enumerate(fh, start=1):
        if not line.strip():
            continue
        source = f"{name}:{number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield DataError("ingest.invalid_json", json_line_problem(line, exc), source=source)
            continue
        if not isinstance(value, dict):
            yield DataError(
                "ingest.not_an_object",
                f"expected a JSON object, got {type(value).__name__}",
                source=source,
            )
            continue
        yield FactsRecord(source, value)


def read_facts(
    path: str | Path,
    *,
    stream: IO[str] | None = None,
    extra_kinds: Mapping[str, str] | None = None,
) -> Iterator[FactsRecord | DataError]:
    """Yield each record of a facts file, or a :class:`DataError` for a record that cannot be read.

    The format follows the suffix: ``.csv``, ``.jsonl``/``.ndjson``, or ``.json`` (an array).
    Records are read lazily, so memory does not grow with the file.

    Args:
        path: The file (its name is used in sources; ``-`` with ``stream`` for standard input).
        stream: An already open text stream to read instead of opening ``path``.
        extra_kinds: Types of extra CSV columns (``{"gpa": "number"}``), from the rule set.
    """
    name = str(path)
    suffix = Path(name).suffix.lower()
    fh: IO[str] = stream if stream is not None else open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    try:
        if suffix == ".csv":
            yield from _read_csv(fh, name, _kinds(extra_kinds))
        elif suffix == ".json":
            try:
                data = json.load(fh)
            except json.JSONDecodeError as exc:
                yield DataError(
                    "ingest.invalid_json",
                    f"{exc.msg} at line {exc.lineno} column {exc.colno}",
                    source=name,
                )
                return
            if not isinstance(data, list):
                yield DataError(
                    "ingest.not_a_list", "a .json facts file holds a list of objects", source=name
                )
                return
            for i, item in enumerate(data):
                source = f"{name}[{i}]"
                if isinstance(item, dict):
                    yield FactsRecord(source, item)
                else:
                    yield DataError(
                        "ingest.not_an_object",
                        f"expected an object, got {type(item).__name__}",
                        source=source,
                    )
        else:
            yield from _read_jsonl(fh, name)
    finally:
        if stream is None:
            fh.close()


def read_facts_text(text: str, name: str = "<input>.jsonl") -> Iterator[FactsRecord | DataError]:
    """Read facts from text (the format follows ``name``'s suffix)."""
    return read_facts(name, stream=io.StringIO(text))
