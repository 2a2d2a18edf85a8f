"""Pydantic models of what a rule set file may say.

These models are the single source of truth for the YAML format: the loader validates against
them, ``tierflow schema`` exports them as JSON Schema for editors, and the docs describe them.
Expressions stay strings here; the compiler parses and checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from tierflow.spec._attendance import AttendancePolicy, parse_month_day
from tierflow.spec._cadence import parse_rrule
from tierflow.spec._lifecycle import LifecycleSpec
from tierflow.spec._notices import NoticeElementSpec, NoticeSpec, TranslationsSpec
from tierflow.spec._scalars import ID_PATTERN, Date, Id, StrictBool, WholeNumber, _Spec

__all__ = [
    "BUILTIN_ROLES",
    "CADENCE_NAMES",
    "ID_PATTERN",
    "CadenceSpec",
    "ChecklistItemSpec",
    "ExpectSpec",
    "FactDeclSpec",
    "FactsSpec",
    "GoalSpec",
    "InterventionSpec",
    "LegalStepSpec",
    "MetricSpec",
    "ReferenceSpec",
    "RequiresSpec",
    "RuleSpec",
    "RulesetSpec",
    "SchoolYearSpec",
    "TestCaseSpec",
    "TierSpec",
    "TransfersSpec",
]

"""Ids of every entry: lower case letters, digits, ``_`` and ``-``, starting with a letter."""

BUILTIN_ROLES: tuple[str, ...] = (
    "attendance_clerk",
    "attendance_officer",
    "attendance_team",
    "case_manager",
    "clerk",
    "counselor",
    "family_liaison",
    "foster_liaison",
    "mentor",
    "nurse",
    "principal",
    "social_worker",
    "teacher",
)
"""Owner roles every rule set knows: those the bundled rule sets and the docs give interventions.

A rule set adds its own under ``roles:``; an intervention's ``owner`` must be one or the other,
since the workflow hands an intervention to staff who fill exactly that role (a misspelt role
would leave every such intervention unowned).
"""

Expression = Annotated[str, Field(min_length=1, max_length=4000)]


class _Entry(_Spec):
    """Common fields of catalogue entries, which ``extends`` merges by id."""

    id: Id = Field(description="Unique id within its section; a child rule set overrides by id.")
    label: str | None = Field(default=None, description="Short human-readable name.")
    description: str | None = Field(default=None, description="What it is for, in plain words.")
    cites: tuple[Id, ...] = Field(
        default=(), description="Ids of `references` (statutes, policies) this entry encodes."
    )
    remove: StrictBool = Field(
        default=False, description="In a rule set that extends another: drop the inherited entry."
    )
    before: Id | None = Field(
        default=None, description="In a rule set that extends another: place a new entry here."
    )
    after: Id | None = Field(
        default=None, description="In a rule set that extends another: place a new entry here."
    )


class ReferenceSpec(_Spec):
    """A statute section or policy document that entries cite."""

    id: Id
    title: str = Field(description="E.g. 'California Education Code 48260'.")
    url: str | None = None
    note: str | None = None


class FactDeclSpec(_Spec):
    """An extra fact a host passes and the rule set reads."""

    type: Literal["number", "string", "bool", "date", "list"]
    description: str | None = None
    default: Any = Field(default=None, description="Value used when the host does not pass it.")


class FactsSpec(_Spec):
    """Facts the rule set reads beyond the standard ones, and defaults for missing facts."""

    defaults: dict[str, Any] = Field(
        default_factory=dict,
        description="Default values for standard facts a host may omit (e.g. tardies: 0).",
    )
    extra: dict[Annotated[str, Field(pattern=ID_PATTERN)], FactDeclSpec] = Field(
        default_factory=dict, description="Extra facts, by name."
    )
    causes: tuple[Id, ...] = Field(default=(), description="Local causes beyond the taxonomy.")
    groups: tuple[Id, ...] = Field(default=(), description="Local student groups.")


class MetricSpec(_Entry):
    """A derived metric: a named expression over facts and earlier metrics."""

    expr: Expression = Field(description="E.g. 'days_unexcused + tardies_over_30'.")


class SchoolYearSpec(_Spec):
    """When a school year starts, and what happens to a student's casework when it does."""

    starts: str = Field(
        default="07-01",
        pattern=r"^\d{2}-\d{2}$",
        description="The day every school year starts, MM-DD (California: July 1, EC 37200). "
        "Counts, windows and the legal ladder restart on it.",
    )
    rollover: Literal["carry", "close", "restart"] = Field(
        default="carry",
        description="Open interventions at the start of a new school year: carry them into it "
        "(recorded), close them with the year as the reason, or close them so this year's "
        "decisions open them again where still warranted.",
    )

    cites: tuple[Id, ...] = Field(
        default=(), description="Ids of `references` that set the start day or the rollover."
    )

    @field_validator("starts")
    @classmethod
    def _starts(cls, value: str) -> str:
        parse_month_day(value)
        return value


