"""Charts of a run or a comparison, drawn from the saved tables of a results folder.

Every function takes a :class:`~dps_sim.report.data.ResultsFolder` and returns a
:class:`Chart` (the figure plus a plain-English caption for the report), or ``None`` when
the tables it needs are missing. Colour means policy throughout, the baseline in black.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter

from ..scenario.schema import SIZE_BANDS
from .data import BASELINE, ResultsFolder, has_differences, kpi_summary
from .style import (BAND_ALPHA, INK, MARKERS, OKABE_ITO, add_titles, balanced_wrap, humanise, new_figure,
                    policy_colour, policy_style)
from .survival import durations, kaplan_meier
from .text import HEADLINE_KPIS, kpi_scale, kpi_title, kpi_unit, period, phrase, spans_zero

LOW_Q, HIGH_Q = 0.05, 0.95
"""Quantiles of the shaded band across replications (a 90% band)."""

BASELINE_LW = 4.0
"""The baseline's line is drawn first and wider, so it shows around policies that follow it exactly."""

NICE_STEPS = [1, 2, 5, 10]
"""Tick steps a reader can follow (1, 2 or 5 times a power of ten)."""


@dataclass
class Chart:
    """A drawn chart: file stem, figure, title and plain-English caption for the report."""

    name: str
    title: str
    caption: str
    fig: Figure


ChartFunction = Callable[[ResultsFolder], "Chart | None"]


# -- helpers ---------------------------------------------------------------------------------
def tick_label(value: float, prefix: str = "") -> str:
    """'1,250', '2.5', '−£10': thousands separators, no trailing zeros, a true minus sign."""
    text = f"{abs(value):,.2f}".rstrip("0").rstrip(".")
    if text == "0":
        return f"{prefix}0"
    return f"{'−' if value < 0 else ''}{prefix}{text}"


def compact_label(value: float, prefix: str = "") -> str:
    """'£250k', '£1.5m' for large values, else as :func:`tick_label`."""
    a = abs(value)
    if a >= 1e6:
        text = f"{a / 1e6:,.2f}".rstrip("0").rstrip(".") + "m"
    elif a >= 1e4:
        text = f"{a / 1e3:,.1f}".rstrip("0").rstrip(".") + "k"
    else:
        return tick_label(value, prefix)
    return f"{'−' if value < 0 else ''}{prefix}{text}"


def thousands(ax: Axes, axis: str = "y", prefix: str = "") -> None:
    """Tick labels with thousands separators (and an optional '£'); compact (k, m) beyond £10,000."""
    fmt = FuncFormatter(lambda v, _: compact_label(v, prefix) if prefix else tick_label(v, prefix))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def policy_index(data: ResultsFolder, policy: str) -> int:
    """Position of a policy in the folder's order (fixes its colour)."""
    return data.policies.index(policy) if policy in data.policies else len(data.policies)


def quantile_band(df: pd.DataFrame, by: str, column: str) -> pd.DataFrame:
    """Median and 90% band of ``column`` across replications, for each value of ``by``."""
    g = df.groupby(by)[column]
    return pd.DataFrame({"median": g.median(), "low": g.quantile(LOW_Q), "high": g.quantile(HIGH_Q)})


def policy_legend(fig: Figure | SubFigure, data: ResultsFolder, policies: list[str], kind: str = "line",
                  band: str | None = None, extra: list | None = None) -> None:
    """One legend for the whole figure, policies in order, below the panels (then a shaded-band key and
    any ``extra`` handles)."""
    handles: list = []
    for p in policies:
        i = policy_index(data, p)
        if kind == "patch":
            handles.append(Patch(facecolor=policy_colour(i), edgecolor=INK, label=humanise(p), alpha=0.85))
        else:
            handles.append(Line2D([], [], color=policy_colour(i), ls=policy_style(i), lw=2.5, label=humanise(p)))
    if band:
        handles.append(Patch(facecolor="#999999", alpha=0.4, label=band))
    handles += extra or []
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3), frameon=False)


def horizon_ticks(ax: Axes, months: int) -> None:
    """Month ticks every year (or every 6 months for short runs)."""
    step = 12 if months > 24 else 6 if months > 6 else 1
    ax.set_xticks(np.arange(0, months + 1, step))
    ax.set_xlim(0, max(months, 1))


def label_bottom_row(axes: np.ndarray, used: int, ncols: int, xlabel: str) -> None:
    """In a grid of panels sharing x, hide the unused ones and label the x axis of the lowest panel of each
    column (which may sit above an unused one)."""
    for ax in axes[used:]:
        ax.set_visible(False)
    for k, ax in enumerate(axes[:used]):
        if k + ncols >= used:
            ax.set_xlabel(xlabel)
            ax.xaxis.set_tick_params(labelbottom=True)


