"""Loading valid scenario files: defaults, freezing, policy overlays, ``extends``, schema, overrides.

DESIGN.md: scenario/ holds "schema (frozen models, defaults, units), loading (safe YAML with line
numbers, extends, policy overlays, dotted paths)"; `dps-sim schema` prints the JSON Schema.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from dps_sim.cli import main
from dps_sim.scenario import (BASELINE, Scenario, ScenarioError, dump_resolved, load_scenario, policy_names,
                              resolve_policy, with_overrides)

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def leaves(overlay: dict, prefix: str = ""):
    """(dotted path, value) of every non-mapping value in an overlay."""
    for key, value in overlay.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from leaves(value, path + ".")
        else:
            yield path, value


def carries(got, want) -> bool:
    """Whether a resolved value carries what an overlay wrote (defaults may fill in more keys)."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and carries(got[k], v) for k, v in want.items())
    if isinstance(want, (list, tuple)):
        return isinstance(got, (list, tuple)) and len(got) == len(want) and all(map(carries, got, want))
    if isinstance(want, (int, float)) and not isinstance(want, bool) and isinstance(got, (int, float)):
        return got == pytest.approx(want)
    return got == want


def get_dotted(data: dict, dotted: str):
    for key in dotted.split("."):
        data = data[key]
    return data


# --------------------------------------------------------------------------- defaults and freezing


def test_values_given_are_kept_and_defaults_filled(tiny_scenario_file: Path) -> None:
    """Every key the file leaves out takes its documented default."""
    sc = load_scenario(tiny_scenario_file)
    assert sc.name == "Tiny test DPS" and sc.horizon_months == 12 and sc.market.providers == 40
    assert sc.procurement.competitions.lot_value.median == 40_000
    assert sc.contracts.payment.terms == "advance"
    assert sc.shocks[0].type == "funding_cut" and sc.shocks[0].fraction == 0.1
    # left out, so defaults (DESIGN.md calibration table)
    assert sc.procurement.admission.min_turnover_multiple == 2.0  # PCR 2015 reg 58
    assert sc.contracts.performance_bond.fraction == 0.10
    assert sc.contracts.monitoring.review_months == 3
    assert sc.contracts.recommission_months == 3
    assert sc.finance.overdraft_months == 0.0
    assert sc.support.bid_training is False
    assert sc.market.mean_income.micro == 2_800
    assert sc.shocks[0].applies_to == "all"


def test_minimal_file_is_a_whole_scenario(tmp_path: Path) -> None:
    """A file with only a name is valid: everything else has a default, and only the baseline policy."""
    sc = load_scenario(write(tmp_path, "min.yaml", "name: Minimal\n"))
    assert sc == Scenario(name="Minimal")
    assert sc.procurement.competitions.weights.quality == 0.40
    assert sc.procurement.competitions.tender_days == 30
    assert policy_names(sc) == [BASELINE]


def test_scenario_is_frozen(tiny_scenario_file: Path) -> None:
    """Scenarios are frozen: values cannot change after loading, at any depth."""
    sc = load_scenario(tiny_scenario_file)
    with pytest.raises(ValidationError):
        sc.horizon_months = 24
    with pytest.raises(ValidationError):
        sc.contracts.payment.terms = "monthly_arrears"
    with pytest.raises(ValidationError):
        sc.procurement.competitions.weights.price = 0.5
    with pytest.raises((TypeError, AttributeError)):
        sc.shocks.append(sc.shocks[0])  # a tuple
    assert sc.horizon_months == 12 and sc.contracts.payment.terms == "advance"


def test_resolved_yaml_round_trips(tiny_scenario_file: Path, tmp_path: Path) -> None:
    """dump_resolved writes every default; loading it back gives the same scenario."""
    sc = load_scenario(tiny_scenario_file)
    text = dump_resolved(sc)
    assert "min_turnover_multiple: 2.0" in text
    assert load_scenario(write(tmp_path, "resolved.yaml", text)) == sc


def test_yaml_1_2_booleans(tmp_path: Path) -> None:
    """Only true/false are booleans when reading YAML: yes/no stay text for text fields,
    while yes/no still switch boolean fields."""
    sc = load_scenario(write(tmp_path, "b.yaml", "name: no\ndescription: yes\nsupport: {bid_training: yes, consortia: off}\n"))
    assert sc.name == "no" and sc.description == "yes"
    assert sc.support.bid_training is True and sc.support.consortia is False


def test_anchors_and_aliases_are_allowed(tmp_path: Path) -> None:
    """Plain YAML anchors are data, not code: they may be used to repeat values."""
    sc = load_scenario(write(tmp_path, "a.yaml", "name: A\nmarket: {districts: &d 7}\n"
                                                 "procurement: {competitions: {lots_per_round: *d}}\n"))
    assert sc.market.districts == 7 and sc.procurement.competitions.lots_per_round == 7


# --------------------------------------------------------------------------- policies


