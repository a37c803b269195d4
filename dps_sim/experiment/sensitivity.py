"""Sensitivity of each KPI to each swept parameter.

The analysis works on the replication mean of a KPI at each sweep point, against the points'
unit coordinates (see :mod:`dps_sim.experiment.sampling`):

- ``sobol``  first-order ``S1`` and total-order ``ST`` indices with 95% bootstrap half-widths
             (``SALib.analyze.sobol``, ``calc_second_order=False``); ranked by ``ST``.
- ``morris`` ``mu_star`` (mean absolute elementary effect, KPI units per whole parameter range),
             its 95% half-width and ``sigma`` (interactions or non-linearity); ranked by ``mu_star``.
- ``grid``, ``lhs``  Spearman rank correlation ``rho`` and its ``p_value``; ranked by ``|rho|``.
  A levels parameter is ranked in the order its levels are listed.

A point whose KPI is missing (a failed point, or a KPI undefined in that run) drops its whole
block (D + 2 points for sobol, D + 1 for morris) so the estimators stay valid; the ``note``
column says how many blocks were used. A KPI that does not vary across the sweep gets no
indices (its ``note`` says so).

The model is stochastic, so part of the variation between points is replication noise.
``noise_share`` estimates that part: the mean within-point variance over the replications,
divided by the number of replications, as a share of the variance of the point means. It is
the level a parameter with no effect reaches in Sobol's ST with independent seeds per point,
so read ST near ``noise_share`` as "no effect detected". It needs at least two replications
per point, and is left empty (NaN) by sweeps with common random numbers, where the seeds'
effect is shared by every point and is no floor.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from .sampling import MORRIS_LEVELS, Design

COLUMNS: dict[str, list[str]] = {
    "sobol": ["S1", "S1_conf", "ST", "ST_conf"],
    "morris": ["mu_star", "mu_star_conf", "sigma", "mu"],
    "grid": ["rho", "p_value"],
    "lhs": ["rho", "p_value"],
}
RANK_BY: dict[str, str] = {"sobol": "ST", "morris": "mu_star", "grid": "rho", "lhs": "rho"}
CONF_LEVEL = 0.95
RESAMPLES = 200


def columns(method: str) -> list[str]:
    """sensitivity.csv columns for a method."""
    return ["kpi", "parameter", "method", *COLUMNS[method], "rank", "points_used", "noise_share", "note"]


def point_means(points: pd.DataFrame, kpis: list[str], n_points: int) -> dict[str, np.ndarray]:
    """Replication mean of each KPI at each point (NaN where no replication has a value)."""
    out: dict[str, np.ndarray] = {}
    grouped = points.groupby("point")[kpis].mean() if len(points) else pd.DataFrame(columns=kpis)
    grouped = grouped.reindex(range(n_points))
    for k in kpis:
        out[k] = grouped[k].to_numpy(dtype=float)
    return out


def noise_shares(points: pd.DataFrame, kpis: list[str]) -> dict[str, float]:
    """Share of the variance of each KPI's point means due to replication noise (NaN with one replication)."""
    out: dict[str, float] = {}
    if not len(points):
        return {k: float("nan") for k in kpis}
    grouped = points.groupby("point")[kpis]
    within, n = grouped.var(ddof=1), grouped.count()
    between = grouped.mean().var(ddof=1)
    for k in kpis:
        ok = n[k] >= 2
        noise = float((within.loc[ok, k] / n.loc[ok, k]).mean()) if ok.any() else float("nan")
        out[k] = noise / float(between[k]) if between[k] > 0 and np.isfinite(noise) else float("nan")
    return out