def bands_present(columns: pd.Index | list[str], prefix: str) -> list[str]:
    """Size bands that have a ``prefix + band`` column, smallest first."""
    return [b for b in SIZE_BANDS if f"{prefix}{b}" in columns]


def _errorbar_x(x: float, lo: float, hi: float) -> list[list[float]]:
    """Asymmetric error bar lengths, zero where the interval is missing."""
    left = x - lo if math.isfinite(lo) else 0.0
    right = hi - x if math.isfinite(hi) else 0.0
    return [[max(left, 0.0)], [max(right, 0.0)]]


# -- 1. headline KPIs ------------------------------------------------------------------------
def kpi_comparison(data: ResultsFolder) -> Chart | None:
    """Paired differences from the baseline with 95% intervals (compare), or means (run)."""
    summary = kpi_summary(data)
    kpis = [k for k in HEADLINE_KPIS if k in set(summary["kpi"])]
    if not kpis:
        return None
    diffs = has_differences(summary)
    policies = [p for p in data.policies if p in set(summary["policy"]) and not (diffs and p == BASELINE)]
    if not policies:
        return None
    ncols = 2
    nrows = math.ceil(len(kpis) / ncols)
    fig, body = new_figure(14, 1.6 + nrows * (0.55 * len(policies) + 1.5))
    axes = body.subplots(nrows, ncols, sharey=True, squeeze=False).ravel()
    table = summary.set_index(["policy", "kpi"])
    for ax, kpi in zip(axes, kpis):
        _kpi_panel(ax, data, table, kpi, policies, diffs)
    for ax in axes[len(kpis):]:
        ax.set_visible(False)
    labels = [balanced_wrap(humanise(p), 22) for p in policies]
    axes[0].set_yticks(range(len(policies)), labels)
    axes[0].set_ylim(len(policies) - 0.5, -0.5)
    if diffs:
        key = [Line2D([], [], ls="none", marker="o", ms=10, color=INK,
                      label="Clear difference (95% interval excludes 0)"),
               Line2D([], [], ls="none", marker="o", ms=10, color=INK, mfc="white", mew=2,
                      label="No clear difference (interval includes 0)")]
        body.legend(handles=key, loc="outside lower center", ncols=2)
        title = "How each policy changes the headline results, compared with the baseline"
        caption = ("Each dot is the average difference from the baseline over paired replications (the same "
                   "market and shocks under both policies); the bar is its 95% confidence interval. A hollow dot "
                   "means the interval includes zero: no clear difference.")
    else:
        title = f"Headline results of policy '{humanise(policies[0])}'"
        caption = "Each dot is the average over replications; the bar is its 95% confidence interval."
    add_titles(fig, title, data.caption)
    return Chart("kpi_comparison", title, caption, fig)


def _kpi_panel(ax: Axes, data: ResultsFolder, table: pd.DataFrame, kpi: str, policies: list[str], diffs: bool) -> None:
    """One KPI: a dot and 95% interval per policy."""
    scale = kpi_scale(kpi)
    cols = ("diff", "diff_ci_low", "diff_ci_high") if diffs else ("mean", "ci_low", "ci_high")
    shown: list[float] = []
    for y, policy in enumerate(policies):
        if (policy, kpi) not in table.index:
            continue
        x, lo, hi = (float(table.loc[(policy, kpi), c]) * scale for c in cols)
        shown += [x, lo, hi]
        i = policy_index(data, policy)
        hollow = diffs and spans_zero(lo, hi)
        ax.errorbar([x], [y], xerr=_errorbar_x(x, lo, hi), fmt=MARKERS[i % len(MARKERS)], color=policy_colour(i),
                    mfc="white" if hollow else policy_colour(i), mew=2, ms=10, capsize=6, elinewidth=2.2,
                    label=humanise(policy))
    unit = kpi_unit(kpi)
    title = kpi_title(kpi)
    if diffs and (BASELINE, kpi) in table.index:
        base = float(table.loc[(BASELINE, kpi), "mean"]) * scale
        title += f"\n(baseline average {_short(base, unit)})"
        ax.axvline(0, color=INK, lw=1.2)
    ax.set_title(title, loc="left")
    diff_unit = "percentage points" if unit == "%" else unit
    ax.set_xlabel(f"Difference from baseline ({diff_unit})" if diffs else f"Average ({unit})")
    ax.grid(axis="y", visible=False)
    ax.margins(x=0.15)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=NICE_STEPS))
    if _all_zero(shown):
        ax.set_xlim(-1, 1)  # every policy the same as the baseline: a readable axis around 0
    thousands(ax, "x", "£" if unit.startswith("£") else "")


def _all_zero(values: list[float]) -> bool:
    """Whether every finite value is zero, give or take rounding noise (and there is at least one)."""
    finite = [abs(v) for v in values if math.isfinite(v)]
    return bool(finite) and max(finite) < 1e-9


