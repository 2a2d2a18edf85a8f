"""Scalar types of the rule set format, as strict as the published JSON Schema.

A playbook is YAML, and the JSON Schema editors check it with says what a number, a
true/false and a date are; the schema stage must accept the same values (docs/ruleset-format.md,
"Checking while you type"). Pydantic's lax mode would also take ``level: yes`` as 1,
``recent_days: "20"`` as 20 and ``last_checked: 5`` as a date in 1970: an author's slip read
as something they did not write. These types refuse them with the usual type errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StrictBool, StrictFloat
from pydantic_core import PydanticCustomError

__all__ = ["ID_PATTERN", "Date", "Id", "Number", "StrictBool", "WholeNumber"]

ID_PATTERN = r"^[a-z][a-z0-9_-]*$"
"""What an id in a rule set looks like."""

Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]


class _Spec(BaseModel):
    """The base of every rule set model: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _integral(value: Any) -> Any:
    # JSON Schema's integer is any number with no fraction: 2.0 is 2.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _date(value: Any) -> Any:
    # A date is written as one (YAML) or as YYYY-MM-DD text (JSON); never a number of seconds.
    if isinstance(value, (bool, int, float)):
        raise PydanticCustomError("date_type", "Input should be a valid date")
    return value


WholeNumber = Annotated[int, BeforeValidator(_integral), Strict()]
"""A whole number: not text, not true/false, not a fraction (``2.0`` is 2)."""

Number = StrictFloat
"""A number: not text, not true/false."""

Date = Annotated[dt.date, BeforeValidator(_date)]
"""A date: a YAML date or ``YYYY-MM-DD`` text, not a number."""
