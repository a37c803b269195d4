"""The headline chart: each KPI's paired difference from the baseline with its 95% interval (compare),
or its average (run)."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ..data import ResultsFolder
from ..figdata import kpi_intervals
from ..glossary import better_text
from ..style import INK, MARKERS, add_titles, balanced_wrap, humanise, new_figure, policy_colour
from ..text import HEADLINE_KPIS, kpi_title, kpi_unit, phrase
from .base import NICE_STEPS, Chart, _all_zero, _errorbar_x, _short, policy_index, thousands


# -- 1. headline KPIs ------------------------------------------------------------------------
def kpi_comparison(data: ResultsFolder) -> Chart | None:
    """Paired differences from the baseline with 95% intervals (compare), or means (run)."""
    iv = kpi_intervals(data, HEADLINE_KPIS)
    if iv is None:
        return None
    kpis, policies, diffs = iv.kpis, iv.policies, iv.diffs
    ncols = 2
    nrows = math.ceil(len(kpis) / ncols)
    fig, body = new_figure(14, 1.6 + nrows * (0.55 * len(policies) + 1.5))
    axes = body.subplots(nrows, ncols, sharey=True, squeeze=False).ravel()
    for ax, kpi in zip(axes, kpis):
        _kpi_panel(ax, data, iv.rows[iv.rows["kpi"] == kpi], kpi, policies, diffs)
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


def _kpi_panel(ax: Axes, data: ResultsFolder, rows: pd.DataFrame, kpi: str, policies: list[str], diffs: bool) -> None:
    """One KPI: a dot and 95% interval per policy (``rows``: this KPI's rows of :class:`KpiIntervals`)."""
    shown: list[float] = []
    by_policy = rows.set_index("policy")
    for y, policy in enumerate(policies):
        if policy not in by_policy.index:
            continue
        x, lo, hi = (float(by_policy.loc[policy, c]) for c in ("value", "low", "high"))
        shown += [x, lo, hi]
        i = policy_index(data, policy)
        hollow = diffs and not bool(by_policy.loc[policy, "clear"])
        ax.errorbar([x], [y], xerr=_errorbar_x(x, lo, hi), fmt=MARKERS[i % len(MARKERS)], color=policy_colour(i),
                    mfc="white" if hollow else policy_colour(i), mew=2, ms=10, capsize=6, elinewidth=2.2,
                    label=humanise(policy))
    unit = kpi_unit(kpi)
    title = kpi_title(kpi)
    base = float(rows["baseline"].iloc[0]) if len(rows) else math.nan
    cue = better_text(kpi)
    if diffs and math.isfinite(base):
        title += f"\n(baseline average {_short(base, unit)}; {cue})"
        ax.axvline(0, color=INK, lw=1.2)
    else:
        title += f"\n({cue})"
    ax.set_title(title, loc="left")
    diff_unit = "percentage points" if unit == "%" else unit
    ax.set_xlabel(f"Difference from baseline ({diff_unit})" if diffs else f"Average ({unit})")
    ax.grid(axis="y", visible=False)
    ax.margins(x=0.15)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=NICE_STEPS))
    if _all_zero(shown):
        ax.set_xlim(-1, 1)  # every policy the same as the baseline: a readable axis around 0
    thousands(ax, "x", "£" if unit.startswith("£") else "")


def kpi_phrase_over(kpi: str) -> bool:
    """Whether a KPI is a total over the simulated period."""
    return phrase(kpi).over_horizon


