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
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from .. import metrics
from ..scenario import BASELINE, Problem, Scenario, ScenarioError, load_scenario, read_yaml, resolve_policy
from ..scenario.loading import Where, _line_for, dump_resolved, policy_names, problems_from, with_overrides
from . import store
from .executors import backend_label, default_workers, execute
from .sampling import Design, Parameter, build_design, point_count, sampler_seed
from .sensitivity import analyse, columns as sensitivity_columns, noise_shares, point_means, summary_text
from .points import CODE_MISMATCH, LOADED_CODE, CodeMismatch, InvalidPoint, PointScenarios
from .tasks import Payload, Task, TaskResult

Progress = Callable[[int, int], None]
"""Called with (runs done, runs to do in this call) as results arrive."""

CONSTRAINED_GROUPS: tuple[str, ...] = ("procurement.competitions.weights", "market.size_mix")
NOT_PARAMETERS = {"policies": "policies cannot be swept: sweep the values themselves, or set 'policy:'",
                  "seed": "the scenario seed is not used by sweeps: set the sweep's own 'seed:'",
                  "name": "the name is not a model parameter", "description": "not a model parameter"}
DEFAULT_KPIS: tuple[str, ...] = ("insolvencies_small", "providers_active_end", "share_of_value_small",
                                 "service_users_reached", "contract_failures", "service_gap_days", "bids_per_lot",
                                 "commissioner_spend")
ALL_KPIS: tuple[str, ...] = tuple(metrics.KPI_NAMES) + tuple(metrics.EXTRA_KPIS)
PART_KIND = "points"


# =========================================================================== the sweep file

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Whole = Annotated[int, Field(strict=True)]


class ParameterSpec(BaseModel):
    """One swept parameter: a range ``{low, high[, log]}`` or a list of ``levels``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    log: Annotated[bool, Field(strict=True)] = Field(False, description="sample the range log-uniformly (low > 0)")
    low: Number | None = Field(None, description="lowest value (in the parameter's own unit)")
    high: Number | None = Field(None, description="highest value, above low")
    levels: list[Any] | None = Field(None, min_length=2, description="the values to try, for text, true/false or "
                                                                       "a few chosen numbers")

    @field_validator("low")
    @classmethod
    def _log_needs_positive(cls, low: float | None, info: ValidationInfo) -> float | None:
        if low is not None and info.data.get("log") and low <= 0:
            raise ValueError("log: true needs low above 0")
        return low

    @field_validator("high")
    @classmethod
    def _above_low(cls, high: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("low")
        if high is not None and low is not None and not high > low:
            raise ValueError(f"high must be above low ({low:g})")
        return high

    @model_validator(mode="after")
    def _range_or_levels(self) -> "ParameterSpec":
        if self.levels is not None:
            if self.low is not None or self.high is not None or self.log:
                raise ValueError("give either low and high (and log), or levels, not both")
        elif self.low is None or self.high is None:
            missing = " and ".join(k for k in ("low", "high") if getattr(self, k) is None)
            raise ValueError(f"missing {missing}: give low and high, or levels")
        return self


class SweepFile(BaseModel):
    """What a sweep file may hold (the structure; names are checked against the scenario afterwards)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field("", description="what the sweep is for, in plain words")
    scenario: str = Field(min_length=1, description="base scenario file, relative to the sweep file")
    policy: str | None = Field(BASELINE, description="policy of the scenario to sweep around (default baseline)")
    method: Literal["grid", "lhs", "sobol", "morris"] = Field(description="grid | lhs | sobol | morris")
    samples: Annotated[Whole, Field(ge=1)] | None = Field(
        None, description="sobol, morris: base samples N; lhs: points; grid: values per range")
    replications: Annotated[Whole, Field(ge=1)] = Field(1, description="replications per point")
    seed: Annotated[Whole, Field(ge=0)] | None = Field(None, description="root seed (default: the scenario's seed)")
    parameters: dict[str, ParameterSpec] = Field(min_length=1, description="dotted key paths with {low, high[, log]} "
                                                                          "or {levels: [...]}")
    kpis: list[str] = Field(list(DEFAULT_KPIS), min_length=1, description="KPIs to analyse")
    common_random_numbers: Annotated[bool, Field(strict=True)] = Field(
        False, description="true: replication r of every point uses the same seed")