def kpi_phrase_over(kpi: str) -> bool:
    """Whether a KPI is a total over the simulated period."""
    return phrase(kpi).over_horizon


def _short(value: float, unit: str) -> str:
    """A value for a panel title: '£1,234', '23.4%', '1.5'."""
    if not math.isfinite(value):
        return "n/a"
    d = 0 if abs(value) >= 100 else 1 if abs(value) >= 1 else 2
    text = "0" if value == 0 else f"{value:,.{d}f}"
    return f"£{text}" if unit.startswith("£") else f"{text}%" if unit == "%" else text


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
    policies = [p for p in data.policies if p in set(ts["policy"])]
    for ax, (label, column) in zip(axes, panels):
        for k, policy in enumerate(policies):
            i = policy_index(data, policy)
            band = quantile_band(ts[ts["policy"] == policy], "month", column)
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


# -- 3. survival -----------------------------------------------------------------------------
def survival(data: ResultsFolder) -> Chart | None:
    """Kaplan–Meier survival in the market by size band: a panel per band, a curve per policy, the
    first policy's (the baseline's) 95% interval shaded.
    """
    prov = data.providers
    if prov is None or prov.empty or not {"entry_month", "exit_month", "size_band"} <= set(prov.columns):
        return None
    horizon = data.horizon_months or int(prov["exit_month"].max()) + 1
    prov = prov.join(durations(prov, horizon))
    bands = [b for b in SIZE_BANDS if b in set(prov["size_band"])]
    policies = [p for p in data.policies if p in set(prov["policy"])] or [str(p) for p in pd.unique(prov["policy"])]
    curves = {(str(p), str(b)): kaplan_meier(g["duration"], g["exited"])
              for (p, b), g in prov.groupby(["policy", "size_band"], sort=False)}
    counts = prov.groupby("size_band").size() / max(len(policies), 1)
    several = len(policies) > 1
    ncols = 3 if len(bands) > 4 else 2 if len(bands) > 1 else 1
    nrows = math.ceil(len(bands) / ncols)
    fig, body = new_figure(5.0 * ncols + 0.5, 3.9 * nrows + 2.2)
    axes = body.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax, b in zip(axes, bands):
        for k, p in enumerate(policies):
            i = policy_index(data, p)
            _km_line(ax, curves.get((p, b)), policy_colour(i), policy_style(i), humanise(p), shade=k == 0,
                     lw=BASELINE_LW if k == 0 and several else None)
        floor = _survival_floor(c for (_, band), c in curves.items() if band == b)
        _km_axes(ax, horizon, floor, f"{humanise(b)} (n={counts.get(b, 0):,.0f}{' per policy' if several else ''})")
    label_bottom_row(axes, len(bands), ncols, "Months in the market")
    ci = f"95% confidence interval{' (baseline)' if several else ''}"
    policy_legend(body, data, policies, band=ci)
    shading = f"the {ci.replace(' (baseline)', '')} of the {'baseline' if several else 'estimate'} shaded"
    scale = "Each panel has its own vertical scale, which does not start at zero."
    title = "How long organisations stay in the market, by income band (Kaplan–Meier)"
    caption = (f"Share of organisations still in the market a given number of months after they entered it, with "
               f"{shading}, pooled over replications; n is the number of organisations. Organisations still "
               f"trading at the end of the {period(horizon)} are counted up to then (censored). An exit is an "
               f"insolvency or a closure. {scale}")
    add_titles(fig, title, data.caption)
    return Chart("survival", title, caption, fig)


def _survival_floor(curves: Iterable[pd.DataFrame]) -> float:
    """Lower limit of a survival axis: a round step below every curve and the baseline's interval."""
    lows = [float(c["low"].min()) for c in curves if len(c)]
    low = min(lows, default=0.0)
    step = 0.05 if low < 0.8 else 0.02
    return max(0.0, math.floor((low - step / 2) / step) * step)


def _km_line(ax: Axes, curve: pd.DataFrame | None, colour: str, style: object, label: str, shade: bool,
             lw: float | None = None) -> None:
    """A survival step curve, with its confidence interval shaded when ``shade``."""
    if curve is None or curve.empty:
        return
    if shade:
        ax.fill_between(curve["month"], curve["low"], curve["high"], step="post", color=colour, alpha=0.15, lw=0,
                        label="_ci")
    ax.step(curve["month"], curve["survival"], where="post", color=colour, ls=style, label=label, lw=lw)


