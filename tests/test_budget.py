"""The council's budget (model.md, submodel 21) and the former model of grants (submodels 4, 18).

The budget rule: a lot is let only if, in every month of the contract it offers, what is
already committed plus the lot fits that month's share of the year's envelope; so the value
of the service delivered in a year never exceeds that year's budget, and a lower budget in a
later year means fewer lots let, never less paid on a contract already signed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dps_sim import metrics
from dps_sim.model import budget, simulate
from dps_sim.model.audit import KIND
from dps_sim.model.stores import END_TERMINATED
from dps_sim.scenario import Scenario, load_scenario, resolve_policy

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _market(**extra) -> dict:
    data = {"name": "budget", "horizon_months": 48, "seed": 2,
            "market": {"providers": 120, "districts": 3, "entry_per_year": 6},
            "procurement": {"competitions": {"lots_per_round": 2, "lot_value": {"median": 60000, "sigma": 0.6},
                                             "retender_on_expiry": True}},
            "contracts": {"length_months": 18, "extensions_months": [6]},
            "behaviour": {"lot_interest": 0.5}}
    for key, value in extra.items():   # a section given as a mapping is merged into the one above
        if isinstance(value, dict):
            data.setdefault(key, {}).update(value)
        else:
            data[key] = value
    return data


def test_envelope_by_year():
    """£1.2m a year with a 25% cut from year 3: £100k a month, then £75k."""
    env = budget.envelope(1_200_000, (1.0, 1.0, 0.75), 48)
    np.testing.assert_allclose(env[[0, 23, 24, 47]], [100_000, 100_000, 75_000, 75_000])
    assert budget.envelope(None, (), 12) is None


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(annual=st.floats(150_000, 1_500_000), factors=st.lists(st.floats(0.3, 1.5), max_size=4),
       terms=st.sampled_from(["advance", "monthly_arrears", "quarterly_arrears", "payment_by_results"]),
       route=st.sampled_from(["dps", "grant", "open_tender"]), cut=st.booleans(), seed=st.integers(0, 2**31))
def test_spend_never_exceeds_the_budget(annual, factors, terms, route, cut, seed):
    """Each year's value delivered is within that year's envelope; payments within the run within the whole budget."""
    data = _market(seed=seed, budget={"annual": annual, "year_factors": factors},
                   contracts={"length_months": 18, "extensions_months": [6], "payment": {"terms": terms}},
                   procurement={"route": route, "competitions": {"lots_per_round": 2, "retender_on_expiry": True,
                                                                   "lot_value": {"median": 60000, "sigma": 0.6}}})
    if cut:
        data["shocks"] = [{"type": "funding_cut", "month": 20, "fraction": 0.3}]
    sc = Scenario.model_validate(data)
    out = simulate(sc, np.random.SeedSequence(seed), "none")
    env = budget.envelope(annual, tuple(factors), sc.horizon_months)
    delivered = out.timeseries["value_delivered"]
    for y in range(sc.horizon_months // 12):
        year = slice(12 * y, 12 * y + 12)
        assert delivered[year].sum() <= env[year].sum() * (1 + 1e-9) + 0.02, y
    k = metrics.kpis(out)
    assert k["commissioner_spend"] <= env.sum() * (1 + 1e-9) + 0.02
    assert k["budget_unspent"] >= -0.02


def test_a_later_budget_cut_lets_fewer_lots_and_pays_every_signed_contract():
    """A 50% cut from year 3 (planned): fewer lots let; no contract's value is ever reduced."""
    full = simulate(Scenario.model_validate(_market(budget={"annual": 900_000})), np.random.SeedSequence(5), "none")
    cut = simulate(Scenario.model_validate(_market(budget={"annual": 900_000, "year_factors": [1, 1, 0.5]})),
                   np.random.SeedSequence(5), "none")
    kf, kc = metrics.kpis(full), metrics.kpis(cut)
    assert kc["unfunded_lots"] > kf["unfunded_lots"]
    assert kc["contracts_awarded"] < kf["contracts_awarded"]
    C = cut.contracts
    np.testing.assert_array_equal(C["annual_value"], C["original_value"])   # nothing signed is cut
    led = cut.ledger
    assert led["earned_pence"] == led["invoiced_pence"] + led["accrued_pence"] + led["abated_pence"] + led["written_off_pence"]


def test_without_a_budget_nothing_is_unfunded():
    out = simulate(Scenario.model_validate(_market()), np.random.SeedSequence(5), "none")
    k = metrics.kpis(out)
    assert k["unfunded_lots"] == 0 and np.isnan(k["budget_unspent"])


def test_the_former_model_rolls_grants_over_to_known_organisations_without_notices():
    """Seed 003: grants to known organisations, lightly monitored, renewed while the holder lasts."""
    sc = resolve_policy(load_scenario(SCENARIOS / "kent_former_model.yaml"), "former_model")
    out = simulate(sc, np.random.SeedSequence(3), "all")
    C, P = out.contracts, out.providers
    assert len(C["lead"]) > 10
    assert (P.entry_month[C["lead"]] == 0).all()                     # only organisations known at the start
    assert out.counters["notices"] == 0 and out.counters["terminations"] == 0
    assert not (C["end_cause"] == END_TERMINATED).any()
    kinds = out.events["kind"]
    renewed = (kinds == KIND["extension"]).sum()
    assert renewed > 10                                               # grants renewed to their holders
    assert ((C["end"] - C["start"]) > 12).sum() > 10                   # so many run past their first year
    assert (C["terms"] == 0).all()                                     # paid up front


def test_the_dps_baseline_of_the_same_file_is_monitored():
    sc = resolve_policy(load_scenario(SCENARIOS / "kent_former_model.yaml"), "baseline")
    out = simulate(sc, np.random.SeedSequence(3), "none")
    assert out.counters["notices"] > 0
