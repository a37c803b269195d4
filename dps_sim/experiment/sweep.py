"""Parameter sweeps: sweep files, constraints, execution with resume, sensitivity analysis.

A sweep file names a base scenario (and policy), the parameters to vary by dotted key path,
the sampling method, the number of samples and replications, the KPIs to analyse and a seed
(docs/sweeps.md)::

    design   = sampling.build_design(...)   # unit cube -> parameter values, one row per point
    each (point p, replication r) runs the base scenario with p's values, seeded by
             SeedSequence(entropy=seed, spawn_key=(p, r))
    results  stream to <out>/.parts/points/ (one Parquet part per finished task, written atomically)
    points.parquet  = the parts in (point, replication) order
    sensitivity.csv = sensitivity.analyse(...) on the replication means of the chosen KPIs

Runs go through the same executors as ``run`` and ``compare`` (:mod:`.executors`: in this
process, a local process pool, or Dask) as chunks of :class:`~.tasks.Task`. Workers receive
the base scenario and each point's overrides once (:class:`PointScenarios`) and build a
point's scenario when they first need it. Results do not depend on the backend, the number of
workers or the order tasks finish, and a killed sweep resumes (``resume=True``) by running
only the runs missing from its parts.

Constraints: award weights (``procurement.competitions.weights.*``) and the size mix
(``market.size_mix.*``) must sum to 1. When some members of such a group are swept, the
members not swept are rescaled in proportion to their base values to fill what is left; a
point where that is impossible (swept members above 1 in total) fails and is recorded.

This module is the public face of sweeps; the work is done by, in flow order:
:mod:`.sweep_spec` (the file's schema and the validated :class:`SweepSpec`), :mod:`.sweep_check`
(checking a file against its scenario), :mod:`.sweep_plan` (points as scenario overrides),
:mod:`.sweep_run` (execution and resume) and :mod:`.sweep_parts` (the rows on disk).
"""

from __future__ import annotations

from .points import CODE_MISMATCH, LOADED_CODE, CodeMismatch, InvalidPoint, PointScenarios
from .sweep_check import load_sweep, parse_sweep
from .sweep_plan import concrete_overrides, point_overrides
from .sweep_run import SweepResults, sweep
from .sweep_spec import (ALL_KPIS, CONSTRAINED_GROUPS, DEFAULT_KPIS, MAX_REPLICATIONS, MAX_RUNS, MAX_SAMPLES,
                         NOT_PARAMETERS, PART_KIND, SWEEP_KEYS, ParameterSpec, Progress, SweepFile, SweepSpec)

__all__ = [
    "ALL_KPIS", "CODE_MISMATCH", "CONSTRAINED_GROUPS", "CodeMismatch", "DEFAULT_KPIS", "InvalidPoint", "LOADED_CODE",
    "MAX_REPLICATIONS", "MAX_RUNS", "MAX_SAMPLES", "NOT_PARAMETERS", "PART_KIND", "ParameterSpec", "PointScenarios",
    "Progress", "SWEEP_KEYS", "SweepFile", "SweepResults", "SweepSpec", "concrete_overrides", "load_sweep",
    "parse_sweep", "point_overrides", "sweep",
]