SWEEP_KEYS: dict[str, str] = {k: f.description or "" for k, f in SweepFile.model_fields.items()}


@dataclass
class SweepSpec:
    """A validated sweep: base scenario, parameters, method, sizes, KPIs, seed."""

    file: Path | None
    scenario_file: Path | None
    scenario: Scenario                      # as loaded (all policies)
    policy: str
    method: str
    samples: int
    replications: int
    seed: int
    parameters: dict[str, Parameter]
    kpis: tuple[str, ...]
    common_random_numbers: bool = False
    description: str = ""
    base: Scenario = field(init=False)      # the scenario with the policy applied: what points override
    _design: Design | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.base = resolve_policy(self.scenario, self.policy)

    @property
    def name(self) -> str:
        return self.file.stem if self.file else "sweep"

    def point_count(self) -> int:
        return point_count(self.method, len(self.parameters), self.samples, list(self.parameters.values()))

    def run_count(self) -> int:
        return self.point_count() * self.replications

    def design(self) -> Design:
        if self._design is None:
            self._design = build_design(self.method, list(self.parameters.values()), self.samples, self.seed)
        return self._design

    def seed_key(self, point: int, replication: int) -> tuple[int, ...]:
        return (replication,) if self.common_random_numbers else (point, replication)

    def describe(self) -> dict[str, Any]:
        """The manifest's ``sweep`` record: everything needed to rebuild the design and seeds."""
        return {
            "file": str(self.file) if self.file else None,
            "sweep_sha256": store.file_sha256(self.file),
            "description": self.description,
            "scenario": str(self.scenario_file) if self.scenario_file else None,
            "scenario_sha256": store.file_sha256(self.scenario_file),
            "scenario_name": self.scenario.name,
            "policy": self.policy,
            "method": self.method,
            "samples": self.samples,
            "replications": self.replications,
            "points": self.point_count(),
            "runs": self.run_count(),
            "seed": self.seed,
            "parameters": {n: p.describe() for n, p in self.parameters.items()},
            "constraints": [f"{g}.*: members not swept rescale in proportion so the group sums to 1"
                            for g in CONSTRAINED_GROUPS if any(n.startswith(g + ".") for n in self.parameters)],
            "kpis": list(self.kpis),
            "common_random_numbers": self.common_random_numbers,
            "seed_note": ("point p, replication r runs with numpy SeedSequence(entropy=seed, spawn_key="
                          + ("(r,))" if self.common_random_numbers else "(p, r))")),
        }

    def fingerprint(self) -> str:
        """Hash of what determines the results (not the KPIs analysed): resume refuses a mismatch."""
        d = self.describe()
        data = {k: d[k] for k in ("method", "samples", "replications", "seed", "parameters", "common_random_numbers",
                                   "policy")}
        data["base"] = self.base.model_dump(mode="json")
        data["code"] = LOADED_CODE
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; raise :class:`ScenarioError` naming file, key path and line."""
    path = Path(path)
    data, where = read_yaml(path)
    return parse_sweep(data, str(path), where, path.parent)


def parse_sweep(data: dict[str, Any], file: str = "<sweep>", where: Where | None = None,
                base_dir: str | Path = ".") -> SweepSpec:
    """Validate sweep data (as read from YAML): its structure by :class:`SweepFile`, then its names and
    values against the base scenario."""
    where = where or {}
    try:
        raw = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([_with_hint(p) for p in problems_from(exc, file, where)]) from None
    problems: list[Problem] = []

    def add(path: str, message: str) -> None:
        line = _line_for(path, where, "")
        problems.append(Problem(line[0] if line else file, path, line[1] if line else None, message))

    scenario_file = Path(base_dir) / raw.scenario
    if not scenario_file.is_file():
        add("scenario", f"scenario file '{raw.scenario}' not found (looked in {scenario_file.parent})")
        raise ScenarioError(problems)
    scenario = load_scenario(scenario_file)  # its own errors name its own file and lines
    policy = raw.policy or BASELINE
    if policy not in policy_names(scenario):
        add("policy", f"unknown policy '{policy}'; the scenario has: {', '.join(policy_names(scenario))}")
        raise ScenarioError(problems)
    base = resolve_policy(scenario, policy)
    dump = base.model_dump(mode="python")
    parameters = {}
    for name, spec in raw.parameters.items():
        par = _parameter(add, name, spec, base, dump)
        if par is not None:
            parameters[name] = par

    samples = raw.samples
    if samples is None and raw.method == "grid" and all(p.levels is not None for p in parameters.values()):
        samples = 1
    if samples is None:
        add("samples", "required key is missing: " + SWEEP_KEYS["samples"])
    elif raw.method == "sobol" and (samples < 2 or samples & (samples - 1)):
        add("samples", f"sobol needs a power of two (e.g. 64, 128, 256), got {samples}")
    elif raw.method in ("morris", "lhs") and samples < (2 if raw.method == "morris" else 3):
        add("samples", f"{raw.method} needs at least {2 if raw.method == 'morris' else 3} samples, got {samples}")
    elif raw.method == "grid" and samples < 2 and any(p.levels is None for p in parameters.values()):
        add("samples", "grid needs at least 2 values per range")

    for i, k in enumerate(raw.kpis):
        if k not in ALL_KPIS:
            add(f"kpis.{i}", f"unknown KPI {k!r}{_did_you_mean(k, ALL_KPIS, metrics.KPI_NAMES, 'known KPIs')}")
        elif k in raw.kpis[:i]:
            add(f"kpis.{i}", f"KPI {k!r} is listed twice")
    if problems:
        raise ScenarioError(problems)
    assert samples is not None
    return SweepSpec(file=Path(file) if file != "<sweep>" else None, scenario_file=scenario_file, scenario=scenario,
                     policy=policy, method=raw.method, samples=samples, replications=raw.replications,
                     seed=raw.seed if raw.seed is not None else int(scenario.seed), parameters=parameters,
                     kpis=tuple(raw.kpis), common_random_numbers=raw.common_random_numbers,
                     description=raw.description)


def _did_you_mean(word: str, choices: Any, listed: Any, what: str) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f" (did you mean '{close[0]}'?)" if close else f"; {what}: {', '.join(map(str, listed))}"


def _with_hint(problem: Problem) -> Problem:
    """An unknown key in a sweep file, with the nearest key it may mean (scenario keys are not involved)."""
    if not problem.path or not problem.message.startswith("unknown key"):
        return problem
    parent, _, key = problem.path.rpartition(".")
    keys = ParameterSpec.model_fields if parent.startswith("parameters.") else SWEEP_KEYS
    what = "a parameter takes" if parent else "sweep files take"
    return dataclasses.replace(problem, message="unknown key" + _did_you_mean(key, keys, keys, what))


def _parameter(add: Callable[[str, str], None], name: str, spec: ParameterSpec, base: Scenario,
               dump: dict[str, Any]) -> Parameter | None:
    """Check a parameter against the base scenario: its path, its kind, and that its ends or levels are valid."""
    key = f"parameters.{name}"
    head = name.split(".")[0]
    if head in NOT_PARAMETERS:
        add(key, NOT_PARAMETERS[head])
        return None
    found, current = _lookup(dump, name)
    if not found:
        add(key, current)
        return None
    if isinstance(current, (dict, list, tuple)):
        sub = ", ".join(map(str, current)) if isinstance(current, dict) else f"0..{len(current) - 1}"
        add(key, f"'{name}' is a section, not a value: name one of its entries ({sub})")
        return None
    kind = _field_kind(name, current)
    bad = []

    def check(path: str, value: Any) -> None:
        """A parameter's end or level must give a valid scenario (with constrained groups rescaled)."""
        try:
            with_overrides(base, concrete_overrides(point_overrides({name: value}, dump), dump))
        except ScenarioError as exc:
            msg = "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in exc.problems)
            bad.append(path)
            add(path, f"value {value!r} gives an invalid scenario: {msg}")

    if spec.levels is not None:
        levels = [int(v) if kind == "int" and isinstance(v, float) and v.is_integer() else v for v in spec.levels]
        seen: list[str] = []
        for i, level in enumerate(levels):
            ident = json.dumps(level, sort_keys=True, default=str)
            if ident in seen:
                bad.append(i)
                add(f"{key}.levels.{i}", f"level {ident} is listed twice")
            seen.append(ident)
            check(f"{key}.levels.{i}", level)
        return None if bad else Parameter(name, levels=tuple(levels), integer=kind == "int")
    if kind not in ("int", "float"):
        add(key, f"'{name}' is not a number ({current!r}): list its values with levels: [...]")
        return None
    low, high = spec.low, spec.high
    assert low is not None and high is not None
    if kind == "int":
        for k, v in (("low", low), ("high", high)):
            if not float(v).is_integer():
                bad.append(k)
                add(f"{key}.{k}", f"'{name}' takes whole numbers, got {v!r}")
        if bad:
            return None
        low, high = int(low), int(high)
    check(f"{key}.low", low)
    check(f"{key}.high", high)
    return None if bad else Parameter(name, low=low, high=high, log=spec.log, integer=kind == "int")


