"""Evaluating a state's students on a Dask cluster (the optional ``dask`` extra).

:func:`evaluate_partitioned` sends each facts file (a partition: a school's, a region's, a
slice of a state's export) to a Dask worker, which reads and decides it with the same functions
as ``tierflow evaluate`` (:func:`tierflow.pipeline.evaluate_facts_file`), and gathers every
decision and every reject, in partition order. A rule set is not shipped as compiled code (its
generated functions do not pickle): each worker compiles it once from its name or path, and the
worker checks that what it compiled has the driver's content hash, so a worker that sees another
version of the file refuses to decide. :func:`run_day_partitioned` runs a school day's workflow
the same way, each partition into the one shared store. ``import tierflow`` never imports Dask;
this package does, when it is used.
"""

from tierflow.scale._day import DayPartition, ScaledDay, run_day_partitioned
from tierflow.scale._evaluate import PartitionResult, ScaledRun, evaluate_partitioned

__all__ = [
    "DayPartition",
    "PartitionResult",
    "ScaledDay",
    "ScaledRun",
    "evaluate_partitioned",
    "run_day_partitioned",
]
