"""`dps-sim schema [--sweep]` against a real JSON-Schema validator (jsonschema, in the test extra).

Every shipped scenario and sweep validates; files that extend another and policy overlays are
checked key by key; a set of broken files is rejected by the schema and by `dps-sim validate`
alike (exit 2), so the schema an editor uses and the loader agree on each of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from dps_sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SWEEPS = sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))
KENT = ROOT / "scenarios" / "kent_youth_dps.yaml"


def printed(capsys, *args: str) -> jsonschema.Draft202012Validator:
    """The schema `dps-sim schema ARGS` prints, checked as a Draft 2020-12 schema, as a validator."""
    assert main(["schema", *args]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture
def scenario_validator(capsys):
    return printed(capsys)


@pytest.fixture
def sweep_validator(capsys):
    return printed(capsys, "--sweep")


def errors(validator, text: str) -> list[str]:
    return [e.message for e in validator.iter_errors(yaml.safe_load(text))]


def validate_exit(path: Path, capsys) -> tuple[int, str, str]:
    """`dps-sim validate PATH`: (exit code, stderr, stdout)."""
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    return code, captured.err, captured.out


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_every_shipped_scenario_validates(path: Path, scenario_validator) -> None:
    assert errors(scenario_validator, path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", SWEEPS, ids=[p.name for p in SWEEPS])
def test_every_shipped_sweep_validates(path: Path, sweep_validator) -> None:
    assert errors(sweep_validator, path.read_text(encoding="utf-8")) == []


def test_shipped_files_exist() -> None:
    assert len(SCENARIOS) >= 5 and SWEEPS


GOOD_SCENARIOS = {
    "extends_partial": f"extends: {KENT}\nname: What if\nprocurement: {{competitions: {{lot_value: {{sigma: 0.3}}}}}}\n",
    "extends_without_name": f"extends: {KENT}\ncontracts: {{payment: {{terms: monthly_arrears}}}}\n",
    "drop_inherited_policy": f"extends: {KENT}\nname: Fewer\npolicies:\n  closed_framework: null\n",
    "partial_overlay": "name: P\npolicies:\n  cheaper: {procurement: {competitions: {lot_value: {median: 30000}}}}\n",
    "boolean_words": "name: P\nsupport: {bid_training: yes, bond_waiver: Off}\n",
}

BAD_SCENARIOS = {
    "misspelt_top_key": "name: X\nhorizon_mnths: 12\n",
    "misspelt_key_in_overlay": "name: X\npolicies:\n  p: {contracts: {paymnt: {terms: advance}}}\n",
    "bad_value_in_overlay": "name: X\npolicies:\n  p: {contracts: {payment: {terms: weekly}}}\n",
    "overlay_defines_policies": "name: X\npolicies:\n  p: {policies: {q: {}}}\n",
    "baseline_not_empty": "name: X\npolicies:\n  baseline: {seed: 3}\n",
    "number_for_distribution": "name: X\nprocurement: {competitions: {lot_value: 120000}}\n",
    "missing_name": "horizon_months: 12\n",
    "whole_file_with_partial_section": "name: X\nprocurement: {competitions: {lot_value: {sigma: 0.2}}}\n",
    "shock_without_type": "name: X\nshocks:\n  - {month: 3}\n",
    "negative_providers": "name: X\nmarket: {providers: -4}\n",
    "extends_with_misspelt_key": f"extends: {KENT}\nmarket: {{providres: 10}}\n",
    "bad_policy_name": "name: X\npolicies:\n  'no spaces': {}\n",
    "extends_not_yaml": "extends: parent.txt\nname: X\n",
    "not_a_boolean": "name: X\nsupport: {bid_training: maybe}\n",
    "two_is_not_a_boolean": "name: X\nsupport: {bid_training: 2}\n",
}


@pytest.mark.parametrize("name", GOOD_SCENARIOS)
def test_schema_and_validate_accept(name: str, scenario_validator, tmp_path: Path, capsys) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(GOOD_SCENARIOS[name], encoding="utf-8")
    assert errors(scenario_validator, GOOD_SCENARIOS[name]) == []
    assert validate_exit(path, capsys)[0] == 0


@pytest.mark.parametrize("name", BAD_SCENARIOS)
def test_schema_and_validate_reject(name: str, scenario_validator, tmp_path: Path, capsys) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(BAD_SCENARIOS[name], encoding="utf-8")
    assert errors(scenario_validator, BAD_SCENARIOS[name]), "the schema accepts a broken file"
    code, err, _ = validate_exit(path, capsys)
    assert code == 2 and str(path) in err


BAD_SWEEPS = {
    "unknown_method": "method: random\nsamples: 4\n",
    "misspelt_key": "method: lhs\nsampels: 4\n",
    "no_parameters": "method: lhs\nsamples: 4\nparameters: {}\n",
    "range_without_high": "method: lhs\nsamples: 4\nparameters:\n  market.providers: {low: 10}\n",
    "replications_zero": "method: lhs\nsamples: 4\nreplications: 0\n",
}


@pytest.mark.parametrize("name", BAD_SWEEPS)
def test_sweep_schema_and_validate_reject(name: str, sweep_validator, tmp_path: Path, capsys) -> None:
    text = f"scenario: {KENT}\n" + BAD_SWEEPS[name]
    if "parameters" not in text:
        text += "parameters:\n  market.providers: {low: 100, high: 200}\n"
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    assert errors(sweep_validator, text), "the sweep schema accepts a broken file"
    code, err, _ = validate_exit(path, capsys)
    assert code == 2 and str(path) in err


def test_sweep_schema_accepts_a_good_sweep_that_validate_accepts(sweep_validator, tmp_path: Path, capsys) -> None:
    text = f"scenario: {KENT}\nmethod: lhs\nsamples: 4\nparameters:\n  market.providers: {{low: 100, high: 200}}\n"
    path = tmp_path / "ok.yaml"
    path.write_text(text, encoding="utf-8")
    assert errors(sweep_validator, text) == []
    assert validate_exit(path, capsys)[0] == 0


def documented_extends_examples() -> list[tuple[str, str]]:
    """(where, text) of each YAML example in the README and docs/scenarios.md that extends the Kent scenario."""
    import re

    found = []
    for doc in (ROOT / "README.md", ROOT / "docs" / "scenarios.md"):
        for block in re.findall(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S):
            if "extends: kent_youth_dps.yaml" in block:
                found.append((doc.name, block))
    return found


def test_documented_extends_examples_load_and_match_the_schema(scenario_validator, tmp_path: Path, capsys) -> None:
    """The examples are saved in the scenarios folder: `extends` is relative to the file's own folder."""
    examples = documented_extends_examples()
    assert {doc for doc, _ in examples} == {"README.md", "scenarios.md"}
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "kent_youth_dps.yaml").write_text(KENT.read_text(encoding="utf-8"), encoding="utf-8")
    for i, (doc, text) in enumerate(examples):
        assert errors(scenario_validator, text) == [], doc
        path = folder / f"example_{i}.yaml"
        path.write_text(text, encoding="utf-8")
        code, err, out = validate_exit(path, capsys)
        assert code == 0, err
        assert "valid scenario" in out and "pay_in_advance" in out
        assert "pay_monthly_in_arrears" not in out, f"{doc}: the null did not drop the policy"


def test_schema_piped_into_a_reader_that_stops_is_quiet() -> None:
    """`dps-sim schema | head`: no 'unexpected error: BrokenPipeError' when the reader leaves early."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "dps_sim", "schema"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, bufsize=0)
    assert proc.stdout.read(10).startswith(b"{")
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert b"BrokenPipe" not in err and b"unexpected error" not in err, err