def _lookup(data: Any, dotted: str) -> tuple[bool, Any]:
    """(True, value) at a dotted path through mappings and lists, or (False, an explanation)."""
    current = data
    done: list[str] = []
    for part in dotted.split("."):
        if isinstance(current, dict):
            if part not in current:
                where = ".".join(done) or "the scenario"
                return False, (f"unknown parameter: '{where}' has no key '{part}'"
                               + _did_you_mean(part, current, current, "it has"))
            current = current[part]
        elif isinstance(current, (list, tuple)):
            if not part.isdigit() or int(part) >= len(current):
                return False, (f"unknown parameter: '{'.'.join(done)}' is a list of {len(current)}; "
                               f"use an index 0..{len(current) - 1}")
            current = current[int(part)]
        else:
            return False, f"unknown parameter: '{'.'.join(done)}' is a value, it has no key '{part}'"
        done.append(part)
    return True, current


def _field_kind(dotted: str, current: Any) -> str:
    """'int', 'float' or 'other': from the schema annotation, else from the base value."""
    import types
    from typing import Union, get_args, get_origin

    def strip(ann: Any) -> Any:
        while True:
            origin = get_origin(ann)
            if origin is Annotated:
                ann = get_args(ann)[0]
            elif origin in (Union, types.UnionType):
                args = [a for a in get_args(ann) if a is not type(None)]
                if len(args) != 1:
                    return ann
                ann = args[0]
            else:
                return ann

    ann: Any = Scenario
    for part in dotted.split("."):
        if isinstance(ann, type) and issubclass(ann, BaseModel) and part in ann.model_fields:
            ann = strip(ann.model_fields[part].annotation)
        else:
            ann = None
            break
    if ann in (int, float):
        return ann.__name__
    if ann in (bool, str) or get_origin(ann) is Literal or isinstance(current, bool):
        return "other"
    return {int: "int", float: "float"}.get(type(current), "other")