class TransfersSpec(_Spec):
    """What happens to a student's open casework when they change school or leave."""

    cases: Literal["reassign", "keep"] = Field(
        default="reassign",
        description="A move to another school of the district: `reassign` each open "
        "intervention to someone of the same role at the new school, or `keep` its named owner "
        "(recorded either way).",
    )
    on_leaving: Literal["close", "hold"] = Field(
        default="close",
        description="A student no longer enrolled (the fact `enrolled` is false: a move out of "
        "the district): `close` open interventions with that reason, or `hold` them open for "
        "their owner to decide (recorded either way).",
    )


class TierSpec(_Entry):
    """A tier. Tiers are tried in order; the first that matches wins.

    A tier matches when its ``when`` holds, or when it is the student's ``previous_tier`` and
    its ``stay_while`` holds (hysteresis: a student is not moved out for a small dip).
    """

    level: WholeNumber = Field(ge=1, le=9, description="1 universal, 2 targeted, 3 intensive.")
    when: Expression | None = Field(default=None, description="Condition; omit on the default.")
    stay_while: Expression | None = Field(
        default=None,
        description="A student whose previous tier (the `previous_tier` fact) was this one stays "
        "in it while this condition holds, even when `when` no longer does (enter at 10%, stay "
        "until below 9%). Omitted: a tier is left as soon as its `when` fails.",
    )
    default: StrictBool = Field(
        default=False, description="The catch-all tier (exactly one, last)."
    )
    assign: tuple[Id, ...] = Field(default=(), description="Interventions every student here gets.")


class RuleSpec(_Entry):
    """A rule. Every rule whose conditions all hold assigns its interventions."""

    when: Expression | None = Field(default=None, description="Condition over facts and `tier`.")
    tiers: tuple[Id, ...] | None = Field(default=None, description="Only in these tiers.")
    causes: tuple[Id, ...] | None = Field(
        default=None, description="Only with one of these causes."
    )
    groups: tuple[Id, ...] | None = Field(
        default=None, description="Only for students in one of these groups."
    )
    assign: tuple[Id, ...] = Field(min_length=1, description="Interventions to assign.")


CADENCE_NAMES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "daily": {"every_school_days": 1},
        "weekly": {"every_weeks": 1},
        "biweekly": {"every_weeks": 2},
        "monthly": {"rrule": "FREQ=MONTHLY"},
    }
)
"""The cadences a playbook may name in one word (``cadence: weekly``), and what each means."""


