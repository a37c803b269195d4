"""Charts of a parameter sweep: sensitivity indices per KPI, and KPIs against the top parameters.

Tolerant of what the sweep wrote: Sobol (S1, ST and their confidence half-widths), Morris
(mu_star, mu_star_conf, sigma) or rank correlations (rho) in sensitivity.csv, and
points.parquet with one column per swept parameter (named by its dotted path).
"""

from __future__ import annotations

import math
import typing
from functools import lru_cache

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import LogLocator

from ..metrics import EXTRA_KPIS, KPI_NAMES
from .charts import Chart, ChartFunction, thousands
from .data import ResultsFolder
from .figdata import as_numbers, binned_medians, is_categorical, levels, point_means
from .style import INK, OKABE_ITO, add_titles, new_figure, param_label, wrap
from .text import HEADLINE_KPIS, kpi_scale, kpi_title, kpi_unit

SOBOL_COLOURS = {"S1": OKABE_ITO["blue"], "ST": OKABE_ITO["orange"]}
SIGN_COLOURS = {True: OKABE_ITO["vermillion"], False: OKABE_ITO["blue"]}
MAX_PARAMETERS = 12
"""Most parameters shown per KPI in the sensitivity chart (the most influential)."""


# -- what the sweep holds ------------------------------------------------------------------
def parameters(data: ResultsFolder) -> list[str]:
    """Swept parameters: the sweep spec's, else the dotted-path columns of points.parquet."""
    pts = data.points
    cols = list(pts.columns) if pts is not None else []
    spec = data.sweep_spec.get("parameters")
    names = list(spec) if isinstance(spec, (dict, list)) else []
    names = [str(n) for n in names if not cols or str(n) in cols]
    if not names and data.sensitivity is not None and "parameter" in data.sensitivity:
        names = [str(p) for p in pd.unique(data.sensitivity["parameter"])]
    if not names:
        names = [c for c in cols if "." in c]
    return names


def sweep_kpis(data: ResultsFolder) -> list[str]:
    """KPIs of the sweep: the spec's, else those in sensitivity.csv, else KPI columns of the points."""
    spec = data.sweep_spec.get("kpis")
    if isinstance(spec, list) and spec:
        return [str(k) for k in spec]
    if data.sensitivity is not None and "kpi" in data.sensitivity:
        return [str(k) for k in pd.unique(data.sensitivity["kpi"])]
    cols = set(data.points.columns) if data.points is not None else set()
    return [k for k in (*HEADLINE_KPIS, *KPI_NAMES, *EXTRA_KPIS) if k in cols][:3]


def sensitivity_method(rows: pd.DataFrame) -> str:
    """'sobol', 'morris' or 'correlation', from the method column or the columns present."""
    method = str(rows["method"].dropna().iloc[0]).lower() if "method" in rows and rows["method"].notna().any() else ""
    if method in ("sobol", "morris"):
        return method
    for name, col in (("sobol", "ST"), ("sobol", "S1"), ("morris", "mu_star")):
        if col in rows and rows[col].notna().any():
            return name
    return "correlation"


def importance(rows: pd.DataFrame, method: str) -> pd.Series:
    """How much each parameter matters (for ordering): ST, mu*, or |rho|."""
    if method == "sobol":
        col = "ST" if "ST" in rows and rows["ST"].notna().any() else "S1"
        return rows[col].astype(float)
    if method == "morris":
        return rows["mu_star"].astype(float)
    return rows["rho"].astype(float).abs() if "rho" in rows else pd.Series(0.0, index=rows.index)


def ranked(data: ResultsFolder, kpi: str) -> pd.DataFrame:
    """Sensitivity rows of one KPI, most influential parameter first (with a `method` column)."""
    sens = data.sensitivity
    if sens is None or sens.empty or "kpi" not in sens or "parameter" not in sens:
        return pd.DataFrame()
    rows = sens[sens["kpi"] == kpi].copy()
    if rows.empty:
        return rows
    method = sensitivity_method(rows)
    rows["method"] = method
    rows["_importance"] = importance(rows, method).fillna(-np.inf).to_numpy()
    return rows.sort_values("_importance", ascending=False, kind="stable").reset_index(drop=True)


