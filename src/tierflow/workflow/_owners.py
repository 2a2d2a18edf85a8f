"""Who owns a case: staff assign, reassign and unassign; freed places go to unowned cases.

An intervention opens with the least loaded owner who has room (:class:`Roster`), or with
nobody when everyone of its role at its school is full. Staff change that by hand, naming
who does it and why, within caseload limits unless they override them (the event says so).
Whenever a place frees (a case ends, is given back or moves to someone else), the unowned open
interventions of that school and role are offered it, oldest first, each with its event.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Mapping

from tierflow.errors import UnknownInterventionError, WorkflowError, suggest
from tierflow.workflow._core import Core, as_date
from tierflow.workflow._records import Intervention, WorkflowEvent

__all__ = ["Owners"]

_Key = tuple[str, str]  # (school id, role), as the roster files its staff


def _key(iv: Intervention) -> _Key:
    return (iv.school_id or "", iv.owner_role)


class Owners(Core):
    """The engine's owner changes: by hand (with a reason) and when a place frees."""

    _unowned: dict[_Key, list[tuple[dt.date, str]]]
    """Open interventions without an owner by school and role, oldest first.

    A heap of ``(opened_on, id)`` per school and role, read for a school from the store when a
    place there first frees (:attr:`_unowned_read`), then added to as cases open or are given
    back without an owner. An entry found owned, ended or gone when offered a place is dropped
    then (a unit undone may leave one behind), so a freed place costs a heap pop, not a scan
    of the district.
    """
    _unowned_read: set[str]
    """Schools whose unowned cases were read into :attr:`_unowned` (``""``: no school)."""
    _unowned_all: bool
    """Whether every school's were (a store whose queries scan everything reads all at once)."""

    def assign(
        self,
        intervention_id: str,
        staff_id: str,
        *,
        on: dt.date,
        by: str,
        reason: str,
        override: bool = False,
    ) -> Intervention:
        """Give an open intervention to a named staff member (assign, or reassign if owned).

        The new owner must be on the roster of the intervention's school, fill its role and be
        under their caseload limit; ``override=True`` lets a full owner take it anyway, and the
        ``assigned`` event records ``override: true``. The previous owner's place is offered
        to the unowned interventions of the same school and role, oldest first.

        Args:
            intervention_id: The intervention.
            staff_id: Who takes it.
            on: The date of the change.
            by: Staff id of who made the change.
            reason: Why (kept in the event).
            override: Let the new owner go over their caseload limit.

        Raises:
            WorkflowError: No reason, no such intervention
                (:class:`~tierflow.errors.UnknownInterventionError`), one that has ended, a
                staff member who is not on the roster (with a did-you-mean), of another school
                or role, who already owns it, or who is full without ``override``; nothing
                changes.
        """
        as_date(on, "on")
        iv = self._changeable(intervention_id, reason)
        roster = self.roster  # counts the store's caseloads before anything changes
        member = roster.staff.get(staff_id)
        if member is None:
            hint = suggest(staff_id, roster.staff) or "see the roster (--staff)"
            raise WorkflowError(f"no staff member {staff_id!r} on the roster; {hint}")
        if member.school_id != (iv.school_id or ""):
            raise WorkflowError(
                f"{staff_id} works at school {member.school_id}, not at {iv.school_id}, "
                f"the school of {iv.id}"
            )
        if iv.owner_role not in member.roles:
            raise WorkflowError(
                f"{iv.id} ({iv.intervention}) needs a {iv.owner_role}; {staff_id} is "
                f"{' and '.join(member.roles) or 'in no role'}"
            )
        if iv.owner == staff_id:
            raise WorkflowError(f"{staff_id} already owns {iv.id}")
        full = not roster.has_room(staff_id)
        if full and not override:
            raise WorkflowError(
                f"{staff_id} is at their caseload limit ({member.caseload_limit}); "
                "pass override=True (--override) to assign anyway"
            )
        before = iv.owner
        with self._unit():
            roster.take(staff_id)
            roster.release(before)
            self._save(iv, owner=staff_id)
            self._owner_event(iv, "assigned", on, by, reason, before, staff_id, full)
            if before is not None:
                self._offer(_key(iv), on, f"{before} handed {iv.id} to {staff_id}")
        return iv

    def unassign(self, intervention_id: str, *, on: dt.date, by: str, reason: str) -> Intervention:
        """Take an open intervention from its owner: it is unowned until a place is offered.

        The owner's freed place goes to the oldest unowned intervention of the same school and
        role; this one is offered to anyone else of its role with room (never straight back to
        whom it was taken from).

        Raises:
            WorkflowError: No reason, no such intervention, one that has ended, or one that
                has no owner; nothing changes.
        """
        as_date(on, "on")
        iv = self._changeable(intervention_id, reason)
        before = iv.owner
        if before is None:
            raise WorkflowError(f"{iv.id} has no owner to unassign")
        with self._unit():
            self.roster.release(before)
            self._save(iv, owner=None)
            self._owner_event(iv, "unassigned", on, by, reason, before, None, False)
            self._track_unowned(iv)
            self._offer(_key(iv), on, f"{before} gave {iv.id} back", {iv.id: before})
        return iv

    # --- inside the engine ----------------------------------------------------------------------

    def _ended(self, iv: Intervention, owner: str, on: dt.date) -> None:
        """A case that ends offers its owner's place to unowned ones (if any wait)."""
        key = _key(iv)
        if self._waiting(key):
            self._offer(key, on, f"{iv.id} of {owner} ended ({iv.state})")

    def _track_unowned(self, iv: Intervention) -> None:
        """Note an open intervention without an owner (once its school's were read)."""
        if iv.owner is None and (self._unowned_all or (iv.school_id or "") in self._unowned_read):
            heapq.heappush(self._unowned.setdefault(_key(iv), []), (iv.opened_on, iv.id))

    def _waiting(self, key: _Key) -> list[tuple[dt.date, str]] | None:
        """The unowned cases of ``key``'s role and school, as a heap (read on first need)."""
        school = key[0]
        if not self._unowned_all and school not in self._unowned_read:
            self._unowned_read.add(school)
            if not self._indexed():
                # A query would scan every open case: read them all, every school's, once.
                self._unowned_all = True
                unowned = list(self.repository.open_interventions())
            elif school:  # from the store's school and owner columns
                unowned = self.repository.work_items(school=school, unassigned=True)
            else:
                unowned = [
                    iv for iv in self.repository.work_items(unassigned=True) if not iv.school_id
                ]
            for open_iv in unowned:
                self._track_unowned(open_iv)
        return self._unowned.get(key)

    def _offer(
        self, key: _Key, on: dt.date, freed: str, declined: Mapping[str, str] | None = None
    ) -> None:
        """Offer free places of ``key``'s role and school to its unowned cases, oldest first."""
        waiting = self._waiting(key)
        if not waiting:
            return
        school = key[0]
        roster = self._school_roster(school or None)
        declined = declined or {}
        passed = []  # cases only their former owner had room for: they wait on
        while waiting and any(roster.has_room(m.id) for m in roster.candidates(*key)):
            entry = heapq.heappop(waiting)
            try:
                iv = self.repository.get(entry[1])
            except UnknownInterventionError:  # added in a unit that was undone
                continue
            if iv.owner is not None or iv.ended_on is not None or _key(iv) != key:
                continue  # owned, ended or moved since: no longer waiting here
            owner = roster.assign(iv.school_id, iv.owner_role, exclude=declined.get(iv.id))
            if owner is None:
                passed.append(entry)
                continue
            self._save(iv, owner=owner)
            why = f"offered a freed place: {freed}"
            self._owner_event(iv, "assigned", on, "tierflow", why, None, owner, False)
        for entry in passed:
            heapq.heappush(self._unowned[key], entry)

    def _changeable(self, intervention_id: str, reason: str) -> Intervention:
        if not isinstance(reason, str) or not reason.strip():
            raise WorkflowError("changing an owner needs a reason")
        iv = self.repository.get(intervention_id)
        if iv.ended_on is not None:
            raise WorkflowError(f"{iv.id} has ended ({iv.state}); its owner cannot change")
        return iv

    def _owner_event(
        self,
        iv: Intervention,
        kind: str,
        on: dt.date,
        by: str,
        reason: str,
        before: str | None,
        after: str | None,
        override: bool,
    ) -> None:
        self._record(
            WorkflowEvent(
                0,
                on,
                iv.student_id,
                kind,
                iv.id,
                who=by,
                why=reason,
                detail={
                    "from": before,
                    "to": after,
                    "role": iv.owner_role,
                    "reason": reason,
                    "override": override,
                },
            )
        )
