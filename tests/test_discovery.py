"""Scenario discovery: PRIM recovers a known box; CART's leaves; conditions; the discover command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dps_sim.cli import main
from dps_sim.experiment.discovery import DiscoveryError, condition, discover
from dps_sim.experiment.prim import cart_boxes, peel, select

PARAMS = [f"x{i}" for i in range(5)]


def synthetic(n: int = 1000, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Five uniform parameters; the condition holds exactly where 0.3 <= x1 <= 0.8 and x3 <= 0.4."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(n, 5)), columns=PARAMS)
    y = ((x["x1"] >= 0.3) & (x["x1"] <= 0.8) & (x["x3"] <= 0.4)).to_numpy()
    return x, y


def test_prim_recovers_a_box_of_two_of_five_parameters():
    x, y = synthetic()
    trajectory = peel(x, y, alpha=0.05, min_mass=0.05)
    # density rises along the trajectory while coverage falls
    assert trajectory[0].coverage == 1 and trajectory[0].density == pytest.approx(y.mean())
    assert trajectory[-1].density > trajectory[0].density and trajectory[-1].coverage < 1
    box = select(trajectory)
    assert box.coverage > 0.9 and box.density > 0.9
    assert set(box.limits) == {"x1", "x3"}
    assert box.limits["x1"][0] == pytest.approx(0.3, abs=0.03) and box.limits["x1"][1] == pytest.approx(0.8, abs=0.03)
    assert box.limits["x3"][1] == pytest.approx(0.4, abs=0.03)
    # asking for a density picks the first box reaching it
    assert select(trajectory, density=0.6).density >= 0.6
    assert select(trajectory, density=0.6).coverage >= box.coverage


def test_prim_on_a_table_small_enough_to_check_by_hand():
    """Ten futures on one line, the condition at the top three: alpha 0.1 peels one future a step from
    the bottom until only those three are left."""
    x = pd.DataFrame({"a": np.arange(10.0), "b": np.zeros(10)})
    y = np.arange(10) >= 7
    trajectory = peel(x, y, alpha=0.1, min_mass=0.3)
    assert [round(b.density, 3) for b in trajectory] == [0.3, 0.333, 0.375, 0.429, 0.5, 0.6, 0.75, 1.0]
    assert trajectory[-1].limits == {"a": (7.0, 9.0)} and trajectory[-1].mass == pytest.approx(0.3)


def test_cart_finds_the_same_box():
    pytest.importorskip("sklearn")
    x, y = synthetic()
    boxes = cart_boxes(x, y, max_depth=3)
    best = boxes[0]
    assert best.coverage > 0.9 and best.density > 0.9 and set(best.limits) == {"x1", "x3"}


def test_conditions():
    frame = pd.DataFrame({"diff": [-1.0, 0.0, 2.0], "value": [3.0, 5.0, 9.0]})
    names = {"diff", "value"}
    assert condition(frame, "diff > 0", names).tolist() == [False, False, True]
    assert condition(frame, "value >= 5 and not diff > 1", names).tolist() == [False, True, False]
    assert condition(frame, "0 <= diff < 3", names).tolist() == [False, True, True]
    for bad in ("__import__('os')", "diff.real > 0", "size > 2", "diff + 1", "diff > 'a'"):
        with pytest.raises(DiscoveryError):
            condition(frame, bad, names)


def fake_sweep(folder: Path) -> None:
    """A policies sweep folder built by hand: the policy does worse exactly inside the known box."""
    x, y = synthetic(600)
    rows = []
    for p, (values, hit) in enumerate(zip(x.to_dict("records"), y)):
        for policy, k in (("baseline", 5.0), ("arrears", 7.0 if hit else 4.0)):
            for r in range(2):
                rows.append({"point": p, "policy": policy, "replication": r, **values, "insolvencies_small": k + r,
                             "error": ""})
    folder.mkdir()
    pd.DataFrame(rows).to_parquet(folder / "points.parquet")
    (folder / "manifest.json").write_text(json.dumps({
        "command": "sweep", "status": "finished", "files": ["points.parquet", "manifest.json"],
        "sweep": {"parameters": {p: {"low": 0, "high": 1} for p in PARAMS}, "policies": ["baseline", "arrears"],
                  "kpis": ["insolvencies_small"]}}))


def test_discover_command_writes_tables_and_manifest(tmp_path, capsys):
    folder = tmp_path / "sweep"
    fake_sweep(folder)
    assert main(["discover", str(folder), "--kpi", "insolvencies_small", "--policy", "arrears", "--where", "diff > 0",
                 "--no-report"]) == 0
    printed = capsys.readouterr().out
    assert "x1" in printed and "coverage" in printed
    boxes = pd.read_csv(folder / "discovery.csv")
    prim = boxes[boxes["method"] == "prim"]
    assert set(prim["parameter"]) == {"x1", "x3"} and (prim["coverage"] > 0.9).all() and (prim["density"] > 0.9).all()
    traj = pd.read_csv(folder / "discovery_trajectory.csv")
    assert traj["selected"].sum() == 1 and traj["coverage"].is_monotonic_decreasing
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["discovery"]["where"] == "diff > 0" and "discovery.csv" in manifest["files"]
    # the KPI itself as the condition
    res = discover(folder, "insolvencies_small", "value > 6.5", policy="arrears", write=False)
    assert res.prim_box.density > 0.9
    assert main(["discover", str(folder), "--kpi", "insolvencies_small", "--policy", "baseline", "--where", "diff > 0",
                 "--no-report"]) == 2
    assert main(["discover", str(folder), "--kpi", "insolvencies_small", "--where", "diff >"]) == 2


def test_peeling_trajectory_matches_the_prim_package():
    """Cross-check with Project-Platypus PRIM (the maintained port of EMA Workbench's PRIM, in the test extra):
    the same peel share and minimum mass give the same trajectory, step by step, to within a point or two."""
    prim_package = pytest.importorskip("prim")
    import warnings

    x, y = synthetic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = prim_package.Prim(x, y.astype(float), threshold=0.5, threshold_type=">", peel_alpha=0.05,
                                   mass_min=0.05).find_box().peeling_trajectory
    ours = peel(x, y, alpha=0.05, min_mass=0.05)
    n = min(len(theirs), len(ours))
    assert n >= 25
    for i in range(n):
        assert ours[i].coverage == pytest.approx(theirs["coverage"].iloc[i], abs=0.02)
        assert ours[i].density == pytest.approx(theirs["density"].iloc[i], abs=0.02)
        assert ours[i].mass == pytest.approx(theirs["mass"].iloc[i], abs=0.02)
