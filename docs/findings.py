"""Re-run every shipped scenario's policy comparison and write its tables into docs/findings.md.

    python docs/findings.py                 # 30 replications, seed 1, every core
    python docs/findings.py --reps 10       # quicker, wider intervals

Each scenario's table sits between ``<!-- findings:STEM -->`` and ``<!-- /findings -->`` in
docs/findings.md; the words around the tables are written by hand and kept. Every policy is compared
with the scenario's baseline under common random numbers (the same seeds), as ``dps-sim compare`` does:
a cell is the mean paired difference and its 95% interval; bold where the interval excludes 0.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's dps_sim

import dps_sim  # noqa: E402
from dps_sim.metrics import KPI_DESCRIPTIONS  # noqa: E402

FINDINGS = ROOT / "docs" / "findings.md"
SCENARIOS = ("kent_youth_dps", "kent_former_model", "bromley_well", "kent_vcs_infrastructure",
             "bromley_dv_vawg", "short_vs_long_contracts")
"""The shipped scenarios with policies to compare (kent_futures is the base of a robustness sweep)."""

FORMATS: dict[str, str] = {
    "insolvencies_small": "{:+.2f}", "share_of_value_small": "{:+.3f}", "distinct_users_reached": "{:+,.0f}",
    "service_gap_days": "{:+,.0f}", "commissioner_spend": "{:+,.0f}", "spend_and_owed": "{:+,.0f}",
    "mean_delivered_quality": "{:+.3f}", "bids_per_lot": "{:+.2f}", "single_bid_share": "{:+.3f}",
    "incumbent_retention": "{:+.3f}", "contract_failures": "{:+.2f}", "sector_bid_cost": "{:+,.0f}",
}
"""The KPIs a committee reads first (names as in runs.csv and summary.csv), in order, and their formats;
their labels and units are the project's own (metrics.KPI_DESCRIPTIONS)."""


def cell(row: pd.Series, fmt: str) -> str:
    """A paired difference with its interval; bold when the interval excludes 0."""
    if pd.isna(row["diff"]):
        return "—"
    text = f"{fmt.format(row['diff'])} [{fmt.format(row['diff_ci_low'])}, {fmt.format(row['diff_ci_high'])}]"
    return f"**{text}**" if row["diff_ci_low"] > 0 or row["diff_ci_high"] < 0 else text


def baseline_cell(row: pd.Series, fmt: str) -> str:
    """The baseline's mean, in the KPI's format without its sign."""
    return "—" if pd.isna(row["mean"]) else fmt.replace("+", "").format(row["mean"])


def table(summary: pd.DataFrame, policies: list[str]) -> str:
    """Markdown: one row per KPI, the baseline's mean, then each policy minus the baseline."""
    head = "| KPI | baseline | " + " | ".join(f"{p} − baseline" for p in policies) + " |"
    lines = [head, "|" + "---|" * (2 + len(policies))]
    by = summary.set_index(["policy", "kpi"])
    for kpi, fmt in FORMATS.items():
        if ("baseline", kpi) not in by.index:
            continue
        label, unit = KPI_DESCRIPTIONS[kpi]
        cells = [baseline_cell(by.loc[("baseline", kpi)], fmt)]
        cells += [cell(by.loc[(p, kpi)], fmt) for p in policies]
        lines.append(f"| {label}, {unit} (`{kpi}`) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def commit() -> str:
    """The commit the tables were measured at (with + when the tree has changes)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "dps_sim", "scenarios"], cwd=ROOT,
                           capture_output=True, text=True)
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "")


def findings(stem: str, reps: int, seed: int, workers: int | None) -> str:
    """The block of one scenario: how it was run, then its table."""
    scenario = dps_sim.load_scenario(ROOT / "scenarios" / f"{stem}.yaml")
    start = time.perf_counter()
    res = dps_sim.compare(scenario, reps=reps, seed=seed, workers=workers)
    took = time.perf_counter() - start
    policies = [p for p in scenario.policies if p != "baseline"]
    note = (f"*{scenario.name}*, `scenarios/{stem}.yaml`: {reps} replications, seed {seed}, commit "
            f"`{commit()}`, {took:.0f} s.")
    return note + "\n\n" + table(res.summary, policies)


def replace_block(text: str, stem: str, block: str) -> str:
    """The document with one scenario's block replaced (or added at the end if it has none)."""
    pattern = re.compile(rf"(<!-- findings:{stem} -->\n).*?(\n<!-- /findings -->)", re.S)
    if pattern.search(text):
        return pattern.sub(lambda m: m.group(1) + block + m.group(2), text)
    return text.rstrip("\n") + f"\n\n<!-- findings:{stem} -->\n{block}\n<!-- /findings -->\n"


def main(argv: list[str] | None = None) -> int:
    """Re-run the scenarios asked for (all by default) and rewrite their tables in docs/findings.md."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stems", nargs="*", metavar="SCENARIO", help=f"some of: {', '.join(SCENARIOS)} (default: all)")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)
    unknown = sorted(set(args.stems) - set(SCENARIOS))
    if unknown:
        ap.error(f"not a shipped scenario with policies: {', '.join(unknown)}")
    text = FINDINGS.read_text(encoding="utf-8")
    for stem in args.stems or SCENARIOS:
        print(f"{stem} ...", flush=True)
        text = replace_block(text, stem, findings(stem, args.reps, args.seed, args.workers))
        FINDINGS.write_text(text, encoding="utf-8")  # after each scenario: a long re-run keeps what it did
    return 0


if __name__ == "__main__":
    sys.exit(main())
