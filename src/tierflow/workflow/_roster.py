"""Named owners by role, per school, within caseload limits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from tierflow.workflow._records import StaffMember

__all__ = ["Roster"]


class Roster:
    """Staff who can own interventions, and how loaded they are.

    An owner is chosen among the staff of the student's school who fill the role and are under
    their caseload limit: the least loaded first, ties taken in turn (round robin). When all
    are full, nobody is chosen: the intervention opens without an owner and the plan reports
    it, rather than overloading someone silently.

    >>> roster = Roster([StaffMember("c1", "lincoln", ("counselor",), caseload_limit=1),
    ...                  StaffMember("c2", "lincoln", ("counselor",), caseload_limit=1)])
    >>> [roster.assign("lincoln", "counselor") for _ in range(3)]
    ['c1', 'c2', None]
    """

    def __init__(self, staff: Iterable[StaffMember] = ()) -> None:
        """Build a roster from staff members."""
        self.staff: dict[str, StaffMember] = {}
        self._eligible: dict[tuple[str, str], list[StaffMember]] = {}
        self.load: Counter[str] = Counter()
        self._turn: Counter[tuple[str, str]] = Counter()
        for member in staff:
            self.add(member)

    def add(self, member: StaffMember) -> None:
        """Add (or replace) a staff member."""
        replaced = member.id in self.staff
        self.staff[member.id] = member
        if replaced:  # rare: rebuild, keeping the roster's order
            self._eligible = {}
            for m in self.staff.values():
                for role in m.roles:
                    self._eligible.setdefault((m.school_id, role), []).append(m)
        else:  # linear in the roster, not quadratic
            for role in member.roles:
                self._eligible.setdefault((member.school_id, role), []).append(member)

    def candidates(self, school_id: str | None, role: str) -> list[StaffMember]:
        """Staff of the school who fill the role."""
        return list(self._eligible.get((school_id or "", role), ()))

    def assign(self, school_id: str | None, role: str, exclude: str | None = None) -> str | None:
        """Pick an owner and count the new case against them (None: nobody has room).

        ``exclude`` is a staff member not to pick (who just gave the case back).
        """
        pool = [
            m
            for m in self._eligible.get((school_id or "", role), ())
            if self.load[m.id] < m.caseload_limit and m.id != exclude
        ]
        if not pool:
            return None
        lowest = min(self.load[m.id] for m in pool)
        tied = [m for m in pool if self.load[m.id] == lowest]
        key = (school_id or "", role)
        chosen = tied[self._turn[key] % len(tied)]
        self._turn[key] += 1
        self.load[chosen.id] += 1
        return chosen.id

    def has_room(self, staff_id: str) -> bool:
        """Whether this staff member is under their caseload limit (False if unknown)."""
        member = self.staff.get(staff_id)
        return member is not None and self.load[staff_id] < member.caseload_limit

    def take(self, staff_id: str) -> None:
        """Count a case named by hand against this staff member (an override may go over)."""
        self.load[staff_id] += 1

    def release(self, staff_id: str | None) -> None:
        """A case of this owner ended."""
        if staff_id is not None and self.load[staff_id] > 0:
            self.load[staff_id] -= 1

    def why_unassigned(self, school_id: str | None, role: str) -> str:
        """Why :meth:`assign` found nobody, in words."""
        pool = self.candidates(school_id, role)
        if not pool:
            return f"no {role} on the roster of school {school_id}"
        if any(self.has_room(m.id) for m in pool):  # given back by hand: waits to be taken
            return f"given back; waiting for a {role} of school {school_id} to take it"
        return f"every {role} of school {school_id} is at their caseload limit ({len(pool)} staff)"
