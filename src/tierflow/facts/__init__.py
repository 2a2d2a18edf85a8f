"""Facts: the typed model of what a rule reads about a student."""

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

__all__ = [
    "CAUSES",
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