def _km_axes(ax: Axes, horizon: int, ymin: float, title: str) -> None:
    ax.set_title(title, loc="left")
    ax.set_ylim(ymin, 1.005)
    spread = 1.0 - ymin
    step = next((s for s in (0.01, 0.02, 0.05, 0.1) if spread <= 5 * s), 0.2)
    ax.yaxis.set_major_locator(FixedLocator(np.arange(1.0, ymin - 1e-9, -step)))  # whole percentages, none above 100%
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
    ax.set_ylabel("Still in the market")
    horizon_ticks(ax, horizon)


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
        caption=("Left: days a commissioned service (a lot) had no provider, summed over lots (lot-days), averaged "
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
    policies = [p for p in data.policies if p in rows.index or (has_ts and p in set(ts["policy"]))]
    if left is not None:
        _mean_bars(left, data, rows, kpi, [p for p in policies if p in rows.index])
    if right is not None:
        _running_total(right, data, ts, cumulative, [p for p in policies if p in set(ts["policy"])], right_label)
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
    policies = [p for p in data.policies if p in set(ts["policy"])]
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


# -- 7. cash reserves at the end -------------------------------------------------------------
RESERVE_TICKS = (0.25, 0.5, 1, 2, 3, 6, 12, 24, 48)
"""Months of spending marked on the logarithmic reserves axis."""


def reserves_end(data: ResultsFolder) -> Chart | None:
    """Distribution of cash reserves (months of spending) at the end, by band and policy.

    Reserves are spread over two orders of magnitude, so the axis is logarithmic when every
    box and whisker is above zero; an organisation in overdraft makes it linear.
    """
    prov = data.providers
    if prov is None or prov.empty or "reserve_months_end" not in prov:
        return None
    alive = prov[prov["in_market_end"]] if "in_market_end" in prov else prov[prov["exit_month"] < 0]
    bands = [b for b in SIZE_BANDS if b in set(alive["size_band"])]
    policies = [p for p in data.policies if p in set(alive["policy"])]
    values = alive["reserve_months_end"].dropna()
    if values.empty:
        return None
    fig, body = new_figure(14, 7.6)
    ax = body.subplots()
    width = 0.8 / max(len(policies), 1)
    low_whisker = np.inf
    for k, p in enumerate(policies):
        i = policy_index(data, p)
        groups = [alive.loc[(alive["policy"] == p) & (alive["size_band"] == b), "reserve_months_end"].dropna()
                  for b in bands]
        positions = [j - 0.4 + width * (k + 0.5) for j in range(len(bands))]
        keep = [(g.to_numpy(), x) for g, x in zip(groups, positions) if len(g)]
        if not keep:
            continue
        low_whisker = min(low_whisker, *(np.quantile(g, RESERVE_Q[0]) for g, _ in keep))
        ax.boxplot([g for g, _ in keep], positions=[x for _, x in keep], widths=width * 0.85,
                   whis=(RESERVE_Q[0] * 100, RESERVE_Q[1] * 100), showfliers=False, patch_artist=True,
                   manage_ticks=False, boxprops={"facecolor": policy_colour(i), "alpha": 0.75, "edgecolor": INK},
                   medianprops={"color": "white" if i == 0 else INK, "lw": 2.5}, whiskerprops={"color": INK, "lw": 1.5},
                   capprops={"color": INK, "lw": 1.5})
    log = low_whisker > 0
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(FixedLocator(RESERVE_TICKS))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: tick_label(v)))
        ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.axhline(0, color=INK, lw=1)
    month = ax.axhline(1, color=OKABE_ITO["vermillion"], lw=2, ls="--", zorder=0.5, label="One month of spending")
    ax.set_xticks(range(len(bands)), [humanise(b) for b in bands])
    ax.set_xlim(-0.5, len(bands) - 0.5)
    ax.set_xlabel("Income band")
    ax.set_ylabel("Cash reserves at the end\n(months of spending" + (", log scale)" if log else ")"))
    ax.grid(axis="x", visible=False)
    ax.grid(axis="y", which="minor", visible=False)
    if len(policies) > 1:
        policy_legend(body, data, policies, kind="patch", extra=[month])
    else:
        body.legend(handles=[month], loc="outside lower center")
    below = float((values < 1).mean())
    title = "Cash reserves of organisations still in the market at the end"
    caption = ("Reserves in months of the organisation's own spending, for organisations still in the market at "
               f"the end of the {period(data.horizon_months)}, pooled over replications. Boxes span the middle half "
               "(25th to 75th percentile) with the median marked; whiskers reach the 10th and 90th percentiles. "
               + ("The vertical scale is logarithmic: each step up doubles or more. " if log else "")
               + f"Across all policies and bands, {below:.0%} of these organisations hold less than one month of "
               "spending (dashed line).")
    add_titles(fig, title, data.caption)
    return Chart("reserves_end", title, caption, fig)


RESERVE_Q = (0.10, 0.90)
"""Quantiles the reserve whiskers reach."""


RUN_CHARTS: tuple[ChartFunction, ...] = (kpi_comparison, providers_over_time, survival, share_value_small,
                                         bids_per_lot, service_gap, reserves_end)
"""The charts of a run or compare folder, in report order."""
