"""Running replications of one or more policies and writing the output folder.

``run`` runs one policy; ``compare`` runs every policy of a scenario with common random
numbers (replication r of every policy uses the same seed) and adds ``summary.csv`` with
paired differences from the baseline. Both stream each replication's tables to disk as it
finishes and return a :class:`Results` holding the final pandas tables.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pyarrow as pa

from .. import metrics
from ..scenario import BASELINE, Scenario, dump_resolved, load_scenario, policy_names, resolve_policy
from . import store
from ..scenario.loading import source_file
from .executors import backend_label, default_workers, execute
from .seeds import resolve_seed, seed_record
from .stats import summarise
from .tasks import Payload, Task, TaskResult, describe

Progress = Callable[[int, int], None]
"""Called with (replications done, replications in all) as results arrive."""


@dataclass
class Results:
    """The tidy tables of a run or comparison, and where they were written."""

    runs: pd.DataFrame
    timeseries: pd.DataFrame
    providers: pd.DataFrame
    events: pd.DataFrame
    summary: pd.DataFrame | None
    manifest: dict[str, Any]
    out: Path | None = None
    policies: list[str] = field(default_factory=list)

    @property
    def failed(self) -> pd.DataFrame:
        """Replications that raised an error (their KPIs are NaN)."""
        return self.runs[self.runs["error"] != ""]


def _as_scenario(scenario: Scenario | str | Path) -> tuple[Scenario, str | None]:
    if isinstance(scenario, Scenario):
        return scenario, source_file(scenario)
    return load_scenario(scenario), str(scenario)


def run(scenario: Scenario | str | Path, policy: str | None = None, reps: int = 10, seed: int | None = None, *,
        workers: int = 1, scheduler: str | None = None, events: str = "awards", out: str | Path | None = None,
        force: bool = False, progress: Progress | None = None, command: str = "run") -> Results:
    """Run ``reps`` replications of one policy (default: the baseline) and write the output folder."""
    sc, path = _as_scenario(scenario)
    name = policy or BASELINE
    resolve_policy(sc, name)  # fail early on an unknown policy
    return _execute(sc, path, [name], reps, seed, workers, scheduler, events, out, force, progress, command,
                    with_summary=False)


def compare(scenario: Scenario | str | Path, reps: int = 20, seed: int | None = None, *, workers: int | None = None,
            scheduler: str | None = None, events: str = "awards", out: str | Path | None = None, force: bool = False,
            progress: Progress | None = None, command: str = "compare") -> Results:
    """Run every policy of the scenario with common random numbers and summarise paired differences."""
    sc, path = _as_scenario(scenario)
    workers = default_workers() if workers is None else workers
    return _execute(sc, path, policy_names(sc), reps, seed, workers, scheduler, events, out, force, progress,
                    command, with_summary=True)


def _execute(sc: Scenario, path: str | None, policies: list[str], reps: int, seed: int | None, workers: int,
             scheduler: str | None, events: str, out: str | Path | None, force: bool, progress: Progress | None,
             command: str, with_summary: bool) -> Results:
    if reps < 1:
        raise ValueError("reps must be at least 1")
    root_seed = resolve_seed(seed, sc.seed)
    resolved = {p: resolve_policy(sc, p) for p in policies}
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="dps_sim-")
        folder = Path(tmp.name)
    else:
        folder = store.prepare_out(out, force=force)
    try:
        manifest = store.base_manifest(command, root_seed, {
            "scenario_file": path, "scenario_sha256": store.file_sha256(path), "scenario_name": sc.name,
            "policies": policies, "replications": reps, "workers": workers, "backend": backend_label(workers, scheduler),
            "events": events,
            "replication_seeds": [seed_record(root_seed, r) for r in range(reps)],
            "seed_note": "replication r of every policy uses SeedSequence(entropy=seed, spawn_key=(r,))",
        })
        store.atomic_write_text(folder / "scenario.resolved.yaml", _resolved_yaml(sc))
        tasks = [Task(p, r, (r,)) for p in policies for r in range(reps)]
        payload = Payload(resolved, root_seed, events)
        parts = store.Parts(folder)
        rows: list[dict[str, Any]] = []
        done = 0
        for chunk in execute(payload, tasks, workers, scheduler):
            for res in chunk:
                rows.append({"policy": res.task.key, **describe(res)})
            _write_parts(parts, chunk)
            done += len(chunk)
            if progress:
                progress(done, len(tasks))
        runs = store.order_frame(pd.DataFrame(rows), "policy", policies, ["replication"])
        seconds = runs.pop("seconds")
        tables = {kind: store.order_frame(parts.read(kind), "policy", policies, ["replication", *order])
                  for kind, order in (("timeseries", ["month"]), ("providers", ["provider"]), ("events", ["day"]))}
        summary = summarise(runs, list(metrics.KPI_NAMES) + list(metrics.EXTRA_KPIS)) if with_summary else None
        _write_tables(folder, runs, tables, summary)
        parts.remove()
        manifest["failed_replications"] = int((runs["error"] != "").sum())
        manifest["replication_seconds_total"] = float(seconds.sum())
        manifest["replication_seconds_median"] = float(seconds.median())
        store.write_manifest(folder, manifest)
        return Results(runs, tables["timeseries"], tables["providers"], tables["events"], summary, manifest,
                       None if tmp else folder, policies)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _resolved_yaml(sc: Scenario) -> str:
    """The scenario with every default filled in; its ``policies`` overlays say how each policy differs."""
    return dump_resolved(sc)


def _write_parts(parts: store.Parts, chunk: list[TaskResult]) -> None:
    """One Parquet part per table kind for a finished chunk of replications (one write, not one per replication)."""
    if not chunk:
        return
    first = chunk[0].task
    key = f"{first.key}__r{first.replication:06d}"
    for kind in ("timeseries", "providers", "events"):
        tables = [store.columns_table(getattr(res, kind), {"policy": res.task.key, "replication": res.task.replication})
                  for res in chunk if getattr(res, kind)]
        if tables:
            parts.write(kind, key, pa.concat_tables(tables))


def _write_tables(folder: Path, runs: pd.DataFrame, tables: dict[str, pd.DataFrame], summary: pd.DataFrame | None) -> None:
    store.write_csv(folder / "runs.csv", runs)
    if summary is not None:
        store.write_csv(folder / "summary.csv", summary)
    for kind, df in tables.items():
        store.write_parquet(folder / f"{kind}.parquet", df)
