"""Stylised effects the evidence says commissioning markets show (issue: model credibility).

Each effect is a paired comparison under common random numbers on the shipped Kent youth
DPS scenario: replication r of both policies meets the same organisations, lots and shocks,
and the 95% interval of the paired difference must exclude zero in the stated direction.

Replications: ``DPS_SIM_VALIDATION_REPS`` (default 30; CI uses the default).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from dps_sim.experiment import compare
from dps_sim.experiment.stats import paired_difference
from dps_sim.scenario import Scenario, load_scenario

pytestmark = pytest.mark.validation

REPS = int(os.environ.get("DPS_SIM_VALIDATION_REPS", "30"))
SEED = 20131
KENT = Path(__file__).resolve().parents[2] / "scenarios" / "kent_youth_dps.yaml"


POLICIES = {
    "monthly_arrears": {"contracts": {"payment": {"terms": "monthly_arrears"}}},
    "pages_80": {"procurement": {"competitions": {"document_pages": 80}}},
    "framework": {"procurement": {"route": "framework"}},
    "quality_weight_70": {"procurement": {"competitions": {"weights": {"quality": 0.7, "reach": 0.15, "price": 0.15}}}},
    "bid_training": {"support": {"bid_training": True}},
    "funding_cut": {"shocks": [{"type": "funding_cut", "month": 24, "fraction": 0.2, "applies_to": "contracts"}]},
}


@pytest.fixture(scope="module")
def results():
    """Every policy against the Kent baseline, one comparison with common random numbers."""
    base = load_scenario(KENT)
    sc = Scenario.model_validate({**base.model_dump(mode="python"), "policies": {"baseline": {}, **POLICIES}})
    return compare(sc, reps=REPS, seed=SEED, workers=2, events="none")


def paired(results, policy: str, kpi: str, column=None) -> tuple[float, float, float]:
    """Mean paired difference (policy − baseline) of a KPI and its 95% interval."""
    runs = results.runs
    if column is None:
        pick = lambda p: runs[runs["policy"] == p].sort_values("replication")[kpi].to_numpy()  # noqa: E731
    else:
        pick = lambda p: column(results, p)  # noqa: E731
    mean, lo, hi, _ = paired_difference(pick(policy), pick("baseline"))
    print(f"{policy} / {kpi}: paired difference {mean:+.4f} (95% CI {lo:+.4f} to {hi:+.4f}), {REPS} replications")
    return mean, lo, hi


def test_monthly_arrears_raise_small_provider_insolvencies(results):
    mean, lo, hi = paired(results, "monthly_arrears", "insolvencies_small")
    assert lo > 0


def test_80_page_tenders_cut_bids_from_small_providers(results):
    mean, lo, hi = paired(results, "pages_80", "bids_small_per_lot")
    assert hi < 0


def test_open_dps_has_more_active_providers_by_year_3_than_a_closed_framework(results):
    def admitted_at_36(res, policy):
        ts = res.timeseries
        ts = ts[(ts["policy"] == policy) & (ts["month"] == 36)]
        return ts.sort_values("replication")["providers_admitted"].to_numpy()

    mean, lo, hi = paired(results, "framework", "providers_admitted_month_36", column=admitted_at_36)
    assert hi < 0  # framework minus DPS


def test_higher_quality_weight_raises_delivered_quality(results):
    mean, lo, hi = paired(results, "quality_weight_70", "mean_delivered_quality")
    assert lo > 0


def test_bid_writing_training_narrows_the_assessment_gap_for_small_providers(results):
    mean, lo, hi = paired(results, "bid_training", "assessment_gap_small")
    assert hi < 0


def test_bid_writing_training_does_not_lower_delivered_quality(results):
    """Issue 12: training makes submissions show true quality (F13), so the panel does not pick worse services."""
    mean, lo, hi = paired(results, "bid_training", "mean_delivered_quality")
    assert hi >= 0


def test_funding_cut_raises_contract_failures(results):
    mean, lo, hi = paired(results, "funding_cut", "contract_failures")
    assert lo > 0
