"""Running replications of one or more policies and writing the output folder.

``run`` runs one policy; ``compare`` runs every policy of a scenario with common random
numbers (replication r of every policy uses the same seed) and adds ``summary.csv`` with
paired differences from the baseline. Both stream each replication's tables to disk as it
finishes and return a :class:`Results` holding the final pandas tables.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pyarrow as pa

from .. import metrics
from ..scenario import BASELINE, Scenario, dump_resolved, load_scenario, policy_names, resolve_policy
from . import outdir, store
from ..scenario.loading import overrides_of, source_file
from .equal_spend import Runner, SpendMatch, match_budgets, matching, spend_match_inputs
from .executors import backend_label, default_workers, execute
from .mainguard import check_workers
from .seeds import resolve_seed, seed_record
from .stats import summarise
from .points import LOADED_CODE
from .tasks import Payload, Task, TaskResult

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
        force: bool = False, resume: bool = False, progress: Progress | None = None) -> Results:
    """Run ``reps`` replications of one policy (default: the baseline) and write the output folder.

    ``resume``: run only the replications missing from ``out`` (which must hold the same run)."""
    sc, path = _as_scenario(scenario)
    name = policy or BASELINE
    resolve_policy(sc, name)  # fail early on an unknown policy
    return _execute(sc, path, [name], reps, seed, workers, scheduler, events, out, force, resume, progress,
                    with_summary=False)


def compare(scenario: Scenario | str | Path, reps: int = 20, seed: int | None = None, *, workers: int | None = None,
            scheduler: str | None = None, events: str = "awards", out: str | Path | None = None, force: bool = False,
            resume: bool = False, progress: Progress | None = None, policies: list[str] | None = None) -> Results:
    """Run every policy of the scenario (or those named, the baseline always first) with common random
    numbers and summarise paired differences. ``resume``: run only what is missing from ``out``."""
    sc, path = _as_scenario(scenario)
    workers = default_workers() if workers is None else workers
    names = policy_names(sc)
    if policies is not None:
        wanted = set(policies)
        for p in policies:
            target = resolve_policy(sc, p).budget.match_spend_of  # an unknown name is bad input, naming the file
            if target:  # an equal-spend policy brings the policy it matches, so that the comparison shows both
                wanted.add(target)
        names = [n for n in names if n == BASELINE or n in wanted]
    return _execute(sc, path, names, reps, seed, workers, scheduler, events, out, force, resume, progress,
                    with_summary=True)


def fingerprint(command: str, resolved: dict[str, Scenario], reps: int, seed: int, events: str,
                extra: dict[str, Any] | None = None) -> str:
    """Hash of what decides a run's or comparison's tables: resume refuses a folder with another.
    ``extra``: what else decides them (an equal-spend search's inputs)."""
    data = {"command": command, "policies": {p: s.model_dump(mode="json") for p, s in resolved.items()},
            "order": list(resolved), "reps": reps, "seed": seed, "events": events, "code": LOADED_CODE,
            **({"extra": extra} if extra else {})}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _execute(sc: Scenario, path: str | None, policies: list[str], reps: int, seed: int | None, workers: int,
             scheduler: str | None, events: str, out: str | Path | None, force: bool, resume: bool,
             progress: Progress | None, with_summary: bool) -> Results:
    if reps < 1:
        raise ValueError("reps must be at least 1")
    if resume and out is None:
        raise ValueError("resume needs the output folder to resume (out=...)")
    kind = "compare" if with_summary else "run"
    check_workers(workers, scheduler, f"dps_sim.{kind}")  # a script without the __main__ guard: say so first
    root_seed = resolve_seed(seed, sc.seed)
    resolved = {p: resolve_policy(sc, p) for p in policies}
    # taken before any equal-spend search, on what decides the factors (the policies matched, the search's code)
    print_ = fingerprint(kind, resolved, reps, root_seed, events, spend_match_inputs(sc, resolved))
    tmp = None
    if out is None:
        matched = _matched(sc, resolved, {}, reps, root_seed, workers, progress)
        tmp = tempfile.TemporaryDirectory(prefix="dps_sim-")
        folder = Path(tmp.name)
    else:
        if not resume:  # search before the folder is made or emptied: bad input then leaves it as it was
            outdir.prepare(out, kind, print_, force=force, dry=True)
            matched = _matched(sc, resolved, {}, reps, root_seed, workers, progress)
        prepared = outdir.prepare(out, kind, print_, force=force, resume=resume)
        folder = prepared.path
        if prepared.finished_before and all((folder / f).is_file() for f in _tables(with_summary)):
            return _finished(folder, prepared.previous, policies, with_summary)  # as a finished sweep: run nothing
        if resume:  # take the factors the manifest holds
            matched = _matched(sc, resolved, prepared.previous, reps, root_seed, workers, progress)
    resolved, matches, offset, found = matched
    if progress and offset:
        progress = _after(progress, offset)
    try:
        manifest = store.start_manifest(folder, store.base_manifest(kind, root_seed, {
            "scenario_file": path, "scenario_sha256": store.file_sha256(path), "scenario_name": sc.name,
            "overrides": overrides_of(sc),
            "policies": policies, "replications": reps, "workers": workers, "backend": backend_label(workers, scheduler),
            "events": events, "fingerprint": print_,
            "replication_seeds": [seed_record(root_seed, r) for r in range(reps)],
            "seed_note": "replication r of every policy uses SeedSequence(entropy=seed, spawn_key=(r,))",
            **found,
        }))
        store.atomic_write_text(folder / "scenario.resolved.yaml", _resolved_yaml(sc, matches))
        parts = store.Parts(folder)
        done = _committed(parts) if resume else set()
        tasks = [Task(p, r, (r,)) for p in policies for r in range(reps) if (p, r) not in done]
        payload = Payload(resolved, root_seed, events)
        finished = len(done)
        for chunk in execute(payload, tasks, workers, scheduler):
            _write_parts(parts, chunk)
            finished += len(chunk)
            if progress:
                progress(finished, reps * len(policies))
        runs = store.order_frame(_runs_table(parts), "policy", policies, ["replication"])
        if len(runs) != reps * len(policies):
            raise RuntimeError(f"expected {reps * len(policies)} replications in the parts, found {len(runs)}")
        seconds = runs.pop("seconds")
        tables = {kind: store.order_frame(parts.read(kind), "policy", policies, ["replication", *order])
                  for kind, order in (("timeseries", ["month"]), ("providers", ["provider"]), ("events", ["day"]))}
        summary = summarise(runs, list(metrics.KPI_NAMES) + list(metrics.EXTRA_KPIS)) if with_summary else None
        _write_tables(folder, runs, tables, summary)
        parts.remove()
        manifest["failed_replications"] = int((runs["error"] != "").sum())
        manifest["replications_resumed"] = len(done)
        manifest["replication_seconds_total"] = float(seconds.sum())
        manifest["replication_seconds_median"] = float(seconds.median())
        store.write_manifest(folder, manifest)
        return Results(runs, tables["timeseries"], tables["providers"], tables["events"], summary, manifest,
                       None if tmp else folder, policies)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _matched(sc: Scenario, resolved: dict[str, Scenario], previous: dict[str, Any], reps: int, seed: int,
             workers: int, progress: Progress | None) -> tuple[dict[str, Scenario], list[SpendMatch], int, dict]:
    """The resolved policies with each equal-spend policy's budget scaled (equal_spend.py), the matches, the
    replications the search ran and the manifest's record of it; a resumed comparison takes the factors its
    manifest (``previous``) holds, and its record."""
    if not matching(resolved):
        return resolved, [], 0, {}
    main = reps * len(resolved)
    done = [0]

    def count(n: int) -> None:
        done[0] += n
        if progress:
            progress(done[0], done[0] + main)

    scaled, matches = match_budgets(sc, resolved, Runner(reps, seed, workers, count=count),
                                    known=previous.get("equal_spend") or {})
    searched = done[0] + (int(previous.get("equal_spend_replications") or 0) if previous else 0)
    return scaled, matches, done[0], {"equal_spend": {m.policy: m.record() for m in matches},
                                      "equal_spend_replications": searched}


def _after(progress: Progress, offset: int) -> Progress:
    """A progress callback that counts ``offset`` replications already done."""
    return lambda done, total: progress(done + offset, total + offset)


def _tables(with_summary: bool) -> tuple[str, ...]:
    return ("runs.csv", *(("summary.csv",) if with_summary else ()), "timeseries.parquet", "providers.parquet",
            "events.parquet")


def _finished(folder: Path, manifest: dict[str, Any], policies: list[str], with_summary: bool) -> Results:
    """The results of a finished run or comparison, read back from its folder (nothing is rewritten)."""
    runs = pd.read_csv(folder / "runs.csv", dtype={"error": str})
    runs["error"] = runs["error"].fillna("")
    tables = {k: pd.read_parquet(folder / f"{k}.parquet") for k in ("timeseries", "providers", "events")}
    summary = pd.read_csv(folder / "summary.csv") if with_summary else None
    return Results(runs, tables["timeseries"], tables["providers"], tables["events"], summary, manifest, folder,
                   policies)


def _resolved_yaml(sc: Scenario, matches: list[SpendMatch]) -> str:
    """The scenario with every default filled in; its ``policies`` overlays say how each policy differs,
    and a header gives the envelope each equal-spend policy ran with."""
    head = "".join(f"# equal spend: policy {m.policy} ran with budget.annual {m.annual:.2f} (x {m.factor:.6f}), "
                   f"spending what {m.matches} spends\n" for m in matches)
    return head + dump_resolved(sc)


KPI_COLUMNS: tuple[str, ...] = tuple(metrics.KPI_NAMES) + tuple(metrics.EXTRA_KPIS)


def _chunk_key(chunk: list[TaskResult]) -> str:
    first = chunk[0].task
    return f"{first.key}__r{first.replication:06d}"


def _write_parts(parts: store.Parts, chunk: list[TaskResult]) -> None:
    """One Parquet part per table kind for a finished chunk of replications; the runs part last, so that a
    chunk counts as done (on resume) only once all its tables are on disk."""
    if not chunk:
        return
    key = _chunk_key(chunk)
    for kind in ("timeseries", "providers", "events"):
        tables = [store.columns_table(getattr(res, kind), {"policy": res.task.key, "replication": res.task.replication})
                  for res in chunk if getattr(res, kind)]
        if tables:
            parts.write(kind, key, pa.concat_tables(tables))
    parts.write("runs", key, _runs_part(chunk))


def _runs_part(chunk: list[TaskResult]) -> pa.Table:
    """The runs.csv rows of a chunk: every KPI column always (NaN where a replication failed)."""
    extra = [k for res in chunk for k in res.kpis if k not in KPI_COLUMNS]
    data: dict[str, pa.Array] = {
        "policy": pa.array([res.task.key for res in chunk], pa.string()),
        "replication": pa.array([res.task.replication for res in chunk], pa.int64()),
    }
    for k in (*KPI_COLUMNS, *dict.fromkeys(extra)):
        data[k] = pa.array([float(res.kpis.get(k, float("nan"))) for res in chunk], pa.float64())
    data["error"] = pa.array([res.error or "" for res in chunk], pa.string())
    data["seconds"] = pa.array([round(res.seconds, 4) for res in chunk], pa.float64())
    return pa.table(data)


def _runs_table(parts: store.Parts) -> pd.DataFrame:
    """All runs rows from the parts, error and seconds last."""
    df = parts.read("runs")
    if df.empty:
        return pd.DataFrame(columns=["policy", "replication", *KPI_COLUMNS, "error", "seconds"])
    rest = [c for c in df.columns if c not in ("error", "seconds")]
    return df[rest + ["error", "seconds"]]


def _committed(parts: store.Parts) -> set[tuple[str, int]]:
    """(policy, replication) pairs whose chunk finished; parts of chunks that did not finish are removed."""
    parts.clean_temp()
    keys = parts.keys("runs")
    for kind in ("timeseries", "providers", "events"):
        for f in parts.files(kind):
            if f.stem not in keys:
                f.unlink()
    df = parts.read("runs")
    return set(zip(df["policy"], df["replication"].astype(int))) if not df.empty else set()


def _write_tables(folder: Path, runs: pd.DataFrame, tables: dict[str, pd.DataFrame], summary: pd.DataFrame | None) -> None:
    store.write_csv(folder / "runs.csv", runs)
    if summary is not None:
        store.write_csv(folder / "summary.csv", summary)
    for kind, df in tables.items():
        store.write_parquet(folder / f"{kind}.parquet", df)
