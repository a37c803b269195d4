"""How long organisations stay in the market: survival curves by income band."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, FuncFormatter

from ..data import ResultsFolder
from ..style import add_titles, humanise, new_figure, policy_colour, policy_style
from ..figdata import survival_curves
from ..text import join_and, period
from .base import BASELINE_LW, Chart, horizon_ticks, label_bottom_row, policy_index, policy_legend


# -- 3. survival -----------------------------------------------------------------------------
def survival(data: ResultsFolder) -> Chart | None:
    """Kaplan–Meier survival in the market by size band: a panel per band, a curve per policy, the
    first policy's (the baseline's) 95% interval shaded.
    """
    sc = survival_curves(data)
    if sc is None:
        return None
    horizon, policies, curves, counts = sc.horizon, sc.policies, sc.curves, sc.counts
    left = {band for (_, band), c in curves.items() if float(c["survival"].min()) < 1.0}
    bands = [b for b in sc.bands if b in left]
    stayed = [b for b in sc.bands if b not in bands]
    if not bands:
        return None
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
    title = "How long organisations stay in the market, by income band"
    none_left = (f" No {join_and([humanise(b).lower() for b in stayed])} organisation left the market in any "
                 f"replication, so {'that band has' if len(stayed) == 1 else 'those bands have'} no panel."
                 if stayed else "")
    caption = (f"Share of organisations still in the market a given number of months after they entered it, with "
               f"{shading}, pooled over replications; n is the number of organisations. Organisations still "
               f"trading at the end of the {period(horizon)} count as staying up to the end, since we cannot see "
               f"beyond it (the Kaplan–Meier method; statisticians call them 'censored'). An exit is an "
               f"insolvency or a closure. {scale}{none_left}")
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


