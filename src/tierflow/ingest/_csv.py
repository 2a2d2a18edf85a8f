"""CSV records with the line each starts on, shared by the facts and attendance readers."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping

from tierflow.errors import DataError

__all__ = ["csv_rows"]

BOM = "\ufeff"


def csv_rows(
    fh: Iterable[str],
    name: str,
    rename: Mapping[str, str] | None = None,
    problems: Mapping[int, tuple[str, str]] | None = None,
) -> Iterator[tuple[str, dict[str, str]] | DataError]:
    r"""Yield ``(source, cells by column)`` of each non-blank record, or the error of a bad one.

    A record's source is the line it starts on, so a quoted cell running over several lines
    is reported where the record begins. A UTF-8 byte order mark before the header is ignored
    (whether or not the file was opened as ``utf-8-sig``), and header names are stripped.

    A record with the wrong number of cells is ``ingest.column_count``; one with a cell longer
    than the ``csv`` module's field limit (131,072 characters) is ``ingest.too_long``; one on a
    line listed in ``problems`` (a line that was not UTF-8 or too long, see
    :class:`~tierflow.ingest._text.TextLines`) is rejected with that line's code. The reader
    goes on after each.

    Args:
        fh: The lines of the file (an open text stream, or :class:`TextLines`), at the header.
        name: The file's name, for sources.
        rename: Column names to replace (a vendor's ``StuID`` to ``student_id``).
        problems: Line number to ``(code, message)`` of lines spoilt before the CSV parser saw
            them; read as the rows are (it may grow while they are read).

    >>> import io
    >>> text = '\ufeffstudent_id,note\na,"two\nlines"\nb\n'
    >>> rows = list(csv_rows(io.StringIO(text), "f.csv"))
    >>> rows[0]
    ('f.csv:2', {'student_id': 'a', 'note': 'two\nlines'})
    >>> print(rows[1])
    f.csv:4, student b: ingest.column_count: expected 2 columns, got 1
    """
    reader = csv.reader(fh)
    spoilt = problems if problems is not None else {}
    try:
        header = next(reader, None)
    except csv.Error as exc:
        yield DataError("ingest.too_long", f"the header: {exc}", source=f"{name}:1")
        return
    if header is None:
        return
    if spoilt.get(1):
        code, message = spoilt[1]
        yield DataError(code, f"the header: {message}", source=f"{name}:1")
        return
    columns = dict(rename or {})
    if header:
        header[0] = header[0].removeprefix(BOM)
    names = [columns.get(h.strip(), h.strip()) for h in header]
    sid_at = names.index("student_id") if "student_id" in names else None
    width = len(names)
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell over the field limit; the reader resumes after it
            yield DataError("ingest.too_long", str(exc), source=f"{name}:{start}")
            start = reader.line_num + 1
            continue
        if spoilt and (bad := _spoilt(spoilt, start, reader.line_num)) is not None:
            sid = row[sid_at].strip() or None if sid_at is not None and sid_at < len(row) else None
            yield DataError(bad[0], bad[1], source=f"{name}:{start}", student_id=sid)
        elif len(row) == width:
            if "".join(row).strip():
                yield f"{name}:{start}", dict(zip(names, row, strict=True))
        elif "".join(row).strip():
            sid = row[sid_at].strip() or None if sid_at is not None and sid_at < len(row) else None
            yield DataError(
                "ingest.column_count",
                f"expected {width} columns, got {len(row)}",
                source=f"{name}:{start}",
                student_id=sid,
            )
        start = reader.line_num + 1


def _spoilt(
    problems: Mapping[int, tuple[str, str]], first: int, last: int
) -> tuple[str, str] | None:
    """The problem of the first spoilt line from ``first`` to ``last``, or None."""
    for number in range(first, last + 1):
        if number in problems:
            return problems[number]
    return None
