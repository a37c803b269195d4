"""explore.html: one self-contained interactive page over the saved tables of a results folder.

The numbers come from :mod:`dps_sim.report.figdata`, the same functions the static charts draw,
and are embedded as JSON beside plotly.js (embedded too), so the page opens from disk with no
network and can be mailed like report.html. Plotly is an optional extra: ``pip install 'dps_sim[explore]'``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..experiment.outdir import EXPLORER_FILES
from ..experiment.store import atomic_write_text, writing
from ..metrics import EXTRA_KPIS, KPI_NAMES
from .data import BASELINE, ResultsFolder
from .figdata import (KpiIntervals, binned_medians, is_categorical, kpi_intervals, levels, metric_band,
                      point_means, survival_curves, timeseries_metrics)
from .glossary import better_text, verdict
from .style import humanise, param_label, policy_colour
from .text import (HEADLINE_KPIS, fmt_interval, fmt_value, interval_decimals, kpi_description, kpi_scale, kpi_title,
                   kpi_unit)

SIGNIFICANT = 5
"""Significant figures kept for the numbers embedded in the page (smaller file, same picture)."""


class ExplorerUnavailable(RuntimeError):
    """Plotly is not installed (it is the optional extra ``dps_sim[explore]``)."""


def build_explorer(folder: str | Path) -> Path:
    """Write ``explore.html`` into a run, compare or sweep folder (replacing our earlier one); returns its path."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ExplorerUnavailable("the explorer needs Plotly: pip install 'dps_sim[explore]'") from exc
    from .explorer_page import render_page

    data = ResultsFolder.open(folder)
    path = data.folder / "explore.html"
    with writing(data.folder, EXPLORER_FILES):  # a user's own explore.html is never replaced
        atomic_write_text(path, render_page(explorer_payload(data), get_plotlyjs()))
    return path


def explorer_payload(data: ResultsFolder) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data: policies, KPI intervals, time series, survival, sweep."""
    policies = [{"name": p, "label": humanise(p), "colour": policy_colour(i)} for i, p in enumerate(data.policies)]
    kpis = all_kpis(data)
    return {"title": f"{data.scenario_name}: explore the results", "caption": data.caption, "kind": data.kind,
            "baseline": BASELINE, "policies": policies,
            "kpis": [kpi_info(k) for k in kpis], "intervals": intervals_payload(kpi_intervals(data, kpis)),
            "timeseries": timeseries_payload(data), "survival": survival_payload(data), "sweep": sweep_payload(data)}


# -- KPIs ---------------------------------------------------------------------------------------
def all_kpis(data: ResultsFolder) -> list[str]:
    """The headline KPIs first, then every other KPI the folder holds."""
    order = [*HEADLINE_KPIS, *[k for k in (*KPI_NAMES, *EXTRA_KPIS) if k not in HEADLINE_KPIS]]
    if data.summary is not None and "kpi" in data.summary:
        order += [str(k) for k in pd.unique(data.summary["kpi"]) if str(k) not in order]
    return order


def kpi_info(kpi: str) -> dict[str, Any]:
    """A KPI's labels: title, unit (as displayed), description, which way is better, headline or not."""
    return {"name": kpi, "title": kpi_title(kpi), "unit": kpi_unit(kpi), "description": kpi_description(kpi),
            "better": better_text(kpi), "headline": kpi in HEADLINE_KPIS}


def interval_text(kpi: str, value: float, low: float, high: float, signed: bool) -> str:
    """'−£55.5k (95% CI −£63.1k to −£47.9k)' from display-unit values (shares in %), as the report says it."""
    scale = kpi_scale(kpi)
    d = interval_decimals(value, low, high)
    top = max((abs(v) for v in (value, low, high) if math.isfinite(v)), default=0.0) / scale
    return (f"{fmt_value(value / scale, kpi, d, signed=signed, top=top)} "
            f"(95% CI {fmt_interval(low / scale, high / scale, kpi, d, signed=signed, top=top)})")


def intervals_payload(iv: KpiIntervals | None) -> dict[str, Any]:
    """Rows of the KPI chart and table: value, interval, clear or not, and the formatted text."""
    if iv is None:
        return {"diffs": False, "rows": []}
    rows = []
    for r in iv.rows.itertuples(index=False):
        rows.append({"policy": r.policy, "kpi": r.kpi, "value": _num(r.value), "low": _num(r.low),
                     "high": _num(r.high), "clear": bool(r.clear), "baseline": _num(r.baseline),
                     "verdict": verdict(r.kpi, r.value, bool(r.clear)) if iv.diffs else "",
                     "text": interval_text(r.kpi, r.value, r.low, r.high, signed=iv.diffs),
                     "baseline_text": fmt_value(r.baseline / kpi_scale(r.kpi), r.kpi) if math.isfinite(r.baseline)
                     else ""})
    return {"diffs": iv.diffs, "rows": rows}


