"""The policies x futures part of a sweep report: each policy's paired differences over the futures
(chart), which policy is most robust per KPI (sentences and regret tables), and the scenario
discovery of ``dps-sim discover`` (the PRIM trajectory chart, the boxes found)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .charts import Chart
from .data import ResultsFolder
from .document import Table
from .glossary import better
from .style import INK, OKABE_ITO, add_titles, humanise, new_figure, param_label, policy_colour, wrap
from .text import fmt_number, fmt_value, kpi_scale, kpi_title, kpi_unit

MAX_PANELS = 4


def robust_kpis(data: ResultsFolder) -> list[str]:
    """The KPIs of robustness.csv, in the sweep's order."""
    rob = data.robustness
    if rob is None or rob.empty:
        return []
    return [str(k) for k in pd.unique(rob["kpi"])]


def future_differences(data: ResultsFolder, kpi: str) -> pd.DataFrame:
    """Per (point, policy): the mean over replications of the paired difference of a KPI."""
    diffs = data.differences
    if diffs is None or kpi not in diffs:
        return pd.DataFrame()
    return diffs.groupby(["point", "policy"], sort=False)[kpi].mean().reset_index()


def robustness_differences(data: ResultsFolder) -> Chart | None:
    """One panel per KPI: each policy's paired differences from the baseline over the futures (box and dots)."""
    kpis = [k for k in robust_kpis(data) if not future_differences(data, k).empty][:MAX_PANELS]
    if not kpis:
        return None
    policies = [p for p in data.sweep_spec.get("policies", [])[1:]]
    ncols = 1 if len(kpis) == 1 else 2
    nrows = math.ceil(len(kpis) / ncols)
    fig, body = new_figure(7.6 * ncols, nrows * (0.75 * len(policies) + 2.2) + 1.6)
    axes = body.subplots(nrows, ncols, squeeze=False).ravel()
    rng = np.random.default_rng(0)
    for ax, kpi in zip(axes, kpis):
        d = future_differences(data, kpi)
        scale = kpi_scale(kpi)
        values = [d.loc[d["policy"] == p, kpi].dropna().to_numpy() * scale for p in policies]
        ax.boxplot(values, orientation="horizontal", widths=0.55, showfliers=False, medianprops=dict(color=INK, lw=2),
                   whis=(5, 95))
        for i, v in enumerate(values):
            ax.scatter(v, np.full(len(v), i + 1) + rng.uniform(-0.2, 0.2, len(v)), s=14, alpha=0.5, lw=0,
                       color=policy_colour(i + 1))
        ax.set_yticks(range(1, len(policies) + 1), [wrap(humanise(p), 22) for p in policies])
        ax.set_ylim(len(policies) + 0.6, 0.4)
        ax.axvline(0, color=INK, lw=1.2, ls=(0, (4, 3)))
        unit = kpi_unit(kpi)
        way = better(kpi)
        arrow = {"lower": "  ← better", "higher": "  better →"}.get(way, "")
        ax.set_xlabel(wrap(f"policy minus baseline ({'percentage points' if unit == '%' else unit or 'units'})"
                           f"{arrow}", 50))
        ax.set_title(wrap(kpi_title(kpi), 40), loc="left")
        ax.grid(axis="y", visible=False)
    for ax in axes[len(kpis):]:
        ax.set_visible(False)
    title = "How each policy differs from the baseline across the futures"
    reps = data.replications
    caption = (f"Each dot is one sampled future (a combination of the uncertain parameters): the policy's result "
               f"minus the baseline's in the same future and with the same random numbers, averaged over its {reps} "
               "replication" + ("s" if reps != 1 else "") + ". Boxes span the middle half of the futures, whiskers "
               "5% to 95%, the thick line is the median; the dashed line is no difference.")
    add_titles(fig, title, data.caption)
    return Chart("robustness_differences", title, caption, fig)


