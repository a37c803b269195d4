"""Sweep files: what a sweep file may hold (pydantic), and the validated sweep (:class:`SweepSpec`).

The sizes are capped so that a sweep's number of runs is known, and bounded, before it starts:
``samples`` at most 2**20, ``replications`` at most 10,000, at most 100 parameters of at most
1,000 levels each, and at most :data:`MAX_RUNS` runs in all (checked in :mod:`.sweep_check`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .. import metrics
from ..scenario import BASELINE, Scenario, resolve_policy
from . import store
from .points import LOADED_CODE
from .sampling import Design, Parameter, build_design, point_count

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
MAX_SAMPLES = 1 << 20
"""Largest ``samples`` of a sweep file."""
MAX_REPLICATIONS = 10_000
"""Most replications per point."""
MAX_RUNS = 10_000_000
"""Most runs (points × replications) one sweep may make."""


Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Whole = Annotated[int, Field(strict=True)]


class ParameterSpec(BaseModel):
    """One swept parameter: a range ``{low, high[, log]}`` or a list of ``levels``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    log: Annotated[bool, Field(strict=True)] = Field(False, description="sample the range log-uniformly (low > 0)")
    low: Number | None = Field(None, description="lowest value (in the parameter's own unit)")
    high: Number | None = Field(None, description="highest value, above low")
    levels: list[Any] | None = Field(None, min_length=2, max_length=1000, description="the values to try, for text, true/false or "
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


class Threshold(BaseModel):
    """A satisficing threshold on a KPI: the policy's mean in a future must be at most ``max``
    and/or at least ``min``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: Number | None = Field(None, description="the KPI must be at least this")
    max: Number | None = Field(None, description="the KPI must be at most this")

    @model_validator(mode="after")
    def _one_bound(self) -> "Threshold":
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not be above max")
        return self

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def describe(self) -> dict[str, float]:
        return {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}


class SweepFile(BaseModel):
    """What a sweep file may hold (the structure; names are checked against the scenario afterwards)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field("", max_length=20_000, description="what the sweep is for, in plain words")
    scenario: str = Field(min_length=1, max_length=4096, description="base scenario file, relative to the sweep file")
    policy: str | None = Field(BASELINE, description="policy of the scenario to sweep around (default baseline)")
    method: Literal["grid", "lhs", "sobol", "morris"] = Field(description="grid | lhs | sobol | morris")
    samples: Annotated[Whole, Field(ge=1, le=MAX_SAMPLES)] | None = Field(
        None, description="sobol, morris: base samples N; lhs: points; grid: values per range (at most 2**20)")
    replications: Annotated[Whole, Field(ge=1, le=MAX_REPLICATIONS)] = Field(1, description="replications per point (at most 10,000)")
    seed: Annotated[Whole, Field(ge=0, le=2**64 - 1)] | None = Field(None, description="root seed (default: the scenario's seed)")
    parameters: dict[str, ParameterSpec] = Field(min_length=1, max_length=100, description="dotted key paths with {low, high[, log]} "
                                                                          "or {levels: [...]}")
    kpis: list[str] = Field(list(DEFAULT_KPIS), min_length=1, max_length=100, description="KPIs to analyse")
    common_random_numbers: Annotated[bool, Field(strict=True)] = Field(
        False, description="true: replication r of every point uses the same seed")
    policies: Literal["all"] | Annotated[list[str], Field(min_length=1, max_length=100)] | None = Field(
        None, description="policies x futures: 'all' or a list of the scenario's policies; every point runs each, "
                          "replication r of every policy sharing a seed, compared with the baseline")
    satisficing: dict[str, Threshold] = Field(
        {}, max_length=100, description="policies x futures: KPI thresholds {min: x} and/or {max: y}; robustness.csv "
                                        "counts the futures in which each policy meets each")


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
    policies: tuple[str, ...] = ()          # policies x futures: the baseline first; () for a one-policy sweep
    satisficing: dict[str, Threshold] = field(default_factory=dict)
    base: Scenario = field(init=False)      # the scenario with the policy applied: what points override
    _design: Design | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.base = resolve_policy(self.scenario, self.policy)
        self.bases = {name: resolve_policy(self.scenario, name) for name in self.policies}

    @property
    def policy_count(self) -> int:
        """Policies each point runs (1 for a one-policy sweep)."""
        return max(1, len(self.policies))

    def task_key(self, point: int, policy: int) -> str:
        """A run's scenario key: the point id, with the policy's index after a colon in a policies sweep."""
        return f"{point}:{policy}" if self.policies else str(point)

    @property
    def name(self) -> str:
        return self.file.stem if self.file else "sweep"

    def point_count(self) -> int:
        return point_count(self.method, len(self.parameters), self.samples, list(self.parameters.values()))

    def run_count(self) -> int:
        return self.point_count() * self.policy_count * self.replications

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
            "policies": list(self.policies),
            "satisficing": {k: t.describe() for k, t in self.satisficing.items()},
            "seed_note": ("point p, replication r runs with numpy SeedSequence(entropy=seed, spawn_key="
                          + ("(r,))" if self.common_random_numbers else "(p, r))")
                          + (": the same seed for every policy at a point" if self.policies else "")),
        }

    def fingerprint(self) -> str:
        """Hash of what determines the results (not the KPIs analysed): resume refuses a mismatch."""
        d = self.describe()
        data = {k: d[k] for k in ("method", "samples", "replications", "seed", "parameters", "common_random_numbers",
                                   "policy", "policies")}
        data["bases"] = {n: b.model_dump(mode="json") for n, b in self.bases.items()}
        data["base"] = self.base.model_dump(mode="json")
        data["code"] = LOADED_CODE
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
