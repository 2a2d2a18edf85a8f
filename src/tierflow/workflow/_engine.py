"""The engine a host embeds: decisions become tracked interventions that nobody forgets."""

from __future__ import annotations

from collections.abc import Mapping

from tierflow.attendance import SchoolCalendar
from tierflow.errors import WorkflowError
from tierflow.evaluate import CompiledRuleset
from tierflow.workflow._day import DayRun
from tierflow.workflow._findings import Findings
from tierflow.workflow._lifecycle_actions import LifecycleActions
from tierflow.workflow._notices import Notices
from tierflow.workflow._repository import InMemoryRepository, Repository
from tierflow.workflow._roster import Roster
from tierflow.workflow._staff import StaffActions

__all__ = ["Engine"]


class Engine(DayRun, StaffActions, LifecycleActions, Findings, Notices):
    """Runs a playbook over time, keeping one event per accepted change.

    It opens the interventions decisions call for, names their owners, schedules follow-ups on
    school days, reviews goals, escalates, tracks the legal ladder and withdraws what corrected
    data no longer supports. Time is always passed in; nothing sleeps or runs in the background.
    Everything it needs to resume lives in the repository (interventions, check-ins, legal
    steps issued and the events of the timeline), so an engine built on a reopened store goes on
    where the last one stopped.

    Runs are idempotent: running the same day twice on the same facts opens nothing and records
    nothing new.

    Every date a method is given (``on``, ``as_of``, ``now``) is a :class:`datetime.date`; a
    ``datetime`` or anything else raises :class:`WorkflowError` before anything is recorded
    (the records become the students' history, whose dates have no time of day).

    No flapping: a decision only ever *opens* interventions. An open intervention ends by its
    goal (met at review), by escalation (not met at review), by an explicit close, or by a
    correction that withdraws an escalation. A student hovering around a threshold therefore
    keeps the interventions already opened, and an intervention that ended is not opened again
    for the same student until ``cooldown_days`` school days after it ended.

    Building an engine reads nothing from the repository (as ``httpx.Client()`` opens nothing
    before a request): what it needs is read when first asked for.

    Args:
        ruleset: The compiled playbook.
        repository: Where records live (default: in memory).
        roster: Staff by school and role, with caseload limits (default: nobody; every
            opening is reported unassigned). The store's open interventions are counted
            against their owners when first needed: on a database store, a school's staff's
            when a run first opens, moves or frees a case at that school; every owner's when
            :attr:`roster` is read.
        calendars: School calendars by school id (follow-ups and reviews land on school days;
            Monday to Friday for a school without one).
        grace_days: School days after a missed follow-up before it is flagged overdue.
        cooldown_days: School days after an intervention ended before the same catalogue
            intervention can open again for the student.
        default_review_days: School days between reviews for an intervention whose catalogue
            entry gives no review period (its review is extended by this much when it cannot
            be decided).
    """

    def __init__(
        self,
        ruleset: CompiledRuleset,
        *,
        repository: Repository | None = None,
        roster: Roster | None = None,
        calendars: Mapping[str, SchoolCalendar] | None = None,
        grace_days: int = 2,
        cooldown_days: int = 10,
        default_review_days: int = 20,
    ) -> None:
        if min(grace_days, cooldown_days) < 0 or default_review_days < 1:
            raise WorkflowError(
                "grace_days and cooldown_days must be >= 0 and default_review_days >= 1"
            )
        self.ruleset = ruleset
        self.repository = repository if repository is not None else InMemoryRepository()
        self._roster = roster if roster is not None else Roster()
        self._counted = False  # the store's caseloads are read on first use (see roster)
        self._counted_staff, self._counted_schools = set(), set()
        self.calendars = dict(calendars or {})
        self.lifecycle = ruleset.lifecycle
        self.grace_days = grace_days
        self.cooldown_days = cooldown_days
        self.default_review_days = default_review_days
        self._hooks = []
        self._pending = None
        self._following = None
        self._levels = {t.id: t.level for t in ruleset.tiers}
        self._days_cache = {}
        self._shared = {}
        self._unowned = {}  # a school's read from the store when a place there first frees
        self._unowned_read, self._unowned_all = set(), False
