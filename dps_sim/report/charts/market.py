"""The market over time: organisations in the market by income band, and bids per lot by quarter."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from ..data import ResultsFolder
from ..style import BAND_ALPHA, MARKERS, add_titles, humanise, new_figure, policy_colour, policy_style
from .base import (BASELINE_LW, NICE_STEPS, Chart, bands_present, horizon_ticks, label_bottom_row,
                   policy_index, policy_legend, thousands)
from ..figdata import HIGH_Q, LOW_Q, metric_band


# -- 2. providers active over time ----------------------------------------------------------
def providers_over_time(data: ResultsFolder) -> Chart | None:
    """Organisations in the market each month: median and 90% band, one panel per size band.

    With several policies every policy's median is drawn and the band is shaded for the
    baseline only (overlapping translucent bands of five policies are unreadable).
    """
    ts = data.timeseries
    if ts is None or ts.empty or "providers_active" not in ts:
        return None
    panels = [("All organisations", "providers_active")]
    panels += [(f"{humanise(b)} (income band)", f"providers_active_{b}")
               for b in bands_present(ts.columns, "providers_active_") if ts[f"providers_active_{b}"].max() > 0]
    ncols = 3 if len(panels) > 4 else 2 if len(panels) > 1 else 1
    nrows = math.ceil(len(panels) / ncols)
    fig, body = new_figure(5.0 * ncols + 0.5, 3.6 * nrows + 2.0)
    axes = body.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    policies = [p for p in data.policies if p in set(ts["policy"].unique())]
    for ax, (label, column) in zip(axes, panels):
        for k, policy in enumerate(policies):
            i = policy_index(data, policy)
            band = metric_band(ts, policy, column)
            if k == 0:
                ax.fill_between(band.index, band["low"], band["high"], color="#999999", alpha=0.3, lw=0,
                                label="90% of replications")
            ax.plot(band.index, band["median"], color=policy_colour(i), ls=policy_style(i), label=humanise(policy),
                    lw=BASELINE_LW if k == 0 and len(policies) > 1 else None)
        ax.set_title(label, loc="left")
        ax.set_ylabel("Organisations")
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True, steps=NICE_STEPS, min_n_ticks=3))
        horizon_ticks(ax, data.horizon_months)
        thousands(ax)
    label_bottom_row(axes, len(panels), ncols, "Months since launch")
    policy_legend(body, data, policies, band=f"90% of replications{' (baseline)' if len(policies) > 1 else ''}")
    title = "Organisations in the market over time, by income band"
    shaded = ("the shaded band holds 90% of replications under the baseline" if len(policies) > 1
              else "the shaded band holds 90% of replications")
    caption = (f"Lines show the median number of organisations in the market each month across replications; "
               f"{shaded}. Each panel has its own vertical scale. Income bands: micro under £10k a year, small "
               f"£10k–£100k, medium £100k–£1m, large £1m–£10m, major over £10m; a band with no organisations "
               "in any replication has no panel.")
    add_titles(fig, title, data.caption)
    return Chart("providers_over_time", title, caption, fig)


# -- 5. bids per lot over time -------------------------------------------------------------
def bids_per_lot(data: ResultsFolder) -> Chart | None:
    """Bids per lot in the competitions that closed each quarter (or year, when lots are few).

    The line pools the replications (all bids ÷ all lots); the band holds 90% of the
    replications' own values. When comparing, one panel per policy with the baseline drawn in
    each for reference.
    """
    ts = data.timeseries
    if ts is None or ts.empty or "bids" not in ts or not (CLOSED <= set(ts.columns) or "lots" in ts):
        return None
    policies = [p for p in data.policies if p in set(ts["policy"].unique())]
    reference = policies[0] if len(policies) > 1 else None
    shown = policies[1:] if reference else policies
    months = period_months(ts[ts["policy"] == policies[0]])
    span = "quarter" if months == 3 else "year"
    ncols = 1 if len(shown) == 1 else 2
    nrows = math.ceil(len(shown) / ncols)
    fig, body = new_figure(13 if ncols == 1 else 15, (6.0 if nrows == 1 else 3.9 * nrows) + 2.0)
    axes = body.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    bands = {p: periodic_bids_per_lot(ts[ts["policy"] == p], months) for p in policies}
    for ax, p in zip(axes, shown):
        for q in ([reference] if reference else []) + [p]:
            _period_line(ax, data, q, bands[q], months, lw=BASELINE_LW if q == reference else None)
        ax.set_title(humanise(p) + (" compared with the baseline" if reference and ncols == 1 else ""), loc="left")
        ax.set_ylabel("Bids per lot")
        horizon_ticks(ax, data.horizon_months)
    top = max((float(np.nanmax(b[["pooled", "high"]].to_numpy(), initial=0.0)) for b in bands.values()), default=0.0)
    axes[0].set_ylim(0, max(top, 1.0) * 1.06)  # shared by every panel
    axes[0].yaxis.set_major_locator(MaxNLocator(nbins=6, steps=NICE_STEPS))
    label_bottom_row(axes, len(shown), ncols, f"Months since launch (one point a {span})")
    policy_legend(body, data, policies, band="90% of replications")
    title = f"Competition for contracts: bids per lot, by {span}"
    caption = (f"Bids received per lot in the competitions that closed in each {span}: the line pools all "
               f"replications (all bids divided by all lots) and the shaded band holds 90% of the replications' "
               f"own values. A {span} in which no competition closed has no point"
               + (", and competitions are counted by year because there are few lots." if span == "year" else ".")
               + (" Each panel shows one policy (colour) against the baseline (black)." if reference else ""))
    add_titles(fig, title, data.caption)
    return Chart("bids_per_lot", title, caption, fig)


CLOSED = {"awards", "failed_competitions"}
"""Time-series columns whose sum is the number of competitions that closed in a month."""


def closed_lots(ts: pd.DataFrame) -> pd.Series:
    """Competitions closed each month (awarded or failed), the month their bids are counted in.

    `lots` counts lots when they are called, a tender window before their bids arrive; it is
    the fallback for tables without award counts.
    """
    if CLOSED <= set(ts.columns):
        return ts["awards"] + ts["failed_competitions"]
    return ts["lots"]


def period_months(ts: pd.DataFrame) -> int:
    """3 (quarters) when an average replication closes at least one competition a quarter, else 12."""
    reps = max(ts["replication"].nunique(), 1) if "replication" in ts else 1
    quarters = max(math.ceil((ts["month"].max() + 1) / 3), 1) if len(ts) else 1
    return 3 if closed_lots(ts).sum() / reps / quarters >= 1.0 else 12


def periodic_bids_per_lot(ts: pd.DataFrame, months: int = 3) -> pd.DataFrame:
    """Per period of ``months``: pooled bids ÷ lots over replications, and the 90% band of the
    replications' own ratios (periods with no closed competition are left out)."""
    d = pd.DataFrame({"replication": ts["replication"], "period": ts["month"] // months, "bids": ts["bids"],
                      "lots": closed_lots(ts)})
    per = d.groupby(["replication", "period"])[["bids", "lots"]].sum()
    per = per[per["lots"] > 0]
    ratio = (per["bids"] / per["lots"]).rename("ratio").reset_index()
    band = ratio.groupby("period")["ratio"].quantile([LOW_Q, HIGH_Q]).unstack()
    pooled = per.groupby("period")[["bids", "lots"]].sum()
    out = pd.DataFrame({"pooled": pooled["bids"] / pooled["lots"], "low": band[LOW_Q], "high": band[HIGH_Q]})
    return out.reindex(range(int(d["period"].max()) + 1)) if len(d) else out  # gaps break the line


def _period_line(ax: Axes, data: ResultsFolder, policy: str, band: pd.DataFrame, months: int,
                 lw: float | None = None) -> None:
    """Pooled line with markers and shaded 90% band of a periodic series."""
    i = policy_index(data, policy)
    x = band.index.to_numpy() * months + months / 2
    ax.fill_between(x, band["low"], band["high"], color=policy_colour(i), alpha=BAND_ALPHA, lw=0)
    ax.plot(x, band["pooled"], color=policy_colour(i), ls=policy_style(i), marker=MARKERS[i % len(MARKERS)],
            ms=6, label=humanise(policy), lw=lw)


