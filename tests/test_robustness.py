"""Policies x futures: common random numbers across policies, paired differences, robustness measures;
shards merged by --resume; a lost pool worker retried with an identical table."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dps_sim.cli import main
from dps_sim.experiment import executors
from dps_sim.experiment.robustness import robustness, wilson
from dps_sim.experiment.sweep import load_sweep, sweep
from dps_sim.experiment.sweep_spec import Threshold
from dps_sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
KENT = ROOT / "scenarios" / "kent_youth_dps.yaml"
SHIPPED = ROOT / "scenarios" / "sweeps" / "kent_robustness.yaml"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A small Kent (18 months, 50 organisations) and a policies sweep of 12 futures over two parameters."""
    d = tmp_path_factory.mktemp("robust")
    data = yaml.safe_load(KENT.read_text())
    data["horizon_months"] = 18
    data["market"]["providers"] = 50
    (d / "small.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (d / "pf.yaml").write_text(yaml.safe_dump({
        "scenario": "small.yaml", "method": "lhs", "samples": 12, "replications": 2, "seed": 5,
        "common_random_numbers": False,
        "policies": ["pay_monthly_in_arrears", "bid_writing_support"],
        "parameters": {"contracts.payment.late_days_mean": {"low": 0, "high": 60},
                       "market.entry_per_year": {"low": 4, "high": 24}},
        "kpis": ["insolvencies_small", "service_users_reached", "commissioner_spend"],
        "satisficing": {"insolvencies_small": {"max": 2}},
    }, sort_keys=False))
    return d


@pytest.fixture(scope="module")
def reference(workdir):
    return sweep(workdir / "pf.yaml", workers=1, out=workdir / "reference")


def test_every_future_runs_every_policy_with_shared_seeds(workdir, reference):
    pts = reference.points
    assert len(pts) == 12 * 3 * 2 and set(pts["policy"]) == {"baseline", "pay_monthly_in_arrears",
                                                             "bid_writing_support"}
    assert list(pts["policy"].iloc[:6]) == ["baseline"] * 2 + ["pay_monthly_in_arrears"] * 2 + ["bid_writing_support"] * 2
    spec = load_sweep(workdir / "pf.yaml")
    # independent seeds across points, shared across policies at a point
    assert spec.seed_key(3, 1) == (3, 1) and spec.task_key(3, 2) == "3:2"
    # a policy that changes nothing relevant at a point gives the same run: check the seeds are shared by
    # re-running the baseline under the name of a policy that sets a value it already has
    same = yaml.safe_load((workdir / "small.yaml").read_text())
    same["policies"]["pay_in_advance_again"] = {"contracts": {"payment": {"terms": "advance"}}}
    (workdir / "same.yaml").write_text(yaml.safe_dump(same, sort_keys=False))
    data = yaml.safe_load((workdir / "pf.yaml").read_text())
    data.update(scenario="same.yaml", policies=["pay_in_advance_again"], satisficing={})
    (workdir / "same_pf.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    twin = sweep(workdir / "same_pf.yaml", workers=1)
    kpis = ["insolvencies_small", "service_users_reached"]
    b = twin.points[twin.points["policy"] == "baseline"][kpis].to_numpy()
    a = twin.points[twin.points["policy"] == "pay_in_advance_again"][kpis].to_numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.all(b == b[0])  # the futures do differ


def test_differences_and_robustness_tables(workdir, reference):
    out = workdir / "reference"
    diffs = pd.read_parquet(out / "differences.parquet")
    pts = reference.points.set_index(["point", "policy", "replication"])
    assert len(diffs) == 12 * 2 * 2
    row = diffs.iloc[5]
    expect = (pts.loc[(row["point"], row["policy"], row["replication"]), "service_users_reached"]
              - pts.loc[(row["point"], "baseline", row["replication"]), "service_users_reached"])
    assert row["service_users_reached"] == pytest.approx(expect)
    rob = pd.read_csv(out / "robustness.csv")
    assert len(rob) == 3 * 3
    ins = rob[rob["kpi"] == "insolvencies_small"].set_index("policy")
    assert ins.loc["baseline", "better"] == "lower" and math.isnan(ins.loc["baseline", "better_share"])
    # regret is zero for the best policy in every future, so some policy has mean regret below every other's max
    assert (rob.dropna(subset=["regret_max"])["regret_max"] >= 0).all()
    assert ins["satisficing"].iloc[0] == "<= 2"
    spend = rob[rob["kpi"] == "commissioner_spend"]
    assert spend["regret_max"].isna().all() and spend["diff_mean"].notna().sum() == 2
    # the same shares from the points themselves
    means = reference.points.groupby(["point", "policy"])["insolvencies_small"].mean().unstack()
    d = means["pay_monthly_in_arrears"] - means["baseline"]
    assert ins.loc["pay_monthly_in_arrears", "better_share"] == pytest.approx((d < 0).mean())
    assert ins.loc["baseline", "satisficing_futures"] == int((means["baseline"] <= 2).sum())


def test_robustness_measures_on_a_known_table():
    """Three futures, two policies besides the baseline; lower is better."""
    pts = pd.DataFrame({"point": [0, 0, 0, 1, 1, 1, 2, 2, 2], "replication": 0, "error": "",
                        "policy": ["baseline", "a", "b"] * 3, "k": [5, 3, 6, 5, 7, 4, 5, 4, 9]})
    rob = robustness(pts, ("baseline", "a", "b"), ["k"], {"k": Threshold(max=5)}, {"k": "lower"}).set_index("policy")
    assert rob.loc["a", "better_futures"] == 2 and rob.loc["b", "better_futures"] == 1
    # best per future: 3, 4, 4 -> regret of a: 0, 3, 0; of b: 3, 0, 5; of baseline: 2, 1, 1
    assert rob.loc["a", "regret_max"] == 3 and rob.loc["b", "regret_max"] == 5
    assert rob.loc["baseline", "regret_mean"] == pytest.approx(4 / 3)
    assert rob.loc["b", "satisficing_futures"] == 1 and rob.loc["baseline", "satisficing_share"] == 1.0
    lo, hi = wilson(2, 3)
    assert rob.loc["a", "better_ci_low"] == pytest.approx(lo) and 0.2 < lo < 0.667 < hi < 1
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)
    assert wilson(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)  # Wilson (1927); Newcombe (1998) table


