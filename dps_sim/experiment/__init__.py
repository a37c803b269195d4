"""Experiments: seeds, executors (in-process, process pool, Dask), run, compare, sweep, output store.

Attributes are imported on first use so that ``import dps_sim.experiment`` (e.g. by the
command line for ``--version`` or ``validate``) does not load pandas, scipy or pyarrow.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Results", "compare", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import runs

        return getattr(runs, name)
    raise AttributeError(f"module 'dps_sim.experiment' has no attribute {name!r}")