# =========================================================================== points -> scenarios


def point_overrides(values: dict[str, Any], base_dump: dict[str, Any]) -> dict[str, Any]:
    """A point's overrides: its values, plus the rescaled members of constrained groups."""
    out = dict(values)
    for group in CONSTRAINED_GROUPS:
        swept = {n.rsplit(".", 1)[1]: float(v) for n, v in values.items() if n.rsplit(".", 1)[0] == group}
        if not swept:
            continue
        found, members = _lookup(base_dump, group)
        if not found or not isinstance(members, dict):
            continue
        rest = [k for k in members if k not in swept]
        if not rest:
            continue
        left = 1.0 - sum(swept.values())
        total = sum(float(members[k]) for k in rest)
        for k in rest:
            share = float(members[k]) / total if total > 0 else 1.0 / len(rest)
            out[f"{group}.{k}"] = left * share
    return out


def concrete_overrides(overrides: dict[str, Any], base_dump: dict[str, Any]) -> dict[str, Any]:
    """Overrides with paths through lists (e.g. ``shocks.0.extra_days``) turned into whole-list values."""
    out: dict[str, Any] = {}
    lists: dict[str, Any] = {}
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        current = base_dump
        cut = None
        for i, part in enumerate(parts[:-1]):
            current = current[int(part)] if isinstance(current, (list, tuple)) else current[part]
            if isinstance(current, (list, tuple)):
                cut = i + 1
                break
        if cut is None:
            out[dotted] = value
            continue
        head = ".".join(parts[:cut])
        if head not in lists:
            lists[head] = copy.deepcopy(list(_lookup(base_dump, head)[1]))
        target: Any = lists[head]
        rest = parts[cut:]
        for part in rest[:-1]:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(rest[-1])] = value
        else:
            target[rest[-1]] = value
    out.update(lists)
    return out


