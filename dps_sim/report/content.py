"""What the report says, independent of its format: the HTML and the PDF render the same content."""

from __future__ import annotations

import pandas as pd

from ..metrics import KPI_NAMES
from .data import BASELINE, ResultsFolder, has_differences, kpi_summary
from .document import RenderedChart, ReportContent, Table, number, provenance, scenario_facts, scenario_paragraphs
from .style import humanise
from .text import (HEADLINE_KPIS, fmt_interval, fmt_value, kpi_description, kpi_scale, kpi_unit,
                   interval_decimals, mean_clause, overlay_changes, period, policy_sentence, spans_zero)

__all__ = ["RenderedChart", "ReportContent", "Table", "compose", "number", "provenance", "scenario_facts",
           "scenario_paragraphs"]


# -- composing -------------------------------------------------------------------------------
def compose(data: ResultsFolder, charts: list[RenderedChart]) -> ReportContent:
    """The report content of a results folder."""
    if data.kind == "sweep":
        from .sweep_content import compose_sweep  # only sweep folders need sweep_charts

        return compose_sweep(data, charts)
    summary = kpi_summary(data)
    diffs = has_differences(summary)
    n = len(data.policies)
    if diffs:
        title = f"{data.scenario_name}: comparing {n} commissioning policies"
    else:
        title = f"{data.scenario_name}: results of policy '{humanise(data.policies[0] if data.policies else BASELINE)}'"
    return ReportContent(
        title=title, subtitle=data.caption, question=question(data, diffs), scenario=scenario_paragraphs(data),
        policies_heading="The policies compared" if diffs else "The policy simulated",
        policies=policy_descriptions(data), findings=findings(data, summary, diffs), charts=charts,
        tables=results_tables(data, summary, diffs), notes=method_notes(data, diffs), provenance=provenance(data))


def question(data: ResultsFolder, diffs: bool) -> str:
    """The question the results answer, in one sentence."""
    span = period(data.horizon_months)
    if diffs:
        others = [humanise(p).lower() for p in data.policies if p != BASELINE]
        return (f"If the council commissions these services as in '{data.scenario_name}', what would change over "
                f"{span} — for local voluntary and community organisations, for the services residents receive, "
                f"and for the council's costs — under each alternative policy ({'; '.join(others)}) compared with "
                f"the baseline?")
    policy = humanise(data.policies[0]) if data.policies else "the baseline"
    return (f"What should the council expect over {span} — for local voluntary and community organisations, for "
            f"the services residents receive and for its costs — if it commissions as in '{data.scenario_name}' "
            f"under policy '{policy}'?")


def policy_descriptions(data: ResultsFolder) -> list[tuple[str, list[str]]]:
    """Each policy and its changes from the baseline, in plain words."""
    overlays = data.overlays
    out = []
    for p in data.policies:
        changes = overlay_changes(overlays.get(p) or {}, data.scenario)
        if p == BASELINE and not changes:
            changes = ["the scenario as described above"]
        out.append((humanise(p), changes or ["no change from the baseline"]))
    return out


def findings(data: ResultsFolder, summary: pd.DataFrame, diffs: bool) -> list[str]:
    """One plain-English sentence per policy (compare) or one summary sentence (run)."""
    rows = summary[summary["kpi"].isin(HEADLINE_KPIS)]
    order = {k: i for i, k in enumerate(HEADLINE_KPIS)}
    out = []
    for p in data.policies:
        r = rows[rows["policy"] == p].sort_values("kpi", key=lambda s: s.map(order)).to_dict("records")
        if not r:
            continue
        if diffs and p != BASELINE:
            out.append(policy_sentence(p, r, data.horizon_months))
        elif not diffs:
            out.append(f"{humanise(p)}, averages over {data.replications} replications and "
                       f"{period(data.horizon_months)}: " + "; ".join(mean_clause(x) for x in r) + ".")
    return out


def results_tables(data: ResultsFolder, summary: pd.DataFrame, diffs: bool) -> list[Table]:
    """Tables with 95% intervals: averages (run), or each policy against the baseline (compare)."""
    kpis = [k for k in (*HEADLINE_KPIS, *[k for k in KPI_NAMES if k not in HEADLINE_KPIS]) if k in set(summary["kpi"])]
    table = summary.set_index(["policy", "kpi"])
    if not diffs:
        p = data.policies[0] if data.policies else str(summary["policy"].iloc[0])
        rows = [[kpi_description(k), kpi_unit(k), *_mean_cells(table, p, k)] for k in kpis if (p, k) in table.index]
        return [Table(f"Results of policy '{humanise(p)}' (average over {data.replications} replications)",
                      ["Result", "Unit", "Average", "95% CI"], rows)]
    tables = []
    for p in data.policies:
        if p == BASELINE:
            continue
        rows = []
        for k in kpis:
            if (p, k) not in table.index or (BASELINE, k) not in table.index:
                continue
            base, pol = table.loc[(BASELINE, k)], table.loc[(p, k)]
            rows.append([kpi_description(k), kpi_unit(k), _mean_ci(base, k), _mean_ci(pol, k), _diff_ci(pol, k),
                         "no" if spans_zero(float(pol["diff_ci_low"]), float(pol["diff_ci_high"])) else "yes"])
        tables.append(Table(f"{humanise(p)} compared with the baseline",
                            ["Result", "Unit", "Baseline (95% CI)", f"{humanise(p)} (95% CI)",
                             "Difference (95% CI)", "Clear difference?"], rows,
                            "Differences are paired: replication r of each policy meets the same market and shocks."))
    return tables


def _mean_cells(table: pd.DataFrame, p: str, k: str) -> list[str]:
    r = table.loc[(p, k)]
    d = interval_decimals(*(float(r[c]) * kpi_scale(k) for c in ("mean", "ci_low", "ci_high")))
    return [fmt_value(float(r["mean"]), k, d), fmt_interval(float(r["ci_low"]), float(r["ci_high"]), k, d)]


def _mean_ci(r: pd.Series, k: str) -> str:
    d = interval_decimals(*(float(r[c]) * kpi_scale(k) for c in ("mean", "ci_low", "ci_high")))
    return f"{fmt_value(float(r['mean']), k, d)} ({fmt_interval(float(r['ci_low']), float(r['ci_high']), k, d)})"


def _diff_ci(r: pd.Series, k: str) -> str:
    vals = [float(r[c]) for c in ("diff", "diff_ci_low", "diff_ci_high")]
    d = interval_decimals(*(v * kpi_scale(k) for v in vals))
    return (f"{fmt_value(vals[0], k, d, signed=True)} "
            f"({fmt_interval(vals[1], vals[2], k, d, signed=True)})")


def method_notes(data: ResultsFolder, diffs: bool) -> list[str]:
    """How to read the numbers."""
    notes = [(f"Each result is an average over {data.replications} simulated replications of the "
              f"{period(data.horizon_months)}; a 95% confidence interval (CI) shows the range the true average is "
              "likely to lie in given the randomness of the simulation. More replications give narrower intervals."),
             ("These are results of a model: they show how the policies differ under its stated assumptions, "
              "not a forecast.")]
    if diffs:
        notes.insert(1, "Policies are compared with common random numbers: replication r of every policy meets the "
                        "same organisations and the same shocks, so differences come from the policy and not from "
                        "luck. 'No clear difference' means the 95% interval of the difference includes zero.")
    return notes
