"""Each subpackage's public names: one name per thing, written down here.

For every subpackage ``tierflow.X``: ``__all__`` is sorted as ruff sorts it (constants, then
classes, then functions), every name in it resolves, nothing public is defined in its
``__init__`` outside ``__all__``, and ``__all__`` is exactly the set written below, so a name
added, dropped or moved between subpackages is a deliberate edit of this file.
(tests/test_exported_members.py guards the top-level ``tierflow.__all__``.)
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import tierflow

EXPECTED: dict[str, set[str]] = {
    "analysis": {
        "Coverage",
        "Finding",
        "Impact",
        "analyze",
        "boundary_cases",
        "coverage",
        "impact",
        "threshold_values",
    },
    "attendance": {
        "ABSENCE_CATEGORIES",
        "CATEGORIES",
        "AttendanceEvent",
        "CalendarSet",
        "CauseMap",
        "Enrollment",
        "FactsBuilder",
        "SchoolCalendar",
        "SchoolYear",
        "SchoolYears",
        "StudentGroups",
        "category_of",
        "group_of",
    },
    "cli": {"main"},
    "compile": {
        "BUILTIN_METRICS",
        "STAGES",
        "Compilation",
        "Program",
        "builtin_names",
        "compile_document",
        "load_program",
        "parse_program",
    },
    "evaluate": {
        "AssignedIntervention",
        "CompiledRuleset",
        "Decision",
        "Explanation",
        "LegalAction",
        "Reason",
        "RulesetRef",
        "TestResult",
        "legal_condition",
        "load_ruleset",
        "parse_ruleset",
    },
    "expr": {
        "ANY",
        "BOOL",
        "DATE",
        "DURATION",
        "NUMBER",
        "PURE_FUNCTIONS",
        "STRING",
        "Arith",
        "BoolOp",
        "Call",
        "Compare",
        "Const",
        "Constants",
        "Duration",
        "EvalContext",
        "Expr",
        "ExprEvalError",
        "ExprProblem",
        "ExprSyntaxError",
        "Function",
        "FunctionRegistry",
        "ListExpr",
        "Name",
        "Neg",
        "Not",
        "Scope",
        "TraceEntry",
        "Type",
        "check",
        "enum_of",
        "fold",
        "format_value",
        "interpret",
        "list_of",
        "parse",
        "to_python",
        "unparse",
        "walk",
    },
    "facts": {
        "ATTENDANCE_KINDS",
        "CAUSES",
        "DEFAULT_FUNCTIONS",
        "FACTS",
        "GROUPS",
        "OUTCOMES",
        "AttendanceRecord",
        "Conference",
        "FactInfo",
        "History",
        "IssuedStep",
        "StudentFacts",
        "TriedIntervention",
    },
    "ingest": {
        "FactsRecord",
        "People",
        "Person",
        "facts_from_files",
        "read_calendars",
        "read_enrollments",
        "read_events",
        "read_facts",
        "read_facts_text",
        "read_groups",
        "read_people",
        "Contacts",
        "Schools",
        "read_contacts",
        "read_schools",
    },
    "report": {
        "ComplianceReport",
        "Packet",
        "PacketEntry",
        "Readiness",
        "StepCheck",
        "build_packet",
        "compliance_report",
        "QUEUE_BUCKETS",
        "QUEUE_SORTS",
        "WorkItem",
        "WorkQueue",
        "work_queue",
        "MailedNotice",
        "Mailing",
        "MailingProblem",
        "produce_notices",
        "sms_segments",
        "OUTBOX_STATUSES",
        "Outbox",
        "OutboxItem",
        "outbox",
        "DailyAttendance",
        "EFFECT_BY",
        "LEFT_OUT_REASONS",
        "EffectRow",
        "Effectiveness",
        "effectiveness",
        "FS195_COLUMNS",
        "WATCHED_GROUPS",
        "ChronicAbsence",
        "ChronicRate",
        "ChronicStudent",
        "chronic_absence",
        "EquityReport",
        "EquityRow",
        "StudentEquity",
        "equity_report",
        "event_record",
        "GoalLine",
        "GoalPoint",
        "Progress",
        "ProgressEvent",
        "ProgressWeek",
        "progress",
        "LegalWait",
        "Operations",
        "OwnerLoad",
        "RoleLoad",
        "SchoolOperations",
        "operations",
        "dashboard",
        "render_dashboard",
    },
    "spec": {
        "BUILTIN_ROLES",
        "DEFAULT_LIMITS",
        "ID_PATTERN",
        "AttendancePolicy",
        "CadenceSpec",
        "ColumnMapping",
        "ExpectSpec",
        "FactDeclSpec",
        "FactsSpec",
        "GoalSpec",
        "InterventionSpec",
        "LegalStepSpec",
        "LifecycleSpec",
        "LoadedYaml",
        "MetricSpec",
        "ReferenceSpec",
        "RequiresSpec",
        "RuleSpec",
        "RulesetSpec",
        "StateSpec",
        "TestCaseSpec",
        "TierSpec",
        "TransitionSpec",
        "YamlLimits",
        "load_yaml",
        "load_yaml_file",
        "parse_month_day",
        "ruleset_json_schema",
    },
    "scale": {
        "DayPartition",
        "PartitionResult",
        "ScaledDay",
        "ScaledRun",
        "evaluate_partitioned",
        "run_day_partitioned",
    },
    "server": {
        "SCOPES",
        "Masker",
        "Principal",
        "ServeError",
        "ServerConfig",
        "Tokens",
        "create_app",
        "hash_token",
        "read_tokens",
    },
    "store": {
        "Anchor",
        "ChainRow",
        "ConflictError",
        "Discrepancy",
        "Replayed",
        "SqlRepository",
        "StoreError",
        "anchor",
        "is_url",
        "replay",
        "store_url",
        "verify",
    },
    "testing": {
        "AS_OF",
        "PropertyFailure",
        "as_test_case",
        "check_deterministic",
        "check_escalation_upward",
        "check_exemptions",
        "check_legal_prerequisites",
        "check_monotone",
        "check_totality",
        "histories",
        "near_thresholds",
        "rule_sets",
        "student_facts",
        "with_count",
    },
    "workflow": {
        "CONTACT_OUTCOMES",
        "CONTACT_TYPES",
        "GUARDS",
        "LIFECYCLE",
        "OPEN_STATES",
        "STATES",
        "TERMINAL_STATES",
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
        "Plan",
        "Repository",
        "UPDATABLE",
        "check_update",
        "Roster",
        "SchoolDays",
        "StaffMember",
        "TransitionDef",
        "Tried",
        "Unassigned",
        "WorkflowEvent",
        "first_transitions",
        "next_follow_up",
        "DELIVERY_STATUSES",
        "FAILED_STATUSES",
        "NoticeDelivery",
        "NoticeRecord",
        "read_notices",
        "summarize",
    },
    "notices": {
        "MAX_ITERATIONS",
        "MAX_OUTPUT",
        "MAX_RANGE",
        "AttendanceFigures",
        "DecisionSummary",
        "DistrictInfo",
        "FamilyContact",
        "NoticeBook",
        "NoticeContext",
        "NoticeError",
        "RenderedNotice",
        "SchoolInfo",
        "StaffContact",
        "StepInfo",
        "StudentInfo",
        "TemplateCheck",
        "TemplateIssue",
        "TemplateSource",
        "check_template",
        "context_fields",
        "pick_language",
        "render_notice",
        "MIN_CLASSMATES",
        "attendance_figures",
        "classmates_group",
        "classmates_medians",
        "DEFAULT_LANGUAGE",
        "EC_48985_SHARE",
        "base_language",
        "language_code",
        "language_shares",
        "required_languages",
    },
}


def _subpackages() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(tierflow.__path__) if m.ispkg)


def _package(name: str) -> ModuleType:
    return importlib.import_module(f"tierflow.{name}")


def _order(name: str) -> tuple[int, str]:
    """Ruff's order of ``__all__`` (RUF022): SCREAMING_CASE, then CamelCase, then the rest."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_every_subpackage_is_written_here() -> None:
    assert _subpackages() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_all_is_the_expected_set(name: str) -> None:
    exported = list(_package(name).__all__)
    assert len(exported) == len(set(exported)), "a name is listed twice"
    assert set(exported) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_all_is_sorted(name: str) -> None:
    exported = list(_package(name).__all__)
    assert exported == sorted(exported, key=_order)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_name_resolves(name: str) -> None:
    package = _package(name)
    missing = [n for n in package.__all__ if not hasattr(package, n)]
    assert missing == []


def _defined_names(source: str) -> set[str]:
    """Public names a module's source defines itself (def, class, assignment), not imports."""
    tree = ast.parse(source)
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_nothing_public_is_defined_outside_all(name: str) -> None:
    package = _package(name)
    defined = _defined_names(inspect.getsource(package))
    assert sorted(defined - set(package.__all__)) == []


def test_the_init_check_sees_definitions() -> None:
    # The check above reads the source: it must see every kind of definition, and no import.
    source = (
        "from x import imported\n"
        "import y\n"
        "def f(): pass\n"
        "async def g(): pass\n"
        "class C: pass\n"
        "A = B = 1\n"
        "T: int = 2\n"
        "_private = 3\n"
    )
    assert _defined_names(source) == {"f", "g", "C", "A", "B", "T"}