# =========================================================================== the sweep


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
    if resume and out is None:
        raise ValueError("resume needs the output folder of the sweep to resume (out=...)")
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="dps_sim-sweep-")
        folder = Path(tmp.name)
    else:
        folder = store.prepare_out(out, force=force, resume=resume)
    try:
        return _sweep(spec, workers, scheduler, resume, folder, progress, temporary=tmp is not None)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _sweep(spec: SweepSpec, workers: int, scheduler: str | None, resume: bool, folder: Path,
           progress: Progress | None, temporary: bool) -> SweepResults:
    started = time.perf_counter()
    design = spec.design()
    fingerprint = spec.fingerprint()
    parts = store.Parts(folder)
    stamp = parts.root / "sweep.json"
    points_file = folder / "points.parquet"
    schema = _schema(spec)

    finished = resume and _check_resume(folder, parts, stamp, fingerprint, points_file)
    if not finished:
        parts.clean_temp()
        store.atomic_write_text(stamp, json.dumps({"fingerprint": fingerprint, "runs": spec.run_count()}))
    manifest = store.base_manifest("sweep", spec.seed, {
        "scenario_file": str(spec.scenario_file) if spec.scenario_file else None,
        "scenario_sha256": store.file_sha256(spec.scenario_file),
        "scenario_name": spec.scenario.name, "policies": [spec.policy], "replications": spec.replications,
        "workers": workers, "backend": backend_label(workers, scheduler),
        "sweep": {**spec.describe(), "sampler": design.sampler, "fingerprint": fingerprint},
    })
    store.atomic_write_text(folder / "scenario.resolved.yaml", dump_resolved(spec.base))

    ran, run_seconds = 0, 0.0
    if finished:
        table = pq.read_table(points_file)
        done_before = table.num_rows
    else:
        done = _done_runs(parts)
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
                        _part_table(chunk, design, schema))
            ran += len(chunk)
            run_seconds += sum(res.seconds for res in chunk)
            if progress:
                progress(ran, len(tasks))
        table = _combine(parts, schema)
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


def _check_resume(folder: Path, parts: store.Parts, stamp: Path, fingerprint: str, points_file: Path) -> bool:
    """Check a folder can be resumed; True if the sweep there already finished."""
    if stamp.exists():
        if json.loads(stamp.read_text()).get("fingerprint") != fingerprint:
            raise store.OutputExistsError(
                f"{folder} holds parts of a different sweep (sweep file, base scenario or model code changed); "
                "choose another --out, or pass --force to start again")
        return False
    manifest_file = folder / "manifest.json"
    if manifest_file.exists():
        try:
            old = json.loads(manifest_file.read_text()).get("sweep", {}).get("fingerprint")
        except (OSError, ValueError):
            old = None
        if old == fingerprint and points_file.exists():
            return True
        raise store.OutputExistsError(
            f"{folder} holds the results of a different run or sweep; choose another --out, or pass --force")
    if parts.root.exists() and any(parts.root.rglob("*.parquet")):
        raise store.OutputExistsError(f"{folder}/.parts holds parts of an unknown sweep; pass --force to start again")
    return False


