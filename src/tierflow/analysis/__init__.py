"""Static analysis of rule sets: shadowed tiers, rules that never fire, ladders out of order.

>>> import tierflow
>>> from tierflow.analysis import analyze
>>> [f.code for f in analyze(tierflow.load_ruleset("mtss"))]
[]
"""

from tierflow.analysis._analyze import Finding, analyze

__all__ = ["Finding", "analyze"]