def test_policies_sweep_file_errors(workdir):
    base = yaml.safe_load((workdir / "pf.yaml").read_text())
    cases = [({"policies": ["pay_monthly_in_arears"]}, "policies.0"),
             ({"policy": "closed_framework"}, "policy"),
             ({"satisficing": {"insolvency_small": {"max": 3}}}, "satisficing.insolvency_small"),
             ({"parameters": {"contracts.payment.terms": {"levels": ["advance", "quarterly_arrears"]}}},
              "parameters.contracts.payment.terms")]
    for change, path in cases:
        (workdir / "bad.yaml").write_text(yaml.safe_dump({**base, **change}, sort_keys=False))
        with pytest.raises(ScenarioError) as err:
            load_sweep(workdir / "bad.yaml")
        assert any(p.path == path for p in err.value.problems), (change, err.value.problems)
    (workdir / "all.yaml").write_text(yaml.safe_dump({**base, "policies": "all"}, sort_keys=False))
    assert load_sweep(workdir / "all.yaml").policies == ("baseline", "pay_monthly_in_arrears",
                                                         "tender_documents_80_pages", "closed_framework",
                                                         "bid_writing_support")


def test_shards_merged_give_the_unsharded_table(workdir, reference, tmp_path):
    out = tmp_path / "sharded"
    for i in range(3):
        assert main(["sweep", str(workdir / "pf.yaml"), "--shard", f"{i}/3", "--workers", "1", "--out", str(out),
                     "--quiet", "--no-report"]) == 0
        assert not (out / "points.parquet").exists()
    assert main(["sweep", str(workdir / "pf.yaml"), "--resume", "--workers", "1", "--out", str(out), "--quiet",
                 "--no-report"]) == 0
    merged = pd.read_parquet(out / "points.parquet")
    pd.testing.assert_frame_equal(merged, pd.read_parquet(workdir / "reference" / "points.parquet"))
    assert (out / "robustness.csv").read_text() == (workdir / "reference" / "robustness.csv").read_text()
    assert not (out / ".parts").exists()


