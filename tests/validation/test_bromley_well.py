"""Bromley Well against what happened (issue 12, consortia and bonds), paired under common random numbers.

* Seed 000 F54: Bromley Well (£2.1m a year, competitive dialogue) was won by Bromley Third Sector
  Enterprise, a consortium of local voluntary organisations. A consortium must win the first award
  in at least half the replications.
* The scenario's bids per lot are checked against TED 2012-18 (about 3 bids a tender, a quarter
  single-bid; DESIGN.md calibration hints): it uses the default interest draw set from TED on the
  default market, so this checks that the one large lot draws a plausible field, not the model
  against TED.
* Incumbent retention at re-tender, 35-60% (as for Kent in test_competition_evidence.py): an
  incumbent consortium leads its own re-let, as an incumbent bidding alone considers its own.
* Paid in advance, consortium members fail no more often than other small organisations; a bond
  premium of 0.75% against 4% changes VCSE bidding on the bonded lot.
* Two checks fall short and are strict expected failures with their figures (docs/validation.md,
  "Consortia, bonds, training and micro organisations"): the first award (a consortium in 43% of
  runs) and waiving the bond (F68), which does not raise small organisations' share of value.
  Strict, so that a model change which meets one is noticed and the docs are updated.

Replications: ``BROMLEY_REPS`` (100, root seed 1: a Bromley Well run takes about 0.06 s, and with
30 the first-award interval is ±18 points). The figures are deterministic for a given seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dps_sim.experiment import compare
from dps_sim.experiment.seeds import replication_seed
from dps_sim.experiment.stats import mean_interval, paired_difference
from dps_sim.model.engine import simulate
from dps_sim.model.population import EXIT_INSOLVENT
from dps_sim.scenario import Scenario, load_scenario
from dps_sim.scenario.loading import resolve_policy

pytestmark = pytest.mark.validation

BROMLEY_REPS = 100
SEED = 1
BROMLEY_WELL = Path(__file__).resolve().parents[2] / "scenarios" / "bromley_well.yaml"


def _premium(rate: float) -> dict:
    return {"contracts": {"performance_bond": {"premium_rate": rate}}}


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    base = load_scenario(BROMLEY_WELL)
    policies = {**base.model_dump(mode="python")["policies"], "premium_075": _premium(0.0075), "premium_4": _premium(0.04)}
    return Scenario.model_validate({**base.model_dump(mode="python"), "policies": policies})


@pytest.fixture(scope="module")
def runs(scenario):
    names = ["baseline", "bond_waived", "pay_in_advance", "premium_075", "premium_4"]
    return compare(scenario, reps=BROMLEY_REPS, seed=SEED, workers=2, events="none", policies=names).runs


def _pick(runs, policy: str, kpi: str) -> np.ndarray:
    return runs[runs["policy"] == policy].sort_values("replication")[kpi].to_numpy()


def members_minus_others(providers) -> float:
    """Insolvency rate of small VCSE consortium members minus that of other small VCSEs (initial ones)."""
    small = (providers.band <= 1) & ~providers.private & (providers.entry_month == 0)
    members, others = small & providers.consortium_member, small & ~providers.consortium_member
    insolvent = providers.exit_cause == EXIT_INSOLVENT
    return float(insolvent[members].mean() - insolvent[others].mean()) if members.any() else float("nan")


@pytest.fixture(scope="module")
def by_replication(scenario):
    """First award to a consortium, and members − others, per replication of the baseline and of advance pay."""
    out = {}
    for policy in ("baseline", "pay_in_advance"):
        sc = resolve_policy(scenario, policy)
        first, gap = [], []
        for r in range(BROMLEY_REPS):
            o = simulate(sc, replication_seed(SEED, r))
            first.append(float(o.contracts["consortium"][0]))
            gap.append(members_minus_others(o.providers))
        out[policy] = np.array(first), np.array(gap)
    return out


@pytest.mark.xfail(strict=True, reason="a consortium wins the first award in 43% [33, 53] of 100 replications (57% "
                   "[38, 75] of the first 30): since members quote their own full cost (consortium_risk: lead, F42) "
                   "the team's price is higher; with the former shared rule 52% (docs/validation.md)")
def test_a_consortium_wins_the_first_award_in_at_least_half_the_replications(by_replication):
    first, _ = by_replication["baseline"]
    mean, lo, hi = mean_interval(first)
    print(f"Bromley Well: first award to a consortium {mean:.2f} (95% CI {lo:.2f} to {hi:.2f}), {BROMLEY_REPS} replications")
    assert mean >= 0.5


def test_the_one_large_lot_draws_teds_field(runs):
    bids, blo, bhi = mean_interval(_pick(runs, "baseline", "bids_per_lot"))
    single, slo, shi = mean_interval(_pick(runs, "baseline", "single_bid_share"))
    print(f"Bromley Well: bids per lot {bids:.2f} (95% CI {blo:.2f} to {bhi:.2f}), single-bid share "
          f"{single:.3f} (95% CI {slo:.3f} to {shi:.3f})")
    assert blo <= 3.3 and bhi >= 2.7
    assert slo <= 0.28 and shi >= 0.22


def test_the_incumbent_keeps_the_service_at_re_tender_about_as_often_as_published(runs):
    """35-60% (UK bid consultancies; US federal; DESIGN.md): one re-let a run, so the mean is checked, not the interval."""
    mean, lo, hi = mean_interval(runs.loc[runs["policy"] == "baseline", "incumbent_retention"].dropna().to_numpy())
    print(f"Bromley Well: incumbent retention {mean:.3f} (95% CI {lo:.3f} to {hi:.3f})")
    assert 0.35 <= mean <= 0.60


def test_paid_in_advance_members_fail_no_more_often_than_other_small_organisations(by_replication):
    """Members quote their own full cost and the lead bears the price risk (F42), so paid in advance they fail like
    other small VCSEs (-0.005 [-0.026, +0.015] at 100 replications); paid in arrears they still fail more."""
    _, gap = by_replication["pay_in_advance"]
    gap = gap[~np.isnan(gap)]
    mean, lo, hi = mean_interval(gap)
    print(f"paid in advance, members - others {mean:+.3f} (95% CI {lo:+.3f} to {hi:+.3f}), {len(gap)} replications")
    assert lo <= 0


@pytest.mark.xfail(strict=True, reason="waiving the bond hardly moves small organisations' share of value: +0.006 "
                   "[-0.000, +0.012] at 100 replications; the waiver applies to every VCSE, and it moves only 6 of "
                   "100 first awards from a large VCSE alone to a consortium (43 to 49; docs/validation.md)")
def test_waiving_the_bond_raises_small_organisations_share_of_value(runs):
    mean, lo, hi, _ = paired_difference(np.nan_to_num(_pick(runs, "bond_waived", "share_of_value_small")),
                                        np.nan_to_num(_pick(runs, "baseline", "share_of_value_small")))
    print(f"bond waived - baseline, share_of_value_small {mean:+.4f} (95% CI {lo:+.4f} to {hi:+.4f})")
    assert lo > 0


def test_the_bond_premium_changes_vcse_bidding_on_the_bonded_lot(runs):
    """At 0.75% more VCSE bids reach the bonded lot than at 4% (+0.24 [+0.01, +0.47] a run at 100 replications:
    only just clear of 0; over the first 30 the interval is about ±0.17 around 0)."""
    mean, lo, hi, _ = paired_difference(_pick(runs, "premium_075", "bids_vcse_bonded"),
                                        _pick(runs, "premium_4", "bids_vcse_bonded"))
    print(f"premium 0.75% - 4%, bids_vcse_bonded {mean:+.3f} (95% CI {lo:+.3f} to {hi:+.3f})")
    assert lo > 0 or hi < 0