def discovery(data: ResultsFolder) -> Chart | None:
    """PRIM's peeling trajectory: coverage against density, coloured by the number of parameters restricted."""
    traj = data.discovery_trajectory
    record = data.manifest.get("discovery")
    if traj is None or traj.empty or not isinstance(record, dict):
        return None
    fig, body = new_figure(10.5, 6.6)
    ax = body.subplots()
    restricted = traj["restricted"].astype(int)
    colours = [OKABE_ITO[c] for c in ("black", "blue", "vermillion", "green", "purple", "orange", "sky_blue")]
    for n in sorted(restricted.unique()):
        rows = traj[restricted == n]
        ax.scatter(rows["coverage"], rows["density"], s=40, color=colours[min(n, len(colours) - 1)], lw=0,
                   label=f"{n} parameter{'s' if n != 1 else ''} restricted")
    ax.plot(traj["coverage"], traj["density"], color=INK, lw=0.8, alpha=0.5)
    chosen = traj[traj["selected"].astype(bool)]
    if not chosen.empty:
        c = chosen.iloc[0]
        ax.scatter([c["coverage"]], [c["density"]], s=220, facecolor="none", edgecolor=INK, lw=2.2,
                   label="box reported")
    ax.set_xlabel("coverage (share of the futures meeting the condition that are inside the box)")
    ax.set_ylabel(wrap("density (share of the futures inside the box that meet it)", 40))
    ax.set_xlim(0, 1.03)
    ax.set_ylim(0, 1.03)
    ax.legend(loc="lower left")
    title = "Scenario discovery: the PRIM peeling trajectory"
    caption = (f"Where does '{record.get('where')}' hold for {kpi_title(str(record.get('kpi'))).lower()}"
               + (f" ({humanise(record['policy'])} against the baseline)" if record.get("policy") else "")
               + "? Starting from all futures (top right), each step peels a few futures off one end of one "
               "parameter's range, raising the density of the box and lowering its coverage; the ringed box is "
               "the one reported (then restrictions whose removal lowers its density by at most 0.05 are dropped).")
    add_titles(fig, title, data.caption)
    return Chart("discovery", title, caption, fig)


def robustness_findings(data: ResultsFolder) -> list[str]:
    """Per KPI with a better direction: the most robust policy by worst-case regret, and how often it beats
    the baseline."""
    rob = data.robustness
    out = []
    for kpi in robust_kpis(data):
        rows = rob[(rob["kpi"] == kpi) & rob["regret_max"].notna()]
        if rows.empty:
            continue
        rows = rows.sort_values(["regret_max", "regret_mean"], kind="stable")
        top = rows.iloc[0]
        text = (f"For {kpi_title(kpi).lower()} ({better(kpi)} is better), the most robust policy is "
                f"{humanise(top['policy']).lower()}: its worst-case regret across the {int(top['futures'])} futures "
                f"is {fmt_value(top['regret_max'], kpi)} and its mean regret {fmt_value(top['regret_mean'], kpi)}")
        if pd.notna(top.get("better_share")):
            text += (f"; it beats the baseline in {fmt_number(100 * top['better_share'], 0)}% of futures (95% CI "
                     f"{fmt_number(100 * top['better_ci_low'], 0)}–{fmt_number(100 * top['better_ci_high'], 0)}%)")
        text += _trade_offs(rob, str(top["policy"]), kpi) + "."
        beats = rows[rows["better_share"].notna()].sort_values("better_share", ascending=False, kind="stable")
        if not beats.empty and beats.iloc[0]["policy"] != top["policy"] and (
                pd.isna(top.get("better_share")) or beats.iloc[0]["better_share"] > top["better_share"]):
            b = beats.iloc[0]
            text += (f" The policy that most often beats the baseline is {humanise(b['policy']).lower()} "
                     f"({fmt_number(100 * b['better_share'], 0)}% of futures).")
        out.append(text)
    return out


def _trade_offs(rob: pd.DataFrame, policy: str, kpi: str) -> str:
    """'; but it is worse than the baseline for service users reached in 100% of futures' (the other KPIs on
    which the policy loses to the baseline in most futures)."""
    rows = rob[(rob["policy"] == policy) & (rob["kpi"] != kpi) & rob["better_share"].notna()]
    worse = [f"{kpi_title(r['kpi']).lower()} in {fmt_number(100 * (1 - r['better_share']), 0)}%"
             for _, r in rows.iterrows() if r["better_share"] < 0.5]
    if not worse:
        return ""
    return "; but it does no better than the baseline for " + ", ".join(worse) + " of futures"


