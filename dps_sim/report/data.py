"""Reading a results folder: only the saved tables, never the model.

A folder is one of three kinds: ``run`` (one policy), ``compare`` (several policies and
``summary.csv``) or ``sweep`` (``points.parquet`` and ``sensitivity.csv``). Every table is
optional here: the charts draw what is present.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..metrics import EXTRA_KPIS, KPI_NAMES

BASELINE = "baseline"


@dataclass
class ResultsFolder:
    """The saved tables of one output folder, loaded lazily."""

    folder: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, folder: str | Path) -> ResultsFolder:
        """Open a results folder (it must exist; a missing manifest.json is tolerated)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: no such results folder")
        path = folder / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        return cls(folder, manifest)

    # -- tables -------------------------------------------------------------------------
    def _csv(self, name: str) -> pd.DataFrame | None:
        path = self.folder / name
        return pd.read_csv(path) if path.exists() else None

    def _parquet(self, name: str) -> pd.DataFrame | None:
        path = self.folder / name
        return pd.read_parquet(path) if path.exists() else None

    @cached_property
    def runs(self) -> pd.DataFrame | None:
        """runs.csv without failed replications."""
        df = self._csv("runs.csv")
        return None if df is None else _without_errors(df)

    @cached_property
    def summary(self) -> pd.DataFrame | None:
        """summary.csv (compare folders only)."""
        return self._csv("summary.csv")

    @cached_property
    def timeseries(self) -> pd.DataFrame | None:
        return self._parquet("timeseries.parquet")

    @cached_property
    def providers(self) -> pd.DataFrame | None:
        return self._parquet("providers.parquet")

    @cached_property
    def points(self) -> pd.DataFrame | None:
        """points.parquet (sweeps) without failed rows; of a policies x futures sweep, the baseline's rows
        (what the sensitivity analysis and the scatter chart use: see ``differences`` for the policies)."""
        df = self._parquet("points.parquet")
        if df is not None and "policy" in df:
            df = df[df["policy"] == BASELINE].drop(columns="policy").reset_index(drop=True)
        return None if df is None else _without_errors(df)

    @cached_property
    def differences(self) -> pd.DataFrame | None:
        """differences.parquet (policies x futures sweeps): paired differences from the baseline."""
        return self._parquet("differences.parquet")

    @cached_property
    def robustness(self) -> pd.DataFrame | None:
        return self._csv("robustness.csv")

    @cached_property
    def discovery(self) -> pd.DataFrame | None:
        """discovery.csv (written by dps-sim discover)."""
        return self._csv("discovery.csv")

    @cached_property
    def discovery_trajectory(self) -> pd.DataFrame | None:
        return self._csv("discovery_trajectory.csv")

    @cached_property
    def sensitivity(self) -> pd.DataFrame | None:
        return self._csv("sensitivity.csv")

    @cached_property
    def scenario_docs(self) -> list[dict[str, Any]]:
        """The documents of scenario.resolved.yaml (baseline first, then one per policy)."""
        path = self.folder / "scenario.resolved.yaml"
        if not path.exists():
            return []
        try:
            return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)]
        except yaml.YAMLError:
            return []

    # -- what the folder is -------------------------------------------------------------
    @property
    def kind(self) -> str:
        """'sweep', 'compare' or 'run'."""
        if self.points is not None or self.sensitivity is not None or "sweep" in self.manifest:
            return "sweep"
        if self.summary is not None or len(self.policies) > 1:
            return "compare"
        return "run"

    @property
    def scenario(self) -> dict[str, Any]:
        """The baseline scenario as resolved (empty when absent)."""
        return self.scenario_docs[0] if self.scenario_docs else {}

    @property
    def sweep_spec(self) -> dict[str, Any]:
        spec = self.manifest.get("sweep")
        return spec if isinstance(spec, dict) else {}

    @property
    def scenario_name(self) -> str:
        return str(self.manifest.get("scenario_name") or self.scenario.get("name")
                   or self.sweep_spec.get("scenario_name") or self.sweep_spec.get("scenario") or self.folder.name)

    @property
    def description(self) -> str:
        return " ".join(str(self.scenario.get("description") or "").split())

    @cached_property
    def policies(self) -> list[str]:
        """Policies in the order they ran (baseline first in a comparison)."""
        listed = [str(p) for p in self.manifest.get("policies") or []]
        for df in (self.runs, self.summary, self.timeseries):
            if df is not None and "policy" in df:
                listed += [str(p) for p in pd.unique(df["policy"]) if str(p) not in listed]
        if not listed and self.sweep_spec.get("policy"):
            listed = [str(self.sweep_spec["policy"])]
        return listed

    @property
    def overlays(self) -> dict[str, dict[str, Any]]:
        """Each policy's overlay, from the `policies:` mapping of the baseline document."""
        mapping = self.scenario.get("policies") or {}
        return {str(k): (v or {}) for k, v in mapping.items()} if isinstance(mapping, dict) else {}

    @property
    def replications(self) -> int:
        reps = self.manifest.get("replications") or self.sweep_spec.get("replications")
        if reps:
            return int(reps)
        for df in (self.runs, self.points):
            if df is not None and "replication" in df:
                return int(df["replication"].nunique())
        return 0

    @property
    def seed(self) -> Any:
        return self.manifest.get("seed", self.sweep_spec.get("seed", "unknown"))

    @property
    def horizon_months(self) -> int:
        """Months simulated: from the scenario, else from the time series."""
        h = self.scenario.get("horizon_months")
        if h:
            return int(h)
        if self.timeseries is not None and len(self.timeseries):
            return int(self.timeseries["month"].max()) + 1
        return 0

    @property
    def caption(self) -> str:
        """The source line printed under every chart."""
        reps = self.replications
        per = " per point" if self.kind == "sweep" else " per policy" if len(self.policies) > 1 else ""
        parts = [f"Source: dps_sim simulation of '{self.scenario_name}'",
                 f"{reps} replication{'s' if reps != 1 else ''}{per}", f"seed {self.seed}"]
        if self.kind == "sweep" and self.points is not None:
            points = self.points["point"].nunique() if "point" in self.points else len(self.points)
            parts.insert(1, f"{points:,} parameter combinations")
        return " · ".join(parts)


