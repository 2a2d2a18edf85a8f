"""Pydantic models of a rule set's ``notices:`` and ``notice_elements:`` sections.

A notice is the letter (or email, or text message) a legal step or an intervention calls for,
with a template per language; an element is a piece of content the law requires a notice to
carry, with its citation and the dates it is in force (California's first truancy notice
changed on 2025-07-01, SB 691). Templates stay text here: :mod:`tierflow.notices` parses and
checks them.

The models live apart from :mod:`tierflow.spec._models` (which imports them into
``RulesetSpec``), so their base config and id pattern are restated here rather than imported
back from it (that import would be a cycle).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tierflow.spec._scalars import Date, Number, StrictBool

__all__ = [
    "LANGUAGE_PATTERN",
    "NOTICE_CHANNELS",
    "NoticeElementSpec",
    "NoticeSpec",
    "NoticeTemplateSpec",
    "TranslationsSpec",
]

LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Z]{2})?$"
"""A template's language: an ISO 639 code, optionally with a region (``en``, ``es``, ``es-MX``)."""

NOTICE_CHANNELS = ("letter", "email", "sms")
"""How a notice reaches the family."""

# The same pattern as tierflow.spec._models.ID_PATTERN (which imports this module).
_Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
_Language = Annotated[str, Field(pattern=LANGUAGE_PATTERN)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _Placed(_Model):
    """The keys a child rule set uses to override, remove or place an inherited entry."""

    id: _Id = Field(description="Unique id within its section; a child rule set overrides by id.")
    label: str | None = Field(default=None, description="Short human-readable name.")
    description: str | None = Field(default=None, description="What it is for, in plain words.")
    cites: tuple[_Id, ...] = Field(
        default=(), description="Ids of `references` (statutes, policies) behind this entry."
    )
    remove: StrictBool = Field(
        default=False, description="In a rule set that extends another: drop the inherited entry."
    )
    before: _Id | None = Field(
        default=None, description="In a rule set that extends another: place a new entry here."
    )
    after: _Id | None = Field(
        default=None, description="In a rule set that extends another: place a new entry here."
    )


class NoticeElementSpec(_Placed):
    """A piece of content the law requires a notice to carry, while it is in force."""

    citation: str = Field(
        min_length=1, max_length=300, description="E.g. 'Tex. Educ. Code 25.095(b)(2)'."
    )
    effective_from: Date | None = Field(
        default=None, description="The first day the element is required (omitted: always was)."
    )
    effective_until: Date | None = Field(
        default=None, description="The last day the element is required (omitted: still is)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> NoticeElementSpec:
        if (
            self.effective_from is not None
            and self.effective_until is not None
            and self.effective_until < self.effective_from
        ):
            raise ValueError("effective_until is before effective_from")
        return self

    def in_force(self, day: dt.date) -> bool:
        """Whether a notice dated ``day`` must carry this element (both ends inclusive).

        >>> e = NoticeElementSpec(id="x", citation="c", effective_from=dt.date(2025, 7, 1))
        >>> e.in_force(dt.date(2025, 6, 30)), e.in_force(dt.date(2025, 7, 1))
        (False, True)
        """
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_until is None or day <= self.effective_until


class NoticeTemplateSpec(_Model):
    """One language's template: inline Jinja2 text, or a file beside the rule set."""

    text: str | None = Field(
        default=None, max_length=100_000, description="The template itself (Jinja2)."
    )
    file: str | None = Field(
        default=None,
        max_length=500,
        description="A template file, relative to the rule set that names it; it may not lie "
        "outside that rule set's folder.",
    )
    subject: str | None = Field(
        default=None, max_length=300, description="An email's subject line (a template too)."
    )

    @model_validator(mode="before")
    @classmethod
    def _inline(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _exactly_one(self) -> NoticeTemplateSpec:
        if (self.text is None) == (self.file is None):
            raise ValueError("give exactly one of text, file")
        return self


class NoticeSpec(_Placed):
    """A notice to a family: what calls for it, how it goes out, its templates and elements."""

    model_config = ConfigDict(populate_by_name=True)

    for_: tuple[_Id, ...] = Field(
        alias="for",
        min_length=1,
        description="Ids of the legal steps and interventions that call for this notice.",
    )
    channel: Literal["letter", "email", "sms"] = Field(
        default="letter", description="How it reaches the family."
    )
    templates: dict[_Language, NoticeTemplateSpec] = Field(
        min_length=1,
        description="Templates by language; the first is used when the family's is missing.",
    )
    elements: tuple[_Id, ...] = Field(
        default=(),
        description="Ids of `notice_elements` each template must mark with "
        '{% element "id" %}...{% endelement %}.',
    )


class TranslationsSpec(_Model):
    """When notices must also be written in the languages a school's families speak.

    California EC 48985: where 15% or more of a school's pupils speak a single primary
    language other than English, every notice to their parents is also written in that
    language. A rule set that states this section makes a notice run refuse to send English
    only to a family whose language is required at its school and has no template.
    """

    required_share: Number = Field(
        default=0.15,
        gt=0,
        le=1,
        description="The share of a school's pupils speaking one primary language other than "
        "English that makes notices in it required (EC 48985: 0.15; exactly 15% counts).",
    )
    schools: dict[str, tuple[_Language, ...]] = Field(
        default_factory=dict,
        description="By school id, the languages a district has determined are required there "
        "(e.g. from its prior-year language census), used instead of the share computed from "
        "the families' data for that school.",
    )
    cites: tuple[_Id, ...] = Field(
        default=(), description="Ids of `references` (statutes, policies) behind this rule."
    )
