"""Experiments: seeds, executors (in-process, process pool, Dask), run, compare, sweep, output store."""

from .runs import Results, compare, run

__all__ = ["Results", "compare", "run"]
