"""Reports from the workflow's records: a student's packet and the district compliance report.

Everything here reads the records through the :class:`tierflow.workflow.Repository` protocol,
so a report runs on any store (the in-memory one, or :class:`tierflow.store.SqlRepository`),
and writes JSON, CSV and HTML the one way :mod:`tierflow.report._export` writes them, on the
one printable page :mod:`tierflow.report._page` lays out. The legal aging (how long a step
waited for, and the correction flags) lives here too: it is read from a timeline to be
reported, and nothing that keeps records needs it.

>>> import datetime as dt, tierflow
>>> from tierflow.report import build_packet
>>> from tierflow.workflow import InMemoryRepository
>>> packet = build_packet(InMemoryRepository(), "s1", tierflow.load_ruleset("mtss"),
...                       as_of=dt.date(2025, 10, 6))
>>> packet.timeline, packet.to_csv().splitlines()[0][:30]
((), '"student_id","date","kind","wh')
"""

from tierflow.report._chronic import WATCHED_GROUPS, ChronicAbsence, ChronicRate, chronic_absence
from tierflow.report._compliance import ComplianceReport, compliance_report
from tierflow.report._daily import DailyAttendance
from tierflow.report._dashboard import dashboard, render_dashboard
from tierflow.report._effect import (
    EFFECT_BY,
    LEFT_OUT_REASONS,
    Effectiveness,
    EffectRow,
    effectiveness,
)
from tierflow.report._equity import EquityReport, EquityRow, StudentEquity, equity_report
from tierflow.report._events import event_record
from tierflow.report._fs195 import FS195_COLUMNS, ChronicStudent
from tierflow.report._mailing import (
    MailedNotice,
    Mailing,
    MailingProblem,
    produce_notices,
    sms_segments,
)
from tierflow.report._operations import (
    LegalWait,
    Operations,
    OwnerLoad,
    RoleLoad,
    SchoolOperations,
    operations,
)
from tierflow.report._outbox import OUTBOX_STATUSES, Outbox, OutboxItem, outbox
from tierflow.report._packet import Packet, PacketEntry, build_packet
from tierflow.report._progress import (
    GoalLine,
    GoalPoint,
    Progress,
    ProgressEvent,
    ProgressWeek,
    progress,
)
from tierflow.report._queue import QUEUE_BUCKETS, QUEUE_SORTS, WorkItem, WorkQueue, work_queue
from tierflow.report._readiness import Readiness
from tierflow.report._step_check import StepCheck

__all__ = [
    "EFFECT_BY",
    "FS195_COLUMNS",
    "LEFT_OUT_REASONS",
    "OUTBOX_STATUSES",
    "QUEUE_BUCKETS",
    "QUEUE_SORTS",
    "WATCHED_GROUPS",
    "ChronicAbsence",
    "ChronicRate",
    "ChronicStudent",
    "ComplianceReport",
    "DailyAttendance",
    "EffectRow",
    "Effectiveness",
    "EquityReport",
    "EquityRow",
    "GoalLine",
    "GoalPoint",
    "LegalWait",
    "MailedNotice",
    "Mailing",
    "MailingProblem",
    "Operations",
    "Outbox",
    "OutboxItem",
    "OwnerLoad",
    "Packet",
    "PacketEntry",
    "Progress",
    "ProgressEvent",
    "ProgressWeek",
    "Readiness",
    "RoleLoad",
    "SchoolOperations",
    "StepCheck",
    "StudentEquity",
    "WorkItem",
    "WorkQueue",
    "build_packet",
    "chronic_absence",
    "compliance_report",
    "dashboard",
    "effectiveness",
    "equity_report",
    "event_record",
    "operations",
    "outbox",
    "produce_notices",
    "progress",
    "render_dashboard",
    "sms_segments",
    "work_queue",
]
