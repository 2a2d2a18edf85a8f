"""Read precomputed student facts from JSON Lines, JSON or CSV, record by record.

Each record comes with its source (``file:line``) so a bad one is reported where it is. CSV cells
are converted by the fact's type: numbers, lists separated by ``;``, and JSON for nested values
(``history``, ``attendance_log``). An empty cell is a missing fact.

Files are read as bytes and checked line by line (:class:`~tierflow.ingest._text.TextLines`,
or for JSON Lines :class:`~tierflow.ingest._text.LineBlocks`: blocks of the same lines), and
JSON goes through :class:`~tierflow.ingest._json.SafeJson`, so a record that is not UTF-8,
too long, too deeply nested, or holds a number no fact can have, is one reject and the rest of
the file is read.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tierflow.errors import DataError, DataReport
from tierflow.facts._model import FACTS, GRADE_RANGE, MAX_NUMBER, grade_level, number_problem
from tierflow.ingest._csv import csv_rows
from tierflow.ingest._json import JsonProblem, SafeJson
from tierflow.ingest._reported import reported
from tierflow.ingest._text import LineBlocks, TextLines
from tierflow.ingest._values import not_an_object

__all__ = ["FactsRecord", "json_line_problem", "read_facts", "read_facts_text"]

_NESTED = frozenset({"history", "attendance_log", "extra"})
_SCALAR = frozenset({"number", "grade", "date", "bool", "string"})
"""Kinds whose cells are never JSON, even when they start with ``[`` or ``{``."""


@dataclass(frozen=True, slots=True)
class FactsRecord:
    """One input record: where it came from and its facts."""

    source: str
    facts: dict[str, Any]


# A reader's loop makes a record with these (about 0.15 us where calling the frozen class,
# whose __init__ goes through object.__setattr__ for each field, takes about 0.5 us): the
# slots' own setters do not pass through the class's __setattr__, which refuses every write.
_new_record = object.__new__
_set_source = FactsRecord.__dict__["source"].__set__
_set_facts = FactsRecord.__dict__["facts"].__set__


def _convert(
    column: str, cell: str, kinds: Mapping[str, str], source: str, decoder: SafeJson
) -> Any:
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
            return decoder.decode(text)
        except JsonProblem as exc:
            if exc.code != "ingest.invalid_json":
                raise DataError(
                    exc.code, f"column {column!r}: {exc.message}", source=source, field=column
                ) from exc
            where = (
                f"line {exc.line} column {exc.column}" if "\n" in text else f"column {exc.column}"
            )
            raise DataError(
                "ingest.invalid_json",
                f"column {column!r}: not valid JSON: {exc.message} at {where} of the cell",
                source=source,
                field=column,
            ) from exc
    if kind == "number":
        shown = text if len(text) <= 30 else f"{text[:20]}... ({len(text):,} characters)"
        try:
            value = float(text)
        except ValueError as exc:
            raise DataError(
                "ingest.invalid_number",
                f"column {column!r}: {shown!r} is not a number",
                source=source,
                field=column,
            ) from exc
        if not -MAX_NUMBER <= value <= MAX_NUMBER:  # also NaN
            written_inf = text.lstrip("+-").lower() in ("inf", "infinity")
            what = "not a finite number" if math.isnan(value) or written_inf else "too large"
            raise DataError(
                "ingest.invalid_number",
                f"column {column!r}: {shown!r} is {what} (a number fact is at most 10**15 in size)",
                source=source,
                field=column,
            )
        return (
            int(value)
            if value.is_integer() and "." not in text and "e" not in text.lower()
            else value
        )
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


def _number_names(kinds: Mapping[str, str]) -> frozenset[str]:
    return frozenset(name for name, kind in kinds.items() if kind in ("number", "grade"))


def _bad_number(facts: Mapping[str, Any], numbers: frozenset[str], source: str) -> DataError | None:
    """``ingest.invalid_number`` for the first number fact out of range in a JSON record."""
    for name in numbers.intersection(facts):
        value = facts[name]
        kind = value.__class__
        if (kind is int or kind is float) and -MAX_NUMBER <= value <= MAX_NUMBER:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            problem = number_problem(value)
            if problem is not None:
                return DataError(
                    "ingest.invalid_number",
                    f"fact {name!r}: {problem}",
                    source=source,
                    student_id=_student(facts),
                    field=name,
                )
    return None


def _student(facts: Any) -> str | None:
    sid = facts.get("student_id") if isinstance(facts, dict) else None
    return sid.strip() or None if isinstance(sid, str) else None


def _read_csv(
    lines: Iterable[str],
    name: str,
    kinds: Mapping[str, str],
    problems: Mapping[int, tuple[str, str]] | None = None,
) -> Iterator[FactsRecord | DataError]:
    decoder = SafeJson()
    for row in csv_rows(lines, name, problems=problems):
        if isinstance(row, DataError):
            yield row
            continue
        source, cells = row
        try:
            facts = {}
            for column, cell in cells.items():
                value = _convert(column, cell, kinds, source, decoder)
                if value is not None:
                    facts[column] = value
        except DataError as exc:
            sid = cells.get("student_id", "").strip() or None
            yield exc.with_source(source, student=sid)
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


def json_record(
    line: str, source: str, decoder: SafeJson, spoilt: tuple[str, str] | None = None
) -> Any:
    """Decode one line of JSON Lines, or return the :class:`DataError` that rejects it.

    Args:
        line: The line.
        source: Its ``file:line``.
        decoder: The file's decoder.
        spoilt: The ``(code, message)`` of a line :class:`TextLines` found not UTF-8 or too
            long (the record is rejected with it, naming the student when the rest is readable).
    """
    try:
        value = decoder.decode(line)
    except JsonProblem as exc:
        if spoilt is not None:
            return DataError(spoilt[0], spoilt[1], source=source)
        if exc.code == "ingest.invalid_json":
            cause = exc.__cause__
            problem = (
                json_line_problem(line, cause)
                if isinstance(cause, json.JSONDecodeError)
                else exc.message
            )
            return DataError("ingest.invalid_json", problem, source=source)
        return DataError(
            exc.code, exc.message, source=source, student_id=_student(exc.value), field=exc.key
        )
    if spoilt is not None:
        return DataError(spoilt[0], spoilt[1], source=source, student_id=_student(value))
    return value


def _read_jsonl(
    lines: Iterable[str] | LineBlocks,
    name: str,
    kinds: Mapping[str, str],
    problems: Mapping[int, tuple[str, str]] | None = None,
) -> Iterator[FactsRecord | DataError]:
    decoder = SafeJson()
    numbers = _number_names(kinds)
    spoilt = problems if problems is not None else {}
    pieces = lines.blocks() if isinstance(lines, LineBlocks) else (lines,)
    number = 0
    for piece in pieces:
        if isinstance(piece, bytes):  # whole good lines: screened together
            for raw, value in decoder.decode_lines(piece):
                number += 1
                if value.__class__ is dict:
                    record = _new_record(FactsRecord)
                    _set_source(record, f"{name}:{number}")
                    _set_facts(record, value)
                    yield record
                    continue
                # MISS, or JSON that is not an object: the line's text is read as one
                item = _jsonl_line(raw.decode("utf-8"), f"{name}:{number}", decoder, numbers)
                if item is not None:
                    yield item
            continue
        for line in piece:
            number += 1
            if not line or line.isspace():
                continue
            source = f"{name}:{number}"
            if spoilt and number in spoilt:  # rejected, naming the student when it can
                yield json_record(line, source, decoder, spoilt[number])
                continue
            item = _jsonl_line(line, source, decoder, numbers)
            if item is not None:
                yield item


def _jsonl_line(
    line: str, source: str, decoder: SafeJson, numbers: frozenset[str]
) -> FactsRecord | DataError | None:
    """The record of one good line of JSON Lines (None for a blank line)."""
    if not line or line.isspace():
        return None
    try:
        value = decoder.decode(line)
    except JsonProblem:  # decoded again, to be named
        value = json_record(line, source, decoder)
        if isinstance(value, DataError):
            return value
    return _jsonl_value(value, source, decoder, numbers)


def _jsonl_value(
    value: Any, source: str, decoder: SafeJson, numbers: frozenset[str]
) -> FactsRecord | DataError:
    """The record of a line's decoded value: a JSON object with its numbers in range."""
    if not isinstance(value, dict):
        return DataError(
            "ingest.not_an_object",
            f"expected a JSON object, got {type(value).__name__}",
            source=source,
        )
    if decoder.large:
        decoder.large = False
        return _bad_number(value, numbers, source) or FactsRecord(source, value)
    return FactsRecord(source, value)


def read_facts(
    path: str | Path,
    *,
    stream: IO[str] | None = None,
    extra_kinds: Mapping[str, str] | None = None,
    report: DataReport | None = None,
) -> Iterator[FactsRecord]:
    """Yield each record of a facts file; a record that cannot be read goes to ``report``.

    The format follows the suffix: ``.csv``, ``.jsonl``/``.ndjson``, or ``.json`` (an array).
    Records are read lazily, so memory does not grow with the file.

    Args:
        path: The file (its name is used in sources; ``-`` with ``stream`` for standard input).
        stream: An already open text stream to read instead of opening ``path``.
        extra_kinds: Types of extra CSV columns (``{"gpa": "number"}``), from the rule set.
        report: Where a record that cannot be read goes (counted as read and rejected); the
            stream goes on. Without one, the first such record is raised.

    Raises:
        DataError: A record cannot be read and no ``report`` was given.
    """
    return reported(_facts(path, stream, extra_kinds), report)  # lazy: both are generators


def _facts(
    path: str | Path, stream: IO[str] | None, extra_kinds: Mapping[str, str] | None
) -> Iterator[FactsRecord | DataError]:
    name = str(path)
    suffix = Path(name).suffix.lower()
    kinds = _kinds(extra_kinds)
    binary: IO[bytes] | None = getattr(stream, "buffer", None) if stream is not None else None
    if stream is None:
        binary = open(path, "rb")  # noqa: SIM115 - closed below, after the last record
    try:
        if suffix == ".json":
            if binary is not None:
                text = binary.read().decode("utf-8", errors="surrogateescape")
            else:
                text = stream.read() if stream is not None else ""
            yield from _read_json(text.removeprefix("\ufeff"), name, kinds)
            return
        lines: Any = stream  # a text stream, or one that checks alike (a LineBlocks)
        if suffix == ".csv":
            if binary is not None:
                lines = TextLines(binary)
            yield from _read_csv(lines, name, kinds, getattr(lines, "problems", None))
        else:  # JSON Lines: in blocks of whole lines, each decoded at once when it can be
            if binary is not None:
                lines = LineBlocks.of_stream(binary)
            yield from _read_jsonl(lines, name, kinds, getattr(lines, "problems", None))
    finally:
        if stream is None and binary is not None:
            binary.close()


def _read_json(text: str, name: str, kinds: Mapping[str, str]) -> Iterator[FactsRecord | DataError]:
    numbers = _number_names(kinds)
    decoder = SafeJson()
    items = list(decoder.items(text))  # decoded whole: the flag below is then known
    large = decoder.large  # one flag for the document: then every record is checked
    for index, item in items:
        source = name if index < 0 else f"{name}[{index}]"
        if isinstance(item, JsonProblem):
            if index < 0 and item.line is not None:
                message = f"{item.message} at line {item.line} column {item.column}"
                yield DataError(item.code, message, source=name)
            else:
                yield DataError(
                    item.code,
                    item.message,
                    source=source,
                    student_id=_student(item.value),
                    field=item.key,
                )
        elif index < 0:
            yield DataError(
                "ingest.not_a_list", "a .json facts file holds a list of objects", source=name
            )
        elif isinstance(item, dict):
            bad = _bad_number(item, numbers, source) if large else None
            yield bad or FactsRecord(source, item)
        else:
            yield not_an_object(source, item)


def read_facts_text(
    text: str, name: str = "<input>.jsonl", *, report: DataReport | None = None
) -> Iterator[FactsRecord]:
    """Read facts from text (the format follows ``name``'s suffix), as :func:`read_facts`."""
    return read_facts(name, stream=io.StringIO(text), report=report)
