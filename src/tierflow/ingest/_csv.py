"""CSV records with the line each starts on, shared by the facts and attendance readers."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from typing import IO

from tierflow.errors import DataError

__all__ = ["csv_rows"]

BOM = "\ufeff"


def csv_rows(
    fh: IO[str], name: str, rename: Mapping[str, str] | None = None
) -> Iterator[tuple[str, dict[str, str]] | DataError]:
    r"""Yield ``(source, cells by column)`` of each non-blank record, or ``ingest.column_count``.

    A record's source is the line it starts on, so a quoted cell running over several lines
    is reported where the record begins. A UTF-8 byte order mark before the header is ignored
    (whether or not the file was opened as ``utf-8-sig``), and header names are stripped.

    Args:
        fh: The open text stream, at the start of the header.
        name: The file's name, for sources.
        rename: Column names to replace (a vendor's ``StuID`` to ``student_id``).

    >>> import io
    >>> text = '\ufeffstudent_id,note\na,"two\nlines"\nb\n'
    >>> rows = list(csv_rows(io.StringIO(text), "f.csv"))
    >>> rows[0]
    ('f.csv:2', {'student_id': 'a', 'note': 'two\nlines'})
    >>> print(rows[1])
    f.csv:4, student b: ingest.column_count: expected 2 columns, got 1
    """
    reader = csv.reader(fh)
    header = next(reader, None)
    if header is None:
        return
    columns = dict(rename or {})
    if header:
        header[0] = header[0].removeprefix(BOM)
    names = [columns.get(h.strip(), h.strip()) for h in header]
    sid_at = names.index("student_id") if "student_id" in names else None
    width = len(names)
    start = reader.line_num + 1
    for row in reader:
        if len(row) == width:
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
