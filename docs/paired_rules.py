"""Paired comparison of the two failure rules on and off (docs/calibration.md section 2c).

    python docs/paired_rules.py kent_youth_dps 30     # a shipped scenario's baseline, 30 replications
    python docs/paired_rules.py default 30            # the default market (a scenario that sets only name)
    python docs/paired_rules.py kent_former_model 30 20131   # a root seed other than 1 (the validation tests')

Variants, each under common random numbers with the same seeds (replication_seed(seed, r), seed 1
unless given): both rules on (the default), procurement.competitions.negotiate_failed off,
contracts.interim_cover off, both off (the rules before 3 December 2026), and both on with a
negotiated lot going to the proposal the panel rates best rather than the best offer by the award
criteria (negotiate_by: quality, the choice before stop 22; calibration.md section 2e). Prints each KPI's mean with its 95% interval
and each variant's paired difference from "both"; for a scenario with a launch round, also the
launch services not let within a year of the launch.
"""
from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's dps_sim

from dps_sim.experiment.seeds import replication_seed  # noqa: E402
from dps_sim.experiment.stats import mean_interval  # noqa: E402
from dps_sim.metrics import kpis  # noqa: E402
from dps_sim.model import simulate  # noqa: E402
from dps_sim.scenario import Scenario, load_scenario, resolve_policy, with_overrides  # noqa: E402

SHIPPED = {p.stem: p for p in (ROOT / "scenarios").glob("*.yaml")}

NAMES = ["bids_per_lot", "single_bid_share", "no_bid_share", "failed_competitions", "negotiated_awards", "interim_covers",
         "service_gap_days", "distinct_users_reached", "service_users_reached", "commissioner_spend", "insolvencies_small",
         "incumbent_retention", "first_round_winners", "first_round_local_share", "switches", "users_lost_switching"]
VARIANTS = {"both": {}, "no_negotiation": {"procurement.competitions.negotiate_failed": False},
            "no_interim": {"contracts.interim_cover": False},
            "neither": {"procurement.competitions.negotiate_failed": False, "contracts.interim_cover": False},
            "by_quality": {"procurement.competitions.negotiate_by": "quality"}}

def base(which):
    if which == "default":
        return Scenario.model_validate({"name": "default"})
    return resolve_policy(load_scenario(SHIPPED[which]), "baseline")      # only a shipped scenario, by name

def one(args):
    which, var, r, seed = args
    sc = with_overrides(base(which), VARIANTS[var]) if VARIANTS[var] else base(which)
    out = simulate(sc, replication_seed(seed, r))
    k = kpis(out)
    row = [k[n] for n in NAMES]
    c = sc.procurement.competitions
    if c.first_round_lots:
        C = out.contracts
        let = np.unique(C["need"][(C["need"] < c.first_round_lots) & (C["start"] < 12 + c.first_round_month)])
        row.append(c.first_round_lots - len(let))
    else:
        row.append(np.nan)
    return row

if __name__ == "__main__":
    which, reps = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    if which != "default" and which not in SHIPPED:
        sys.exit(f"paired_rules.py: {which!r} is not a shipped scenario; one of: default, {', '.join(sorted(SHIPPED))}")
    res = {}
    with ProcessPoolExecutor(2) as ex:
        for var in VARIANTS:
            res[var] = np.array(list(ex.map(one, [(which, var, r, seed) for r in range(reps)])))
    names = NAMES + ["launch_unlet_year1"]
    print(f"{which}, {reps} replications, seed {seed}; cells: mean [95% CI]; differences paired: variant - both")
    for j, n in enumerate(names):
        a = res["both"][:, j]
        if np.isnan(a).all():
            continue
        m, lo, hi = mean_interval(a[~np.isnan(a)])
        cells = [f"{n:24s} both {m:10.3f} [{lo:.3f}, {hi:.3f}]"]
        for var in ("no_negotiation", "no_interim", "neither", "by_quality"):
            d = res[var][:, j] - a
            d = d[~np.isnan(d)]
            dm, dlo, dhi = mean_interval(d)
            cells.append(f"{var} {dm:+.3f} [{dlo:+.3f}, {dhi:+.3f}]")
        print(" | ".join(cells))
    if which.startswith("kent"):
        print("launch all let in", int((res["both"][:, -1] == 0).sum()), "of", reps, "(neither:", int((res["neither"][:, -1] == 0).sum()), ")")
