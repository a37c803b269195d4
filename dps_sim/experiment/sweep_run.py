"""Running a sweep: tasks for the runs still missing, executed in chunks on any backend, parts
written as they finish, then points.parquet, sensitivity.csv and .md and the manifest."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from ..scenario.loading import dump_resolved, overrides_of
from . import outdir, store
from .executors import backend_label, default_workers, execute
from .mainguard import check_workers
from .points import CODE_MISMATCH, LOADED_CODE, CodeMismatch, PointScenarios
from .sampling import sampler_seed
from .sensitivity import analyse, columns as sensitivity_columns, noise_shares, point_means, summary_text
from .sweep_check import load_sweep
from .sweep_parts import combine_parts, done_runs, part_schema, part_table
from .sweep_plan import concrete_overrides, point_overrides
from .sweep_spec import PART_KIND, Progress, SweepSpec
from .tasks import Payload, Task


@dataclass
class SweepResults:
    """The tables of a sweep, and where they were written."""

    points: pd.DataFrame
    sensitivity: pd.DataFrame
    manifest: dict[str, Any]
    spec: SweepSpec
    out: Path | None = None
    summary: str = ""

    @property
    def failed(self) -> pd.DataFrame:
        """Runs that failed (invalid point or model error); their KPIs are NaN."""
        return self.points[self.points["error"] != ""]


def sweep(spec: SweepSpec | str | Path, workers: int | None = None, scheduler: str | None = None,
          resume: bool = False, out: str | Path | None = None, force: bool = False,
          progress: Progress | None = None) -> SweepResults:
    """Run a sweep and analyse it; write points.parquet, sensitivity.csv and .md, and the manifest.

    ``workers``: processes (default all cores; 1 runs in this process); ``scheduler``: 'local' for a Dask
    LocalCluster of ``workers`` processes, or a Dask scheduler address. ``resume``: run only the runs
    missing from ``out`` (which must hold the same sweep). Without ``out`` the results go to a temporary
    folder that is removed (``.out`` is None).
    """
    if not isinstance(spec, SweepSpec):
        spec = load_sweep(spec)
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError("workers must be at least 1")
    check_workers(workers, scheduler, "dps_sim.sweep")  # a script without the __main__ guard: say so first
    if resume and out is None:
        raise ValueError("resume needs the output folder of the sweep to resume (out=...)")
    tmp = None
    finished = False
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="dps_sim-sweep-")
        folder = Path(tmp.name)
    else:
        fingerprint = spec.fingerprint()
        prepared = outdir.prepare(out, "sweep", fingerprint, force=force, resume=resume,
                                  same=lambda m: (m.get("sweep") or {}).get("fingerprint") == fingerprint)
        folder = prepared.path
        finished = prepared.finished_before and (folder / "points.parquet").is_file()
    try:
        return _sweep(spec, workers, scheduler, resume, finished, folder, progress, temporary=tmp is not None)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _sweep(spec: SweepSpec, workers: int, scheduler: str | None, resume: bool, finished: bool, folder: Path,
           progress: Progress | None, temporary: bool) -> SweepResults:
    started = time.perf_counter()
    design = spec.design()
    fingerprint = spec.fingerprint()
    parts = store.Parts(folder)
    points_file = folder / "points.parquet"
    schema = part_schema(spec)
    if not finished:
        parts.clean_temp()
    manifest = store.start_manifest(folder, store.base_manifest("sweep", spec.seed, {
        "scenario_file": str(spec.scenario_file) if spec.scenario_file else None,
        "scenario_sha256": store.file_sha256(spec.scenario_file),
        "scenario_name": spec.scenario.name, "overrides": overrides_of(spec.scenario),
        "policies": [spec.policy], "replications": spec.replications,
        "workers": workers, "backend": backend_label(workers, scheduler),
        "fingerprint": fingerprint,
        "sweep": {**spec.describe(), "sampler": design.sampler, "fingerprint": fingerprint},
    }))
    store.atomic_write_text(folder / "scenario.resolved.yaml", dump_resolved(spec.base))

    ran, run_seconds = 0, 0.0
    if finished:
        table = pq.read_table(points_file)
        done_before = table.num_rows
    else:
        done = done_runs(parts)
        done_before = len(done)
        tasks = [Task(str(p), r, spec.seed_key(p, r))
                 for p in range(len(design)) for r in range(spec.replications) if (p, r) not in done]
        base_dump = spec.base.model_dump(mode="python")
        overrides = {t.key: concrete_overrides(point_overrides(design.point(int(t.key)), base_dump), base_dump)
                     for t in tasks}
        payload = Payload(PointScenarios(spec.base, overrides, LOADED_CODE), spec.seed, events="none",
                          keep_tables=False)
        if progress:
            progress(0, len(tasks))
        for chunk in execute(payload, tasks, workers, scheduler):
            if any((res.error or "").startswith(CodeMismatch.__name__) for res in chunk):
                raise CodeMismatch(CODE_MISMATCH + f"; the runs finished so far are kept in {parts.root}")
            first = chunk[0].task
            parts.write(PART_KIND, f"p{int(first.key):08d}r{first.replication:06d}",
                        part_table(chunk, design, schema))
            ran += len(chunk)
            run_seconds += sum(res.seconds for res in chunk)
            if progress:
                progress(ran, len(tasks))
        table = combine_parts(parts, schema)
        if table.num_rows != spec.run_count():
            raise RuntimeError(f"expected {spec.run_count()} runs in the parts, found {table.num_rows}")
        store.atomic_write_table(points_file, table)
        parts.remove()

    points = table.to_pandas()
    means = point_means(points, list(spec.kpis), len(design))
    # with common random numbers the seeds' effect is shared by every point: replication variance is no floor
    noise = {} if spec.common_random_numbers else noise_shares(points, list(spec.kpis))
    sens = analyse(design, means, sampler_seed(spec.seed), noise)[sensitivity_columns(spec.method)]
    store.write_csv(folder / "sensitivity.csv", sens)
    elapsed = time.perf_counter() - started
    manifest.update({
        "failed_points": int(points.loc[points["error"] != "", "point"].nunique()),
        "failed_runs": int((points["error"] != "").sum()),
        "runs_this_call": ran,
        "runs_resumed": done_before if resume else 0,
        "run_seconds_total": round(run_seconds, 3),
        "elapsed_seconds": round(elapsed, 3),
        "runs_per_second": round(ran / elapsed, 3) if ran and elapsed > 0 else None,
    })
    text = summary_text(sens, {
        "title": spec.description or spec.name, "method": spec.method, "points": len(design),
        "replications": spec.replications, "runs": spec.run_count(), "scenario_name": spec.scenario.name,
        "policy": spec.policy, "failed_points": manifest["failed_points"]})
    store.atomic_write_text(folder / "sensitivity.md", text)
    store.write_manifest(folder, manifest)
    return SweepResults(points, sens, manifest, spec, None if temporary else folder, text)
