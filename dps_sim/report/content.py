"""What the report says, independent of its format: the HTML and the PDF render the same content."""

from __future__ import annotations

import math

import pandas as pd

from ..metrics import KPI_NAMES
from .data import BASELINE, ResultsFolder, has_differences, kpi_summary
from .document import RenderedChart, ReportContent, Table, number, provenance, scenario_facts, scenario_paragraphs
from .style import humanise
from .glossary import GLOSSARY, better, verdict
from .caveats import PERIOD_NOTE, limitations, scenario_caveats
from .money import MONEY_KPIS, money_sentence, money_summary
from .text import (HEADLINE_KPIS, fmt_interval, fmt_value, kpi_scale, kpi_title, kpi_unit,
                   interval_decimals, mean_clause, overlay_changes, period, policy_sentence, spans_zero)
from .text import money as fmt_money

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
        tables=results_tables(data, summary, diffs), notes=method_notes(data, diffs), provenance=provenance(data),
        glossary=list(GLOSSARY), caveats=scenario_caveats(data), limitations=limitations(period_note=False))


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
        by_kpi = {str(x["kpi"]): x for x in summary[summary["policy"] == p].to_dict("records")}
        if diffs and p != BASELINE:
            money = money_sentence(humanise(p), by_kpi, data.horizon_months)
            out.append(" ".join(x for x in (policy_sentence(p, r, data.horizon_months), money) if x))
        elif not diffs:
            money = money_summary(by_kpi, data.horizon_months)
            out.append(f"{humanise(p)}, averages over {data.replications} replications and "
                       f"{period(data.horizon_months)}: " + "; ".join(mean_clause(x) for x in r) + "."
                       + (f" {money}" if money else ""))
    return out


POLICIES_PER_TABLE = 3
"""Policies side by side in one comparison table (more would squeeze the columns)."""


def results_tables(data: ResultsFolder, summary: pd.DataFrame, diffs: bool) -> list[Table]:
    """Tables with 95% intervals, a row per result: the average (run), or the baseline's average and each
    policy's paired difference from it, up to three policies a table (compare)."""
    present = set(summary["kpi"].unique())
    first = (*HEADLINE_KPIS, *[k for k in MONEY_KPIS if k not in HEADLINE_KPIS])
    at = first.index("service_users_reached") + 1  # people beside user-years: the seeds count people (F19)
    first = (*first[:at], "distinct_users_reached", *first[at:])
    kpis = [k for k in (*first, *[k for k in KPI_NAMES if k not in first]) if k in present]
    table = summary.set_index(["policy", "kpi"])
    if not diffs:
        p = data.policies[0] if data.policies else str(summary["policy"].iloc[0])
        rows = [[kpi_title(k), _unit(k), better(k) or "—", _mean_ci(table.loc[(p, k)], k).replace("\n", " ")]
                for k in kpis if (p, k) in table.index]
        return [Table(f"Results of policy '{humanise(p)}' (average over {data.replications} replications)",
                      ["Result", "Unit", "Better if", "Average (95% CI), in the row's unit"], rows,
                      "Better if: which direction is better for the result ('—': neither in itself).")]
    others = [p for p in data.policies if p != BASELINE]
    groups = [others[i:i + POLICIES_PER_TABLE] for i in range(0, len(others), POLICIES_PER_TABLE)]
    tables = []
    for n, group in enumerate(groups, 1):
        rows = []
        for k in kpis:
            if (BASELINE, k) not in table.index or not any((p, k) in table.index for p in group):
                continue
            cells = [_diff_ci(table.loc[(p, k)], k) if (p, k) in table.index else "n/a" for p in group]
            rows.append([kpi_title(k), _unit(k), better(k) or "—", _mean_ci(table.loc[(BASELINE, k)], k), *cells])
        part = f" ({n} of {len(groups)})" if len(groups) > 1 else ""
        tables.append(Table(f"Each policy compared with the baseline{part}",
                            ["Result", "Unit", "Better if", "Baseline average (95% CI), in the row's unit",
                             *[f"{humanise(p)}: difference (95% CI), in the row's unit" for p in group]], rows,
                            "Differences are paired: replication r of each policy meets the same market and shocks. "
                            "'better' or 'worse': the 95% interval excludes zero; 'no clear difference': it includes "
                            "zero. Shares are in %, their differences in percentage points (pp)."))
    return tables


def _unit(k: str) -> str:
    """The unit a table row is in ('%' for shares)."""
    return kpi_unit(k) or "—"


def _mean_ci(r: pd.Series, k: str) -> str:
    """'4.7' over '(95% CI 3.9 to 5.5)', the lines of one table cell."""
    d = interval_decimals(*(float(r[c]) * kpi_scale(k) for c in ("mean", "ci_low", "ci_high")))
    m, lo, hi = (float(r[c]) for c in ("mean", "ci_low", "ci_high"))
    top = _top(m, lo, hi)
    return f"{fmt_value(m, k, d, top=top)}\n({fmt_interval(lo, hi, k, d, top=top)})"


def _diff_ci(r: pd.Series, k: str) -> str:
    """'+4.1, worse' over '(+3.0 to +5.2)': the paired difference, its verdict and its 95% interval."""
    vals = [float(r[c]) for c in ("diff", "diff_ci_low", "diff_ci_high")]
    d = interval_decimals(*(v * kpi_scale(k) for v in vals))
    if all(v == 0 for v in vals):
        return "0, no difference\n(the same in every replication)"
    word = verdict(k, vals[0], not spans_zero(vals[1], vals[2]))
    top = _top(*vals)
    return (f"{fmt_value(vals[0], k, d, signed=True, top=top)}, {word}\n"
            f"({fmt_interval(vals[1], vals[2], k, d, signed=True, top=top)})")


def _top(*values: float) -> float:
    """The largest finite magnitude (sets one money style for a value and its interval)."""
    return max((abs(v) for v in values if math.isfinite(v)), default=0.0)


def method_notes(data: ResultsFolder, diffs: bool) -> list[str]:
    """How to read the numbers."""
    notes = [(f"Each result is an average over {data.replications} simulated replications of the "
              f"{period(data.horizon_months)}; a 95% confidence interval (CI) shows the range the true average is "
              "likely to lie in given the randomness of the simulation. More replications give narrower intervals."),
             ("These are results of a model: they show how the policies differ under its stated assumptions, "
              "not a forecast; the scenario's own caveats and the model's known limitations follow."),
             PERIOD_NOTE]
    if diffs:
        notes.insert(1, "Policies are compared with common random numbers: replication r of every policy meets the "
                        "same organisations and the same shocks, so differences come from the policy and not from "
                        "luck. 'No clear difference' means the 95% interval of the difference includes zero.")
    return notes + equal_spend_notes(data)


def equal_spend_notes(data: ResultsFolder) -> list[str]:
    """What each equal-spend policy's budget was scaled to (manifest.json's ``equal_spend``)."""
    out = []
    for p, m in (data.manifest.get("equal_spend") or {}).items():
        out.append(f"Equal spend: '{humanise(p)}' ran with its budget envelope multiplied by "
                   f"{m['budget_factor']:.4f} (to {fmt_money(m['budget_annual'])} a year), the factor at which, over "
                   f"these replications and with the same seeds, it spends on average what '{humanise(m['matches'])}' "
                   f"spends ({fmt_money(m['mean_spend'])} against {fmt_money(m['target_mean_spend'])}); compare their "
                   "other results for the same money.")
    return out
