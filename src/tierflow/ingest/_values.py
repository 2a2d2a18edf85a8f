"""Cell values of the attendance files: dates, numbers, references, lists, grades, text.

Each parser names the column, the record's ``file:line`` and the student in the
:class:`~tierflow.DataError` it raises, so a reader can reject the record as it stands.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from tierflow.errors import DataError
from tierflow.facts._model import MAX_NUMBER, grade_level

__all__ = [
    "grade_of",
    "list_of",
    "not_an_object",
    "parse_date",
    "parse_number",
    "reference",
    "require",
    "text_of",
]


def not_an_object(source: str, item: Any) -> DataError:
    """The error for a record that should be an object (a mapping) and is ``item``."""
    return DataError(
        "ingest.not_an_object", f"expected an object, got {type(item).__name__}", source=source
    )


def parse_date(text: str, source: str, sid: str | None, column: str, fmt: str | None) -> dt.date:
    value = text.strip()
    try:
        if fmt:
            return dt.datetime.strptime(value, fmt).date()
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise DataError(
            "ingest.invalid_date",
            f"{column} {value!r} is not a date" + (f" ({fmt})" if fmt else " (YYYY-MM-DD)"),
            student_id=sid,
            source=source,
            field=column,
        ) from None


def parse_number(text: Any, source: str, sid: str | None, column: str) -> float | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if isinstance(text, bool):
        raise DataError(
            "ingest.invalid_number", f"{column} is not a number", student_id=sid, source=source
        )
    try:
        value = float(text)
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not -MAX_NUMBER <= value <= MAX_NUMBER:  # also NaN, and what is not a number
        shown = repr(text) if len(repr(text)) <= 40 else f"{repr(text)[:30]}..."
        raise DataError(
            "ingest.invalid_number",
            f"{column} {shown} is not a finite number of at most 10**15",
            student_id=sid,
            source=source,
            field=column,
        )
    return value


def reference(
    row: Mapping[str, Any], key: str, source: str, sid: str | None = None
) -> Mapping[str, Any]:
    """An Ed-Fi API reference (``studentReference``...): an object, or empty when absent."""
    value = row.get(key)
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    raise DataError(
        "ingest.not_an_object",
        f"{key} must be an object, got {type(value).__name__}",
        student_id=sid,
        source=source,
        field=key,
    )


def list_of(row: Mapping[str, Any], key: str, source: str, sid: str | None = None) -> list[Any]:
    """A list of a record (``calendarEvents``, ``groups``...): empty when absent."""
    value = row.get(key)
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    raise DataError(
        "ingest.not_a_list",
        f"{key} must be a list, got {type(value).__name__}",
        student_id=sid,
        source=source,
        field=key,
    )


def grade_of(text: str | None) -> int | None:
    return grade_level(text) if text else None


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def require(row: Mapping[str, Any], columns: tuple[str, ...], source: str, sid: str | None) -> None:
    """Check that every one of ``columns`` has a value in ``row``.

    Raises:
        DataError: ``ingest.missing_value`` naming the first column without one.
    """
    for column in columns:
        if text_of(row.get(column)) is None:
            raise DataError(
                "ingest.missing_value",
                f"{column} is missing",
                student_id=sid,
                source=source,
                field=column,
            )
