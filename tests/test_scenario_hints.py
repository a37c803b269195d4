"""Issue 15, scenario files: dropping an inherited policy, "did you mean", a number where a distribution
is expected, an indentation hint, and ``--set`` overrides applied through ``load_scenario``."""

from __future__ import annotations

from pathlib import Path

import pytest

from dps_sim.scenario import BASELINE, ScenarioError, dump_resolved, load_scenario, policy_names, resolve_policy
from dps_sim.scenario.loading import overrides_of
from dps_sim.scenario.overrides import parse_sets


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, overrides=None) -> str:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path, overrides)
    return str(exc.value)


# --------------------------------------------------------------------------- extends and null


def test_null_drops_an_inherited_policy(tmp_path: Path, tiny_scenario_text: str) -> None:
    """`name: null` in a file that extends another removes that inherited policy; the others stay."""
    write(tmp_path, "base/parent.yaml", tiny_scenario_text + "  bond_waived: {support: {bond_waiver: true}}\n")
    child = write(tmp_path, "child.yaml", "extends: base/parent.yaml\nname: Child\npolicies:\n"
                                          "  pay_monthly_in_arrears: null\n  closed: {procurement: {route: framework}}\n")
    sc = load_scenario(child)
    assert policy_names(sc) == [BASELINE, "bond_waived", "closed"]
    with pytest.raises(ScenarioError, match="unknown policy 'pay_monthly_in_arrears'"):
        resolve_policy(sc, "pay_monthly_in_arrears")


def test_null_drops_through_a_chain_and_a_grandchild_may_add_it_back(tmp_path: Path, tiny_scenario_text: str) -> None:
    write(tmp_path, "a.yaml", tiny_scenario_text)
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: B\npolicies: {pay_monthly_in_arrears: null}\n")
    c = write(tmp_path, "c.yaml", "extends: b.yaml\nname: C\npolicies:\n"
                                  "  pay_monthly_in_arrears: {contracts: {payment: {terms: quarterly_arrears}}}\n")
    assert policy_names(load_scenario(tmp_path / "b.yaml")) == [BASELINE]
    sc = load_scenario(c)
    assert resolve_policy(sc, "pay_monthly_in_arrears").contracts.payment.terms == "quarterly_arrears"


def test_null_for_a_policy_not_inherited_is_still_a_copy_of_the_baseline(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, "p.yaml", "name: P\npolicies:\n  same_again:\n"))
    assert policy_names(sc) == [BASELINE, "same_again"]


# --------------------------------------------------------------------------- hints


def test_misspelt_key_gets_did_you_mean_with_its_line(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", "name: S\ncontracts:\n  length_months: 12\n  paymnet: {terms: advance}\n")
    message = error_of(f)
    assert "line 4 at key 'contracts.paymnet'" in message
    assert "did you mean 'payment'?" in message


def test_misspelt_key_in_a_shock_and_in_a_policy(tmp_path: Path) -> None:
    shock = error_of(write(tmp_path, "s.yaml", "name: S\nshocks:\n  - {type: funding_cut, month: 3, fractoin: 0.1}\n"))
    assert "at key 'shocks.0.fractoin'" in shock and "did you mean 'fraction'?" in shock
    policy = error_of(write(tmp_path, "p.yaml", "name: S\npolicies:\n  p: {market: {provders: 10}}\n"))
    assert "line 3 at key 'policies.p.market.provders'" in policy and "did you mean 'providers'?" in policy


def test_misspelt_shock_type(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "s.yaml", "name: S\nshocks:\n  - {type: fundng_cut, month: 3}\n"))
    assert "line 3 at key 'shocks.0.type'" in message and "(did you mean 'funding_cut'?)" in message


def test_a_key_outside_its_section_says_where_it_belongs(tmp_path: Path) -> None:
    """A line not indented under its section: the section is empty, and the key belongs elsewhere."""
    message = error_of(write(tmp_path, "s.yaml", "name: S\ncontracts:\nlength_months: 3\n"))
    assert "line 2 at key 'contracts': nothing is written under this key" in message
    assert "line 3 at key 'length_months': unknown key here: 'length_months' belongs under contracts" in message
    moved = error_of(write(tmp_path, "m.yaml", "name: S\nmarket:\n  weights: {quality: 0.5}\n"))
    assert "'weights' belongs under procurement.competitions" in moved


def test_unknown_key_without_a_near_one_lists_the_keys(tmp_path: Path) -> None:
    from dps_sim.scenario.schema import Finance

    message = error_of(write(tmp_path, "s.yaml", "name: S\nfinance:\n  zzzzzz: 1\n"))
    assert "this section takes: " + ", ".join(Finance.model_fields) in message