def die_once(tasks):
    """A pool worker that kills itself the first time any worker runs it (then works as usual)."""
    try:
        os.close(os.open(os.environ["DPS_SIM_TEST_DIE_FLAG"], os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        from dps_sim.experiment.tasks import run_chunk_in_worker

        return run_chunk_in_worker(tasks)
    os._exit(9)


def test_lost_pool_worker_is_retried_and_recorded(workdir, reference, tmp_path, monkeypatch):
    monkeypatch.setenv("DPS_SIM_TEST_DIE_FLAG", str(tmp_path / "died"))
    monkeypatch.setattr(executors, "POOL_WORK", die_once)
    res = sweep(workdir / "pf.yaml", workers=2, out=tmp_path / "lossy")
    assert (tmp_path / "died").exists()
    lost = res.manifest["lost_chunks_retried"]
    assert len(lost) == 1 and lost[0]["runs_rerun"] >= 1 and "BrokenProcessPool" in lost[0]["error"]
    pd.testing.assert_frame_equal(res.points, reference.points)


def test_shipped_robustness_sweep_is_valid_and_large_enough():
    spec = load_sweep(SHIPPED)
    assert spec.point_count() >= 64 and spec.replications >= 2
    assert spec.policies == ("baseline", "pay_monthly_in_arrears", "tender_documents_80_pages", "closed_framework",
                             "bid_writing_support")
    assert {"insolvencies_small", "service_users_reached"} <= set(spec.kpis)
    assert len(spec.parameters) == 4


def test_report_answers_which_policy_is_most_robust(workdir, reference):
    out = workdir / "reference"
    diffs = pd.read_parquet(out / "differences.parquet")
    arrears = diffs[diffs["policy"] == "pay_monthly_in_arrears"]
    split = float(arrears.groupby("point")["insolvencies_small"].mean().median())   # holds in about half the futures
    assert main(["discover", str(out), "--kpi", "insolvencies_small", "--policy", "pay_monthly_in_arrears",
                 "--where", f"diff > {split:.3f}", "--method", "prim", "--no-report"]) == 0
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "policies across uncertain futures" in html and "the most robust policy is" in html
    assert "Robustness for small-provider insolvencies" in html and "Worst-case regret" in html
    assert "Scenario discovery" in html and "coverage" in html
    for name in ("robustness_differences", "discovery", "sensitivity"):
        assert (out / "charts" / f"{name}.png").stat().st_size > 10_000
    manifest = yaml.safe_load((out / "manifest.json").read_text())
    assert {"robustness.csv", "differences.parquet", "discovery.csv", "charts/discovery.png"} <= set(manifest["files"])


def die_once_dask(payload, tasks):
    """A Dask task whose worker process dies the first time any worker runs it."""
    try:
        os.close(os.open(os.environ["DPS_SIM_TEST_DIE_FLAG"], os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        from dps_sim.experiment.tasks import run_chunk

        return run_chunk(payload, tasks)
    os._exit(9)


def test_lost_dask_worker_is_rescheduled_with_an_identical_table(workdir, reference, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setenv("DPS_SIM_TEST_DIE_FLAG", str(tmp_path / "died"))
    monkeypatch.setattr(executors, "DASK_WORK", die_once_dask)
    res = sweep(workdir / "pf.yaml", workers=2, scheduler="local", out=tmp_path / "lossy-dask")
    assert (tmp_path / "died").exists()
    pd.testing.assert_frame_equal(res.points, reference.points)


def test_commands_that_resume_a_shard_or_merge_the_shards():
    import argparse

    from dps_sim.cli import resume_command

    args = argparse.Namespace(command="sweep", sweep=Path("s.yaml"), shard=(2, 8), workers=4, scheduler=None, set=None)
    assert resume_command(args, Path("out")) == "dps-sim sweep s.yaml --workers 4 --out out --shard 2/8"
    assert resume_command(args, Path("out"), merge=True) == "dps-sim sweep s.yaml --out out --resume"
