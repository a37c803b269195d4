"""Policies across futures: paired differences from the baseline and robustness measures.

In a policies x futures sweep every sampled point (a *future*: one combination of the uncertain
parameters) runs every policy, and replication r of every policy at a point has the same seed
(common random numbers). So a policy's difference from the baseline is taken run by run:

    differences.parquet  one row per (point, policy, replication) of the policies other than the
                         baseline: the parameters and, per KPI, policy minus baseline in that run
    robustness.csv       one row per (policy, KPI) over the futures (each future: the mean over its
                         replications):
      better_share       share of futures in which the policy beats the baseline (in the KPI's better
                         direction, from dps_sim.report.glossary), with a 95% Wilson interval
      regret_*           regret in a future: how far the policy falls short of the best policy in that
                         future (|best - value|, in the KPI's unit); mean, 90th percentile, worst case
      satisficing_*      futures in which the policy's mean meets the file's threshold for the KPI

KPIs with no better direction (e.g. spend) get differences but no shares or regret.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import store
from .sweep_spec import SweepSpec

Z95 = 1.959963984540054
ROBUSTNESS_COLUMNS = ("policy", "kpi", "better", "futures", "mean", "diff_mean", "diff_p05", "diff_p95",
                      "better_futures", "better_share", "better_ci_low", "better_ci_high", "regret_mean",
                      "regret_p90", "regret_max", "satisficing", "satisficing_futures", "satisficing_share")


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n (NaN for n = 0)."""
    if n <= 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def differences(points: pd.DataFrame, policies: tuple[str, ...], kpis: list[str],
                parameters: list[str]) -> pd.DataFrame:
    """Per (point, policy, replication): each KPI of the policy minus the baseline's in the same run
    (failed runs give NaN). ``policies[0]`` is the baseline."""
    ok = points.copy()
    if "error" in ok:
        ok.loc[ok["error"] != "", kpis] = np.nan
    base = ok[ok["policy"] == policies[0]].set_index(["point", "replication"])[kpis]
    frames = []
    for name in policies[1:]:
        rows = ok[ok["policy"] == name].set_index(["point", "replication"])
        diff = rows[kpis] - base.reindex(rows.index)
        frame = rows[parameters].join(diff).reset_index()
        frame.insert(1, "policy", name)
        frames.append(frame)
    cols = ["point", "policy", "replication", *parameters, *kpis]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    return out[cols]


def future_means(points: pd.DataFrame, kpis: list[str]) -> pd.DataFrame:
    """Each (point, policy)'s mean of each KPI over its replications that finished."""
    ok = points[points["error"] == ""] if "error" in points else points
    return ok.groupby(["point", "policy"], sort=True)[kpis].mean()


def robustness(points: pd.DataFrame, policies: tuple[str, ...], kpis: list[str],
               satisficing: dict[str, Any] | None = None, directions: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per (policy, KPI): the robustness measures of the module docstring."""
    satisficing = satisficing or {}
    directions = directions or _directions(kpis)
    means = future_means(points, kpis)
    rows = []
    for kpi in kpis:
        wide = means[kpi].unstack("policy").reindex(columns=list(policies))
        complete = wide.dropna()
        way = directions.get(kpi, "")
        best = (complete.max(axis=1) if way == "higher" else complete.min(axis=1)) if way else None
        for name in policies:
            value = wide[name].dropna()
            row: dict[str, Any] = {"policy": name, "kpi": kpi, "better": way, "futures": int(len(value)),
                                   "mean": float(value.mean()) if len(value) else math.nan}
            d = (wide[name] - wide[policies[0]]).dropna()
            if name != policies[0] and len(d):
                row.update(diff_mean=float(d.mean()), diff_p05=float(d.quantile(0.05)),
                           diff_p95=float(d.quantile(0.95)))
                if way:
                    wins = int(((d > 0) if way == "higher" else (d < 0)).sum())
                    lo, hi = wilson(wins, len(d))
                    row.update(better_futures=wins, better_share=wins / len(d), better_ci_low=lo, better_ci_high=hi)
            if best is not None and len(complete):
                regret = (best - complete[name]).abs()
                row.update(regret_mean=float(regret.mean()), regret_p90=float(regret.quantile(0.9)),
                           regret_max=float(regret.max()))
            if kpi in satisficing and len(value):
                threshold = satisficing[kpi]
                meets = int(sum(threshold.holds(float(v)) for v in value))
                row.update(satisficing=_threshold_text(threshold.describe()), satisficing_futures=meets,
                           satisficing_share=meets / len(value))
            rows.append(row)
    return pd.DataFrame(rows).reindex(columns=list(ROBUSTNESS_COLUMNS))


def most_robust(rob: pd.DataFrame, kpi: str) -> pd.DataFrame:
    """The policies of one KPI, most robust first: smallest worst-case regret, then mean regret."""
    rows = rob[(rob["kpi"] == kpi) & rob["regret_max"].notna()]
    return rows.sort_values(["regret_max", "regret_mean"], kind="stable").reset_index(drop=True)


def write_robustness(folder: Path, spec: SweepSpec, points: pd.DataFrame) -> pd.DataFrame:
    """Write differences.parquet and robustness.csv of a policies x futures sweep; return robustness."""
    kpis = list(spec.kpis)
    diffs = differences(points, spec.policies, kpis, list(spec.parameters))
    store.write_parquet(folder / "differences.parquet", diffs)
    rob = robustness(points, spec.policies, kpis, spec.satisficing)
    store.write_csv(folder / "robustness.csv", rob)
    return rob


def _directions(kpis: list[str]) -> dict[str, str]:
    from ..report.glossary import better  # the report's plain words say which way is better

    return {k: better(k) for k in kpis}


def _threshold_text(bounds: dict[str, float]) -> str:
    parts = [f">= {bounds['min']:g}" if "min" in bounds else "", f"<= {bounds['max']:g}" if "max" in bounds else ""]
    return " and ".join(p for p in parts if p)