def robustness_tables(data: ResultsFolder) -> list[Table]:
    """One regret table per KPI: share of futures better than the baseline, regrets, satisficing."""
    rob = data.robustness
    tables = []
    for kpi in robust_kpis(data):
        rows = rob[rob["kpi"] == kpi]
        if rows["regret_max"].notna().any():
            rows = rows.sort_values(["regret_max", "regret_mean"], kind="stable", na_position="last")
        sat = rows["satisficing"].dropna()
        header = ["Policy", "Mean difference from baseline", "Better than baseline (share of futures, 95% CI)",
                  "Mean regret", "90th-percentile regret", "Worst-case regret"]
        if not sat.empty:
            header.append(f"Futures meeting {sat.iloc[0]}")
        cells = []
        for _, r in rows.iterrows():
            share = ("" if pd.isna(r.get("better_share")) else
                     f"{fmt_number(100 * r['better_share'], 0)}% ({fmt_number(100 * r['better_ci_low'], 0)}–"
                     f"{fmt_number(100 * r['better_ci_high'], 0)}%)")
            row = [humanise(r["policy"]), "" if pd.isna(r.get("diff_mean")) else fmt_value(r["diff_mean"], kpi, signed=True),
                   share or "—", fmt_value(r["regret_mean"], kpi), fmt_value(r["regret_p90"], kpi),
                   fmt_value(r["regret_max"], kpi)]
            if not sat.empty:
                row.append("" if pd.isna(r.get("satisficing_futures")) else
                           f"{int(r['satisficing_futures'])} of {int(r['futures'])}")
            cells.append(row)
        tables.append(Table(f"Robustness for {kpi_title(kpi).lower()} ({better(kpi) or 'no'} better; most robust first)",
                            header, cells, note="Regret in a future: how far the policy falls short of the best "
                                                "policy in that future, in the result's own unit."))
    return tables


def discovery_findings(data: ResultsFolder) -> list[str]:
    record = data.manifest.get("discovery")
    if not isinstance(record, dict) or data.discovery is None:
        return []
    who = f"{humanise(record['policy']).lower()} against the baseline, " if record.get("policy") else ""
    text = (f"Scenario discovery ({who}{kpi_title(str(record['kpi'])).lower()}, condition '{record['where']}', met in "
            f"{record['futures_where_it_holds']} of {record['futures']} futures): PRIM finds it mostly where "
            f"{_plain_box(str(record['prim_box']))} (coverage {fmt_number(record['prim_coverage'], 2)}, density "
            f"{fmt_number(record['prim_density'], 2)}, {fmt_number(100 * record['prim_mass'], 0)}% of futures).")
    cart = data.discovery[data.discovery["method"] == "cart"].drop_duplicates("box")
    if not cart.empty:
        c = cart.iloc[0]
        text += (f" CART's largest box: {_plain_box(str(c['description']))} (coverage {fmt_number(c['coverage'], 2)}, "
                 f"density {fmt_number(c['density'], 2)}).")
    return [text]


def discovery_table(data: ResultsFolder) -> list[Table]:
    boxes = data.discovery
    if boxes is None or boxes.empty:
        return []
    cells = [[str(r["method"]).upper(), str(int(r["box"])), param_label(str(r["parameter"]), 200).replace("\n", " "),
              str(r["levels"]) if isinstance(r.get("levels"), str) and r["levels"] else
              f"{fmt_number(float(r['low']), 3)} to {fmt_number(float(r['high']), 3)}",
              fmt_number(float(r["coverage"]), 2), fmt_number(float(r["density"]), 2), fmt_number(float(r["mass"]), 2)]
             for _, r in boxes.iterrows()]
    return [Table("Scenario discovery: the boxes found (limits on the parameters restricted)",
                  ["Method", "Box", "Parameter", "Range inside the box", "Coverage", "Density", "Mass"], cells)]


def _plain_box(text: str) -> str:
    return "; ".join(param_label(part.split(" ", 1)[0], 200).replace("\n", " ") + " " + part.split(" ", 1)[1]
                     if " " in part else part for part in text.split("; "))
