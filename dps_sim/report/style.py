"""House style of every chart: fonts, colour-blind-safe palette, captions, saving.

Figures are built with :class:`matplotlib.figure.Figure` and rendered by the Agg canvas;
``pyplot`` is never imported, so drawing a report does not change the backend of a user's
session (a notebook keeps its own) and works on a machine without a display.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure, SubFigure

OKABE_ITO: dict[str, str] = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
"""The Okabe–Ito palette, distinguishable with the common colour-vision deficiencies."""

POLICY_COLOURS: tuple[str, ...] = (
    OKABE_ITO["black"], OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["green"], OKABE_ITO["purple"],
    OKABE_ITO["orange"], OKABE_ITO["sky_blue"], "#7F7F7F",
)
"""Policy colours in order: the first policy (the baseline) is black."""

LINE_STYLES: tuple[object, ...] = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 3)))
"""Line styles paired with the colours, so lines stay apart in greyscale print."""

MARKERS: tuple[str, ...] = ("o", "s", "D", "^", "v", "P", "X", "*")

INK = "#222222"
GRID = "#D9D9D9"
BAND_ALPHA = 0.18
"""Opacity of shaded uncertainty bands."""

DPI = 100
"""PNG resolution (dots per inch)."""

HOUSE_RC: dict[str, object] = {
    "font.family": "DejaVu Sans",
    "font.size": 13,
    "axes.titlesize": 14,
    "axes.titleweight": "bold",
    "axes.labelsize": 13,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "legend.title_fontsize": 12,
    "figure.titlesize": 17,
    "figure.titleweight": "bold",
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "text.color": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "lines.linewidth": 2.2,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.hashsalt": "dps_sim",
    "svg.fonttype": "path",
}
"""rcParams of the house style: large fonts for a printed committee paper."""


@contextmanager
def house_style() -> Iterator[None]:
    """Apply the house style to figures made (and saved) inside the block."""
    with matplotlib.rc_context(HOUSE_RC):
        yield


FOOTER_INCHES = 0.4
"""Height of the caption strip at the bottom of every chart."""


def new_figure(width: float, height: float) -> tuple[Figure, SubFigure]:
    """A figure in inches (constrained layout, Agg canvas) and the body subfigure to draw in.

    The body holds the panels and legends; a strip below it holds the source caption, so
    a legend placed "outside lower center" of the body never collides with the caption.
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    body, _ = fig.subfigures(2, 1, height_ratios=[height - FOOTER_INCHES, FOOTER_INCHES])
    return fig, body


def policy_colour(index: int) -> str:
    """Colour of the policy at position ``index`` (0 is the baseline)."""
    return POLICY_COLOURS[index % len(POLICY_COLOURS)]


def policy_style(index: int) -> object:
    """Line style of the policy at position ``index``."""
    return LINE_STYLES[index % len(LINE_STYLES)]


def humanise(name: str) -> str:
    """'pay_monthly_in_arrears' -> 'Pay monthly in arrears'."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def param_label(path: str, width: int = 30) -> str:
    """A dotted scenario path as a short readable label, wrapped to ``width`` characters."""
    parts = [p.replace("_", " ") for p in str(path).split(".")]
    if len(parts) > 2 and parts[-2].isdigit():  # shocks.0.fraction -> 'shock 1 › fraction'
        parts = [*parts[:-3], f"{parts[-3].removesuffix('s')} {int(parts[-2]) + 1}", parts[-1]]
    label = " › ".join(parts[-2:]) if len(parts) > 1 else parts[0]
    return "\n".join(textwrap.wrap(label, width)) or label


def wrap(text: str, width: int) -> str:
    """Wrap text to lines of at most ``width`` characters."""
    return "\n".join(textwrap.wrap(text, width))


def balanced_wrap(text: str, width: int) -> str:
    """Wrap into as few lines as :func:`wrap` would, but of even length ('Bond waived and / pay in advance'
    rather than 'Bond waived and pay in / advance')."""
    lines = len(textwrap.wrap(text, width)) or 1
    for w in range(max(1, -(-len(text) // lines)), width + 1):
        wrapped = textwrap.wrap(text, w)
        if len(wrapped) <= lines:
            return "\n".join(wrapped)
    return wrap(text, width)


def add_titles(fig: Figure, title: str, caption: str) -> None:
    """Title at the top and the source caption (scenario, replications, seed) at the bottom."""
    fig.suptitle(title, x=0.01, ha="left")
    foot = fig.subfigs[-1] if fig.subfigs else fig
    foot.text(0.01, 0.5, caption, ha="left", va="center", fontsize=11, color="#555555")


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def rendered_pixels(fig: Figure) -> np.ndarray:
    """The RGB pixels of the figure as the last :func:`png_bytes` drew them (the Agg canvas keeps them)."""
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def svg_bytes(fig: Figure) -> bytes:
    """The figure as SVG bytes (text as paths: no fonts needed to view it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()
