"""Issue 12 part 2: consortium economics, bond costs, training, micro organisations' routes.

Each test names the rule it checks (docs/model.md submodels 8, 13, 18 and the admission rules).
"""

from __future__ import annotations

import numpy as np
import pytest

from dps_sim.model import award, bids, consortia, procurement as proc, rounds, simulate, tendering
from dps_sim.model.bids import assessed_quality
from dps_sim.model.market import Market
from dps_sim.model.stores import LIVE
from dps_sim.scenario import Scenario
from hand_made import one_district_market
from dps_sim.scenario.schema import Behaviour

VALUE = 250_000.0


def _market(providers: int = 4, **over) -> Market:
    """A one-district market of admitted organisations able to bid for a £250k (bonded) lot."""
    return one_district_market(providers, VALUE, market={"private_share": 0.0}, skill=0.5, **over)


def _bids(mk: Market, m: int = 10) -> rounds.Round:
    need = int(mk.needs.add(district=0, value=VALUE, reach=VALUE / 400, start=m + 1, end=2**30))
    lots = tendering.call_off(mk, [need], m, m * 30.4375)
    bids, teams = tendering.take_bids(mk, lots, m)
    return rounds.Round(lots=lots, bids=bids, teams=teams)


# --------------------------------------------------------------------------- consortium economics


def test_members_state_a_capability_and_the_work_follows_it():
    """Stated capability: members at most ``member_capability`` × own income and their spare capacity; the lead
    its spare capacity; the work is shared in proportion, so nobody is given more than it stated."""
    spare = np.array([500_000.0, 90_000.0, 10_000.0])
    income = np.array([300_000.0, 40_000.0, 60_000.0])
    stated = consortia.stated_capability(spare, income, 0.5)
    np.testing.assert_allclose(stated, [500_000.0, 20_000.0, 10_000.0])
    work = consortia.split_by_capacity(stated, 400_000.0)
    assert (work * 400_000.0 <= stated + 1e-9).all()


def test_each_member_is_paid_its_own_cost_plus_the_shared_margin():
    """Pay shares: work share × own unit cost ÷ team unit cost, so every party earns the same margin on its cost."""
    work = np.array([0.5, 0.3, 0.2])
    cost = np.array([300.0, 500.0, 400.0])
    pay = consortia.pay_shares(work, cost)
    assert pay.sum() == pytest.approx(1.0)
    price = 1.1 * (work * cost).sum()                 # team priced at its share-weighted cost plus 10%
    np.testing.assert_allclose(pay * price / (work * cost), 1.1)


def test_members_quote_their_own_cost_and_the_lead_prices_the_rest():
    """F42 ("Risk is not transferred. It remains with the umbrella organisation"): each member's part is priced
    at what it costs the member, overheads included, plus the margin only if it is positive; the lead prices its
    own part as any bid (here direct cost, 10% below it) and adds the bond's cost, which it carries."""
    parts = np.array([200.0, 100.0, 50.0])                     # direct cost per user of each party's part
    priced, pay = consortia.members_quote(parts, False, -0.1, 0.15, 0.02)
    total = priced * 0.9                                        # the price per user once the lead's margin is applied
    assert total == pytest.approx((200 * 0.9 + 150 * 1.15) * 1.02)
    np.testing.assert_allclose(pay[1:] * total, parts[1:] * 1.15)    # members: their full cost, no loss
    assert pay.sum() == pytest.approx(1.0) and pay[0] * total < parts[0]
    priced, pay = consortia.members_quote(parts, True, 0.2, 0.15, 0.0)
    np.testing.assert_allclose(pay, parts / parts.sum())       # full cost and a positive margin: one ratio for all