class CadenceSpec(_Spec):
    """How often an intervention's owner follows up: exactly one of the fields."""

    every_school_days: WholeNumber | None = Field(default=None, ge=1, le=200)
    every_weeks: WholeNumber | None = Field(default=None, ge=1, le=52)
    rrule: str | None = Field(
        default=None,
        max_length=400,
        description=(
            "An RFC 5545 RRULE, e.g. 'FREQ=WEEKLY;BYDAY=MO,TH': DAILY or coarser, no COUNT, "
            "a day within two years of any start."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _named(cls, data: Any) -> Any:
        if isinstance(data, str):
            if data not in CADENCE_NAMES:
                known = ", ".join(CADENCE_NAMES)
                raise ValueError(f"unknown cadence {data!r}; use one of {known}")
            return dict(CADENCE_NAMES[data])
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> CadenceSpec:
        given = [v for v in (self.every_school_days, self.every_weeks, self.rrule) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of every_school_days, every_weeks, rrule")
        return self

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_rrule(value)
            except ValueError as exc:
                raise ValueError(f"invalid rrule {value!r}: {exc}") from exc
        return value

    def __str__(self) -> str:
        if self.every_school_days is not None:
            n = self.every_school_days
            return "every school day" if n == 1 else f"every {n} school days"
        if self.every_weeks is not None:
            return "weekly" if self.every_weeks == 1 else f"every {self.every_weeks} weeks"
        return f"rrule {self.rrule}"


class GoalSpec(_Spec):
    """A measurable goal: a condition over facts that holds once the goal is met."""

    text: str = Field(description="The goal as staff and families read it.")
    when: Expression = Field(description="Condition that is true when the goal is met.")


class InterventionSpec(_Entry):
    """An intervention in the catalogue: who does what, how often, toward which goal."""

    tier: Id = Field(description="Id of the tier this intervention belongs to.")
    owner: Id = Field(
        description="Owner role: a built-in one (counselor, mentor, social_worker, ...) or one "
        "the rule set declares under `roles`."
    )
    cadence: CadenceSpec | None = Field(default=None, description="Follow-up cadence.")
    goal: GoalSpec | None = None
    review_after_days: WholeNumber | None = Field(
        default=None, ge=1, le=365, description="School days until progress is reviewed."
    )
    escalates_to: Id | None = Field(
        default=None, description="Intervention to escalate to when the goal is not met."
    )
    supportive: StrictBool = Field(
        default=True, description="Counts as a supportive intervention for legal prerequisites."
    )

    @field_validator("cadence", mode="before")
    @classmethod
    def _cadence(cls, value: Any) -> Any:
        return CadenceSpec.model_validate(value) if isinstance(value, str) else value


class ChecklistItemSpec(_Spec):
    """One item of a legal step's checklist: a condition over the documented history.

    The condition uses the history functions only (``legal_issued``, ``conferences_held``,
    ``conferences_attempted``, ``interventions_tried``, ``interventions_with_outcome``,
    ``intervention_tried``, ``contacts``, ``legal_count``) over this school year's records; an
    item whose condition does not hold blocks the step and is listed as missing by its label.
    """

    id: Id = Field(description="Unique within the step's checklist.")
    label: str = Field(
        min_length=1,
        max_length=300,
        description="What must be documented, in words: listed as missing when it is not.",
    )
    when: Expression = Field(description="Condition that holds once the item is documented.")
    cites: tuple[Id, ...] = Field(
        default=(), description="Ids of `references` (statute, or practice) behind the item."
    )


class RequiresSpec(_Spec):
    """Evidence a legal step needs before it may be issued."""

    previous: StrictBool | None = Field(
        default=None,
        description="The previous step must have been issued (default: true except first step).",
    )
    steps: tuple[Id, ...] = Field(default=(), description="Other steps that must be issued.")
    min_days_after_previous: WholeNumber = Field(
        default=0, ge=0, description="Calendar days that must pass after the previous step."
    )
    conferences: tuple[Id, ...] = Field(
        default=(),
        description="Conference kinds that must have been held (parent_conference, sart); an "
        "attempt does not count.",
    )
    conferences_attempted: tuple[Id, ...] = Field(
        default=(),
        description="Conference kinds that must have been held or attempted: a documented "
        "attempt (date, method) counts, as EC 48262's 'conscientious effort' does.",
    )
    supportive_interventions: WholeNumber = Field(
        default=0, ge=0, description="How many supportive interventions must have been tried."
    )
    supportive_min_tier: Id | None = Field(
        default=None, description="Only interventions of this tier's level or higher count."
    )
    with_outcome: StrictBool = Field(
        default=False, description="Only interventions with a recorded outcome count."
    )
    min_check_ins: WholeNumber = Field(
        default=0,
        ge=0,
        le=1000,
        description="Only interventions with at least this many check-ins documented by the "
        "date count.",
    )
    checklist: tuple[ChecklistItemSpec, ...] = Field(
        default=(),
        description="Further items that must be documented, each a condition over the history.",
    )


class LegalStepSpec(_Entry):
    """A step of the legal (truancy) track, issued in order."""

    when: Expression = Field(description="Condition under which the step is warranted.")
    requires: RequiresSpec = Field(default_factory=RequiresSpec)
    exempt_groups: tuple[Id, ...] = Field(
        default=(), description="Students in these groups are exempt from this step."
    )
    exempt_when: Expression | None = Field(default=None, description="Other exemption condition.")
    deadline_school_days: WholeNumber | None = Field(
        default=None,
        ge=1,
        le=200,
        description="School days from the day the step first came due within which it must be "
        "issued (TEC 25.0951: 10).",
    )


class ExpectSpec(_Spec):
    """What an inline test expects. Lists are compared as sets; omitted keys are not checked."""

    tier: Id | None = None
    interventions: tuple[Id, ...] | None = None
    rules: tuple[Id, ...] | None = None
    legal_due: tuple[Id, ...] | None = None
    legal_blocked: tuple[Id, ...] | None = None
    legal_exempt: tuple[Id, ...] | None = None
    error: str | None = Field(default=None, description="Expected data error code.")


class TestCaseSpec(_Spec):
    """An inline test: facts in, expected decision out."""

    __test__ = False  # not a pytest test class

    name: str = Field(min_length=1)
    as_of: Date
    facts: dict[str, Any]
    expect: ExpectSpec


ENTRY_SECTIONS = (
    "references",
    "metrics",
    "tiers",
    "rules",
    "interventions",
    "legal",
    "notice_elements",
    "notices",
)
"""The sections of a rule set that are lists of entries with ids: ``extends`` merges them by id,
the JSON Schema lets a child name only an entry's id, and each entry may cite references."""


class RulesetSpec(_Spec):
    """A rule set: a district's attendance playbook."""

    id: Id
    name: str
    version: str = Field(description="The rule set's own version, e.g. '2025.1'.")
    jurisdiction: str | None = Field(default=None, description="E.g. 'US-CA'.")
    description: str | None = None
    last_checked: Date | None = Field(
        default=None, description="When the cited law was last checked against this file."
    )
    extends: str | None = Field(
        default=None, description="A built-in rule set name or a path relative to this file."
    )
    references: tuple[ReferenceSpec, ...] = ()
    facts: FactsSpec = Field(default_factory=FactsSpec)
    roles: tuple[Id, ...] = Field(
        default=(),
        description="Owner roles beyond the built-in ones (counselor, mentor, social_worker, "
        "...); a rule set that extends another adds to its parent's.",
    )
    attendance: AttendancePolicy = Field(
        default_factory=AttendancePolicy,
        description="How raw attendance events are counted (used when facts are built from "
        "events).",
    )
    school_year: SchoolYearSpec = Field(
        default_factory=SchoolYearSpec,
        description="When a school year starts and what a new one does to open casework.",
    )
    transfers: TransfersSpec = Field(
        default_factory=TransfersSpec,
        description="What a change of school or a move out of the district does to casework.",
    )
    metrics: tuple[MetricSpec, ...] = ()
    tiers: tuple[TierSpec, ...] = Field(default=(), description="First match wins.")
    rules: tuple[RuleSpec, ...] = ()
    interventions: tuple[InterventionSpec, ...] = ()
    legal: tuple[LegalStepSpec, ...] = ()
    notice_elements: tuple[NoticeElementSpec, ...] = Field(
        default=(), description="Content the law requires notices to carry, with citations."
    )
    notices: tuple[NoticeSpec, ...] = Field(
        default=(), description="Letters, emails and texts that steps and interventions call for."
    )
    translations: TranslationsSpec | None = Field(
        default=None,
        description="Notices must also be written in each language spoken by a required share "
        "of a school's pupils (California EC 48985). Omitted: no such rule.",
    )
    lifecycle: LifecycleSpec = Field(
        default_factory=LifecycleSpec,
        description="The intervention lifecycle: the built-in one (the default), extended or "
        "replaced by the district's states and triggers.",
    )
    tests: tuple[TestCaseSpec, ...] = ()

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        # YAML reads `version: 2025.1` as a float; keep what the author wrote.
        return (
            str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
        )
