"""A round is cleared in one step (DESIGN.md "The model"; docs/model.md "A round in one step").

Rules checked:
* order-free: listing the lots of every round in another order gives the same awards, the
  same cash and the same KPIs (lots are numbered in listing order, so only their numbers move);
* the bid allowance goes to the lots with the largest expected gain net of the bid cost;
* an organisation best on more lots than its capacity allows wins the largest it can hold,
  and the other lots go to their next bidders (awards in order of value, largest first).
"""

from __future__ import annotations

import numpy as np
import pytest

from dps_sim import metrics
from dps_sim.model import award, rounds, simulate, tendering
from dps_sim.model.market import Market
from dps_sim.model.population import ACTIVE
from dps_sim.scenario import Scenario, load_scenario, resolve_policy

from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _run(scenario: Scenario, seed: int, reverse: bool, monkeypatch) -> tuple:
    original = tendering.call_off

    def listed(mk, needs, m, day):
        return original(mk, list(reversed(needs)) if reverse else list(needs), m, day)

    monkeypatch.setattr(tendering, "call_off", listed)
    out = simulate(scenario, np.random.SeedSequence(seed), "none")
    monkeypatch.setattr(tendering, "call_off", original)
    return out


def _awards(out) -> np.ndarray:
    """Every contract as (need, lead, start, end, value, reach), sorted: what was awarded to whom."""
    C = out.contracts
    rows = np.stack([C["need"], C["lead"], C["start"], C["end"], C["annual_value"], C["reach"]], axis=1)
    return rows[np.lexsort(rows.T[::-1])]


@pytest.mark.parametrize("name, policy", [
    ("kent_youth_dps.yaml", "baseline"),
    ("bromley_well.yaml", "smaller_lots"),
    ("bromley_well.yaml", "baseline"),      # consortia
    ("short_vs_long_contracts.yaml", "six_month_contracts"),
])
def test_lots_listed_in_another_order_give_the_same_awards(name, policy, monkeypatch):
    sc = resolve_policy(load_scenario(SCENARIOS / name), policy)
    sc = sc.model_copy(update={"horizon_months": min(sc.horizon_months, 36)})
    # seed 7 gives Bromley consortium awards, seed 1 solo ones (seed 2 draws no bidder able to take the £2.1m lot)
    for seed in (1, 7):
        a = _run(sc, seed, False, monkeypatch)
        b = _run(sc, seed, True, monkeypatch)
        assert len(a.contracts["need"]) > 0
        np.testing.assert_array_equal(_awards(a), _awards(b))
        np.testing.assert_array_equal(a.providers.cash, b.providers.cash)
        ka, kb = metrics.kpis(a), metrics.kpis(b)
        assert ka.keys() == kb.keys()
        for k in ka:
            assert ka[k] == pytest.approx(kb[k], rel=1e-12, abs=1e-9, nan_ok=True), k


def _one_org_market(lot_values: list[float], capacity: float, allowance: int = 2) -> tuple[Market, rounds.Lots]:
    """A market where only organisation 0 can bid, interested in every lot of one district."""
    sc = Scenario(name="one bidder", horizon_months=12,
                  market={"providers": 20, "entry_per_year": 0, "districts": 1},
                  procurement={"competitions": {"max_bids_per_round": allowance, "first_round_lots": 0,
                                                "lots_per_round": 0}},
                  behaviour={"lot_interest": 1.0, "appetite_sd": 0.0})
    mk = Market.build(sc, np.random.SeedSequence(3), "all")
    P = mk.P
    P.status[:] = ACTIVE
    P.admitted[:] = False
    P.admitted[0] = True
    P.capacity[0] = capacity
    P.income[0] = 10 * capacity
    P.cash[0] = 1e7
    needs = mk.needs.add_many(len(lot_values), district=0, value=np.array(lot_values), reach=np.array(lot_values) / 400,
                              start=1, end=13)
    lots = tendering.call_off(mk, needs.tolist(), 0, 0.0)
    return mk, lots


def test_allowance_goes_to_the_lots_with_the_largest_expected_gain():
    mk, lots = _one_org_market([40_000, 90_000, 60_000, 20_000], capacity=1e6, allowance=2)
    bids, _ = tendering.take_bids(mk, lots, 0)
    assert set(bids.who.tolist()) == {0}
    # the bid cost is the same on every lot, the expected gain grows with value: the two largest
    assert sorted(lots.value[bids.at].tolist()) == [60_000, 90_000]
    assert mk.P.bids[0] == 2


def test_an_organisation_best_on_more_lots_than_it_can_hold_wins_the_largest():
    mk, lots = _one_org_market([40_000, 90_000, 60_000], capacity=100_000, allowance=3)
    rnd = rounds.Round(lots=lots, bids=tendering.take_bids(mk, lots, 0)[0], teams=[])
    assert len(rnd.bids.who) == 3
    assert rnd.bids.price.sum() > 100_000 and rnd.bids.valid.all()   # together they exceed its capacity
    award.close_round(mk, rnd, 30.0)
    C = mk.contracts
    assert C.n == 1                                   # capacity for one of them only
    assert C.need[0] == lots.need[np.argmax(lots.value)]
    assert mk.counters["failed_competitions"] == 2


@pytest.mark.parametrize("name, policy", [("kent_youth_dps.yaml", "baseline"), ("bromley_well.yaml", "baseline"),
                                          ("bromley_dv_vawg.yaml", "baseline")])
def test_the_candidate_screen_drops_no_one_the_rules_would_let_bid(name, policy, monkeypatch):
    """The cap screen of tendering.pairs only saves work: with no screen at all, the same run."""
    sc = resolve_policy(load_scenario(SCENARIOS / name), policy)
    sc = sc.model_copy(update={"horizon_months": min(sc.horizon_months, 36)})
    screened = simulate(sc, np.random.SeedSequence(5), "all")
    everyone = lambda mk, k, cost: (np.full(k, np.inf), np.full(k, np.inf))  # noqa: E731
    monkeypatch.setattr(tendering, "lot_caps", everyone)
    unscreened = simulate(sc, np.random.SeedSequence(5), "all")
    np.testing.assert_array_equal(_awards(screened), _awards(unscreened))
    np.testing.assert_array_equal(screened.providers.cash, unscreened.providers.cash)
    for col in ("kind", "provider", "lot", "amount"):
        np.testing.assert_array_equal(screened.events[col], unscreened.events[col])
