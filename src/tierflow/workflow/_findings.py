"""What staff learn about a student: barriers, notes, contact attempts and documents.

Each is one event on the student's timeline, and nothing else changes, except that a barrier
(the cause behind the absences, from the rule set's vocabulary) becomes a fact: the next run
adds the causes staff recorded to the ``causes`` the host's facts give, and the decision shows
which event recorded each one and who did.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from tierflow.errors import WorkflowError, suggest
from tierflow.facts import CAUSES
from tierflow.workflow._core import Core, as_date
from tierflow.workflow._records import WorkflowEvent

__all__ = ["CONTACT_OUTCOMES", "Findings", "provenance", "with_barriers"]

CONTACT_OUTCOMES = ("reached", "no_answer", "left_message", "wrong_number", "returned", "declined")
"""How a contact attempt ended: the family was reached, or why it was not."""

_ID = re.compile(r"[a-z][a-z0-9_-]{0,63}")  # as a rule set's ids (spec.ID_PATTERN)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def with_barriers(
    facts: Mapping[str, Any], barriers: Mapping[str, WorkflowEvent], as_of: dt.date
) -> Mapping[str, Any]:
    """``facts`` with the causes staff recorded by ``as_of`` added to its ``causes``.

    The host's causes come first, in their order; a recorded cause they lack follows. A run on
    an earlier day does not see a barrier recorded later.

    >>> ev = WorkflowEvent(7, dt.date(2025, 11, 4), "s1", "barrier", who="ms-okafor",
    ...                    detail={"cause": "transportation"})
    >>> with_barriers({"student_id": "s1", "causes": ["health"]}, {"transportation": ev},
    ...               dt.date(2025, 11, 5))["causes"]
    ['health', 'transportation']
    >>> with_barriers({"student_id": "s1"}, {"transportation": ev}, dt.date(2025, 11, 3))
    {'student_id': 's1'}
    """
    known = [cause for cause, ev in barriers.items() if ev.at <= as_of]
    if not known:
        return facts
    given = facts.get("causes")
    if given is None:
        return {**facts, "causes": known}
    if not isinstance(given, list | tuple):
        return facts  # malformed: the evaluator reports it as the host gave it
    host = list(given)
    return {**facts, "causes": host + [cause for cause in known if cause not in host]}


def provenance(barriers: Mapping[str, WorkflowEvent], as_of: dt.date) -> dict[str, Any]:
    """Which event recorded each cause staff gave by ``as_of``, by whom and when."""
    return {
        cause: {"event": ev.seq, "by": ev.who, "on": ev.at.isoformat()}
        for cause, ev in barriers.items()
        if ev.at <= as_of
    }


class Findings(Core):
    """The engine's record of what staff learn: one event each, checked first."""

    def record_barrier(
        self,
        student_id: str,
        cause: str,
        *,
        on: dt.date,
        by: str,
        note: str = "",
        intervention_id: str | None = None,
    ) -> WorkflowEvent:
        """Record the barrier behind a student's absences: a cause the rules can act on.

        From the next run on (for runs dated on or after ``on``), the cause is among the
        student's ``causes`` facts, so a rule naming it fires (the Dallas bus pass for
        ``transportation``); the decision event's facts name the event that recorded it under
        ``causes_recorded``.

        Args:
            student_id: The student.
            cause: A cause of the rule set's vocabulary (:data:`tierflow.facts.CAUSES` and the
                rule set's own ``facts.causes``).
            on: When it was learnt.
            by: Staff id of who learnt it.
            note: Free text.
            intervention_id: The intervention during which it was learnt, if any.

        Raises:
            WorkflowError: An unknown cause (with a did-you-mean), or an intervention that is
                not the student's; nothing is recorded.
        """
        vocabulary = sorted({*CAUSES, *self.ruleset.spec.facts.causes})
        if cause not in vocabulary:
            hint = suggest(str(cause), vocabulary) or f"known: {', '.join(vocabulary)}"
            raise WorkflowError(f"unknown cause {cause!r} for rule set {self.ruleset.id}; {hint}")
        detail: dict[str, Any] = {"cause": cause}
        return self._finding(
            student_id, "barrier", on, by, f"barrier: {cause}", detail, note, intervention_id
        )

    def add_note(
        self,
        student_id: str,
        text: str,
        *,
        on: dt.date,
        by: str,
        intervention_id: str | None = None,
    ) -> WorkflowEvent:
        """Add a note to a student's timeline (or one of their interventions).

        Raises:
            WorkflowError: Empty text, or an intervention that is not the student's.
        """
        if not isinstance(text, str) or not text.strip():
            raise WorkflowError("a note needs text")
        return self._finding(student_id, "note", on, by, "note", {}, text, intervention_id)

    def record_contact(
        self,
        student_id: str,
        method: str,
        outcome: str,
        *,
        on: dt.date,
        by: str,
        note: str = "",
        intervention_id: str | None = None,
    ) -> WorkflowEvent:
        """Record an attempt to reach the family: how (``call``, ``letter``...) and how it ended.

        Args:
            student_id: The student.
            method: An id (``call``, ``letter``, ``email``, ``home_visit``, ``text``...).
            outcome: One of :data:`CONTACT_OUTCOMES`.
            on: The date of the attempt.
            by: Staff id.
            note: Free text.
            intervention_id: The intervention it was for, if any.

        Raises:
            WorkflowError: A method that is not an id, an unknown outcome, or an intervention
                that is not the student's; nothing is recorded.
        """
        if not isinstance(method, str) or not _ID.fullmatch(method):
            raise WorkflowError(
                f"a contact method is an id (call, letter, email, home_visit...), not {method!r}"
            )
        if outcome not in CONTACT_OUTCOMES:
            hint = suggest(str(outcome), CONTACT_OUTCOMES)
            raise WorkflowError(
                f"unknown contact outcome {outcome!r}; "
                f"{hint or 'use one of ' + ', '.join(CONTACT_OUTCOMES)}"
            )
        detail = {"method": method, "outcome": outcome}
        why = f"{method} contact: {outcome.replace('_', ' ')}"
        return self._finding(student_id, "contact", on, by, why, detail, note, intervention_id)

    def attach(
        self,
        student_id: str,
        document_id: str,
        sha256: str,
        *,
        on: dt.date,
        by: str,
        title: str = "",
        intervention_id: str | None = None,
    ) -> WorkflowEvent:
        """Attach a document by reference: its id in the host's document store and its hash.

        tierflow keeps no document, only what identifies it: the hash proves later that the
        document shown is the one attached (a doctor's note, a signed plan).

        Raises:
            WorkflowError: An empty document id, a hash that is not 64 lowercase hex digits,
                or an intervention that is not the student's; nothing is recorded.
        """
        if not isinstance(document_id, str) or not document_id.strip():
            raise WorkflowError("an attachment needs the document's id")
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise WorkflowError(
                f"an attachment's sha256 is 64 lowercase hex digits, not {sha256!r}"
            )
        detail = {"document": document_id, "sha256": sha256}
        if title:
            detail["title"] = title
        why = f"attached {title or document_id}"
        return self._finding(student_id, "attachment", on, by, why, detail, "", intervention_id)

    def _finding(
        self,
        student_id: str,
        kind: str,
        on: dt.date,
        by: str,
        why: str,
        detail: dict[str, Any],
        note: str,
        intervention_id: str | None,
    ) -> WorkflowEvent:
        as_date(on, "on")
        if not isinstance(by, str) or not by.strip():
            raise WorkflowError(f"a {kind} names who recorded it (by)")
        if not isinstance(note, str):
            raise WorkflowError(f"a {kind}'s note is text, not {type(note).__name__}")
        if intervention_id is not None:
            iv = self.repository.get(intervention_id)
            if iv.student_id != student_id:
                raise WorkflowError(
                    f"intervention {intervention_id} is student {iv.student_id}'s, "
                    f"not {student_id}'s"
                )
        if note:
            detail["note"] = note
        with self._unit():
            return self._record(
                WorkflowEvent(
                    0, on, student_id, kind, intervention_id, who=by, why=why, detail=detail
                )
            )