@pytest.mark.parametrize("risk", ["lead", "shared"])
def test_consortium_members_are_paid_what_their_work_costs_when_the_lead_underprices(risk):
    """The same rule in a real consortium bid: direct-cost pricing at a 10% discount leaves the price under the
    team's full cost (overheads unpriced); paid by their pay shares, members cover their own delivery cost
    (contracts.party_costs: share × reach × own unit cost × (1 + overhead rate)) only with ``consortium_risk: lead``."""
    mk, lots = _consortium_market(1.0, **{"behaviour.margin_mean": -0.1, "behaviour.margin_sd": 0.0,
                                          "support.consortium_risk": risk})
    mk.P.full_cost[:] = False
    mk.P.capacity[0] = 0.45 * VALUE                                  # the lead (too little to bid alone), most work
    bids_, teams = tendering.take_bids(mk, lots, 10)
    assert teams[0].team[0] == 0
    t, price = teams[0], float(bids_.price[bids_.who < 0][0])
    reach = float(bids_.reach[bids_.who < 0][0])
    own = t.shares * reach * mk.P.cost_per_user[t.team] * mk.cost_factor * (1 + mk.s.finance.overhead_rate)
    paid = t.pay * price
    assert paid.sum() == pytest.approx(price) and price < own.sum()
    if risk == "lead":
        np.testing.assert_allclose(paid[1:], own[1:], rtol=1e-9)
        assert paid[0] < own[0]
    else:
        assert (paid[1:] < own[1:]).all()


def test_members_join_on_expected_value_like_any_bid():
    """A member joins only if its share of the gain at the team's chance of winning covers its own bid cost."""
    yes = consortia.joins(np.array([0.1, 0.001]), 0.3, 0.15, 1_000_000.0, np.array([2_000.0, 2_000.0]),
                          np.zeros(2), 0.5)
    assert yes.tolist() == [True, False]     # 0.3 × 0.15 × £100k = £4,500 ≥ £2,000; £45 < £2,000


def test_core_members_then_associates():
    """F63 (five core members and associates): up to core − 1 medium or larger partners, then micro and small."""
    band = np.array([2, 2, 3, 0, 1, 2])
    quality = np.array([3.0, 4.0, 3.5, 4.5, 2.0, 2.5])
    chosen = consortia.choose_members(np.arange(6), band, quality, lead=0, core=3, most=4)
    assert chosen.tolist() == [1, 2, 3, 4]
    assert consortia.choose_members(np.arange(6), band, quality, lead=0, core=1, most=4).tolist() == [3, 4]


def test_the_lead_is_the_one_with_most_spare_capacity():
    assert consortia.lead_for(np.array([4, 7, 9]), np.array([1e5, 3e5, 3e5]), np.array([0.9, 0.2, 0.4])) == 9


def _consortium_market(interest: float, **over) -> tuple[Market, rounds.Lots]:
    """Twelve medium organisations, none able to take the £250k lot alone (spare capacity under half of it), so
    only a consortium can bid; the lot is called off (its keyed draws fixed) but not yet bid for."""
    mk = _market(providers=12, **{"support.consortia": True, "support.consortium_members": 5,
                                  "support.consortium_core_members": 5, "behaviour.lot_interest": interest, **over})
    mk.P.band[:] = 2
    mk.P.capacity[:] = 0.3 * VALUE
    need = int(mk.needs.add(district=0, value=VALUE, reach=VALUE / 400, start=11, end=2**30))
    return mk, tendering.call_off(mk, [need], 10, 10 * 30.4375)


def test_a_consortium_lead_is_interested_in_the_lot_like_any_bidder():
    """Model.md submodel 8: the lead is chosen among organisations the lot fits (the keyed interest draw of a bid
    of its own); the one with most spare capacity leads only if the lot fits it. Members need not: a consortium
    brings together organisations whose range alone does not fit (BACP; Coulson in Third Sector, 2012)."""
    mk, lots = _consortium_market(1.0)
    assert len(tendering.take_bids(mk, lots, 10)[1]) == 1           # every organisation interested: a team forms
    mk, lots = _consortium_market(0.5)
    fit = bids.lot_fit(lots, np.zeros(12, np.int64), np.arange(12), mk.s.behaviour.lot_appeal_sd)
    fits = fit < bids.interest_threshold(0.5)
    assert fits.any() and not fits.all()
    biggest = int(np.flatnonzero(~fits)[0])                          # the lot does not fit it ...
    mk.P.capacity[biggest] = 0.45 * VALUE                            # ... and it has the most spare capacity
    team = tendering.take_bids(mk, lots, 10)[1][0].team
    assert team[0] != biggest and fits[team[0]]
    assert team[0] == int(np.flatnonzero(fits)[0])                   # the first interested one (all else equal)
    mk, lots = _consortium_market(0.5)
    mk.P.band[fits] = 1                                              # no medium organisation the lot fits: no lead
    assert tendering.take_bids(mk, lots, 10)[1] == []


