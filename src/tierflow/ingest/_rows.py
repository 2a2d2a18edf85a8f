"""Records of tierflow's CSV, JSON Lines and JSON files, with an optional column mapping.

The attendance readers (events, enrollments, calendars, groups, people) share this: a record
is a dict by column, yielded with its ``file:line`` (``file[index]`` in a JSON array); one that
cannot be read is yielded as its :class:`~tierflow.DataError` and the file is read on.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from tierflow.errors import DataError
from tierflow.ingest._csv import csv_rows
from tierflow.ingest._facts import json_record
from tierflow.ingest._json import JsonProblem, SafeJson
from tierflow.ingest._text import TextLines
from tierflow.ingest._values import not_an_object
from tierflow.spec import ColumnMapping

__all__ = ["converted", "records", "rows"]

T = TypeVar("T")


def rows(path: Path, mapping: ColumnMapping | None) -> Iterator[tuple[str, Any]]:
    """Yield ``(source, row)`` from CSV (dicts by column), JSON Lines or a JSON array.

    A row that cannot be read is yielded as its :class:`DataError`.
    """
    name = str(path)
    suffix = path.suffix.lower()
    columns = dict(mapping.columns) if mapping else {}
    with open(path, "rb") as raw:
        if suffix == ".json":
            # Bad bytes become lone surrogates, which reject only the item holding them.
            text = raw.read().decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
            for index, item in SafeJson().items(text):
                source = f"{name}[{index}]"
                if index < 0 and isinstance(item, JsonProblem):
                    where = f"{name}:{item.line}" if item.line else name
                    message = item.message + (f" at column {item.column}" if item.column else "")
                    yield where, DataError(item.code, message, source=where)
                elif index < 0:
                    yield (
                        name,
                        DataError(
                            "ingest.not_a_list", "a .json file holds a list of records", source=name
                        ),
                    )
                elif isinstance(item, JsonProblem):
                    yield source, DataError(item.code, item.message, source=source, field=item.key)
                else:
                    yield source, _renamed(item, columns)
            return
        lines = TextLines(raw)
        if suffix == ".csv":
            yield from _csv_rows(lines, name, columns, lines.problems)
            return
        decoder = SafeJson()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            source = f"{name}:{number}"
            value = json_record(line, source, decoder, lines.problems.get(number))
            yield source, value if isinstance(value, DataError) else _renamed(value, columns)


def _renamed(item: Any, columns: Mapping[str, str]) -> Any:
    if isinstance(item, dict) and columns:
        return {columns.get(k, k): v for k, v in item.items()}
    return item


def _csv_rows(
    lines: Iterable[str],
    name: str,
    columns: Mapping[str, str],
    problems: Mapping[int, tuple[str, str]],
) -> Iterator[tuple[str, Any]]:
    for row in csv_rows(lines, name, columns, problems):
        yield (row.source or name, row) if isinstance(row, DataError) else row


def _missing_columns(
    path: Path, needed: tuple[str, ...], mapping: ColumnMapping | None
) -> DataError | None:
    if path.suffix.lower() != ".csv":
        return None
    columns = dict(mapping.columns) if mapping else {}
    with open(path, "rb") as raw:
        try:
            header = next(csv.reader(TextLines(raw)), [])
        except csv.Error:  # a header cell over the field limit: csv_rows rejects it
            return None
    have = {columns.get(h.strip(), h.strip()) for h in header}
    missing = [c for c in needed if c not in have]
    if missing:
        return DataError(
            "ingest.missing_column",
            f"missing column(s) {', '.join(missing)}; found {', '.join(sorted(have)) or 'none'}"
            + ("" if mapping else " (a column-mapping file can rename a vendor's columns)"),
            source=f"{path}:1",
        )
    return None


def records(
    file: Path, needed: tuple[str, ...], mapping: ColumnMapping | None
) -> Iterator[tuple[str, dict[str, Any]] | DataError]:
    """Yield ``(source, record)`` of a CSV, JSON Lines or JSON file, or the error of a bad one.

    A CSV file missing one of the ``needed`` columns is a single ``ingest.missing_column``.
    """
    missing = _missing_columns(file, needed, mapping)
    if missing is not None:
        yield missing
        return
    for source, row in rows(file, mapping):
        if isinstance(row, DataError):
            yield row
        elif not isinstance(row, dict):
            yield not_an_object(source, row)
        else:
            yield source, row


def converted(
    file: Path,
    needed: tuple[str, ...],
    mapping: ColumnMapping | None,
    convert: Callable[[str, dict[str, Any]], T | DataError],
) -> Iterator[T | DataError]:
    """Yield ``convert(source, record)`` for each of the file's :func:`records`.

    A record that cannot be read, or whose ``convert`` raises :class:`DataError`, is yielded
    as that error in the record's place, and the file is read on.
    """
    for item in records(file, needed, mapping):
        if isinstance(item, DataError):
            yield item
            continue
        try:
            result = convert(*item)
        except DataError as err:
            result = err
        yield result
