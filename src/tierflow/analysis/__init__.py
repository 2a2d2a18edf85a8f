"""Static analysis of rule sets: shadowed tiers, gaps, rules that never fire, ladders out of order.

>>> import tierflow
>>> from tierflow.analysis import analyze
>>> [f.code for f in analyze(tierflow.load_ruleset("mtss"))]
[]
"""

from tierflow.analysis._analyze import Finding, analyze
from tierflow.analysis._coverage import Coverage, boundary_cases, coverage
from tierflow.analysis._impact import Impact, impact
from tierflow.analysis._monotone import threshold_values

__all__ = [
    "Coverage",
    "Finding",
    "Impact",
    "analyze",
    "boundary_cases",
    "coverage",
    "impact",
    "threshold_values",
]