def _done_runs(parts: store.Parts) -> set[tuple[int, int]]:
    """(point, replication) pairs already in the parts; an unreadable part is removed (and recomputed)."""
    done: set[tuple[int, int]] = set()
    folder = parts.root / PART_KIND
    for f in sorted(folder.glob("*.parquet")) if folder.exists() else []:
        try:
            t = pq.read_table(f, columns=["point", "replication"])
        except Exception:  # pragma: no cover - parts are written atomically
            f.unlink()
            continue
        done.update(zip(t.column("point").to_pylist(), t.column("replication").to_pylist()))
    return done


def _schema(spec: SweepSpec) -> pa.Schema:
    fields = [pa.field("point", pa.int64()), pa.field("replication", pa.int64())]
    fields += [pa.field(name, _param_type(par)) for name, par in spec.parameters.items()]
    fields += [pa.field(k, pa.float64()) for k in ALL_KPIS]
    fields += [pa.field("error", pa.string()), pa.field("seconds", pa.float64())]
    return pa.schema(fields)


def _param_type(par: Parameter) -> pa.DataType:
    if par.levels is None:
        return pa.int64() if par.integer else pa.float64()
    for check, typ in ((lambda v: isinstance(v, bool), pa.bool_()),
                       (lambda v: isinstance(v, int) and not isinstance(v, bool), pa.int64()),
                       (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), pa.float64())):
        if all(check(v) for v in par.levels):
            return typ
    return pa.string()  # text, or mixed levels (e.g. null and numbers) as JSON text


def _param_cell(value: Any, typ: pa.DataType) -> Any:
    if pa.types.is_string(typ) and not isinstance(value, str):
        return json.dumps(value, default=str)
    if pa.types.is_floating(typ):
        return float(value)
    return value


def _part_table(chunk: list[TaskResult], design: Design, schema: pa.Schema) -> pa.Table:
    """One finished task's rows: point, replication, the point's values, every KPI, error, seconds."""
    points = [int(res.task.key) for res in chunk]
    data: dict[str, list] = {"point": points, "replication": [res.task.replication for res in chunk]}
    for j, par in enumerate(design.parameters):
        typ = schema.field(par.name).type
        data[par.name] = [_param_cell(design.values[p][j], typ) for p in points]
    for k in ALL_KPIS:
        data[k] = [float(res.kpis.get(k, float("nan"))) for res in chunk]
    # an invalid point needs no traceback: its message says which value is wrong
    data["error"] = [(e.split("\n", 1)[0] if e.startswith(InvalidPoint.__name__) else e)
                     for e in (res.error or "" for res in chunk)]
    data["seconds"] = [res.seconds for res in chunk]
    return pa.table(data, schema=schema)


def _combine(parts: store.Parts, schema: pa.Schema) -> pa.Table:
    """All parts in (point, replication) order, without timings (so tables match whatever ran them)."""
    folder = parts.root / PART_KIND
    files = sorted(folder.glob("*.parquet")) if folder.exists() else []
    if not files:
        return schema.empty_table().drop_columns(["seconds"])
    table = pa.concat_tables([pq.read_table(f, schema=schema) for f in files])
    table = table.sort_by([("point", "ascending"), ("replication", "ascending")])
    keys = np.asarray(table.column("point")) * (1 << 20) + np.asarray(table.column("replication"))
    first = np.concatenate([[True], keys[1:] != keys[:-1]])
    if not first.all():
        table = table.filter(pa.array(first))
    return table.drop_columns(["seconds"]).combine_chunks()
