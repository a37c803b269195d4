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
from .errors import OutputExistsError
from .executors import backend_label, default_workers, execute
from .mainguard import check_workers
from .points import CODE_MISMATCH, LOADED_CODE, CodeMismatch, PointScenarios
from .sampling import sampler_seed
from .sensitivity import analyse, columns as sensitivity_columns, noise_shares, point_means, summary_text
from .sweep_check import load_sweep
from .robustness import write_robustness
from .sweep_parts import combine_parts, done_runs, part_schema, part_table, split_key
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
          progress: Progress | None = None, shard: tuple[int, int] | None = None) -> SweepResults:
    """Run a sweep and analyse it; write points.parquet, sensitivity.csv and .md, and the manifest.

    ``workers``: processes (default all cores; 1 runs in this process); ``scheduler``: 'local' for a Dask
    LocalCluster of ``workers`` processes, or a Dask scheduler address. ``resume``: run only the runs
    missing from ``out`` (which must hold the same sweep). Without ``out`` the results go to a temporary
    folder that is removed (``.out`` is None).

    ``shard=(i, n)``: run only the points p with p mod n == i (every policy and replication of each)
    into ``out``, which other shards may share, and stop there: no points.parquet, no analysis. A
    shard skips runs already in the folder, so a preempted shard is simply started again; when all
    have finished, ``resume=True`` merges them (running whatever is still missing).
    """
    if not isinstance(spec, SweepSpec):
        spec = load_sweep(spec)
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError("workers must be at least 1")
    check_workers(workers, scheduler, "dps_sim.sweep")  # a script without the __main__ guard: say so first
    if resume and out is None:
        raise ValueError("resume needs the output folder of the sweep to resume (out=...)")
    if shard is not None:
        if out is None:
            raise ValueError("a shard needs the output folder the shards share (out=...)")
        if not 0 <= shard[0] < shard[1]:
            raise ValueError(f"shard {shard[0]}/{shard[1]}: the index must be 0 to {shard[1] - 1}")
        resume = outdir.read_manifest(Path(out)) is not None  # the first shard starts the folder, others join it
    tmp = None
    finished = False
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="dps_sim-sweep-")
        folder = Path(tmp.name)
    else:
        fingerprint = spec.fingerprint()

        def same(m: dict[str, Any]) -> bool:
            return (m.get("sweep") or {}).get("fingerprint") == fingerprint

        try:
            prepared = outdir.prepare(out, "sweep", fingerprint, force=force, resume=resume, same=same)
        except OutputExistsError:
            if shard is None or resume or outdir.read_manifest(Path(out)) is None:
                raise
            # another shard started the folder a moment ago: join it
            prepared = outdir.prepare(out, "sweep", fingerprint, resume=True, same=same)
            resume = True
        folder = prepared.path
        finished = prepared.finished_before and (folder / "points.parquet").is_file()
    try:
        return _sweep(spec, workers, scheduler, resume, finished and shard is None, folder, progress,
                      temporary=tmp is not None, shard=shard)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _sweep(spec: SweepSpec, workers: int, scheduler: str | None, resume: bool, finished: bool, folder: Path,
           progress: Progress | None, temporary: bool, shard: tuple[int, int] | None = None) -> SweepResults:
    started = time.perf_counter()
    design = spec.design()
    fingerprint = spec.fingerprint()
    parts = store.Parts(folder)
    points_file = folder / "points.parquet"
    schema = part_schema(spec)
    if not finished and shard is None:
        parts.clean_temp()  # (a shard leaves the temporary files of shards running beside it)
    manifest = store.base_manifest("sweep", spec.seed, {
        "scenario_file": str(spec.scenario_file) if spec.scenario_file else None,
        "scenario_sha256": store.file_sha256(spec.scenario_file),
        "scenario_name": spec.scenario.name, "overrides": overrides_of(spec.scenario),
        "policies": list(spec.policies) or [spec.policy], "replications": spec.replications,
        "workers": workers, "backend": backend_label(workers, scheduler),
        "fingerprint": fingerprint,
        "sweep": {**spec.describe(), "sampler": design.sampler, "fingerprint": fingerprint},
    })
    if shard is None or not resume:  # a shard joining a folder leaves its manifest alone
        manifest = store.start_manifest(folder, manifest)
        store.atomic_write_text(folder / "scenario.resolved.yaml", dump_resolved(spec.base))
    lost: list[dict[str, Any]] = []

    ran, run_seconds = 0, 0.0
    if finished:
        table = pq.read_table(points_file)
        done_before = table.num_rows
    else:
        done = done_runs(parts, spec.policies)
        done_before = len(done)
        mine = range(len(design)) if shard is None else range(shard[0], len(design), shard[1])
        # a point's policies and replications are consecutive: a worker builds each scenario once
        tasks = [Task(spec.task_key(p, i), r, spec.seed_key(p, r)) for p in mine
                 for i in range(spec.policy_count) for r in range(spec.replications) if (p, i, r) not in done]
        if progress:
            progress(0, len(tasks))
        for chunk in execute(_payload(spec, tasks), tasks, workers, scheduler, lost=lost):
            if any((res.error or "").startswith(CodeMismatch.__name__) for res in chunk):
                raise CodeMismatch(CODE_MISMATCH + f"; the runs finished so far are kept in {parts.root}")
            first = chunk[0].task
            point, policy = split_key(first.key)
            parts.write(PART_KIND, f"p{point:08d}" + (f"i{policy:03d}" if spec.policies else "")
                        + f"r{first.replication:06d}", part_table(chunk, design, schema, spec.policies))
            ran += len(chunk)
            run_seconds += sum(res.seconds for res in chunk)
            if progress:
                progress(ran, len(tasks))
        table = combine_parts(parts, schema, spec.policies)
        if shard is not None:
            return _shard_results(spec, table, manifest, folder, shard, ran, lost)
        if table.num_rows != spec.run_count():
            raise RuntimeError(f"expected {spec.run_count()} runs in the parts, found {table.num_rows}")
        store.atomic_write_table(points_file, table)
        parts.remove()

    points = table.to_pandas()
    if spec.policies:
        write_robustness(folder, spec, points)
    analysed = points[points["policy"] == spec.policies[0]] if spec.policies else points  # the baseline's
    means = point_means(analysed, list(spec.kpis), len(design))
    # with common random numbers the seeds' effect is shared by every point: replication variance is no floor
    noise = {} if spec.common_random_numbers else noise_shares(analysed, list(spec.kpis))
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
        "lost_chunks_retried": lost,
    })
    text = summary_text(sens, {
        "title": spec.description or spec.name, "method": spec.method, "points": len(design),
        "replications": spec.replications, "runs": spec.run_count(), "scenario_name": spec.scenario.name,
        "policy": spec.policy, "failed_points": manifest["failed_points"]})
    store.atomic_write_text(folder / "sensitivity.md", text)
    store.write_manifest(folder, manifest)
    return SweepResults(points, sens, manifest, spec, None if temporary else folder, text)