def test_a_number_where_a_distribution_is_expected(tmp_path: Path) -> None:
    """`lot_value: 120000` says what to write instead (a mapping with median and sigma), on its line."""
    f = write(tmp_path, "s.yaml", "name: S\nprocurement:\n  competitions:\n    lot_value: 120000\n")
    message = error_of(f)
    assert "line 4 at key 'procurement.competitions.lot_value'" in message
    assert "{median: 120000, sigma: 0.5}" in message and "{median: 120000, sigma: 0}" in message
    assert "valid dictionary" not in message
    sc = load_scenario(write(tmp_path, "ok.yaml", "name: S\nprocurement:\n  competitions:\n"
                                                  "    lot_value: {median: 120000, sigma: 0}\n"))
    assert sc.procurement.competitions.lot_value.sigma == 0


@pytest.mark.parametrize("text,line", [
    ("name: S\ncontracts:\n  payment:\n    terms: advance\n   period_days: 30\n", 5),
    ("name: S\ncontracts:\n  payment:\n    terms: advance\n      period_days: 30\n", 5),
])
def test_bad_indentation_gets_a_hint(tmp_path: Path, text: str, line: int) -> None:
    message = error_of(write(tmp_path, "s.yaml", text))
    assert f"line {line}" in message
    assert "hint: check the indentation" in message


def test_other_yaml_errors_get_no_indentation_hint(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "s.yaml", "name: S\nmarket: {providers: 3\n"))
    assert "YAML cannot be read" in message and "indentation" not in message


# --------------------------------------------------------------------------- --set through load_scenario


def test_overrides_apply_before_policies(tiny_scenario_file: Path) -> None:
    """An override changes the baseline and every policy; a policy's own value still wins over it."""
    sc = load_scenario(tiny_scenario_file, {"contracts.payment.period_days": 10, "market.providers": 25,
                                            "contracts.payment.terms": "quarterly_arrears"})
    assert (sc.contracts.payment.period_days, sc.market.providers) == (10, 25)
    assert sc.contracts.payment.terms == "quarterly_arrears"
    arrears = resolve_policy(sc, "pay_monthly_in_arrears")
    assert arrears.contracts.payment.terms == "monthly_arrears" and arrears.market.providers == 25
    assert overrides_of(sc) == {"contracts.payment.period_days": 10, "market.providers": 25,
                                "contracts.payment.terms": "quarterly_arrears"}
    assert overrides_of(load_scenario(tiny_scenario_file)) == {}
    assert dump_resolved(sc).startswith("# --set contracts.payment.period_days=10\n# --set market.providers=25\n")


def test_mapping_override_merges_and_list_items_can_be_set(tiny_scenario_file: Path) -> None:
    sc = load_scenario(tiny_scenario_file, {"procurement.competitions.lot_value": {"sigma": 0.2},
                                            "shocks.0.fraction": 0.3})
    assert sc.procurement.competitions.lot_value.median == 40000 and sc.procurement.competitions.lot_value.sigma == 0.2
    assert sc.shocks[0].fraction == 0.3 and sc.shocks[0].month == 6


@pytest.mark.parametrize("overrides,says", [
    ({"contracts.paymnt.terms": "advance"}, ["--set contracts.paymnt.terms=advance", "key 'contracts.paymnt'",
                                             "did you mean 'payment'?"]),
    ({"contracts.payment.terms": "weekly"}, ["--set contracts.payment.terms=weekly", "'monthly_arrears'",
                                             "(got 'weekly')"]),
    ({"procurement.competitions.lot_value": 120000}, ["{median: 120000, sigma: 0.5}"]),
    ({"market.providers.x": 1}, ["'market.providers' is a value, not a section"]),
    ({"payment.terms": "advance"}, ["the scenario has no key 'payment'; it is a key of contracts"]),
    ({"shocks.3.month": 1}, ["'shocks' is a list of 1: give an item number from 0 to 0"]),
    ({"policies.p": {}}, ["policies cannot be set with --set"]),
    ({"procurement.competitions.weights.quality": 0.9},
     ["weights must sum to 1", "(with --set procurement.competitions.weights.quality=0.9)"]),
])
def test_bad_overrides_name_the_set(tiny_scenario_file: Path, overrides: dict, says: list[str]) -> None:
    message = error_of(tiny_scenario_file, overrides)
    for part in says:
        assert part in message


def test_parse_sets_reads_values_as_yaml() -> None:
    assert parse_sets(["a.b=monthly_arrears", "c=12", "d=0.5", "e=true", "f=null", "g=[12, 12]", "h={median: 3}",
                       "i=yes", "j="]) == {"a.b": "monthly_arrears", "c": 12, "d": 0.5, "e": True, "f": None,
                                           "g": [12, 12], "h": {"median": 3}, "i": "yes", "j": None}


@pytest.mark.parametrize("texts,says", [
    (["contracts.payment.terms"], "expected KEY.PATH=VALUE"),
    (["=3"], "expected KEY.PATH=VALUE"),
    (["a=[1, 2"], "cannot be read as YAML"),
    (["a=1", "a=2"], "'a' is set twice"),
    (["a=!!python/object:os.system ls"], "cannot be read as YAML"),
])
def test_parse_sets_refuses(texts: list[str], says: str) -> None:
    with pytest.raises(ScenarioError, match="--set") as exc:
        parse_sets(texts)
    assert says in str(exc.value)
