"""The intervention workflow: each intervention a tracked state machine, nobody forgotten.

>>> import datetime as dt, tierflow
>>> from tierflow.workflow import Engine, Roster, StaffMember
>>> engine = Engine(tierflow.load_ruleset("mtss"),
...                 roster=Roster([StaffMember("ms-lee", "lincoln", ("mentor", "counselor"))]))
>>> plan = engine.run(dt.date(2025, 10, 6), [
...     {"student_id": "s1", "school_id": "lincoln", "days_enrolled": 30, "days_absent": 3}])
>>> for iv in plan.opened:
...     print(iv.intervention, iv.owner, iv.state, iv.next_follow_up)
weekly-checkin ms-lee assigned 2025-10-13
family-call ms-lee assigned 2025-10-20
attendance-plan ms-lee assigned 2025-10-13
"""

from tierflow.workflow._core import Hook
from tierflow.workflow._engine import Engine
from tierflow.workflow._findings import CONTACT_OUTCOMES
from tierflow.workflow._machine import (
    GUARDS,
    LIFECYCLE,
    OPEN_STATES,
    STATES,
    TERMINAL_STATES,
    IllegalTransitionError,
    Lifecycle,
    TransitionDef,
)
from tierflow.workflow._notices import (
    DELIVERY_STATUSES,
    FAILED_STATUSES,
    NoticeDelivery,
    NoticeRecord,
    read_notices,
)
from tierflow.workflow._records import (
    CONTACT_TYPES,
    CheckIn,
    Intervention,
    LegalFlag,
    LegalOverdue,
    Plan,
    StaffMember,
    Unassigned,
    WorkflowEvent,
)
from tierflow.workflow._repository import (
    UPDATABLE,
    InMemoryRepository,
    Repository,
    check_update,
)
from tierflow.workflow._roster import Roster
from tierflow.workflow._schedule import SchoolDays, next_follow_up
from tierflow.workflow._summary import CaseSummary, EventSummary, first_transitions, summarize
from tierflow.workflow._tried import Tried

__all__ = [
    "CONTACT_OUTCOMES",
    "CONTACT_TYPES",
    "DELIVERY_STATUSES",
    "FAILED_STATUSES",
    "GUARDS",
    "LIFECYCLE",
    "OPEN_STATES",
    "STATES",
    "TERMINAL_STATES",
    "UPDATABLE",
    "CaseSummary",
    "CheckIn",
    "Engine",
    "EventSummary",
    "Hook",
    "IllegalTransitionError",
    "InMemoryRepository",
    "Intervention",
    "LegalFlag",
    "LegalOverdue",
    "Lifecycle",
    "NoticeDelivery",
    "NoticeRecord",
    "Plan",
    "Repository",
    "Roster",
    "SchoolDays",
    "StaffMember",
    "TransitionDef",
    "Tried",
    "Unassigned",
    "WorkflowEvent",
    "check_update",
    "first_transitions",
    "next_follow_up",
    "read_notices",
    "summarize",
]
