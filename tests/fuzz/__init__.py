"""Bounded fuzzing of the expression language, the YAML loader and every reader (issue 10).

The targets live in :mod:`fuzz.targets`, shared with ``benchmarks/fuzz.py``.
"""
