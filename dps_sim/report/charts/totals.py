"""Totals by policy beside their running total over time: share of value to small organisations, and
service gaps."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from ..data import ResultsFolder, kpi_summary
from ..style import INK, add_titles, balanced_wrap, humanise, new_figure, policy_colour, policy_style
from ..text import kpi_scale, kpi_unit, period
from .base import (BASELINE_LW, NICE_STEPS, Chart, _all_zero, _errorbar_x, _short, horizon_ticks, policy_index,
                   thousands)
from .kpis import kpi_phrase_over


# -- 4. share of value to small providers and 6. service gap --------------------------------
def share_value_small(data: ResultsFolder) -> Chart | None:
    """Share of awarded value won by micro and small organisations: average by policy and over time."""
    def cumulative(g: pd.DataFrame) -> pd.Series:
        total = g["awarded_value"].cumsum()
        return 100 * g["awarded_value_small"].cumsum() / total.where(total > 0)

    return _bar_and_cumulative(
        data, "share_of_value_small", ("awarded_value", "awarded_value_small"), cumulative,
        name="share_value_small", title="Share of contract value won by micro and small organisations",
        right_label="Share of value awarded so far (%)",
        caption=("Left: share of all contract value awarded over the period that went to micro and small "
                 "organisations (income under £100k a year), averaged over replications, with its 95% confidence "
                 "interval. Right: the same share counted from launch to each month (average across replications, "
                 "so the last month matches the bar)."))


def service_gap(data: ResultsFolder) -> Chart | None:
    """Days a needed service went undelivered: total by policy and accumulated over time."""
    def cumulative(g: pd.DataFrame) -> pd.Series:
        return g["service_gap_days"].cumsum()

    return _bar_and_cumulative(
        data, "service_gap_days", ("service_gap_days",), cumulative, name="service_gap",
        title="Service gaps: days a needed service went undelivered", right_label="Lot-days without a service so far",
        caption=("Left: days a commissioned service (a lot) had no provider, added up over lots (lot-days: two lots "
                 "without a provider for 10 days make 20 lot-days), averaged "
                 "over replications, with its 95% confidence interval. Right: the same total accumulated month by "
                 "month (average across replications, so the last month matches the bar). Gaps arise before a "
                 "first award, after a failed competition and while a failed contract is re-commissioned."))


def _bar_and_cumulative(data: ResultsFolder, kpi: str, needs: tuple[str, ...],
                        cumulative: Callable[[pd.DataFrame], pd.Series], *, name: str, title: str,
                        right_label: str, caption: str) -> Chart | None:
    """Left: mean of a KPI per policy with 95% interval. Right: its running total over time."""
    summary = kpi_summary(data)
    rows = summary[summary["kpi"] == kpi].set_index("policy")
    ts = data.timeseries
    has_ts = ts is not None and set(needs) <= set(ts.columns)
    if rows.empty and not has_ts:
        return None
    fig, body = new_figure(15, 1.8 + max(4.8, 0.7 * len(data.policies) + 2.5))
    left, right = body.subplots(1, 2, width_ratios=[1, 1.15]) if has_ts and not rows.empty else (None, None)
    if left is None:
        ax = body.subplots()
        left, right = (ax, None) if not rows.empty else (None, ax)
    policies = [p for p in data.policies if p in rows.index or (has_ts and p in set(ts["policy"].unique()))]
    if left is not None:
        _mean_bars(left, data, rows, kpi, [p for p in policies if p in rows.index])
    if right is not None:
        present = set(ts["policy"].unique())
        _running_total(right, data, ts, cumulative, [p for p in policies if p in present], right_label)
    add_titles(fig, title, data.caption)
    return Chart(name, title, caption, fig)


def _mean_bars(ax: Axes, data: ResultsFolder, rows: pd.DataFrame, kpi: str, policies: list[str]) -> None:
    """Horizontal bars of the mean with 95% intervals, value written at the end of each bar."""
    scale, unit = kpi_scale(kpi), kpi_unit(kpi)
    shown: list[float] = []
    for y, p in enumerate(policies):
        i = policy_index(data, p)
        m, lo, hi = (float(rows.loc[p, c]) * scale for c in ("mean", "ci_low", "ci_high"))
        shown += [m, lo, hi]
        ax.barh([y], [m], color=policy_colour(i), alpha=0.55, edgecolor=INK, height=0.65, label=humanise(p),
                xerr=_errorbar_x(m, lo, hi), error_kw={"ecolor": INK, "capsize": 7, "elinewidth": 2.2, "capthick": 2.2})
        end = hi if math.isfinite(hi) else m
        ax.annotate(_short(m, unit), (end, y), xytext=(8, 0), textcoords="offset points", va="center", fontsize=12)
    ax.set_yticks(range(len(policies)), [balanced_wrap(humanise(p), 24) for p in policies])
    ax.set_ylim(len(policies) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.margins(x=0.18)
    ax.set_xlim(0, 1 if _all_zero(shown) else None)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=NICE_STEPS))
    ax.set_xlabel(f"Average over replications ({unit})")
    ax.set_title(f"Over the {period(data.horizon_months)}" if kpi_phrase_over(kpi) else "Whole period", loc="left")
    thousands(ax, "x", "£" if unit.startswith("£") else "")


def _running_total(ax: Axes, data: ResultsFolder, ts: pd.DataFrame, cumulative: Callable[[pd.DataFrame], pd.Series],
                   policies: list[str], ylabel: str) -> None:
    """Average across replications of a running total, one line per policy."""
    shown: list[float] = []
    for p in policies:
        i = policy_index(data, p)
        d = ts[ts["policy"] == p].sort_values(["replication", "month"])
        values = pd.concat([cumulative(g) for _, g in d.groupby("replication", sort=False)])
        mean = pd.DataFrame({"month": d["month"], "v": values}).groupby("month")["v"].mean()
        shown += mean.tolist()
        ax.plot(mean.index, mean.to_numpy(), color=policy_colour(i), ls=policy_style(i), label=humanise(p),
                lw=BASELINE_LW if p == policies[0] and len(policies) > 1 else None)
    ax.set_title("Month by month", loc="left")
    ax.set_ylabel(ylabel)
    if len(policies) > 1:
        ax.legend(loc="best", fontsize=11, frameon=True, framealpha=0.9, edgecolor="none")
    ax.set_xlabel("Months since launch")
    horizon_ticks(ax, data.horizon_months)
    ax.set_ylim(0, 1 if _all_zero(shown) else None)
    thousands(ax)


