"""Policy comparison: paired statistics against hand computation; results independent of worker count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dps_sim.experiment import compare, run
from dps_sim.experiment.stats import mean_interval, paired_difference, summarise
from dps_sim.scenario import Scenario


def test_mean_interval_by_hand():
    """x = 1, 2, 3, 4: mean 2.5, sd 1.2910, t(0.975, 3) = 3.1824, half-width 2.0543."""
    mean, lo, hi = mean_interval(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean == pytest.approx(2.5)
    half = 3.182446305284263 * np.sqrt(5 / 3) / 2
    assert (lo, hi) == pytest.approx((2.5 - half, 2.5 + half))


def test_paired_difference_by_hand():
    """Differences 2, 1, 3, 2 (policy − baseline): mean 2, sd 0.8165, half-width t(0.975,3) × sd / 2 = 1.2992."""
    base = np.array([10.0, 12.0, 9.0, 11.0])
    pol = np.array([12.0, 13.0, 12.0, 13.0])
    mean, lo, hi, p = paired_difference(pol, base)
    half = 3.182446305284263 * np.sqrt(2 / 3) / 2
    assert mean == pytest.approx(2.0)
    assert (lo, hi) == pytest.approx((2.0 - half, 2.0 + half))
    assert p == pytest.approx(0.0163, abs=5e-4)  # paired t = 2 / (0.8165 / 2) = 4.899 on 3 df: two-sided p 0.0163


def test_pairing_is_tighter_than_independent_means():
    """Common random numbers: a shared replication effect cancels in the paired difference."""
    shared = np.array([100.0, 150.0, 80.0, 120.0, 95.0])
    base, pol = shared, shared + np.array([1.0, 1.2, 0.9, 1.1, 1.0])
    _, lo, hi, _ = paired_difference(pol, base)
    assert 0 < lo < hi < 2
    _, blo, bhi = mean_interval(base)
    assert bhi - blo > 20 * (hi - lo)


def test_summarise_table():
    runs = pd.DataFrame({"policy": ["baseline"] * 4 + ["p"] * 4, "replication": [0, 1, 2, 3] * 2,
                         "k": [10.0, 12.0, 9.0, 11.0, 12.0, 13.0, 12.0, 13.0], "error": [""] * 8})
    s = summarise(runs, ["k"]).set_index("policy")
    assert s.loc["p", "diff"] == pytest.approx(2.0)
    assert s.loc["baseline", "diff"] == 0.0
    assert s.loc["p", "mean"] == pytest.approx(12.5)
    assert set(s.columns) >= {"kpi", "n", "mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high"}


@pytest.fixture(scope="module")
def tiny() -> Scenario:
    return Scenario.model_validate({
        "name": "tiny compare", "seed": 4, "horizon_months": 18,
        "market": {"providers": 50, "districts": 2},
        "behaviour": {"lot_interest": 0.5},
        "policies": {"baseline": {}, "arrears": {"contracts": {"payment": {"terms": "monthly_arrears"}}},
                     "pages_80": {"procurement": {"competitions": {"document_pages": 80}}}},
    })


def test_results_identical_whatever_the_worker_count(tiny, tmp_path):
    """Same seed, same numbers: --workers 1 (in-process) and --workers 2 (process pool) write identical tables."""
    one = compare(tiny, reps=4, seed=9, workers=1, out=tmp_path / "w1")
    two = compare(tiny, reps=4, seed=9, workers=2, out=tmp_path / "w2")
    assert (tmp_path / "w1" / "summary.csv").read_text() == (tmp_path / "w2" / "summary.csv").read_text()
    assert (tmp_path / "w1" / "runs.csv").read_text() == (tmp_path / "w2" / "runs.csv").read_text()
    for name in ("timeseries", "providers", "events"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "w1" / f"{name}.parquet"),
                                      pd.read_parquet(tmp_path / "w2" / f"{name}.parquet"))
    assert list(one.summary["policy"].unique()) == ["baseline", "arrears", "pages_80"]
    assert len(two.summary) == 3 * len(two.summary["kpi"].unique())


def test_replications_differ_and_policies_are_paired(tiny):
    """Replications are not identical; replication r of each policy starts from the same market."""
    res = compare(tiny, reps=3, seed=2, workers=1)
    prov = res.providers
    r0 = prov[(prov.policy == "baseline") & (prov.replication == 0)]["income"].to_numpy()
    r1 = prov[(prov.policy == "baseline") & (prov.replication == 1)]["income"].to_numpy()
    a0 = prov[(prov.policy == "arrears") & (prov.replication == 0)]["income"].to_numpy()
    assert not np.array_equal(r0[: min(len(r0), len(r1))], r1[: min(len(r0), len(r1))])
    np.testing.assert_array_equal(r0, a0)


def test_failed_replication_is_a_row_not_a_crash(monkeypatch, tiny):
    """A replication that raises is recorded with its error; the others complete."""
    import dps_sim.experiment.tasks as tasks

    real = tasks.simulate

    def flaky(scenario, root, events):
        if root.spawn_key == (1,):
            raise RuntimeError("boom")
        return real(scenario, root, events)

    monkeypatch.setattr(tasks, "simulate", flaky)
    res = run(tiny, reps=3, seed=1, workers=1)
    assert list(res.runs["error"] != "") == [False, True, False]
    assert "boom" in res.runs.loc[1, "error"]
    assert np.isnan(res.runs.loc[1, "insolvencies"])
    assert res.manifest["failed_replications"] == 1
