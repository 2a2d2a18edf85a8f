"""Facts: the typed model of what a rule reads about a student, and the functions that read it."""

from tierflow.facts._functions import DEFAULT_FUNCTIONS
from tierflow.facts._model import (
    CAUSES,
    FACTS,
    GROUPS,
    OUTCOMES,
    AttendanceRecord,
    Conference,
    FactInfo,
    History,
    IssuedStep,
    StudentFacts,
    TriedIntervention,
)
from tierflow.facts._windows import ATTENDANCE_KINDS

__all__ = [
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
]