def _expiring_consortium(mk: Market, lots: rounds.Lots, lead: int, member: int) -> None:
    """``lead`` (a quarter of the work) and ``member`` hold the live consortium contract lot 0 re-lets."""
    C = mk.contracts
    c = C.add(need=int(lots.need[0]), lead=lead, consortium=True, annual_value=VALUE, original_value=VALUE, start=0,
              end=11, reach=VALUE / 400, unit_cost=400.0, quality=3.0, status=LIVE, delivery=1.0)
    mk.parties.add(contract=c, provider=lead, share=0.25, pay_share=0.25)
    mk.parties.add(contract=c, provider=member, share=0.75, pay_share=0.75)
    mk.P.committed[lead] += 0.25 * VALUE
    mk.needs.contract[int(lots.need[0])] = c
    incumbent, expiring, freed = tendering.incumbents(mk, lots.need[:1])
    lots.incumbent[0], lots.expiring[0], lots.freed[0] = incumbent[0], expiring[0], freed[0]


@pytest.mark.parametrize("interest", [1.0, 0.0])
def test_an_incumbent_consortium_leads_its_own_relet_with_the_capacity_it_frees(interest):
    """The incumbent rule (model.md submodel 6) for a consortium: the lead of the expiring contract considers its re-let
    without an interest draw, leads the new team although another has more spare capacity, and counts its share of the
    expiring work as spare; without the rule, the organisation with most spare capacity leads."""
    for rule in (True, False):
        mk, lots = _consortium_market(interest, **{"procurement.competitions.incumbent_relet": rule})
        mk.P.capacity[9] = 0.4 * VALUE                                   # the most spare capacity, not the incumbent
        _expiring_consortium(mk, lots, lead=4, member=7)
        teams = tendering.take_bids(mk, lots, 10)[1]
        if rule:
            assert teams[0].team[0] == 4 and teams[0].stated[0] == pytest.approx(0.3 * VALUE)  # its spare with the freed work
        elif interest:
            assert teams[0].team[0] == 9
        else:
            assert teams == []                                           # no one interested, the incumbent included


def test_an_incumbent_consortium_is_awarded_its_relet_with_the_work_it_frees():
    """The incumbent rule at award (model.md submodel 6): while the expiring contract is live, each party's room at
    award counts its share of that work as free, as at bid time and as for an incumbent bidding alone."""
    mk, lots = _consortium_market(1.0, **{"behaviour.margin_sd": 0.0})
    mk.P.capacity[:] = 0.2 * VALUE                                     # no one has room for more than a fifth
    _expiring_consortium(mk, lots, lead=4, member=7)
    mk.P.committed[7] += 0.75 * VALUE
    mk.P.capacity[[4, 7]] = [0.25 * VALUE, 0.75 * VALUE]               # the expiring work fills the two incumbents
    bids_, teams = tendering.take_bids(mk, lots, 10)
    assert teams and teams[0].team[0] == 4
    rnd = rounds.Round(lots=lots, bids=bids_, teams=teams)
    award.close_round(mk, rnd, 10 * 30.4375 + 30)
    assert mk.contracts.status[int(lots.expiring[0])] == LIVE          # the award is made before the old contract ends
    won = np.flatnonzero(mk.contracts.view("need") == int(lots.need[0]))
    assert len(won) == 2 and mk.contracts.lead[won[-1]] == 4 and mk.contracts.consortium[won[-1]]


# --------------------------------------------------------------------------- bond costs


def test_bond_costs_enter_the_price_of_a_bonded_bid():
    """The arrangement fee and the premium are priced in: a dearer bond, a dearer bid, same lot, same draws."""
    prices = []
    for premium in (0.0075, 0.04):
        mk = _market(providers=1, **{"contracts.performance_bond.threshold": 200_000,
                                     "contracts.performance_bond.premium_rate": premium,
                                     "behaviour.margin_sd": 0.0})
        mk.P.full_cost[:] = True
        rnd = _bids(mk)
        prices.append(float(rnd.bids.price[0]) / float(rnd.bids.reach[0]))
    assert prices[1] > prices[0]