# -- 8a. sensitivity bars --------------------------------------------------------------------
def sensitivity(data: ResultsFolder) -> Chart | None:
    """Sobol S1/ST, Morris mu* or rank-correlation bars, one panel per KPI, largest on top."""
    kpis = [k for k in sweep_kpis(data) if not ranked(data, k).empty]
    if not kpis:
        return None
    tables = {k: ranked(data, k).head(MAX_PARAMETERS) for k in kpis}
    longest = max(len(t) for t in tables.values())
    ncols = 1 if len(kpis) == 1 else 2
    nrows = math.ceil(len(kpis) / ncols)
    fig, body = new_figure(8.0 * ncols, nrows * (0.62 * longest + 1.9) + 2.2)
    axes = body.subplots(nrows, ncols, squeeze=False).ravel()
    methods = set()
    for ax, kpi in zip(axes, kpis):
        method = str(tables[kpi]["method"].iloc[0])
        methods.add(method)
        {"sobol": _sobol_panel, "morris": _morris_panel}.get(method, _correlation_panel)(ax, tables[kpi], kpi)
        ax.set_title(wrap(kpi_title(kpi), 40), loc="left")
        ax.grid(axis="y", visible=False)
    for ax in axes[len(kpis):]:
        ax.set_visible(False)
    if "sobol" in methods and any(_clipped(tables[k]) for k in kpis):
        methods.add("sobol-clipped")
    if "sobol" in methods:
        handles = [Patch(color=SOBOL_COLOURS["S1"], label="First-order index S1 (this parameter alone)"),
                   Patch(color=SOBOL_COLOURS["ST"], label="Total-effect index ST (with interactions)")]
        if any(noise_share(t) is not None for t in tables.values()):
            methods.add("sobol-noise")
            handles.append(Line2D([], [], color=INK, lw=1.6, ls=(0, (5, 3)), label="Replication noise level"))
        body.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    elif "correlation" in methods:
        body.legend(handles=[Patch(color=SIGN_COLOURS[True], label="Higher parameter, higher KPI"),
                             Patch(color=SIGN_COLOURS[False], label="Higher parameter, lower KPI")],
                    loc="outside lower center", ncols=2)
    title = "Which parameters matter most: sensitivity of each result"
    add_titles(fig, title, data.caption)
    return Chart("sensitivity", title, _sensitivity_caption(methods), fig)


CAPTIONS: dict[str, str] = {
    "sobol": "Sobol indices: the share of the variation in a result explained by a parameter on its own (S1) and "
             "including its interactions with the others (ST); bars show 95% confidence intervals.",
    "sobol-noise": "The dashed line is the share of the variation that replication noise alone produces: a "
                   "parameter with no effect reaches about that total-effect index.",
    "sobol-clipped": "Some intervals are wider than the panel and run off it: too few samples for precise indices.",
    "morris": "Morris screening: μ* is the average size of the change in a result when the parameter moves across "
              "its range, in the result's own units; bars show 95% confidence intervals.",
    "correlation": "Spearman rank correlation between each parameter and the result across the sampled points "
                   "(−1 to +1); the longest bars matter most.",
}
"""Caption sentences of the sensitivity chart, in order, by what its panels show."""


def _sensitivity_caption(methods: set[str]) -> str:
    return " ".join(text for key, text in CAPTIONS.items() if key in methods) + \
        " Parameters are sorted with the most influential at the top."


def _hbar_axes(ax: Axes, labels: list[str]) -> None:
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)


def _xerr(rows: pd.DataFrame, col: str) -> np.ndarray | None:
    """Confidence half-widths of a column (zeros where missing), or None without the column."""
    if col not in rows:
        return None
    return np.nan_to_num(rows[col].astype(float).to_numpy(), nan=0.0).clip(min=0.0)


def _sobol_panel(ax: Axes, rows: pd.DataFrame, kpi: str) -> None:
    y = np.arange(len(rows))
    h = 0.38
    for offset, col in ((-h / 2, "S1"), (h / 2, "ST")):
        if col not in rows:
            continue
        ax.barh(y + offset, rows[col].astype(float).fillna(0.0), height=h, color=SOBOL_COLOURS[col], label=col,
                xerr=_xerr(rows, f"{col}_conf"), error_kw=dict(ecolor=INK, capsize=4, elinewidth=1.6))
    _hbar_axes(ax, [param_label(p) for p in rows["parameter"]])
    ax.axvline(0, color=INK, lw=1)
    lo, hi = sobol_limits(rows)
    noise = noise_share(rows)
    if noise is not None:
        ax.axvline(noise, color=INK, lw=1.6, ls=(0, (5, 3)))
        hi = max(hi, min(noise, 1.5) * 1.05)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("Sobol index (share of variance, 0–1)")


