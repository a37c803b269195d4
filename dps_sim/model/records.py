"""Monthly records: the time series a run keeps of its market (one value per month)."""

from __future__ import annotations

import numpy as np

from .market import Market
from .payments import paid_in_month
from .population import ACTIVE
from .stores import LIVE

TS_COLUMNS = ("providers_active", "providers_active_micro", "providers_active_small", "providers_active_medium",
              "providers_active_large", "providers_active_major", "providers_admitted", "small_providers_active",
              "contracts_live", "lots", "bids", "awards", "failed_competitions", "insolvencies", "contract_failures",
              "service_gap_days", "commissioner_paid", "users_reached", "median_reserve_months", "awarded_value",
              "awarded_value_small", "cash_total", "collateral_total", "value_delivered")
"""Columns of timeseries.parquet besides policy, replication and month."""

FLOW_COUNTERS = ("lots", "bids", "awards", "failed_competitions", "insolvencies", "contract_failures",
                 "awarded_value", "awarded_value_small")
"""Counters recorded as the month's increase."""

BANDS = ("micro", "small", "medium", "large", "major")


def median(x: np.ndarray) -> float:
    """np.median of a 1-D array (0 when empty), by partition: equal result, a tenth of the time."""
    n = len(x)
    if n == 0:
        return 0.0
    h = n // 2
    if n % 2:
        return float(np.partition(x, h)[h])
    part = np.partition(x, (h - 1, h))
    return float((part[h - 1] + part[h]) / 2.0)


class MonthlyRecords:
    """Time series filled one month at a time, finished into per-month values at the horizon."""

    def __init__(self, months: int):
        self.ts = {name: np.zeros(months) for name in TS_COLUMNS}
        self.ts["month"] = np.arange(months)
        self._prev = dict.fromkeys(FLOW_COUNTERS, 0.0)

    def record(self, mk: Market, m: int) -> None:
        """Record the state of the market at the end of month ``m``."""
        P, ts, C, N = mk.P, self.ts, mk.contracts, mk.needs
        active = P.status == ACTIVE
        counts = np.bincount(P.band[active], minlength=5)
        ts["providers_active"][m] = active.sum()
        for b, name in enumerate(BANDS):
            ts[f"providers_active_{name}"][m] = counts[b]
        ts["small_providers_active"][m] = counts[0] + counts[1]
        ts["providers_admitted"][m] = (active & P.admitted).sum()
        ts["contracts_live"][m] = (C.view("status") == LIVE).sum()
        ts["commissioner_paid"][m] = paid_in_month(mk, m)
        ts["users_reached"][m] = C.view("users").sum()
        ts["value_delivered"][m] = mk.book.earned_pence / 100.0
        ts["service_gap_days"][m] = N.view("gap_days").sum()
        res = P.cash[active] / np.maximum(P.spending[active], 1.0)
        ts["median_reserve_months"][m] = median(res)
        ts["cash_total"][m] = P.cash[active].sum()
        ts["collateral_total"][m] = P.collateral[active].sum()
        for key in FLOW_COUNTERS:
            now = mk.counters[key]
            ts[key][m] = now - self._prev[key]
            self._prev[key] = now

    def finish(self) -> dict[str, np.ndarray]:
        """Cumulative columns turned into the month's increase."""
        ts = self.ts
        ts["users_reached"] = np.diff(ts["users_reached"], prepend=0.0)
        ts["service_gap_days"] = np.diff(ts["service_gap_days"], prepend=0.0)
        ts["value_delivered"] = np.diff(ts["value_delivered"], prepend=0.0)
        return ts
