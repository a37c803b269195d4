"""Cash reserves at the end, in months of spending, by income band and policy."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from ..data import ResultsFolder
from ..figdata import SIZE_BANDS
from ..style import INK, OKABE_ITO, add_titles, humanise, new_figure, policy_colour
from ..text import period
from .base import Chart, policy_index, policy_legend, tick_label


# -- 7. cash reserves at the end -------------------------------------------------------------
RESERVE_TICKS = (0.25, 0.5, 1, 2, 3, 6, 12, 24, 48)
"""Months of spending marked on the logarithmic reserves axis."""


def reserves_end(data: ResultsFolder) -> Chart | None:
    """Distribution of cash reserves (months of spending) by band and policy, of every organisation that
    was in the market: at the end for those still there, when they left for the others (survivors alone
    would look healthier than the market was).

    Reserves are spread over two orders of magnitude, so the axis is logarithmic when every
    box and whisker is above zero, and linear near zero (symmetric log) when some are not.
    """
    prov = data.providers
    if prov is None or prov.empty or "reserve_months_end" not in prov:
        return None
    stayed = prov["in_market_end"] if "in_market_end" in prov else prov["exit_month"] < 0
    alive = prov
    bands = [b for b in SIZE_BANDS if b in set(alive["size_band"].unique())]
    policies = [p for p in data.policies if p in set(alive["policy"].unique())]
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
    else:
        ax.set_yscale("symlog", linthresh=0.25, linscale=0.5)
        ax.axhline(0, color=INK, lw=1)
    ax.yaxis.set_major_locator(FixedLocator(RESERVE_TICKS if log else (-1, -0.25, 0, *RESERVE_TICKS)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: tick_label(v)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    month = ax.axhline(1, color=OKABE_ITO["vermillion"], lw=2, ls="--", zorder=0.5, label="One month of spending")
    ax.set_xticks(range(len(bands)), [humanise(b) for b in bands])
    ax.set_xlim(-0.5, len(bands) - 0.5)
    ax.set_xlabel("Income band")
    ax.set_ylabel("Cash reserves at the end or on leaving\n(months of spending, log scale)")
    ax.grid(axis="x", visible=False)
    ax.grid(axis="y", which="minor", visible=False)
    if len(policies) > 1:
        policy_legend(body, data, policies, kind="patch", extra=[month])
    else:
        body.legend(handles=[month], loc="outside lower center")
    low = prov["reserve_months_end"] < 1
    share_all, share_stayed = float(low[values.index].mean()), float(low[stayed & low.notna()].mean())
    title = "Cash reserves of organisations, at the end or when they left the market"
    scale = ("The vertical scale is logarithmic: each step up doubles or more." if log else
             "The vertical scale is logarithmic above a quarter of a month and even below it, so that zero and "
             "overdrafts can be shown.")
    across = "Across all policies and bands" if len(policies) > 1 else "Across all bands"
    caption = ("Reserves in months of the organisation's own spending, for every organisation that was in the "
               f"market: at the end of the {period(data.horizon_months)} for those still there, and when they left "
               "for those that became insolvent or closed, pooled over replications. Boxes span the middle half "
               "(25th to 75th percentile) with the median marked; whiskers reach the 10th and 90th percentiles. "
               f"{scale} {across}, {share_all:.0%} of these organisations held less than one month of spending "
               f"(dashed line); among those still in the market at the end, {share_stayed:.0%}.")
    add_titles(fig, title, data.caption)
    return Chart("reserves_end", title, caption, fig)


RESERVE_Q = (0.10, 0.90)
"""Quantiles the reserve whiskers reach."""


