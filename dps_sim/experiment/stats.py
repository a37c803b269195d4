"""Summaries with uncertainty: means, 95% intervals, paired differences from the baseline.

Policies are compared under common random numbers: replication r of every policy meets the
same market, so the difference is taken replication by replication (a paired t interval,
scipy.stats), which is far tighter than comparing two independent means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def mean_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided t interval of the mean (NaN interval with fewer than 2 values)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(x.mean())
    if len(x) < 2:
        return mean, float("nan"), float("nan")
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1)) * sd / np.sqrt(len(x))
    return mean, mean - half, mean + half


def paired_difference(x: np.ndarray, base: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean paired difference x − base, its t interval, and the paired t-test p-value."""
    x, base = np.asarray(x, float), np.asarray(base, float)
    ok = np.isfinite(x) & np.isfinite(base)
    d = x[ok] - base[ok]
    mean, lo, hi = mean_interval(d, level)
    if len(d) < 2 or np.all(d == d[0]):
        p = float("nan") if len(d) < 2 or d[0] == 0 else 0.0
    else:
        p = float(stats.ttest_rel(x[ok], base[ok]).pvalue)
    return mean, lo, hi, p


SUMMARY_COLUMNS: tuple[str, ...] = ("policy", "kpi", "n", "mean", "ci_low", "ci_high", "diff", "diff_ci_low",
                                    "diff_ci_high", "diff_p_value")
"""The columns of summary.csv (the differences are NaN where the baseline has no finished replication)."""


def summarise(runs: pd.DataFrame, kpis: list[str], baseline: str = "baseline", level: float = 0.95,
              key: str = "policy") -> pd.DataFrame:
    """One row per (policy, KPI): n, mean, interval, and the paired difference from the baseline."""
    rows = []
    ok = runs[runs.get("error", "").fillna("") == ""] if "error" in runs else runs
    base = ok[ok[key] == baseline].set_index("replication") if baseline in set(ok[key]) else None
    for policy, group in ok.groupby(key, sort=False):
        g = group.set_index("replication")
        for kpi in kpis:
            mean, lo, hi = mean_interval(g[kpi].to_numpy(), level)
            row = dict(policy=policy, kpi=kpi, n=int(g[kpi].notna().sum()), mean=mean, ci_low=lo, ci_high=hi)
            if base is not None:
                common = g.index.intersection(base.index)
                d, dlo, dhi, p = paired_difference(g.loc[common, kpi].to_numpy(), base.loc[common, kpi].to_numpy(), level)
                row.update(diff=d, diff_ci_low=dlo, diff_ci_high=dhi, diff_p_value=p)
            rows.append(row)
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))  # every column, even when every run failed