def test_policy_overlay_deep_merges(tiny_scenario_file: Path) -> None:
    """A policy overriding one nested key keeps its siblings and every other section."""
    sc = load_scenario(tiny_scenario_file)
    arrears = resolve_policy(sc, "pay_monthly_in_arrears")
    assert arrears.contracts.payment.terms == "monthly_arrears"
    assert arrears.contracts.payment.period_days == 30  # sibling kept
    assert arrears.contracts.performance_bond == sc.contracts.performance_bond
    assert arrears.market == sc.market and arrears.procurement == sc.procurement and arrears.shocks == sc.shocks
    assert sc.contracts.payment.terms == "advance", "resolving a policy does not change the baseline"


def test_policy_overriding_one_key_of_a_flow_mapping(tmp_path: Path, tiny_scenario_text: str) -> None:
    """lot_value is written {median, sigma}; a policy changing only median keeps sigma."""
    path = write(tmp_path, "s.yaml", tiny_scenario_text
                 + "  bigger_lots:\n    procurement: {competitions: {lot_value: {median: 250000}}}\n")
    big = resolve_policy(load_scenario(path), "bigger_lots")
    assert big.procurement.competitions.lot_value.median == 250_000
    assert big.procurement.competitions.lot_value.sigma == 0.5
    assert big.procurement.competitions.tender_days == 30


def test_baseline_and_none_resolve_to_the_scenario_itself(tiny_scenario_file: Path) -> None:
    sc = load_scenario(tiny_scenario_file)
    assert resolve_policy(sc) is sc and resolve_policy(sc, BASELINE) is sc
    assert policy_names(sc) == [BASELINE, "pay_monthly_in_arrears"]


def test_baseline_is_added_when_not_written(tmp_path: Path) -> None:
    """'baseline' is the scenario itself and always exists; an empty policy (`name:`) changes nothing."""
    sc = load_scenario(write(tmp_path, "p.yaml", "name: P\npolicies:\n  same_again:\n  arrears: {contracts: {payment: {terms: monthly_arrears}}}\n"))
    assert policy_names(sc) == [BASELINE, "same_again", "arrears"]
    assert resolve_policy(sc, "same_again").model_dump(exclude={"policies"}) == sc.model_dump(exclude={"policies"})


def test_unknown_policy_names_the_file(tiny_scenario_file: Path) -> None:
    """An unknown policy is a ScenarioError naming the policy, the known ones and the file."""
    sc = load_scenario(tiny_scenario_file)
    with pytest.raises(ScenarioError) as exc:
        resolve_policy(sc, "nope")
    text = str(exc.value)
    assert "'nope'" in text and "pay_monthly_in_arrears" in text and str(tiny_scenario_file) in text


# --------------------------------------------------------------------------- extends


def test_extends_child_overrides_parent_and_keeps_parent_policies(tmp_path: Path, tiny_scenario_text: str) -> None:
    """`extends` reads the parent (relative to the child), deep-merges the child over it, and keeps
    the parent's policies alongside the child's."""
    write(tmp_path, "base/parent.yaml", tiny_scenario_text)
    child = write(tmp_path, "variants/child.yaml",
                  "extends: ../base/parent.yaml\n"
                  "name: Child\n"
                  "market: {providers: 25}\n"
                  "contracts: {payment: {period_days: 10}}\n"
                  "policies:\n"
                  "  bond_waiver: {support: {bond_waiver: true}}\n")
    sc = load_scenario(child)
    parent = load_scenario(tmp_path / "base/parent.yaml")
    assert sc.name == "Child"
    assert sc.market.providers == 25 and sc.market.districts == 3  # sibling from the parent
    assert sc.contracts.payment.period_days == 10 and sc.contracts.payment.terms == "advance"
    assert sc.horizon_months == parent.horizon_months and sc.shocks == parent.shocks
    assert policy_names(sc) == [BASELINE, "pay_monthly_in_arrears", "bond_waiver"]
    assert resolve_policy(sc, "pay_monthly_in_arrears").contracts.payment.terms == "monthly_arrears"
    assert resolve_policy(sc, "pay_monthly_in_arrears").contracts.payment.period_days == 10
    assert resolve_policy(sc, "bond_waiver").support.bond_waiver is True


def test_extends_chain_of_three(tmp_path: Path) -> None:
    """A parent may itself extend another file; the nearest file wins."""
    write(tmp_path, "a.yaml", "name: A\nhorizon_months: 24\nseed: 1\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: B\nseed: 2\n")
    c = write(tmp_path, "c.yaml", "extends: b.yaml\nname: C\n")
    sc = load_scenario(c)
    assert (sc.name, sc.seed, sc.horizon_months) == ("C", 2, 24)


# --------------------------------------------------------------------------- shipped scenarios


@pytest.mark.parametrize("path", SCENARIOS or [pytest.param(None, marks=pytest.mark.skip(reason="no scenarios/*.yaml"))],
                         ids=[p.name for p in SCENARIOS] or ["none"])
