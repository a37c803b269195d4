"""The Kent DPS against the former model of grants at equal spend (issue 13), paired under common
random numbers.

Seed 003 item 8 ¶23 (l.195, F19): the DPS model "reached 25%-30% more young people when compared
to the former model". ``scenarios/kent_former_model.yaml`` compares the DPS (baseline) with yearly
grants to known organisations, rolled over, paid up front and lightly monitored (``former_model``),
whose budget is scaled before the run so that it spends what the DPS spends
(``budget.match_spend_of``, docs/model.md submodel 21).

What is checked: the spends are equal (the paired difference's 95% interval includes 0) and the
DPS reaches more people (interval above 0). What the model does **not** reproduce is marked as an
expected failure, strictly, so that a change that reaches the seed's figure is noticed and the
documents are updated: the paired percentage difference's interval does not reach 25-30%. Why
(docs/validation.md): the seed compares the whole youth service before and after 2013 (in 2011
KCC ran youth work at more than 90 places itself and funded 24 clubs and projects by grant; the
new model kept one KCC hub a district and commissioned the rest), while the scenario compares only
how the commissioned part is bought.

Replications: ``DPS_SIM_VALIDATION_REPS`` (default 30), seed 20131 as in docs/validation.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from dps_sim.experiment import compare
from dps_sim.experiment.stats import mean_interval, paired_difference

pytestmark = pytest.mark.validation

REPS = int(os.environ.get("DPS_SIM_VALIDATION_REPS", "30"))
SEED = 20131
SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "kent_former_model.yaml"


@pytest.fixture(scope="module")
def runs():
    return compare(SCENARIO, reps=REPS, seed=SEED, workers=2, events="none", policies=["former_model"]).runs


def _pick(runs, policy: str, kpi: str) -> np.ndarray:
    return runs[runs["policy"] == policy].sort_values("replication")[kpi].to_numpy()


def test_the_former_model_spends_what_the_dps_spends(runs):
    dps, former = _pick(runs, "baseline", "commissioner_spend"), _pick(runs, "former_model", "commissioner_spend")
    _, lo, hi = paired_difference(dps, former)[:3]
    assert lo <= 0 <= hi, (lo, hi)


def test_at_equal_spend_the_dps_reaches_more_people(runs):
    dps, former = (_pick(runs, p, "distinct_users_reached") for p in ("baseline", "former_model"))
    _, lo, _hi = paired_difference(dps, former)[:3]
    assert lo > 0


@pytest.mark.xfail(strict=True, reason="the model's DPS reaches about 20% more people, not 25-30% (F19); "
                                       "docs/validation.md says why")
def test_at_equal_spend_the_dps_reaches_25_to_30_percent_more_people(runs):
    dps, former = (_pick(runs, p, "distinct_users_reached") for p in ("baseline", "former_model"))
    _, lo, hi = mean_interval(100 * (dps / former - 1))
    assert hi >= 25 and lo <= 30, (lo, hi)
