"""Quick what-ifs on the command line (issue 15): `--set KEY.PATH=VALUE` on run, compare and validate,
and `compare --policies a,b`; bad input exits 2 naming the --set or the policy, with "did you mean"."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from dps_sim.cli import main, resume_command
from dps_sim.cli_args import build_parser


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory, tiny_scenario_text: str) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "tiny.yaml"
    path.write_text(tiny_scenario_text + "  closed: {procurement: {route: framework}}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def what_if_run(scenario_file: Path, tmp_path_factory, run_cli):
    """`dps-sim run` with two --set values, as a user types it."""
    out = tmp_path_factory.mktemp("run") / "out"
    code, stdout, stderr = run_cli("run", scenario_file, "--reps", "2", "--out", out, "--no-report", "--quiet",
                                   "--set", "contracts.payment.terms=monthly_arrears",
                                   "--set", "market.providers=30")
    assert code == 0, stderr
    return out


def test_set_is_recorded_in_manifest_and_resolved_scenario(what_if_run: Path) -> None:
    manifest = json.loads((what_if_run / "manifest.json").read_text())
    assert manifest["overrides"] == {"contracts.payment.terms": "monthly_arrears", "market.providers": 30}
    text = (what_if_run / "scenario.resolved.yaml").read_text()
    assert text.startswith("# --set contracts.payment.terms=monthly_arrears\n# --set market.providers=30\n")
    resolved = yaml.safe_load(text)
    assert resolved["contracts"]["payment"]["terms"] == "monthly_arrears" and resolved["market"]["providers"] == 30


def test_set_changes_what_ran(what_if_run: Path, scenario_file: Path, tmp_path: Path, capsys) -> None:
    """The same seed without --set gives other numbers: the override reached the model."""
    plain = tmp_path / "plain"
    assert main(["run", str(scenario_file), "--reps", "2", "--out", str(plain), "--no-report", "--quiet"]) == 0
    a = pd.read_csv(what_if_run / "runs.csv")
    b = pd.read_csv(plain / "runs.csv")
    assert not a["providers_active_end"].equals(b["providers_active_end"])
    assert json.loads((plain / "manifest.json").read_text())["overrides"] == {}


def test_compare_with_policies_and_set(scenario_file: Path, tmp_path: Path, capsys) -> None:
    """--policies runs the baseline and the named policies only; --set reaches every policy."""
    out = tmp_path / "cmp"
    assert main(["compare", str(scenario_file), "--reps", "2", "--workers", "1", "--policies", "closed", "--out",
                 str(out), "--no-report", "--quiet", "--set", "contracts.length_months=6"]) == 0
    runs = pd.read_csv(out / "runs.csv")
    assert list(dict.fromkeys(runs["policy"])) == ["baseline", "closed"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["policies"] == ["baseline", "closed"]
    assert manifest["overrides"] == {"contracts.length_months": 6}


@pytest.mark.parametrize("argv,says", [
    (["run", "{f}", "--set", "contracts.paymnt.terms=advance"],
     ["error in --set contracts.paymnt.terms=advance", "did you mean 'payment'?"]),
    (["compare", "{f}", "--set", "contracts.payment.terms=weekly"],
     ["--set contracts.payment.terms=weekly", "'monthly_arrears'", "(got 'weekly')"]),
    (["run", "{f}", "--set", "procurement.competitions.lot_value=120000"], ["{median: 120000, sigma: 0.5}"]),
    (["run", "{f}", "--set", "seed=[1"], ["--set seed=[1", "cannot be read as YAML"]),
    (["run", "{f}", "--set", "seed=1", "--set", "seed=2"], ["'seed' is set twice"]),
    (["validate", "{f}", "--set", "market.provders=3"], ["did you mean 'providers'?"]),
    (["compare", "{f}", "--policies", "pay_monthly_arrears"],
     ["unknown policy 'pay_monthly_arrears' (did you mean 'pay_monthly_in_arrears'?)", "baseline, "]),
    (["run", "{f}", "--policy", "clsed"], ["unknown policy 'clsed' (did you mean 'closed'?)"]),
])
def test_bad_what_ifs_exit_2_before_any_output(argv: list[str], says: list[str], scenario_file: Path,
                                                tmp_path: Path, capsys) -> None:
    out = tmp_path / "never"
    args = [a.replace("{f}", str(scenario_file)) for a in argv]
    if args[0] != "validate":
        args += ["--out", str(out), "--quiet", "--no-report"]
    assert main(args) == 2
    err = capsys.readouterr().err
    for part in says:
        assert part in err
    assert not out.exists()


def test_set_without_equals_is_an_option_error(scenario_file: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", str(scenario_file), "--set", "contracts.payment.terms"])
    assert exc.value.code == 2
    assert "expected KEY.PATH=VALUE" in capsys.readouterr().err


def test_validate_with_set(scenario_file: Path, capsys) -> None:
    assert main(["validate", str(scenario_file), "--set", "market.providers=30"]) == 0
    assert "valid scenario" in capsys.readouterr().out


def test_resume_command_repeats_the_set_values(scenario_file: Path) -> None:
    """A resumed what-if must be the same what-if (its fingerprint includes the overrides)."""
    args = build_parser().parse_args(["compare", str(scenario_file), "--set", "a.b=1", "--set", "c=x y",
                                      "--policies", "closed"])
    line = resume_command(args, Path("out"))
    assert "--set a.b=1 --set 'c=x y'" in line and "--policies closed" in line and line.endswith("--resume")


@pytest.fixture
def sweep_file(scenario_file: Path, tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(f"scenario: {scenario_file}\nmethod: lhs\nsamples: 3\nseed: 2\n"
                    "parameters:\n  contracts.payment.period_days: {low: 10, high: 60}\n"
                    "kpis: [insolvencies, providers_active_end]\n", encoding="utf-8")
    return path


def test_sweep_with_set(sweep_file: Path, tmp_path: Path, capsys) -> None:
    """--set on a sweep changes its base scenario and is recorded like a run's."""
    out = tmp_path / "sw"
    assert main(["sweep", str(sweep_file), "--workers", "1", "--out", str(out), "--no-report", "--quiet",
                 "--set", "market.providers=30"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["overrides"] == {"market.providers": 30}
    assert yaml.safe_load((out / "scenario.resolved.yaml").read_text())["market"]["providers"] == 30


def test_sweep_set_of_a_swept_parameter_or_a_bad_key_exits_2(sweep_file: Path, capsys) -> None:
    assert main(["validate", str(sweep_file), "--set", "contracts.payment.period_days=30"]) == 2
    assert "is swept by this file" in capsys.readouterr().err
    assert main(["validate", str(sweep_file), "--set", "market.providres=30"]) == 2
    assert "did you mean 'providers'?" in capsys.readouterr().err
    assert main(["validate", str(sweep_file), "--set", "market.providers=30"]) == 0
    assert "valid sweep" in capsys.readouterr().out