def analyse(design: Design, means: dict[str, np.ndarray], seed: int,
            noise: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per (KPI, parameter): the method's indices, the rank within the KPI, the noise share, notes."""
    noise = noise or {}
    frames = [analyse_kpi(design, kpi, np.asarray(y, dtype=float), seed, noise.get(kpi, float("nan")))
              for kpi, y in means.items()]
    if not frames:
        return pd.DataFrame(columns=columns(design.method))
    return pd.concat(frames, ignore_index=True)


def analyse_kpi(design: Design, kpi: str, y: np.ndarray, seed: int, noise_share: float = float("nan")) -> pd.DataFrame:
    method, names = design.method, design.names
    cols = COLUMNS[method]
    block = design.block
    n = len(y)
    if n != len(design):
        raise ValueError(f"{kpi}: {n} values for {len(design)} points")
    ok_blocks = np.isfinite(y).reshape(-1, block).all(axis=1)
    keep = np.repeat(ok_blocks, block)
    used = int(keep.sum())
    notes: list[str] = []
    if not ok_blocks.all():
        what = "points" if block == 1 else f"blocks of {block} points"
        notes.append(f"{int((~ok_blocks).sum())} of {len(ok_blocks)} {what} dropped (failed or undefined KPI)")
    values: dict[str, np.ndarray] = {c: np.full(len(names), np.nan) for c in cols}
    yk = y[keep]
    min_blocks = {"sobol": 2, "morris": 2}.get(method, 3)
    if int(ok_blocks.sum()) < min_blocks:
        notes.append("too few complete points to analyse")
    elif np.nanmax(yk) - np.nanmin(yk) <= 1e-12 * max(1.0, abs(float(np.nanmax(yk)))):
        notes.append("KPI does not vary across the sweep")
    else:
        values = _indices(design, yk, keep, seed)
    frame = pd.DataFrame({"kpi": kpi, "parameter": names, "method": method, **values})
    score = frame[RANK_BY[method]].abs()
    frame["rank"] = score.rank(ascending=False, method="min").astype("Int64")
    frame["points_used"] = used
    frame["noise_share"] = noise_share
    frame["note"] = "; ".join(notes)
    return frame[columns(method)]


def _indices(design: Design, y: np.ndarray, keep: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    method = design.method
    problem = design.problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(problem, y, calc_second_order=False, num_resamples=RESAMPLES, conf_level=CONF_LEVEL,
                                print_to_console=False, seed=seed)
            return {c: np.asarray(res[c], dtype=float) for c in COLUMNS["sobol"]}
        if method == "morris":
            from SALib.analyze import morris

            x = design.unit[keep]
            res = morris.analyze(problem, x, y, num_resamples=RESAMPLES, conf_level=CONF_LEVEL,
                                 print_to_console=False, num_levels=MORRIS_LEVELS, seed=seed)
            return {c: np.asarray(res[c], dtype=float) for c in COLUMNS["morris"]}
        from scipy.stats import spearmanr

        x = realised_unit(design)[keep]
        rho = np.full(x.shape[1], np.nan)
        p = np.full(x.shape[1], np.nan)
        for j in range(x.shape[1]):
            if np.ptp(x[:, j]) == 0:
                continue
            r = spearmanr(x[:, j], y)
            rho[j], p[j] = float(r.statistic), float(r.pvalue)
        return {"rho": rho, "p_value": p}


def realised_unit(design: Design) -> np.ndarray:
    """Unit coordinates of the values actually run (integers rounded, levels by position)."""
    out = np.empty((len(design), len(design.parameters)))
    for j, par in enumerate(design.parameters):
        out[:, j] = [par.unit(v[j]) for v in design.values]
    return out


def ranking(sensitivity: pd.DataFrame, kpi: str) -> list[str]:
    """Parameters of one KPI, most influential first."""
    rows = sensitivity[sensitivity["kpi"] == kpi].sort_values("rank", kind="stable", na_position="last")
    return rows["parameter"].tolist()


def summary_text(sensitivity: pd.DataFrame, meta: dict[str, Any]) -> str:
    """A short Markdown section for the report: the leading parameters of each KPI, in plain words."""
    method = meta.get("method", "")
    explain = {
        "sobol": "Sobol total-order index ST: the share of the KPI's variance due to the parameter, alone or "
                 "with others (0 none, 1 all); S1 counts the parameter alone",
        "morris": "Morris mu*: the mean absolute change in the KPI when the parameter moves across its whole range",
        "grid": "Spearman rank correlation rho between the parameter and the KPI (-1 to 1)",
        "lhs": "Spearman rank correlation rho between the parameter and the KPI (-1 to 1)",
    }.get(method, "")
    lines = [f"## Sensitivity: {meta.get('title', 'parameter sweep')}", ""]
    lines.append(f"{meta.get('points', '?')} points x {meta.get('replications', '?')} replications "
                 f"({meta.get('runs', '?')} runs) of scenario '{meta.get('scenario_name', '')}', policy "
                 f"'{meta.get('policy', '')}', sampled by {method}; {meta.get('failed_points', 0)} points failed. "
                 f"Measure: {explain}.")
    if "noise_share" in sensitivity and sensitivity["noise_share"].notna().any():
        lines.append("Noise: the share of the variation between points that replication noise alone gives"
                     + (" (a parameter with no effect has ST about this large)" if method == "sobol" else "") + ".")
    lines.append("")
    for kpi, rows in sensitivity.groupby("kpi", sort=False):
        rows = rows.sort_values("rank", kind="stable", na_position="last")
        note = rows["note"].iloc[0] if len(rows) else ""
        if rows["rank"].isna().all():
            lines.append(f"- **{kpi}**: no ranking ({note or 'no result'}).")
            continue
        parts = [_describe_row(method, r) for _, r in rows.head(3).iterrows() if not pd.isna(r["rank"])]
        noise = rows["noise_share"].iloc[0] if "noise_share" in rows else float("nan")
        extra = "; ".join(x for x in (note, f"noise {noise:.2f}" if pd.notna(noise) else "") if x)
        lines.append(f"- **{kpi}**: " + "; then ".join(parts) + (f" ({extra})" if extra else "") + ".")
    return "\n".join(lines) + "\n"


def _describe_row(method: str, r: pd.Series) -> str:
    if method == "sobol":
        return f"{r['parameter']} (ST {r['ST']:.2f} ± {r['ST_conf']:.2f}, S1 {r['S1']:.2f})"
    if method == "morris":
        return f"{r['parameter']} (mu* {r['mu_star']:.3g} ± {r['mu_star_conf']:.2g}, sigma {r['sigma']:.3g})"
    return f"{r['parameter']} (rho {r['rho']:+.2f}, p {r['p_value']:.2g})"
