"""Kaplan–Meier survival of providers in the market, from providers.parquet.

Duration is months from entry to exit for organisations that became insolvent or closed,
and is right-censored at the end of the simulation for those still in the market.
"""

from __future__ import annotations

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
    """Survival function and its pointwise confidence interval (scipy.stats.ecdf, Greenwood).

    Returns columns month, survival, low, high, starting at month 0 with survival 1.
    """
    from scipy import stats  # imported here: a report process that draws no survival chart never pays for it

    duration = np.asarray(duration, dtype=float)
    exited = np.asarray(exited, dtype=bool)
    if len(duration) == 0:
        return pd.DataFrame(columns=["month", "survival", "low", "high"])
    data = stats.CensoredData.right_censored(duration, ~exited)
    sf = stats.ecdf(data).sf
    with np.errstate(all="ignore"):
        ci = sf.confidence_interval(level)
    start = pd.DataFrame({"month": [0.0], "survival": [1.0], "low": [1.0], "high": [1.0]})
    curve = pd.DataFrame({"month": sf.quantiles, "survival": sf.probabilities,
                          "low": ci.low.probabilities, "high": ci.high.probabilities})
    curve[["low", "high"]] = curve[["low", "high"]].ffill().fillna(curve["survival"].iloc[0])
    return pd.concat([start, curve], ignore_index=True)
