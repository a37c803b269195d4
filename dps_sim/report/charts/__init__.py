"""Charts of a run or a comparison, drawn from the saved tables of a results folder, one module per
concept: the headline KPIs (kpis), the market over time (market), survival (survival_chart), totals
beside their running totals (totals) and cash reserves (reserves); what they share is in base.

Every function takes a :class:`~dps_sim.report.data.ResultsFolder` and returns a
:class:`Chart` (the figure plus a plain-English caption for the report), or ``None`` when
the tables it needs are missing. Colour means policy throughout, the baseline in black.
"""

from __future__ import annotations

from ..figdata import HIGH_Q, LOW_Q, quantile_band
from .base import (BASELINE_LW, NICE_STEPS, Chart, ChartFunction, bands_present, compact_label,
                   horizon_ticks, label_bottom_row, policy_index, policy_legend, thousands, tick_label)
from .kpis import kpi_comparison, kpi_phrase_over
from .market import CLOSED, bids_per_lot, closed_lots, period_months, periodic_bids_per_lot, providers_over_time
from .reserves import RESERVE_Q, RESERVE_TICKS, reserves_end
from .survival_chart import survival
from .totals import service_gap, share_value_small

RUN_CHARTS: tuple[ChartFunction, ...] = (kpi_comparison, providers_over_time, survival, share_value_small,
                                         bids_per_lot, service_gap, reserves_end)
"""The charts of a run or compare folder, in report order."""

__all__ = ["BASELINE_LW", "CLOSED", "HIGH_Q", "LOW_Q", "NICE_STEPS", "RESERVE_Q", "RESERVE_TICKS", "RUN_CHARTS",
           "Chart", "ChartFunction", "bands_present", "bids_per_lot", "closed_lots", "compact_label", "horizon_ticks",
           "kpi_comparison", "kpi_phrase_over", "label_bottom_row", "period_months", "periodic_bids_per_lot",
           "policy_index", "policy_legend", "providers_over_time", "quantile_band", "reserves_end", "service_gap",
           "share_value_small", "survival", "thousands", "tick_label"]
