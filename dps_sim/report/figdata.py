"""Figure data: the numbers every chart shows, computed once from the saved tables.

Both the static charts (matplotlib, in ``charts/`` and ``sweep_charts``) and the interactive
explorer (Plotly, in ``explorer``) draw from these functions, so the two can never disagree.
Nothing here imports a plotting library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .data import BASELINE, ResultsFolder, has_differences, kpi_summary
from .survival import durations, kaplan_meier
from .text import kpi_scale, spans_zero

SIZE_BANDS: tuple[str, ...] = ("micro", "small", "medium", "large", "major")
"""The income bands as dps_sim.scenario.fields names them, smallest first: a copy, so that drawing a report
does not import the scenario package (pydantic, a fifth of a second); tests/test_report.py checks the two agree."""

LOW_Q, HIGH_Q = 0.05, 0.95
"""Quantiles of the shaded band across replications (a 90% band)."""


# -- KPI intervals ----------------------------------------------------------------------------
@dataclass(frozen=True)
class KpiIntervals:
    """Per (policy, KPI), in display units (shares in %): the paired difference from the baseline and its
    95% interval (``diffs``), or the average and its interval (a single policy)."""

    diffs: bool
    kpis: list[str]
    policies: list[str]
    rows: pd.DataFrame
    """Columns policy, kpi, value, low, high, clear (interval excludes 0), baseline (baseline average)."""


def kpi_intervals(data: ResultsFolder, kpis: list[str] | tuple[str, ...]) -> KpiIntervals | None:
    """The intervals of the listed KPIs that the summary holds (None when there are none)."""
    summary = kpi_summary(data)
    present = set(summary["kpi"].unique())
    kpis = [k for k in kpis if k in present]
    diffs = has_differences(summary)
    policies = [p for p in data.policies if p in set(summary["policy"].unique()) and not (diffs and p == BASELINE)]
    if not kpis or not policies:
        return None
    table = summary.set_index(["policy", "kpi"])
    cols = ("diff", "diff_ci_low", "diff_ci_high") if diffs else ("mean", "ci_low", "ci_high")
    rows = []
    for kpi in kpis:
        scale = kpi_scale(kpi)
        base = float(table.loc[(BASELINE, kpi), "mean"]) * scale if (BASELINE, kpi) in table.index else math.nan
        for policy in policies:
            if (policy, kpi) not in table.index:
                continue
            value, low, high = (float(table.loc[(policy, kpi), c]) * scale for c in cols)
            rows.append({"policy": policy, "kpi": kpi, "value": value, "low": low, "high": high,
                         "clear": not spans_zero(low, high), "baseline": base})
    return KpiIntervals(diffs, kpis, policies, pd.DataFrame(rows))


# -- time series ------------------------------------------------------------------------------
def quantile_band(df: pd.DataFrame, by: str, column: str) -> pd.DataFrame:
    """Median and 90% band of ``column`` across replications, for each value of ``by``."""
    g = df.groupby(by)[column]
    return pd.DataFrame({"median": g.median(), "low": g.quantile(LOW_Q), "high": g.quantile(HIGH_Q)})


def metric_band(ts: pd.DataFrame, policy: str, column: str) -> pd.DataFrame:
    """One policy's median and 90% band of a time-series column, by month."""
    return quantile_band(ts[ts["policy"] == policy], "month", column)


def timeseries_metrics(ts: pd.DataFrame) -> list[str]:
    """The numeric metric columns of timeseries.parquet (not policy, replication or month)."""
    return [c for c in ts.columns
            if c not in ("policy", "replication", "month") and pd.api.types.is_numeric_dtype(ts[c])]


# -- survival ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SurvivalCurves:
    """Survival in the market by income band and policy (pooled over replications)."""

    horizon: int
    bands: list[str]
    policies: list[str]
    curves: dict[tuple[str, str], pd.DataFrame]
    """(policy, band) -> columns month, survival, low, high."""
    counts: dict[str, float]
    """Organisations per band (per policy when several)."""


def survival_curves(data: ResultsFolder) -> SurvivalCurves | None:
    """Kaplan–Meier curves of every (policy, band) that has organisations (None without providers)."""
    prov = data.providers
    if prov is None or prov.empty or not {"entry_month", "exit_month", "size_band"} <= set(prov.columns):
        return None
    horizon = data.horizon_months or int(prov["exit_month"].max()) + 1
    prov = prov.join(durations(prov, horizon))
    bands = [b for b in SIZE_BANDS if b in set(prov["size_band"].unique())]
    present = [str(p) for p in pd.unique(prov["policy"])]
    policies = [p for p in data.policies if p in present] or present
    curves = {(str(p), str(b)): kaplan_meier(g["duration"].to_numpy(), g["exited"].to_numpy())
              for (p, b), g in prov.groupby(["policy", "size_band"], sort=False)}
    counts = (prov.groupby("size_band").size() / max(len(policies), 1)).to_dict()
    return SurvivalCurves(horizon, bands, policies, curves, {str(k): float(v) for k, v in counts.items()})


# -- sweeps -----------------------------------------------------------------------------------
def point_means(points: pd.DataFrame, params: list[str], kpis: list[str]) -> pd.DataFrame:
    """One row per sampled point: its parameter values and the mean of each KPI over replications."""
    if "point" not in points:
        return points[params + kpis].copy()
    agg = {**{p: "first" for p in params}, **{k: "mean" for k in kpis}}
    return points.groupby("point", sort=True).agg(agg).reset_index()


def is_categorical(x: pd.Series) -> bool:
    """Whether a parameter column holds named levels (text or true/false) rather than numbers."""
    return not pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x)


def as_numbers(x: pd.Series, levels: list | None = None) -> pd.Series:
    """Numbers as they are; categories as their position among ``levels`` (else in order of appearance)."""
    if not is_categorical(x):
        return x.astype(float)
    return x.map({v: i for i, v in enumerate(levels or pd.unique(x))}).astype(float)


def levels(x: pd.Series, entry: Any) -> list:
    """A categorical parameter's levels in the order the sweep file lists them (as points.parquet stores
    them: text as it is, true/false as booleans, other values as JSON text), else in order of appearance."""
    import json

    listed = entry.get("levels") if isinstance(entry, dict) else None
    if isinstance(listed, list):
        if not pd.api.types.is_bool_dtype(x):
            listed = [v if isinstance(v, str) else json.dumps(v) for v in listed]
        if set(pd.unique(x)) <= set(listed):
            return listed
    return list(pd.unique(x))


def binned_medians(x: pd.Series, y: pd.Series, most: int = 10) -> pd.Series:
    """Median of y in up to ten equal-count bins of x (at least ten points a bin, three bins),
    indexed by the bin's median x; empty when there are too few points for a meaningful line."""
    ok = x.notna() & y.notna()
    bins = min(most, int(ok.sum()) // 10)
    if bins < 3:
        return pd.Series(dtype=float)
    groups = pd.qcut(x[ok].rank(method="first"), bins, labels=False)
    return pd.Series(y[ok].groupby(groups).median().to_numpy(), index=x[ok].groupby(groups).median().to_numpy())