# -- time series and survival -------------------------------------------------------------------
def timeseries_payload(data: ResultsFolder) -> dict[str, Any] | None:
    """Per metric and policy: the median and 90% band by month, and every replication's own line."""
    ts = data.timeseries
    if ts is None or ts.empty:
        return None
    months = sorted(int(m) for m in pd.unique(ts["month"]))
    policies = [p for p in data.policies if p in set(ts["policy"].unique())]
    metrics = timeseries_metrics(ts)
    series: dict[str, dict[str, Any]] = {m: {} for m in metrics}
    for p in policies:
        wide = ts[ts["policy"] == p].pivot_table(index="replication", columns="month", values=metrics)
        for metric in metrics:
            band = metric_band(ts, p, metric).reindex(months)
            reps = wide[metric].reindex(columns=months).to_numpy(dtype=float)
            series[metric][p] = {"median": _nums(band["median"]), "low": _nums(band["low"]),
                                 "high": _nums(band["high"]), "reps": [_nums(row) for row in reps]}
    return {"months": months, "metrics": [{"name": m, "label": metric_label(m)} for m in series],
            "replications": int(ts["replication"].nunique()), "series": series}


def metric_label(column: str) -> str:
    """'providers_active_micro' -> 'Providers active micro' (a KPI's own title when the column is one)."""
    return kpi_title(column) if column in KPI_NAMES else humanise(column)


def survival_payload(data: ResultsFolder) -> dict[str, Any] | None:
    """Per income band and policy: the survival curve and its 95% interval."""
    sc = survival_curves(data)
    if sc is None:
        return None
    curves = {b: {p: {k: _nums(c[k]) for k in ("month", "survival", "low", "high")}
                  for (p, band), c in sc.curves.items() if band == b} for b in sc.bands}
    return {"bands": [{"name": b, "label": humanise(b), "n": round(sc.counts.get(b, 0.0))} for b in sc.bands],
            "curves": curves, "horizon": sc.horizon}


# -- sweeps ------------------------------------------------------------------------------------
def sweep_payload(data: ResultsFolder) -> dict[str, Any] | None:
    """Point means per sampled combination, with each parameter's levels, and binned-median lines."""
    if data.kind != "sweep" or data.points is None or data.points.empty:
        return None
    from .sweep_charts import parameters, sweep_kpis

    pts = data.points
    params = [p for p in parameters(data) if p in pts]
    kpis = [k for k in sweep_kpis(data) if k in pts]
    if not params or not kpis:
        return None
    means = point_means(pts, params, kpis)
    spec = data.sweep_spec.get("parameters")
    spec = spec if isinstance(spec, dict) else {}
    dims, lines = [], {}
    for p in params:
        x = means[p]
        named = [str(v) for v in levels(x, spec.get(p))] if is_categorical(x) else None
        xs = x.astype(str).map({v: i for i, v in enumerate(named)}).astype(float) if named else x.astype(float)
        dims.append({"name": p, "label": param_label(p, 200).replace("\n", " "), "levels": named,
                     "values": _nums(xs), "log": bool(isinstance(spec.get(p), dict) and spec[p].get("log"))})
        for k in kpis:
            line = binned_medians(xs, means[k].astype(float) * kpi_scale(k)) if not named else pd.Series(dtype=float)
            lines[f"{p}|{k}"] = {"x": _nums(line.index), "y": _nums(line.to_numpy())}
    outcome = [{"name": k, "label": kpi_title(k), "unit": kpi_unit(k), "better": better_text(k),
                "values": _nums(means[k].astype(float) * kpi_scale(k))} for k in kpis]
    return {"params": dims, "kpis": outcome, "lines": lines, "count": len(means)}


# -- numbers -----------------------------------------------------------------------------------
def _num(v: float) -> float | None:
    """A finite number rounded to SIGNIFICANT figures, or None."""
    if v is None or not math.isfinite(float(v)):
        return None
    v = float(v)
    return 0.0 if v == 0 else float(f"{v:.{SIGNIFICANT}g}")


def _nums(values: Any) -> list[float | None]:
    """Many numbers at once as :func:`_num` does one (NaN and infinities become None)."""
    a = np.asarray(values, dtype=float)
    ok = np.isfinite(a) & (a != 0)
    mag = np.floor(np.log10(np.abs(a, where=ok, out=np.ones_like(a))))
    step = 10.0 ** (mag - (SIGNIFICANT - 1))
    rounded = np.where(ok, np.round(a / step) * step, a)
    return [float(v) if np.isfinite(v) else None for v in rounded.tolist()]
