"""What every run or compare chart shares: the Chart record, tick formats, policy colours and legends,
month axes and small helpers."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from ..data import ResultsFolder
from ..figdata import SIZE_BANDS
from ..text import money
from ..style import INK, policy_colour, policy_style, humanise

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


def _all_zero(values: list[float]) -> bool:
    """Whether every finite value is zero, give or take rounding noise (and there is at least one)."""
    finite = [abs(v) for v in values if math.isfinite(v)]
    return bool(finite) and max(finite) < 1e-9



def _short(value: float, unit: str) -> str:
    """A value for a panel title: '£1,234', '23.4%', '1.5'."""
    if not math.isfinite(value):
        return "n/a"
    d = 0 if abs(value) >= 100 else 1 if abs(value) >= 1 else 2
    if unit.startswith("£"):
        return money(value)
    text = "0" if value == 0 else f"{value:,.{d}f}"
    return f"{text}%" if unit == "%" else text

