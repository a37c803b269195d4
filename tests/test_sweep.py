"""Parameter sweeps: sweep files, sampling, constraints, sensitivity, backends, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dps_sim.cli import main
from dps_sim.experiment.sweep import (LOADED_CODE, PointScenarios, concrete_overrides, load_sweep, point_overrides,
                                      sweep)
from dps_sim.experiment.tasks import Payload, Task, run_task
from dps_sim.experiment.sampling import Parameter, build_design
from dps_sim.experiment.sensitivity import analyse, noise_shares, ranking
from dps_sim.scenario import load_scenario, with_overrides

ROOT = Path(__file__).resolve().parents[1]
KENT = ROOT / "scenarios" / "kent_youth_dps.yaml"
SHIPPED = ROOT / "scenarios" / "sweeps" / "payment_bond_quality.yaml"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A small Kent (24 months, 60 organisations) with one shock, and a small LHS sweep over it."""
    d = tmp_path_factory.mktemp("sweep")
    data = yaml.safe_load(KENT.read_text())
    data["horizon_months"] = 24
    data["market"]["providers"] = 60
    data["shocks"] = [{"type": "payment_delay", "start_month": 12, "months": 3, "extra_days": 30}]
    (d / "small.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    write_sweep(d / "lhs.yaml", method="lhs", samples=12, replications=2, seed=7, parameters={
        "procurement.competitions.lots_per_round": {"low": 1, "high": 8},
        "contracts.payment.late_days_mean": {"low": 0, "high": 60},
        "procurement.competitions.weights.quality": {"low": 0.2, "high": 0.7},
    }, kpis=["lots_called", "insolvencies_small", "share_of_value_small"])
    return d


def write_sweep(path: Path, **keys) -> Path:
    data = {"scenario": "small.yaml", "policy": "baseline", **keys}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def serial(workdir):
    """The LHS sweep run in this process: the reference the other backends must match."""
    return sweep(workdir / "lhs.yaml", workers=1, out=workdir / "serial")


# --------------------------------------------------------------------------- sweep files


def test_shipped_sweep_is_valid():
    spec = load_sweep(SHIPPED)
    assert spec.method == "sobol"
    assert list(spec.parameters) == ["contracts.payment.late_days_mean", "contracts.performance_bond.threshold",
                                     "procurement.competitions.weights.quality"]
    assert spec.scenario_file.resolve() == KENT.resolve() and spec.policy == "baseline"
    assert spec.run_count() == spec.samples * (3 + 2) * spec.replications
    assert spec.common_random_numbers and spec.seed_key(7, 1) == (1,)  # replication 1 of every point: one seed
    assert spec.parameters["contracts.performance_bond.threshold"].log
    assert main(["validate", str(SHIPPED)]) == 0


GOOD = """\
scenario: small.yaml
policy: baseline
method: sobol
samples: 4
replications: 1
seed: 1
parameters:
  contracts.payment.late_days_mean: {low: 0, high: 90}
  procurement.competitions.weights.quality: {low: 0.2, high: 0.7}
  contracts.payment.terms: {levels: [advance, monthly_arrears]}
kpis: [insolvencies_small, share_of_value_small]
"""

