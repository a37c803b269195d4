"""Issue 14 acceptance: a replication that fails at run time exits 3 with its cause on screen and
every column kept; policy names that would reach a file path are refused by `validate` (exit 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dps_sim.experiment.tasks as tasks
from dps_sim import metrics
from dps_sim.cli import EXIT_BAD_INPUT, EXIT_FAILED_RUNS, main
from dps_sim.scenario import load_scenario

EVERY_KPI = (*metrics.KPI_NAMES, *metrics.EXTRA_KPIS)


def failing(fail: set[int], message: str = "lam value too large"):
    """A stand-in for the engine's simulate that raises for the listed replications (by spawn key)."""
    real = tasks.simulate

    def simulate(scenario, root, events):
        if root.spawn_key[-1] in fail:
            raise ValueError(message)
        return real(scenario, root, events)

    return simulate


def test_a_failed_replication_exits_3_with_its_cause_and_every_column(tiny_scenario_file: Path, tmp_path: Path,
                                                                      monkeypatch, capsys) -> None:
    monkeypatch.setattr(tasks, "simulate", failing({1}))
    out = tmp_path / "out"
    code = main(["run", str(tiny_scenario_file), "--reps", "3", "--out", str(out), "--no-report", "--quiet"])
    stdout, err = capsys.readouterr()
    assert code == EXIT_FAILED_RUNS == 3, err
    assert "1 of 3 replications failed" in err and "ValueError: lam value too large" in err and "runs.csv" in err
    assert "nan" not in stdout.lower(), "means are of the replications that finished"
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns) == ["policy", "replication", *EVERY_KPI, "error"]
    assert runs["error"].fillna("").str.startswith("ValueError: lam value too large").tolist() == [False, True, False]
    assert runs.loc[1, list(EVERY_KPI)].isna().all() and runs.loc[[0, 2], "insolvencies"].notna().all()


def test_every_replication_failing_keeps_every_column(tiny_scenario_file: Path, tmp_path: Path, monkeypatch,
                                                     capsys) -> None:
    """The audit's case: every replication fails (e.g. entry .inf once let through); runs.csv loses no column."""
    monkeypatch.setattr(tasks, "simulate", failing({0, 1}))
    out = tmp_path / "out"
    code = main(["compare", str(tiny_scenario_file), "--reps", "2", "--workers", "1", "--out", str(out),
                 "--no-report", "--quiet"])
    stdout, err = capsys.readouterr()
    assert code == EXIT_FAILED_RUNS, err
    assert "4 of 4 replications failed" in err and "4 x ValueError: lam value too large" in err
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns) == ["policy", "replication", *EVERY_KPI, "error"] and len(runs) == 4
    assert runs[list(EVERY_KPI)].isna().all().all()
    assert (out / "summary.csv").is_file() and (out / "timeseries.parquet").is_file()


def test_a_failed_task_reports_every_kpi(tiny_scenario_file: Path, monkeypatch) -> None:
    """The worker's own result of a failed replication carries every KPI as NaN, not only the core ones,
    so any table built from results (runs, sweep points) has the same columns whatever failed."""
    monkeypatch.setattr(tasks, "simulate", failing({0}, "boom"))
    payload = tasks.Payload({"baseline": load_scenario(tiny_scenario_file)}, seed=1)
    res = tasks.run_task(payload, tasks.Task("baseline", 0, (0,)))
    assert res.error.startswith("ValueError: boom")
    assert tuple(res.kpis) == EVERY_KPI and all(np.isnan(v) for v in res.kpis.values())


BAD_NAMES = ["../../../../somewhere/EVIL", "a/b", "a\\b", "..", "a\x00b", "p" * 300, "p" * 65, "/tmp/EVIL"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=["traversal", "slash", "backslash", "dotdot", "nul", "300_chars",
                                                 "65_chars", "absolute"])
def test_validate_refuses_a_policy_name_that_would_be_a_path(name: str, tiny_scenario_text: str, tmp_path: Path,
                                                             capsys) -> None:
    """Issue 14 found `compare` writing somewhere/EVIL__r000000.parquet outside its folder: the name is
    refused at validation and before any output, and the message shows at most a short escaped excerpt."""
    import yaml

    data = yaml.safe_load(tiny_scenario_text)
    data["policies"][name] = {"contracts": {"length_months": 24}}
    path = tmp_path / "work" / "scenario.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert main(["validate", str(path)]) == EXIT_BAD_INPUT == 2
    err = capsys.readouterr().err
    assert str(path) in err and "at key 'policies'" in err and "policy name" in err
    assert "\x00" not in err
    if len(name) > 40:
        assert name not in err, "a long name is shown only as an excerpt"
    out = tmp_path / "work" / "out"
    assert main(["compare", str(path), "--reps", "1", "--workers", "1", "--out", str(out), "--quiet"]) == 2
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["scenario.yaml", "work"], "nothing is written anywhere"
