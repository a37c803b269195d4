"""What the report says, independent of its format: the HTML and the PDF render the same content."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..metrics import KPI_NAMES
from .data import BASELINE, ResultsFolder, has_differences, kpi_summary
from .style import humanise
from .text import (HEADLINE_KPIS, fmt_interval, fmt_value, kpi_description, kpi_scale, kpi_unit,
                   interval_decimals, lookup, mean_clause, overlay_changes, period, policy_sentence, spans_zero)

ROUTES = {"dps": "a Dynamic Purchasing System (open to new providers throughout)",
          "framework": "a closed framework (providers admitted only at the start)",
          "open_tender": "open tenders for each lot", "grant": "grants without competition"}
TERMS = {"advance": "paid monthly in advance", "monthly_arrears": "paid monthly in arrears",
         "quarterly_arrears": "paid quarterly in arrears", "payment_by_results": "paid partly by results"}


@dataclass
class RenderedChart:
    """A chart as saved: its name, title, plain-English caption and PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes


@dataclass
class Table:
    """A results table: title, column headings, rows of formatted cells and a note."""

    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass
class ReportContent:
    """Everything the report says, in order."""

    title: str
    subtitle: str
    question: str
    scenario: list[str]
    policies_heading: str
    policies: list[tuple[str, list[str]]]
    findings: list[str]
    charts: list[RenderedChart]
    tables: list[Table]
    notes: list[str] = field(default_factory=list)
    provenance: list[tuple[str, str]] = field(default_factory=list)


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


def scenario_paragraphs(data: ResultsFolder) -> list[str]:
    """The scenario in plain words: its description and its main settings."""
    out = [data.description] if data.description else []
    facts = scenario_facts(data.scenario, data.horizon_months)
    if facts:
        out.append("In the model: " + "; ".join(facts) + ".")
    return out


def scenario_facts(sc: Mapping[str, Any], horizon: int) -> list[str]:
    """Plain statements of the main settings of a resolved scenario (those present)."""
    get = lambda *path: lookup(sc, path)
    facts = []
    if horizon:
        facts.append(f"simulated over {period(horizon)}")
    if get("market", "providers") is not None:
        text = f"{number(get('market', 'providers'))} organisations able to serve at the start"
        if get("market", "entry_per_year"):
            text += f" and about {number(get('market', 'entry_per_year'))} new ones a year"
        districts = get("market", "districts")
        if districts:
            text += ", in one district" if float(districts) == 1 else f", across {number(districts)} districts"
        facts.append(text)
    route = get("procurement", "route")
    if route:
        facts.append(f"services bought through {ROUTES.get(str(route), str(route).replace('_', ' '))}")
    value = get("procurement", "competitions", "lot_value", "median")
    if value:
        facts.append(f"lots worth about £{number(value)} a year")
    w = get("procurement", "competitions", "weights")
    if isinstance(w, Mapping) and w:
        facts.append("bids scored " + ", ".join(f"{number(100 * float(v))}% {k}" for k, v in w.items()))
    pages = get("procurement", "competitions", "document_pages")
    if pages:
        facts.append(f"{number(pages)}-page tender documents")
    length, terms = get("contracts", "length_months"), get("contracts", "payment", "terms")
    if length or terms:
        facts.append(" ".join(x for x in (f"contracts of {number(length)} months" if length else "contracts",
                                          TERMS.get(str(terms), str(terms).replace("_", " ")) if terms else "") if x))
    threshold = get("contracts", "performance_bond", "threshold")
    if threshold:
        facts.append(f"a performance bond on contracts worth £{number(threshold)} or more")
    shocks = get("shocks")
    if isinstance(shocks, list) and shocks:
        kinds = ", ".join(str(s.get("type", "shock")).replace("_", " ") for s in shocks if isinstance(s, Mapping))
        facts.append(f"{len(shocks)} scheduled shock{'s' if len(shocks) != 1 else ''} ({kinds})")
    return facts


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


def provenance(data: ResultsFolder) -> list[tuple[str, str]]:
    """Where the numbers come from: version, command, seed, dates, folder."""
    m = data.manifest
    git = m.get("git") if isinstance(m.get("git"), dict) else {}
    items = [("Results folder", str(data.folder.resolve().name)), ("Scenario file", str(m.get("scenario_file") or "")),
             ("Command", str(m.get("command") or "")), ("Seed", str(data.seed)),
             ("Replications", str(data.replications)), ("dps_sim version", str(m.get("dps_sim_version") or "")),
             ("Git commit", str(git.get("commit") or "")[:12]), ("Started", str(m.get("started") or "")),
             ("Finished", str(m.get("finished") or ""))]
    return [(k, v) for k, v in items if v]


# -- small helpers ---------------------------------------------------------------------------
def number(value: Any) -> str:
    """12 -> '12', 40000.0 -> '40,000', 0.5 -> '0.5'."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}".rstrip("0").rstrip(".")