BAD = [  # (replace this, with that, key path named, line named)
    ("seed: 1", "seed: 1\nsampels: 4", "sampels", 7),
    ("method: sobol", "method: halton", "method", 3),
    ("{low: 0, high: 90}", "{low: 90, high: 0}", "parameters.contracts.payment.late_days_mean.high", 8),
    ("contracts.payment.late_days_mean:", "contracts.payment.late_days_meen:", "parameters.contracts.payment.late_days_meen", 8),
    ("{low: 0, high: 90}", "{low: -5, high: 90}", "parameters.contracts.payment.late_days_mean.low", 8),
    ("{low: 0, high: 90}", "{low: 0, hihg: 90}", "parameters.contracts.payment.late_days_mean.hihg", 8),
    ("[advance, monthly_arrears]", "[advance, weekly]", "parameters.contracts.payment.terms.levels.1", 10),
    ("{levels: [advance, monthly_arrears]}", "{low: 0, high: 1}", "parameters.contracts.payment.terms", 10),
    ("share_of_value_small]", "share_of_value_smal]", "kpis.1", 11),
    ("small.yaml", "missing.yaml", "scenario", 1),
    ("policy: baseline", "policy: no_such_policy", "policy", 2),
    ("samples: 4", "samples: 5", "samples", 4),
    ("replications: 1", "replications: 0", "replications", 5),
    ("contracts.payment.late_days_mean:", "policies.baseline.x:", "parameters.policies.baseline.x", 8),
    ("contracts.payment.late_days_mean:", "contracts.payment:", "parameters.contracts.payment", 8),
    ("seed: 1", "seed: -1", "seed", 6),
    ("seed: 1", "seed: 1\ncommon_random_numbers: maybe", "common_random_numbers", 7),
    ("{low: 0, high: 90}", "{low: 0, high: 90, log: true}", "parameters.contracts.payment.late_days_mean.low", 8),
    ("{low: 0.2, high: 0.7}", "{low: 0.2, high: 0.7, levels: [0.3, 0.4]}", "parameters.procurement.competitions.weights.quality", 9),
    ("{low: 0.2, high: 0.7}", "{low: 0.2, high: 1.7}", "parameters.procurement.competitions.weights.quality.high", 9),
    ("method: sobol\n", "", "method", 1),
]


@pytest.mark.parametrize("old,new,key,line", BAD, ids=[b[2] for b in BAD])
def test_malformed_sweep_exits_2_naming_key_and_line(workdir, tmp_path, capsys, old, new, key, line):
    (tmp_path / "small.yaml").write_text((workdir / "small.yaml").read_text())
    assert old in GOOD
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new, 1))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"at key '{key}'" in err and f"line {line}" in err and str(path) in err, err


