"""The report content of a sweep folder: the question, the parameters swept, a sentence and a table
of sensitivity indices per KPI (the charts come from sweep_charts)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .caveats import limitations, scenario_caveats
from .document import RenderedChart, ReportContent, Table, number, provenance, scenario_paragraphs
from .data import ResultsFolder
from .glossary import GLOSSARY
from .robustness_report import discovery_findings, discovery_table, robustness_findings, robustness_tables
from .style import param_label
from .sweep_charts import param_unit, parameters, ranked, sweep_kpis
from .text import decimals_for, fmt_number, join_and, kpi_description, kpi_title, kpi_unit

SWEEP_TERMS = ("Baseline", "Replication", "95% confidence interval (CI)", "Common random numbers")
"""The glossary entries a sweep report uses."""

METHODS = {"sobol": "Sobol", "morris": "Morris", "lhs": "Latin hypercube", "grid": "grid"}


def compose_sweep(data: ResultsFolder, charts: list[RenderedChart]) -> ReportContent:
    kpis = sweep_kpis(data)
    method = METHODS.get(str(data.sweep_spec.get("method") or ""), str(data.sweep_spec.get("method") or ""))
    names = join_and([kpi_title(k).lower() for k in kpis]) or "the results"
    q = (f"Which parameters matter most for {names} in '{data.scenario_name}', across the ranges swept"
         f"{f' ({method} design)' if method else ''}?")
    params = [(_plain_param(p), [_range_text(p, data.sweep_spec.get("parameters"))]) for p in parameters(data)]
    findings = [s for s in (sensitivity_sentence(data, k) for k in kpis) if s]
    tables = sensitivity_tables(data, kpis)
    title = f"{data.scenario_name}: sensitivity analysis"
    policies = list(data.sweep_spec.get("policies") or [])
    if policies:
        title = f"{data.scenario_name}: policies across uncertain futures"
        q = (f"Which policy is most robust for {names} across the futures sampled ({len(policies)} policies x "
             f"{data.points['point'].nunique() if data.points is not None else 'the'} futures), and in which "
             "futures does a policy do badly?")
        findings = robustness_findings(data) + discovery_findings(data) + [
            "Sensitivity (of the baseline's results): " + s[0].lower() + s[1:] for s in findings]
        tables = robustness_tables(data) + discovery_table(data) + tables
    return ReportContent(
        title=title, subtitle=data.caption, question=q,
        scenario=scenario_paragraphs(data), policies_heading="The parameters swept", policies=params,
        findings=findings, charts=charts, tables=tables,
        notes=[_noise_note(data), "These are results of a model under its stated assumptions, not a forecast."],
        provenance=provenance(data), glossary=[g for g in GLOSSARY if g[0] in SWEEP_TERMS],
        caveats=scenario_caveats(data), limitations=limitations())


def _noise_note(data: ResultsFolder) -> str:
    """How replications were seeded (common random numbers or not), as recorded in the manifest."""
    crn = bool((data.manifest.get("sweep") or {}).get("common_random_numbers"))
    how = ("with common random numbers: replication r of every combination met the same organisations, lots "
           "and shocks, so differences between combinations come from the parameters" if crn else
           "with its own random numbers")
    return (f"Each sampled combination of parameters was run {data.replications} time(s) {how}; sensitivity "
            "indices measure how much of the variation in each result each parameter explains.")


def _range_text(path: str, spec: Any) -> str:
    """'0 to 90 days' or 'levels: advance, monthly arrears' from the sweep spec."""
    entry = spec.get(path) if isinstance(spec, Mapping) else None
    unit = param_unit(path)
    if isinstance(entry, Mapping):
        if "levels" in entry:
            return "levels: " + ", ".join(str(v).replace("_", " ") for v in entry["levels"])
        if "low" in entry and "high" in entry:
            if unit.startswith("£"):
                per = unit[1:].replace("/year", " a year").replace("/", " per ").strip()
                return f"from £{number(entry['low'])} to £{number(entry['high'])}{f' {per}' if per else ''}"
            return f"from {number(entry['low'])} to {number(entry['high'])}{f' {unit}' if unit else ''}"
    return f"dotted path {path}"


def sensitivity_sentence(data: ResultsFolder, kpi: str) -> str:
    """'For small-provider insolvencies the most influential parameter is … (ST 0.62, 95% CI …), then …'."""
    rows = ranked(data, kpi)
    if rows.empty:
        return ""
    lead = [f"{_plain_param(r['parameter'])} ({_index_text(r)})" for _, r in rows.head(3).iterrows()]
    text = f"For {kpi_title(kpi).lower()}, the most influential parameter is {lead[0]}"
    if len(lead) > 1:
        text += ", followed by " + " and ".join(lead[1:])
    text += "."
    if len(rows) > 1 and _overlap(rows.iloc[0], rows.iloc[1]):
        text += " The order of the first two is uncertain (their 95% intervals overlap); more samples would settle it."
    return text


def _bounds(r: pd.Series) -> tuple[float, float] | None:
    """95% interval of the index used for ranking (None for rank correlations)."""
    col = {"sobol": "ST" if pd.notna(r.get("ST")) else "S1", "morris": "mu_star"}.get(str(r.get("method")))
    if col is None:
        return None
    v = float(r.get(col, math.nan))
    c = float(r.get(f"{col}_conf", math.nan)) if pd.notna(r.get(f"{col}_conf")) else 0.0
    return v - c, v + c


def _overlap(first: pd.Series, second: pd.Series) -> bool:
    a, b = _bounds(first), _bounds(second)
    return a is not None and b is not None and a[0] <= b[1]


def _index_text(r: pd.Series) -> str:
    method = r.get("method")
    if method == "sobol":
        col = "ST" if pd.notna(r.get("ST")) else "S1"
        name = "total-effect Sobol index" if col == "ST" else "first-order Sobol index"
        return f"{name} {_pm(r.get(col), r.get(f'{col}_conf'), 2)}"
    if method == "morris":
        return f"Morris μ* {_pm(r.get('mu_star'), r.get('mu_star_conf'))}"
    return f"rank correlation {fmt_number(float(r.get('rho', math.nan)), 2, signed=True)}"


def _pm(value: Any, conf: Any, decimals: int | None = None) -> str:
    """'0.62 ± 0.07' (or the value alone without a half-width)."""
    v = float(value) if value is not None and pd.notna(value) else math.nan
    c = float(conf) if conf is not None and pd.notna(conf) else math.nan
    d = decimals if decimals is not None else decimals_for(v) if abs(v) >= 1 else 2
    return fmt_number(v, d) + (f" ± {fmt_number(c, d)}" if math.isfinite(c) else "")


def sensitivity_tables(data: ResultsFolder, kpis: list[str]) -> list[Table]:
    """One table per KPI: each parameter's indices with their 95% confidence half-widths."""
    tables = []
    for k in kpis:
        rows = ranked(data, k)
        if rows.empty:
            continue
        method = str(rows["method"].iloc[0])
        if method == "sobol":
            header = ["Parameter (dotted path)", "First-order S1 (share of variance 0–1, ± 95% CI)",
                      "Total effect ST (share of variance 0–1, ± 95% CI)"]
            cells = [[_pname(r), _pm(r.get("S1"), r.get("S1_conf"), 2), _pm(r.get("ST"), r.get("ST_conf"), 2)]
                     for _, r in rows.iterrows()]
        elif method == "morris":
            header = ["Parameter (dotted path)", f"μ* ({kpi_unit(k)}, ± 95% CI)", f"σ ({kpi_unit(k)})"]
            cells = [[_pname(r), _pm(r.get("mu_star"), r.get("mu_star_conf")), _pm(r.get("sigma"), None)]
                     for _, r in rows.iterrows()]
        else:
            header = ["Parameter (dotted path)", "Spearman ρ (−1 to +1)"]
            cells = [[_pname(r), fmt_number(float(r.get("rho", math.nan)), 2, signed=True)] for _, r in rows.iterrows()]
        tables.append(Table(f"Sensitivity of {kpi_title(k).lower()} ({kpi_description(k).lower()})", header, cells))
    return tables


def _pname(r: pd.Series) -> str:
    return str(r["parameter"])


def _plain_param(path: str) -> str:
    """A parameter's short label on one line: 'payment › late days mean'."""
    return param_label(str(path), 200).replace("\n", " ")