def test_every_shipped_scenario_and_policy_resolves(path: Path) -> None:
    """Each scenario in scenarios/ loads, and each of its policies resolves to a valid scenario
    carrying the overlay's values."""
    sc = load_scenario(path)
    assert sc.name
    for name in policy_names(sc):
        resolved = resolve_policy(sc, name)
        assert isinstance(resolved, Scenario)
        data = resolved.model_dump(mode="json")
        for dotted, value in leaves(sc.policies.get(name, {})):
            got = get_dotted(data, dotted)
            assert carries(got, value), f"{path.name}: policy {name} sets {dotted} = {value!r}, resolved {got!r}"


# --------------------------------------------------------------------------- schema and units


def test_schema_command_prints_json_schema(capsys, tiny_scenario_file: Path) -> None:
    """`dps-sim schema` prints a valid JSON Schema of scenario files, against which a valid file validates."""
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"market", "procurement", "contracts", "name", "horizon_months", "policies", "extends"} <= set(schema["properties"])
    assert "name" in schema["$defs"]["WholeScenario"]["required"]  # a file that extends another may leave it out
    import jsonschema  # in the test extra: this test runs in CI
    jsonschema.Draft202012Validator.check_schema(schema)
    import yaml

    data = yaml.safe_load(tiny_scenario_file.read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate({**data, "horizon_mnths": 3})


def test_units_in_field_metadata() -> None:
    """Fields carry a unit (json_schema_extra) and a description, and the JSON Schema shows them."""
    fields = Scenario.model_fields
    assert fields["horizon_months"].json_schema_extra["unit"] == "months"
    from dps_sim.scenario.schema import Competitions, Contracts, Market, PerformanceBond

    assert Market.model_fields["providers"].json_schema_extra["unit"] == "organisations"
    assert Competitions.model_fields["tender_days"].json_schema_extra["unit"] == "days"
    assert Competitions.model_fields["lot_value"].json_schema_extra["unit"] == "£/year"
    assert PerformanceBond.model_fields["threshold"].json_schema_extra["unit"] == "£/year"
    assert Contracts.model_fields["length_months"].json_schema_extra["unit"] == "months"
    schema = Scenario.model_json_schema()
    assert schema["properties"]["horizon_months"]["unit"] == "months"
    assert schema["$defs"]["Payment"]["properties"]["period_days"]["unit"] == "days"




def _numeric(annotation) -> bool:
    args = typing.get_args(annotation)
    if args:
        return any(_numeric(a) for a in args)
    return annotation in (int, float)


def _missing_units(model: type[BaseModel], prefix: str = "", inherited: bool = False) -> list[str]:
    missing = []
    for name, f in model.model_fields.items():
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        has_unit = "unit" in extra or inherited
        subs = [t for t in (f.annotation, *typing.get_args(f.annotation)) if isinstance(t, type) and issubclass(t, BaseModel)]
        if subs and name != "shocks":
            missing += _missing_units(subs[0], f"{prefix}{name}.", has_unit)
        elif _numeric(f.annotation) and not has_unit:
            missing.append(prefix + name)
    return missing


def test_every_number_has_a_unit() -> None:
    """DESIGN.md: 'add what the model needs, with defaults, units and a description for each field'."""
    assert _missing_units(Scenario) == []


# --------------------------------------------------------------------------- overrides


def test_with_overrides_sets_dotted_paths(tiny_scenario_file: Path) -> None:
    """with_overrides (used by sweeps) sets values at dotted key paths and keeps everything else."""
    sc = load_scenario(tiny_scenario_file)
    new = with_overrides(sc, {"contracts.payment.late_days_mean": 45, "contracts.performance_bond.threshold": 50_000,
                              "procurement.route": "framework", "horizon_months": 24})
    assert new.contracts.payment.late_days_mean == 45
    assert new.contracts.performance_bond.threshold == 50_000
    assert new.procurement.route == "framework" and new.horizon_months == 24
    assert new.contracts.payment.terms == sc.contracts.payment.terms  # siblings kept
    assert new.contracts.performance_bond.fraction == sc.contracts.performance_bond.fraction
    assert new.market == sc.market
    assert sc.contracts.payment.late_days_mean == 0 and sc.horizon_months == 12  # original unchanged
    assert with_overrides(sc, {}) == sc


def test_with_overrides_validates(tiny_scenario_file: Path) -> None:
    """An override is validated like a file: bad values and unknown paths are ScenarioErrors naming the key."""
    sc = load_scenario(tiny_scenario_file)
    with pytest.raises(ScenarioError, match="contracts.payment.terms"):
        with_overrides(sc, {"contracts.payment.terms": "weekly"})
    with pytest.raises(ScenarioError, match="contracts.payment.late_days_man"):
        with_overrides(sc, {"contracts.payment.late_days_man": 3})
    with pytest.raises(ScenarioError, match="procurement.competitions.tender_days"):
        with_overrides(sc, {"procurement.competitions.tender_days": 2})  # PCR 2015: at least 10 days
