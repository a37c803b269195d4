"""The command line as users run it: `python -m dps_sim run | compare | validate | --version`.

DESIGN.md, Interface and "Output folder (one per command)". Reports are another module's work:
these runs pass --no-report to stay fast.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
import yaml

import dps_sim
from dps_sim.metrics import KPI_NAMES
from dps_sim.scenario import load_scenario, policy_names

SEED = 5
REPS = 2


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory, tiny_scenario_text: str) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "tiny.yaml"
    path.write_text(tiny_scenario_text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run_result(scenario_file: Path, tmp_path_factory, run_cli):
    """One `dps-sim run` of the tiny scenario, shared by the tests below."""
    out = tmp_path_factory.mktemp("run") / "out"
    args = ["run", str(scenario_file), "--reps", str(REPS), "--seed", str(SEED), "--out", str(out), "--no-report",
            "--quiet"]
    code, stdout, stderr = run_cli(*args)
    assert code == 0, stderr
    return out, args, stdout


@pytest.fixture(scope="module")
def compare_result(scenario_file: Path, tmp_path_factory, run_cli):
    out = tmp_path_factory.mktemp("compare") / "out"
    code, stdout, stderr = run_cli("compare", scenario_file, "--reps", str(REPS), "--workers", "1", "--out", out,
                                   "--no-report", "--quiet")
    assert code == 0, stderr
    return out, stdout


# --------------------------------------------------------------------------- run


def test_run_writes_the_output_folder(run_result) -> None:
    """DESIGN.md output folder: resolved scenario, manifest, runs.csv and the three Parquet tables."""
    out, _, stdout = run_result
    for name in ("scenario.resolved.yaml", "manifest.json", "runs.csv", "timeseries.parquet", "events.parquet",
                 "providers.parquet"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not (out / ".parts").exists(), "temporary parts are removed at the end"
    assert str(out) in stdout


def test_resolved_scenario_loads_back_equal(run_result, scenario_file: Path) -> None:
    """scenario.resolved.yaml: every default filled in, exactly what ran; it loads back to the same scenario."""
    out, _, _ = run_result
    text = (out / "scenario.resolved.yaml").read_text()
    assert "min_turnover_multiple:" in text and "collateral_share:" in text  # defaults written out
    assert load_scenario(out / "scenario.resolved.yaml") == load_scenario(scenario_file)


def test_manifest(run_result) -> None:
    """manifest.json: package version, seed, replication seeds with spawn keys, command argv, Python and
    library versions, start and end time."""
    out, args, _ = run_result
    m = json.loads((out / "manifest.json").read_text())
    assert m["dps_sim_version"] == dps_sim.__version__
    assert m["command"] == "run"
    assert m["seed"] == SEED
    assert m["replications"] == REPS
    assert m["replication_seeds"] == [{"entropy": SEED, "spawn_key": [r]} for r in range(REPS)]
    assert m["argv"][1:] == args
    assert m["python"].count(".") == 2
    for lib in ("numpy", "pandas", "pyarrow", "simpy", "pydantic", "PyYAML"):
        assert m["libraries"][lib] == metadata.version(lib)
    started, finished = datetime.fromisoformat(m["started"]), datetime.fromisoformat(m["finished"])
    assert started <= finished
    assert m["policies"] == ["baseline"]


def test_manifest_names_the_scenario_file(run_result, scenario_file: Path) -> None:
    """The manifest records the scenario file as the user named it, and its SHA-256, to rebuild the run."""
    out, _, _ = run_result
    m = json.loads((out / "manifest.json").read_text())
    assert m["scenario_file"] == str(scenario_file)
    assert m["scenario_sha256"] == hashlib.sha256(scenario_file.read_bytes()).hexdigest()


def test_runs_csv_has_every_kpi(run_result) -> None:
    """runs.csv: one row per (policy, replication), a column for every KPI of DESIGN.md."""
    out, _, _ = run_result
    runs = pd.read_csv(out / "runs.csv", keep_default_na=False)
    assert set(KPI_NAMES) <= set(runs.columns)
    assert len(runs) == REPS
    assert runs["policy"].tolist() == ["baseline"] * REPS
    assert runs["replication"].tolist() == list(range(REPS))
    assert runs["error"].tolist() == [""] * REPS, "no replication failed"
    assert runs[list(KPI_NAMES)].apply(pd.to_numeric).notna().all().all()


@pytest.mark.parametrize("table", ["timeseries", "events", "providers"])
def test_parquet_tables(run_result, table: str) -> None:
    """timeseries, events and providers: non-empty, tidy, with policy and replication columns."""
    out, _, _ = run_result
    df = pd.read_parquet(out / f"{table}.parquet")
    assert len(df) > 0
    assert {"policy", "replication"} <= set(df.columns)
    assert set(df["policy"]) == {"baseline"}
    assert set(df["replication"]) == set(range(REPS))
    if table == "timeseries":
        assert "month" in df.columns
        assert df.groupby("replication")["month"].nunique().tolist() == [12] * REPS  # horizon_months: 12
    if table == "providers":
        assert not df.duplicated(["replication", "provider"]).any(), "one row per provider per replication"


# --------------------------------------------------------------------------- compare


def test_compare_writes_summary_per_policy_and_kpi(compare_result, scenario_file: Path) -> None:
    """compare: every policy with common random numbers; summary.csv has one row per (policy, KPI)."""
    out, _ = compare_result
    policies = policy_names(load_scenario(scenario_file))
    summary = pd.read_csv(out / "summary.csv")
    assert {"policy", "kpi", "mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high"} <= set(summary.columns)
    assert not summary.duplicated(["policy", "kpi"]).any()
    pairs = set(zip(summary["policy"], summary["kpi"]))
    assert {(p, k) for p in policies for k in KPI_NAMES} <= pairs
    assert set(summary["policy"]) == set(policies)
    base = summary[summary["policy"] == "baseline"]
    assert (base["diff"].fillna(0) == 0).all(), "the baseline's paired difference from itself is zero"
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == len(policies) * REPS
    m = json.loads((out / "manifest.json").read_text())
    assert m["command"] == "compare" and m["policies"] == policies
    docs = list(yaml.safe_load_all((out / "scenario.resolved.yaml").read_text()))
    assert docs[0] == load_scenario(scenario_file).model_dump(mode="json")


# --------------------------------------------------------------------------- validate, version


def test_validate_valid_file(scenario_file: Path, run_cli) -> None:
    """`dps-sim validate` on a valid scenario exits 0 and names its policies."""
    code, stdout, stderr = run_cli("validate", scenario_file)
    assert code == 0, stderr
    assert "valid scenario" in stdout and "pay_monthly_in_arrears" in stdout
    assert stderr == ""


def test_version(run_cli) -> None:
    """`python -m dps_sim --version` prints the package version and exits 0."""
    code, stdout, _ = run_cli("--version")
    assert code == 0
    assert stdout.strip() == f"dps-sim {dps_sim.__version__}"