def noise_share(rows: pd.DataFrame) -> float | None:
    """The share of a KPI's variation between points that replication noise alone gives, if estimated."""
    if "noise_share" not in rows or not rows["noise_share"].notna().any():
        return None
    return float(rows["noise_share"].dropna().iloc[0])


def _clipped(rows: pd.DataFrame) -> bool:
    """Whether a Sobol panel's intervals reach beyond its x range."""
    if str(rows["method"].iloc[0]) != "sobol":
        return False
    lo, hi = sobol_limits(rows)
    for col in ("S1", "ST"):
        if col in rows and f"{col}_conf" in rows:
            v, c = rows[col].astype(float), rows[f"{col}_conf"].astype(float).fillna(0.0)
            if ((v - c) < lo).any() or ((v + c) > hi).any():
                return True
    return False


def sobol_limits(rows: pd.DataFrame) -> tuple[float, float]:
    """x range of a Sobol panel: the indices themselves and their intervals, kept within −0.5 to 1.5
    (intervals from too few samples can be far wider and then run off the panel)."""
    lo, hi = 0.0, 0.0
    for col in ("S1", "ST"):
        if col in rows:
            v = rows[col].astype(float)
            c = rows[f"{col}_conf"].astype(float).fillna(0.0) if f"{col}_conf" in rows else 0.0 * v
            lo = min(lo, float(np.nanmin(v - c)), float(np.nanmin(v)))
            hi = max(hi, float(np.nanmax(v + c)), float(np.nanmax(v)))
    return max(lo, -0.5) - 0.02, min(max(hi, 0.1), 1.5) * 1.05


def _morris_panel(ax: Axes, rows: pd.DataFrame, kpi: str) -> None:
    scale = kpi_scale(kpi)
    conf = _xerr(rows, "mu_star_conf")
    ax.barh(np.arange(len(rows)), rows["mu_star"].astype(float).fillna(0.0) * scale, height=0.6,
            color=OKABE_ITO["blue"], label="μ*", xerr=None if conf is None else conf * scale,
            error_kw=dict(ecolor=INK, capsize=4, elinewidth=1.6))
    _hbar_axes(ax, [param_label(p) for p in rows["parameter"]])
    unit = kpi_unit(kpi)
    ax.set_xlabel(f"Morris μ* ({'percentage points' if unit == '%' else unit or 'KPI units'})")
    thousands(ax, "x", "£" if unit.startswith("£") else "")


def _correlation_panel(ax: Axes, rows: pd.DataFrame, kpi: str) -> None:
    rho = rows["rho"].astype(float).fillna(0.0) if "rho" in rows else pd.Series(0.0, index=rows.index)
    ax.barh(np.arange(len(rows)), rho, height=0.6, color=[SIGN_COLOURS[bool(r > 0)] for r in rho], label="ρ")
    _hbar_axes(ax, [param_label(p) for p in rows["parameter"]])
    ax.axvline(0, color=INK, lw=1)
    ax.set_xlim(-1, 1)
    ax.set_xlabel("Spearman rank correlation ρ (−1 to +1)")


# -- 8b. scatter of KPIs against the top parameters -----------------------------------------
def sweep_scatter(data: ResultsFolder, max_kpis: int = 3, max_params: int = 3) -> Chart | None:
    """One row per main KPI, one panel per top parameter: each sampled point's mean result."""
    pts = data.points
    params = [p for p in parameters(data) if pts is not None and p in pts]
    kpis = [k for k in sweep_kpis(data) if pts is not None and k in pts][:max_kpis]
    if not params or not kpis:
        return None
    means = point_means(pts, params, kpis)
    spec = data.sweep_spec.get("parameters")
    spec = spec if isinstance(spec, dict) else {}
    top = {k: top_parameters(data, means, k, params)[:max_params] for k in kpis}
    ncols = max(len(t) for t in top.values())
    fig, body = new_figure(5.2 * ncols + 0.6, 3.9 * len(kpis) + 1.4)
    axes = body.subplots(len(kpis), ncols, squeeze=False)
    for r, kpi in enumerate(kpis):
        for c in range(ncols):
            ax = axes[r, c]
            if c >= len(top[kpi]):
                ax.set_visible(False)
                continue
            _scatter_panel(ax, means, top[kpi][c], kpi, spec.get(top[kpi][c]))
            if c == 0:
                unit = kpi_unit(kpi)
                ax.set_ylabel(wrap(f"{kpi_title(kpi)} ({unit})", 28))
    reps = data.replications
    title = "Results across the sweep, against the most influential parameters"
    caption = (f"Each dot is one sampled combination of parameters, averaged over its {reps} replication"
               f"{'s' if reps != 1 else ''}; the black line joins the medians of up to ten equal-count groups "
               "along the horizontal axis (drawn with at least 30 combinations; diamonds: the median at each "
               "level of a parameter with named levels). Each row shows the parameters that matter most for "
               "that result.")
    add_titles(fig, title, data.caption)
    return Chart("sweep_scatter", title, caption, fig)