def _without_errors(df: pd.DataFrame) -> pd.DataFrame:
    """Rows whose `error` column is empty (CSV reads an empty string as NaN)."""
    if "error" not in df:
        return df
    err = df["error"].map(lambda v: "" if pd.isna(v) else str(v).strip())
    return df[err == ""].reset_index(drop=True)


def kpi_summary(data: ResultsFolder) -> pd.DataFrame:
    """One row per (policy, kpi): n, mean, 95% interval, and (compare) the paired difference.

    summary.csv when present, else computed from runs.csv with the same t interval.
    """
    if data.summary is not None:
        return data.summary.copy()
    runs = data.runs
    if runs is None or runs.empty:
        return pd.DataFrame(columns=["policy", "kpi", "n", "mean", "ci_low", "ci_high"])
    from ..experiment.stats import mean_interval  # scipy.stats: only for folders without summary.csv

    kpis = [k for k in (*KPI_NAMES, *EXTRA_KPIS) if k in runs]
    rows = []
    for policy, group in runs.groupby("policy", sort=False):
        for kpi in kpis:
            values = group[kpi].to_numpy(dtype=float)
            mean, lo, hi = mean_interval(values)
            rows.append({"policy": policy, "kpi": kpi, "n": int(np.isfinite(values).sum()), "mean": mean, "ci_low": lo,
                             "ci_high": hi})
    return pd.DataFrame(rows)


def has_differences(summary: pd.DataFrame) -> bool:
    """Whether the summary holds paired differences from a baseline."""
    return "diff" in summary and summary["policy"].nunique() > 1
