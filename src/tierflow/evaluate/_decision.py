"""Decisions: what the rule set says about one student, and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tierflow.evaluate._ruleset import CompiledRuleset

__all__ = [
    "AssignedIntervention",
    "Decision",
    "Explanation",
    "LegalAction",
    "Reason",
    "RulesetRef",
    "intervention_dict",
    "legal_dict",
]


@dataclass(frozen=True, slots=True)
class RulesetRef:
    """Which rule set made a decision: id, version and a hash of its full content."""

    id: str
    name: str
    version: str
    content_hash: str

    def __str__(self) -> str:
        return f"{self.id} {self.version} ({self.content_hash[:12]})"


@dataclass(frozen=True, slots=True)
class AssignedIntervention:
    """An intervention the decision calls for, with what the workflow needs to run it.

    Attributes:
        id: Catalogue id.
        label: Human-readable name.
        tier: Id of the tier it belongs to.
        tier_level: That tier's level (1, 2, 3).
        owner: Owner role (counselor, mentor, ...).
        cadence: Follow-up cadence in words, or None.
        goal: The measurable goal in words, or None.
        review_after_days: School days until review, or None.
        escalates_to: Intervention to escalate to, or None.
        assigned_by: Ids of the tier and rules that assigned it (``tier:tier2``, ``rule:bus``).
    """

    id: str
    label: str
    tier: str
    tier_level: int
    owner: str
    cadence: str | None
    goal: str | None
    review_after_days: int | None
    escalates_to: str | None
    assigned_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LegalAction:
    """A legal step whose condition holds and that has not been issued yet.

    Attributes:
        step: The step id.
        label: Human-readable name (``NOT1``).
        status: ``due`` (issue it now), ``blocked`` (prerequisites missing) or ``exempt``.
        missing: For a blocked step, the evidence that is missing, in plain words.
        cites: Ids of the references the step encodes.
    """

    step: str
    label: str
    status: Literal["due", "blocked", "exempt"]
    missing: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()


def intervention_dict(item: AssignedIntervention) -> dict[str, Any]:
    """An assigned intervention as :meth:`Decision.to_dict` writes it (JSON-ready)."""
    return {**asdict(item), "assigned_by": list(item.assigned_by)}


def legal_dict(action: LegalAction) -> dict[str, Any]:
    """A legal action as :meth:`Decision.to_dict` writes it (JSON-ready)."""
    return {**asdict(action), "missing": list(action.missing), "cites": list(action.cites)}


@dataclass(frozen=True, slots=True)
class _Outcome:
    """The parts of a decision that depend only on (tier, rules fired): built once, shared."""

    tier: str
    tier_level: int
    tier_label: str
    interventions: tuple[AssignedIntervention, ...]
    rules: tuple[str, ...]


class Decision:
    """What a rule set decided for one student as of one date.

    Attributes:
        student_id: The student.
        as_of: The date the facts describe.
        legal_actions: Legal steps due, blocked or exempt (in ladder order).
    """

    __slots__ = ("_facts", "_outcome", "_ruleset", "as_of", "legal_actions", "student_id")

    def __init__(
        self,
        student_id: str,
        as_of: dt.date,
        outcome: _Outcome,
        legal_actions: tuple[LegalAction, ...],
        ruleset: CompiledRuleset,
        facts: Mapping[str, Any],
    ) -> None:
        self.student_id = student_id
        self.as_of = as_of
        self._outcome = outcome
        self.legal_actions = legal_actions
        self._ruleset = ruleset
        self._facts = facts

    @property
    def tier(self) -> str:
        """The id of the tier that matched."""
        return self._outcome.tier

    @property
    def tier_level(self) -> int:
        """The matched tier's level."""
        return self._outcome.tier_level

    @property
    def tier_label(self) -> str:
        """The matched tier's label."""
        return self._outcome.tier_label

    @property
    def interventions(self) -> tuple[AssignedIntervention, ...]:
        """Interventions to assign, each once, in catalogue order."""
        return self._outcome.interventions

    @property
    def rules(self) -> tuple[str, ...]:
        """Ids of the rules that fired, in rule set order."""
        return self._outcome.rules

    @property
    def ruleset(self) -> RulesetRef:
        """The rule set (id, version, content hash) that made the decision."""
        return self._ruleset.ref

    @property
    def legal_due(self) -> tuple[str, ...]:
        """Ids of legal steps due now."""
        return tuple(a.step for a in self.legal_actions if a.status == "due")

    @property
    def legal_blocked(self) -> tuple[str, ...]:
        """Ids of legal steps whose condition holds but whose prerequisites are missing."""
        return tuple(a.step for a in self.legal_actions if a.status == "blocked")

    @property
    def facts(self) -> Mapping[str, Any]:
        """The facts the decision was made on."""
        return self._facts

    def explain(self) -> Explanation:
        """Explain the decision in plain words, with the values each condition saw."""
        return self._ruleset.explain(self._facts, as_of=self.as_of)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (dates as ISO strings)."""
        return {
            "student_id": self.student_id,
            "as_of": self.as_of.isoformat(),
            "ruleset": asdict(self.ruleset),
            "tier": self.tier,
            "tier_level": self.tier_level,
            "rules": list(self.rules),
            "interventions": [intervention_dict(i) for i in self.interventions],
            "legal_actions": [legal_dict(a) for a in self.legal_actions],
        }

    def __repr__(self) -> str:
        ivs = ",".join(i.id for i in self.interventions)
        legal = ",".join(f"{a.step}:{a.status}" for a in self.legal_actions)
        return (
            f"Decision(student_id={self.student_id!r}, as_of={self.as_of.isoformat()}, "
            f"tier={self.tier!r}, interventions=[{ivs}], legal=[{legal}])"
        )


@dataclass(frozen=True)
class Reason:
    """One explained part of a decision.

    Attributes:
        subject: What is explained (``tier tier2``, ``rule bus-pass``, ``legal not1``).
        outcome: What happened, in words (``matched``, ``did not match``, ``due``).
        condition: The condition as written (canonical form).
        because: The comparisons that decided it, with the values seen, e.g.
            ``absence_rate = 0.093 >= 0.05``.
        where: Definitions of the derived metrics involved, with their values.
        missing: For a blocked legal step, the missing evidence.
        cites: Titles of the references behind it.
    """

    subject: str
    outcome: str
    condition: str = ""
    because: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """Render as indented text lines."""
        head = f"{self.subject}: {self.outcome}"
        out = [head]
        if self.because:
            out.append("  because " + "; ".join(self.because))
        for w in self.where:
            out.append(f"  where {w}")
        for m in self.missing:
            out.append(f"  missing: {m}")
        if self.cites:
            out.append("  cites: " + "; ".join(self.cites))
        return out


@dataclass(frozen=True)
class Explanation:
    """A decision explained: the tier and why, what fired, the legal track, the next tier.

    Attributes:
        ruleset: The rule set that decided.
        student_id: The student.
        as_of: The date the facts describe.
        tier: Why the tier matched: its ``when``, or its ``stay_while`` for a student whose
            previous tier it was (``stayed in tier2: ...``), or as the default.
        higher_tiers: Why each higher tier listed before it did not match, and, for a student
            who left their previous tier, why its ``stay_while`` no longer holds.
        rules: Each rule that fired, and why.
        legal: Each legal step due, blocked or exempt, and why.
        next_tier: How far the student is from a higher tier, in words, or None.
    """

    ruleset: RulesetRef
    student_id: str
    as_of: dt.date
    tier: Reason
    higher_tiers: tuple[Reason, ...]
    rules: tuple[Reason, ...]
    legal: tuple[Reason, ...]
    next_tier: str | None

    def __str__(self) -> str:
        out = [
            f"Student {self.student_id} as of {self.as_of.isoformat()} (rule set {self.ruleset})"
        ]
        out += self.tier.lines()
        for r in self.higher_tiers:
            out += r.lines()
        if self.next_tier:
            out.append(f"next tier: {self.next_tier}")
        for r in self.rules:
            out += r.lines()
        for r in self.legal:
            out += r.lines()
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data