def test_good_sweep_validates_and_cli_exit_code(workdir, tmp_path):
    (tmp_path / "small.yaml").write_text((workdir / "small.yaml").read_text())
    (tmp_path / "good.yaml").write_text(GOOD)
    spec = load_sweep(tmp_path / "good.yaml")
    assert spec.run_count() == 4 * (3 + 2)
    (tmp_path / "bad.yaml").write_text(GOOD.replace("method: sobol", "method: halton"))
    proc = subprocess.run([sys.executable, "-m", "dps_sim", "sweep", str(tmp_path / "bad.yaml"), "--out",
                           str(tmp_path / "out"), "--quiet", "--no-report"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "at key 'method'" in proc.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- points -> scenarios


def test_weights_rescale_and_lists_and_integers(workdir):
    base = load_scenario(workdir / "small.yaml")
    dump = base.model_dump(mode="python")
    ov = point_overrides({"procurement.competitions.weights.quality": 0.6}, dump)
    sc = with_overrides(base, concrete_overrides(ov, dump))
    w = sc.procurement.competitions.weights
    assert (w.quality, w.reach, w.price) == pytest.approx((0.6, 0.2, 0.2))
    # a path through the list of shocks replaces that item only
    ov = concrete_overrides({"shocks.0.extra_days": 45.0}, dump)
    assert with_overrides(base, ov).shocks[0].extra_days == 45.0
    assert with_overrides(base, ov).shocks[0].start_month == 12
    # integer fields get ints; ranges cover both ends
    par = Parameter("procurement.competitions.lots_per_round", low=1, high=8, integer=True)
    vals = {par.value(u) for u in np.linspace(0, 1, 101)}
    assert vals == set(range(1, 9)) and all(type(v) is int for v in vals)
    lev = Parameter("contracts.payment.terms", levels=("advance", "monthly_arrears", "quarterly_arrears"))
    assert [lev.value(u) for u in (0.0, 0.34, 0.99, 1.0)] == ["advance", "monthly_arrears", "quarterly_arrears",
                                                            "quarterly_arrears"]


def test_invalid_point_is_recorded_and_sweep_goes_on(workdir):
    path = write_sweep(workdir / "weights.yaml", method="grid", samples=2, replications=1, seed=2, parameters={
        "procurement.competitions.weights.quality": {"low": 0.3, "high": 0.7},
        "procurement.competitions.weights.reach": {"low": 0.2, "high": 0.5},
        "market.providers": {"levels": [40, 60]},
    }, kpis=["bids_per_lot"])
    res = sweep(path, workers=1)
    assert len(res.points) == 8 and res.out is None
    bad = res.points[(res.points["procurement.competitions.weights.quality"] == 0.7)
                     & (res.points["procurement.competitions.weights.reach"] == 0.5)]
    assert len(bad) == 2 and bad["error"].str.match(r"InvalidPoint: procurement\.competitions\.weights\.price: .*greater than or equal to 0").all()
    assert not bad["error"].str.contains("Traceback").any()
    assert bad["bids_per_lot"].isna().all()
    good = res.points.drop(bad.index)
    assert (good["error"] == "").all() and good["bids_per_lot"].notna().all()
    assert res.points["market.providers"].dtype == np.int64
    assert res.manifest["failed_points"] == 2


# --------------------------------------------------------------------------- sensitivity


@pytest.mark.parametrize("method,samples", [("sobol", 256), ("morris", 40), ("lhs", 200), ("grid", 6)])
def test_kpi_of_one_parameter_ranks_it_first(method, samples):
    params = [Parameter("a", low=0.0, high=1.0), Parameter("b", low=10.0, high=20.0, log=True),
              Parameter("n", low=1, high=9, integer=True), Parameter("c", levels=("x", "y", "z"))]
    design = build_design(method, params, samples, seed=11)
    a = np.array([v[0] for v in design.values])
    c = np.array([("x", "y", "z").index(v[3]) for v in design.values])
    means = {"only_a": 3.0 * a ** 2 + np.sin(a), "only_c": 2.0 * c, "flat": np.ones(len(design))}
    sens = analyse(design, means, seed=5)
    assert ranking(sens, "only_a")[0] == "a"
    assert ranking(sens, "only_c")[0] == "c"
    first = sens[(sens["kpi"] == "only_a")].set_index("parameter")
    if method == "sobol":
        assert first.loc["a", "ST"] > 0.9 and first.loc["a", "S1"] > 0.8
        assert (first.drop("a")["ST"].abs() < 0.05).all()
    elif method == "morris":
        assert first.loc["a", "mu_star"] > 1.0 and (first.drop("a")["mu_star"] < 1e-9).all()
    else:
        assert first.loc["a", "rho"] > 0.95 and first.loc["a", "p_value"] < 0.01
    flat = sens[sens["kpi"] == "flat"]
    assert flat["rank"].isna().all() and flat["note"].str.contains("does not vary").all()


def test_failed_points_drop_whole_blocks():
    params = [Parameter("a", low=0.0, high=1.0), Parameter("b", low=0.0, high=1.0)]
    design = build_design("sobol", params, 64, seed=1)
    y = np.array([v[0] for v in design.values]) * 4.0
    y[5] = np.nan
    sens = analyse(design, {"k": y}, seed=1)
    assert ranking(sens, "k")[0] == "a"
    assert (sens["points_used"] == 63 * 4).all() and sens["note"].str.contains("1 of 64 blocks").all()


def test_noise_share_is_replication_variance_over_spread_of_point_means():
    effect = np.array([0.0, 1.0, 2.0, 3.0, 4.0])  # point means; sample variance 2.5
    rows = [(p, r, e + (2.0 if r % 2 == 0 else -2.0)) for p, e in enumerate(effect) for r in range(4)]
    points = pd.DataFrame(rows, columns=["point", "replication", "k"])
    # within-point variance 16/3, over 4 replications: 4/3 of the point means' variance 2.5
    assert noise_shares(points, ["k"])["k"] == pytest.approx((16 / 3 / 4) / 2.5)
    assert np.isnan(noise_shares(points[points["replication"] == 0], ["k"])["k"])  # one replication: unknown


def test_real_sweep_ranks_the_dominant_parameter(serial):
    sens = serial.sensitivity
    assert list(sens.columns[:5]) == ["kpi", "parameter", "method", "rho", "p_value"]
    assert ranking(sens, "lots_called")[0] == "procurement.competitions.lots_per_round"
    row = sens[(sens["kpi"] == "lots_called") & (sens["parameter"] == "procurement.competitions.lots_per_round")]
    assert row["rho"].iloc[0] > 0.8
    assert 0 < row["noise_share"].iloc[0] < 0.2  # lots called hardly vary between replications of a point
    out = serial.out
    assert pd.read_csv(out / "sensitivity.csv").shape == sens.shape
    assert "lots_called" in (out / "sensitivity.md").read_text()
    m = json.loads((out / "manifest.json").read_text())["sweep"]
    assert m["method"] == "lhs" and m["samples"] == 12 and m["replications"] == 2 and m["seed"] == 7
    assert m["parameters"]["procurement.competitions.lots_per_round"] == {"low": 1, "high": 8, "log": False,
                                                                        "integer": True}
    assert m["sampler"]["name"] == "scipy.stats.qmc.LatinHypercube" and m["policy"] == "baseline"
    assert m["scenario"].endswith("small.yaml") and m["kpis"] == ["lots_called", "insolvencies_small",
                                                                 "share_of_value_small"]


# --------------------------------------------------------------------------- backends, resume


def test_points_table(serial):
    p = serial.points
    assert len(p) == 24 and list(p.columns[:2]) == ["point", "replication"]
    assert list(zip(p["point"], p["replication"])) == [(i, r) for i in range(12) for r in range(2)]
    assert (p["error"] == "").all() and "seconds" not in p.columns
    assert p["procurement.competitions.lots_per_round"].dtype == np.int64
    # replications of a point differ (own seeds), the same point's parameters repeat
    assert p.groupby("point")["contracts.payment.late_days_mean"].nunique().eq(1).all()
    assert not (p.iloc[0::2]["providers_active_end"].to_numpy() == p.iloc[1::2]["providers_active_end"].to_numpy()).all()
    assert not (serial.out / ".parts").exists()


@pytest.mark.parametrize("backend", ["pool", "dask"])
def test_backends_give_identical_tables(workdir, serial, backend):
    kw = {"workers": 2} if backend == "pool" else {"workers": 2, "scheduler": "local"}
    res = sweep(workdir / "lhs.yaml", out=workdir / backend, **kw)
    pd.testing.assert_frame_equal(res.points, serial.points)
    pd.testing.assert_frame_equal(res.sensitivity, serial.sensitivity)
    assert (workdir / backend / "points.parquet").read_bytes() == (serial.out / "points.parquet").read_bytes()
    assert (workdir / backend / "sensitivity.csv").read_bytes() == (serial.out / "sensitivity.csv").read_bytes()


def test_workers_running_other_code_stop_the_sweep(workdir, tmp_path, monkeypatch):
    """Pool workers import dps_sim afresh: if the files changed after this process imported them (other
    work in the same tree), they would run other code. They refuse instead of mixing versions in a table;
    here this process pretends to run other code."""
    import dps_sim.experiment.sweep_run as sweep_module

    monkeypatch.setattr(sweep_module, "LOADED_CODE", "0" * 64)
    with pytest.raises(sweep_module.CodeMismatch, match="different dps_sim code"):
        sweep(workdir / "lhs.yaml", workers=2, out=tmp_path / "mixed")
    assert not (tmp_path / "mixed" / "points.parquet").exists()
    assert not list((tmp_path / "mixed" / ".parts").rglob("*.parquet"))


def test_sigkill_then_resume_gives_identical_table(workdir, tmp_path):
    path = write_sweep(workdir / "kill.yaml", method="lhs", samples=30, replications=2, seed=9, parameters={
        "procurement.competitions.lots_per_round": {"low": 1, "high": 8},
        "contracts.performance_bond.threshold": {"low": 20000, "high": 1000000, "log": True},
    }, kpis=["lots_called", "contract_failures"])
    reference = sweep(path, workers=1, out=tmp_path / "reference")
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "dps_sim", "sweep", str(path), "--workers", "1", "--out", str(out),
                             "--quiet", "--no-report"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parts = out / ".parts" / "points"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.exists() and len(list(parts.glob("*.parquet"))) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"sweep ended before it could be killed: {proc.stderr.read().decode()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    done = len(list(parts.glob("*.parquet")))
    assert done >= 2 and not (out / "points.parquet").exists()
    (parts / ".p99999999r000000.parquet.abc.tmp").write_bytes(b"half a file")  # as a kill mid-write leaves
    assert main(["sweep", str(path), "--workers", "1", "--out", str(out), "--resume", "--quiet", "--no-report"]) == 0
    resumed = pd.read_parquet(out / "points.parquet")
    pd.testing.assert_frame_equal(resumed, reference.points)
    assert (out / "points.parquet").read_bytes() == (reference.out / "points.parquet").read_bytes()
    assert not (out / ".parts").exists() and not list(out.rglob("*.tmp"))
    m = json.loads((out / "manifest.json").read_text())
    assert 0 < m["runs_this_call"] < 60 and m["runs_resumed"] == 60 - m["runs_this_call"]
    # resuming a finished sweep runs nothing; a different sweep in the same folder is refused
    again = sweep(path, workers=1, out=out, resume=True)
    assert again.manifest["runs_this_call"] == 0
    pd.testing.assert_frame_equal(again.points, reference.points)
    # other KPIs to analyse are no other sweep: resuming re-analyses without running
    relabelled = write_sweep(workdir / "kill3.yaml", **{**yaml.safe_load(path.read_text()), "kpis": ["hhi"]})
    again = sweep(relabelled, workers=1, out=out, resume=True)
    assert again.manifest["runs_this_call"] == 0 and set(again.sensitivity["kpi"]) == {"hhi"}
    changed = write_sweep(workdir / "kill2.yaml", **{**yaml.safe_load(path.read_text()), "seed": 10})
    assert main(["sweep", str(changed), "--workers", "1", "--out", str(out), "--resume", "--quiet", "--no-report"]) == 2
    assert main(["sweep", str(path), "--workers", "1", "--out", str(out), "--quiet", "--no-report"]) == 2


def test_seeds_do_not_depend_on_chunking(workdir, serial):
    """A run made on its own, outside any chunk, gives the same row as in the sweep."""
    spec = load_sweep(workdir / "lhs.yaml")
    base_dump = spec.base.model_dump(mode="python")
    p, r = 11, 1
    scenarios = PointScenarios(spec.base, {str(p): concrete_overrides(point_overrides(spec.design().point(p),
                                                                                       base_dump), base_dump)},
                               LOADED_CODE)
    res = run_task(Payload(scenarios, spec.seed, events="none", keep_tables=False), Task(str(p), r, spec.seed_key(p, r)))
    row = serial.points[(serial.points["point"] == p) & (serial.points["replication"] == r)].iloc[0]
    assert res.error is None
    assert res.kpis["lots_called"] == row["lots_called"] and res.kpis["providers_active_end"] == row["providers_active_end"]


def test_worker_payload_imports_no_heavy_libraries(tmp_path):
    """A worker unpickling a sweep payload and running a point imports no pandas, pyarrow, SALib or Dask."""
    import pickle

    base = load_scenario(KENT)
    payload = Payload(PointScenarios(base, {"p0": {"horizon_months": 6}}, LOADED_CODE), 1, events="none")
    blob = tmp_path / "payload.pkl"
    blob.write_bytes(pickle.dumps(payload))
    code = ("import pickle, sys; from pathlib import Path; "
            f"p = pickle.loads(Path({str(blob)!r}).read_bytes()); s = p.scenarios['p0']; "
            "from dps_sim.model import simulate; import numpy as np; simulate(s, np.random.SeedSequence(1), 'none'); "
            "print(sorted(m for m in ('pandas', 'pyarrow', 'SALib', 'dask', 'distributed', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
