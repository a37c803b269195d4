"""Kaplan–Meier survival of providers in the market, from providers.parquet.

Duration is months from entry to exit for organisations that became insolvent or closed,
and is right-censored at the end of the simulation for those still in the market.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd


def durations(providers: pd.DataFrame, horizon_months: int) -> pd.DataFrame:
    """Columns duration (months) and exited (bool) for each provider row."""
    entry = providers["entry_month"].to_numpy(dtype=float)
    exit_month = providers["exit_month"].to_numpy(dtype=float)
    if "in_market_end" in providers:
        exited = ~providers["in_market_end"].to_numpy(dtype=bool)
    else:
        exited = exit_month >= 0
    exited &= exit_month >= 0
    end = np.where(exited, exit_month, float(horizon_months))
    return pd.DataFrame({"duration": np.maximum(end - entry, 0.0), "exited": exited}, index=providers.index)


def kaplan_meier(duration: np.ndarray, exited: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """Survival function and its pointwise confidence interval (Greenwood's variance, a linear interval
    clipped to [0, 1]: the same numbers as ``scipy.stats.ecdf(...).sf.confidence_interval``, which this
    replaced for speed; tests/test_report.py checks the two agree).

    Returns columns month, survival, low, high, starting at month 0 with survival 1; one row per distinct
    duration (an interval that cannot be computed, at a survival of 0, holds the last one computed).
    """
    duration = np.asarray(duration, dtype=float)
    exited = np.asarray(exited, dtype=bool)
    if len(duration) == 0:
        return pd.DataFrame(columns=["month", "survival", "low", "high"])
    times, inverse = np.unique(duration, return_inverse=True)
    deaths = np.bincount(inverse, weights=exited.astype(float), minlength=len(times))
    leaving = np.bincount(inverse, minlength=len(times)).astype(float)
    at_risk = len(duration) - np.concatenate(([0.0], np.cumsum(leaving)[:-1]))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    with np.errstate(all="ignore"):
        surv = np.cumprod(1.0 - deaths / at_risk)
        se = surv * np.sqrt(np.cumsum(deaths / (at_risk * (at_risk - deaths))))
        ci = pd.DataFrame({"low": np.clip(surv - z * se, 0.0, 1.0), "high": np.clip(surv + z * se, 0.0, 1.0)})
    ci = ci.ffill().fillna(surv[0])
    return pd.DataFrame({"month": np.concatenate(([0.0], times)), "survival": np.concatenate(([1.0], surv)),
                         "low": np.concatenate(([1.0], ci["low"])), "high": np.concatenate(([1.0], ci["high"]))})