def top_parameters(data: ResultsFolder, means: pd.DataFrame, kpi: str, params: list[str]) -> list[str]:
    """Parameters ordered by influence on a KPI: from sensitivity.csv, else |Spearman ρ| of the points."""
    rows = ranked(data, kpi)
    order = [p for p in rows["parameter"] if p in params] if not rows.empty else []
    if order:
        return order + [p for p in params if p not in order]
    score = {p: abs(_spearman(means[p], means[kpi])) for p in params}
    return sorted(params, key=lambda p: -np.nan_to_num(score[p], nan=-1.0))


def _spearman(x: pd.Series, y: pd.Series) -> float:
    xr = as_numbers(x).rank()
    return float(xr.corr(y.rank())) if xr.notna().sum() > 2 else float("nan")


def _scatter_panel(ax: Axes, means: pd.DataFrame, param: str, kpi: str, entry: typing.Any = None) -> None:
    """Dots of a KPI against a parameter (jittered strip for categorical levels) with a median line;
    ``entry`` is the parameter's sweep-file entry (level order, log range)."""
    x = means[param]
    y = means[kpi].astype(float) * kpi_scale(kpi)
    categorical = is_categorical(x)
    named = levels(x, entry) if categorical else None
    xn = as_numbers(x, named)
    if categorical:
        rng = np.random.default_rng(0)
        ax.scatter(xn + rng.uniform(-0.18, 0.18, len(xn)), y, s=22, alpha=0.55, color=OKABE_ITO["blue"], lw=0)
        med = y.groupby(xn).median()
        ax.plot(med.index, med.to_numpy(), color=INK, marker="D", ms=8, lw=2)
        ax.set_xticks(range(len(named)), [wrap(str(v).replace("_", " "), 12) for v in named])
    else:
        ax.scatter(xn, y, s=22, alpha=0.55, color=OKABE_ITO["blue"], lw=0)
        line = binned_medians(xn, y)
        ax.plot(line.index, line.to_numpy(), color=INK, lw=2.4)
        if isinstance(entry, dict) and entry.get("log") and (xn > 0).all():
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    unit = param_unit(param) or ("weight, 0–1" if ".weights." in f".{param}." else "")
    log = ax.get_xscale() == "log"
    ax.set_xlabel(wrap(param_label(param, 60).replace("\n", " ") + (f" ({unit}{', log scale' if log else ''})"
                                                                    if unit else " (log scale)" if log else ""), 34))
    if not categorical and unit.startswith("£"):
        thousands(ax, "x", "£")
    elif not categorical:
        thousands(ax, "x")
    if kpi_unit(kpi).startswith("£"):
        thousands(ax, "y", "£")
    elif kpi_unit(kpi) != "%":
        thousands(ax, "y")


@lru_cache(maxsize=256)
def param_unit(path: str) -> str:
    """Unit of a scenario parameter by its dotted path, from the schema ('' when unknown)."""
    from ..scenario.schema import Scenario

    model: typing.Any = Scenario
    field = None
    for key in path.split("."):
        fields = getattr(model, "model_fields", None)
        if not fields or key not in fields:
            return ""
        field = fields[key]
        model = _model_of(field.annotation)
    extra = field.json_schema_extra if field is not None else None
    unit = extra.get("unit", "") if isinstance(extra, dict) else ""
    return str(unit)


def _model_of(annotation: typing.Any) -> typing.Any:
    """The pydantic model inside an annotation such as ``Payment | None``."""
    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in typing.get_args(annotation):
        if hasattr(arg, "model_fields"):
            return arg
    return None


from .robustness_report import discovery, robustness_differences  # noqa: E402  (they import nothing from here)

SWEEP_CHARTS: tuple[ChartFunction, ...] = (robustness_differences, discovery, sensitivity, sweep_scatter)
"""The charts of a sweep folder, in report order."""