def test_bond_costs_enter_the_bid_decision():
    """Expected gain net of the bond's expected cost must cover the bid cost: a fee larger than the gain stops it."""
    cheap = _bids(_market(providers=1, **{"contracts.performance_bond.threshold": 200_000}))
    dear = _bids(_market(providers=1, **{"contracts.performance_bond.threshold": 200_000,
                                         "contracts.performance_bond.arrangement_fee": 500_000.0}))
    assert len(cheap.bids.who) == 1 and len(dear.bids.who) == 0


# --------------------------------------------------------------------------- training


def test_training_brings_the_written_score_nearer_true_quality():
    """Seed 003 ¶14: training cuts the weight of writing skill and the noise, not a flat skill boost."""
    beh = Behaviour()
    quality, skill, noise = np.full(3, 4.0), np.full(3, 0.2), np.array([-1.0, 0.0, 1.0])
    untrained = assessed_quality(quality, skill, noise, beh)
    trained = assessed_quality(quality, skill, noise, beh, 0.5)
    assert (np.abs(trained - quality) < np.abs(untrained - quality)).all()
    np.testing.assert_allclose(assessed_quality(quality, skill, noise, beh, 1.0), quality)


# --------------------------------------------------------------------------- micro organisations


def test_turnover_test_is_waived_below_the_set_value_and_on_grants():
    """PCR 2015 reg 58(8): a minimum turnover may be set, need not be; grants are not public contracts."""
    assert not proc.meets_turnover(np.array([5_000.0]), 20_000.0, 2.0)[0]
    assert proc.meets_turnover(np.array([5_000.0]), 20_000.0, 2.0, exempt_below=25_000.0)[0]
    s = Scenario.model_validate({"name": "g", "procurement": {"route": "grant"}})
    assert proc.turnover_exempt_below(s.procurement) == np.inf


def test_with_consortia_only_a_possible_lead_applies_to_join_the_dps_for_them():
    """Admission rule (model.md, Applications): with consortia on, a VCSE that could not take a small lot alone
    applies only if it could lead a consortium (medium or larger): a lead must be admitted, a member need not
    (consortia.py), so a micro or small organisation would pay for a questionnaire that does nothing for it."""
    from dps_sim.model import admission
    mk = one_district_market(6, VALUE, market={"private_share": 0.0}, **{"support.consortia": True,
                             "procurement.admission.apply_probability": 1.0})
    mk.P.admitted[:] = False
    mk.P.capacity[:] = 1.0                                           # nobody could take a lot alone
    mk.P.band[:] = [0, 1, 2, 3, 1, 2]
    apps = admission.applications(mk, 0, 0.0)
    assert sorted(apps.who.tolist()) == [2, 3, 5]
    assert mk.flows["bid_costs"][[0, 1, 4]].tolist() == [0.0, 0.0, 0.0]


def test_micro_organisations_apply_and_win_grants():
    """A grant market of micro organisations only: they apply and take the small grants (none could before)."""
    data = {"name": "micro grants", "horizon_months": 24, "seed": 3,
            "market": {"providers": 40, "districts": 1, "entry_per_year": 0,
                       "size_mix": {"micro": 1, "small": 0, "medium": 0, "large": 0, "major": 0}},
            "procurement": {"route": "grant",
                            "competitions": {"lots_per_round": 2, "lot_value": {"median": 8_000, "sigma": 0.3}}}}
    out = simulate(Scenario.model_validate(data), np.random.SeedSequence(3))
    assert out.counters["awards"] > 0


def test_the_premium_is_paid_yearly_in_advance():
    """A year's premium in each contract year's first month (assumption: sureties ask for it in advance)."""
    from dps_sim.model import finance as fin
    due = fin.bond_premium_due(np.full(4, 6_000.0), 0.02, np.array([0, 1, 11, 12]))
    np.testing.assert_allclose(due, [120.0, 0.0, 0.0, 120.0])