def _payload(spec: SweepSpec, tasks: list[Task]) -> Payload:
    """The base scenario(s) and each task's overrides: the point's values (constrained groups rescaled)."""
    dumps = {i: b.model_dump(mode="python") for i, b in enumerate(spec.bases.values())} or \
        {0: spec.base.model_dump(mode="python")}
    overrides = {}
    for t in tasks:
        if t.key not in overrides:
            point, policy = split_key(t.key)
            dump = dumps[policy]
            overrides[t.key] = concrete_overrides(point_overrides(spec.design().point(point), dump), dump)
    bases = {str(i): b for i, b in enumerate(spec.bases.values())}
    return Payload(PointScenarios(spec.base, overrides, LOADED_CODE, bases), spec.seed, events="none",
                   keep_tables=False)


def _shard_results(spec: SweepSpec, table: Any, manifest: dict[str, Any], folder: Path, shard: tuple[int, int],
                   ran: int, lost: list[dict[str, Any]]) -> SweepResults:
    """What a shard returns: the rows in the folder so far (every shard's), no analysis."""
    manifest = {**manifest, "shard": f"{shard[0]}/{shard[1]}", "runs_this_call": ran, "lost_chunks_retried": lost,
                "runs_in_folder": table.num_rows, "runs_expected": spec.run_count()}
    return SweepResults(table.to_pandas(), pd.DataFrame(), manifest, spec, folder,
                        f"shard {shard[0]}/{shard[1]}: {ran} runs; {table.num_rows} of {spec.run_count()} in {folder}")
