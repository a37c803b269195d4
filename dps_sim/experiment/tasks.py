"""What a worker runs: replications of resolved scenarios, returned as small NumPy tables.

Kept free of pandas, matplotlib and Dask so a worker's import is light. A replication that
raises becomes a result with its error recorded (a row of data, not a crash of the run).
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import metrics
from ..model.engine import simulate
from ..scenario.schema import Scenario
from .seeds import replication_seed

ALL_KPIS: tuple[str, ...] = (*metrics.KPI_NAMES, *metrics.EXTRA_KPIS)
"""Every KPI a replication reports: a failed one reports each as NaN, so no table loses a column."""


@dataclass(frozen=True)
class Task:
    """One replication: which scenario variant (``key``), replication index and seed key."""

    key: str                      # policy name, or sweep point id
    replication: int
    seed_key: tuple[int, ...]     # spawn key under the root seed


@dataclass
class TaskResult:
    task: Task
    kpis: dict[str, float]
    timeseries: dict[str, np.ndarray] = field(default_factory=dict)
    providers: dict[str, np.ndarray] = field(default_factory=dict)
    events: dict[str, np.ndarray] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    simpy_events: int = 0


@dataclass(frozen=True)
class Payload:
    """What every worker needs once: the resolved scenarios by key, the root seed, what to keep."""

    scenarios: dict[str, Scenario]
    seed: int
    events: str = "awards"
    keep_tables: bool = True


def run_task(payload: Payload, task: Task) -> TaskResult:
    """Run one replication; never raises for a model error."""
    t0 = time.perf_counter()
    try:
        out = simulate(payload.scenarios[task.key], replication_seed(payload.seed, *task.seed_key), payload.events)
        res = TaskResult(task, metrics.kpis(out), simpy_events=out.simpy_events)
        if payload.keep_tables:
            res.timeseries = out.timeseries
            res.providers = metrics.provider_columns(out)
            res.events = metrics.event_columns(out) if payload.events != "none" else {}
    except Exception as exc:  # a failed replication is data, not a crash
        res = TaskResult(task, dict.fromkeys(ALL_KPIS, float("nan")),
                         error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")
    res.seconds = time.perf_counter() - t0
    return res


def run_chunk(payload: Payload, tasks: list[Task]) -> list[TaskResult]:
    """Several replications in one call, to pay task overhead once per chunk."""
    return [run_task(payload, t) for t in tasks]


# --- process-pool worker state: the payload is sent once per worker, not per task ---------

_PAYLOAD: Payload | None = None


def init_worker(payload: Payload, parent: int | None = None) -> None:
    """Keep the payload for every task of this worker; exit if the parent process (pid ``parent``,
    given by the parent itself so that a parent killed while this worker was starting is noticed) dies."""
    global _PAYLOAD
    _PAYLOAD = payload
    parent = os.getppid() if parent is None else parent
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    """A killed `compare` or sweep must not leave idle workers behind: when this worker is
    re-parented (its parent died, e.g. SIGKILL), it exits."""
    while True:
        time.sleep(every)
        if os.getppid() != parent:
            os._exit(1)


def run_chunk_in_worker(tasks: list[Task]) -> list[TaskResult]:
    assert _PAYLOAD is not None, "worker not initialised"
    return run_chunk(_PAYLOAD, tasks)


def describe(result: TaskResult) -> dict[str, Any]:
    """The runs.csv row of a result."""
    row: dict[str, Any] = {"replication": result.task.replication}
    row.update(result.kpis)
    row["error"] = result.error or ""
    row["seconds"] = round(result.seconds, 4)
    return row
