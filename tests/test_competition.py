"""Competition as it really runs (issue 12, first part): incumbents, exclusion, lot appeal, switching cost.

Rules checked, each with its source (docs/model.md submodels 5, 6, 9, 10, 14):
* DESIGN.md "A round is cleared in one step": the incumbent of an expiring contract always
  considers its own re-let (no interest draw) and its expiring contract does not count against
  its capacity for it;
* PCR 2015 reg 57(8)(g), 57(11): a provider whose contract is terminated for poor performance
  may not bid for the commissioner's lots for ``procurement.exclusion_months`` (at most three
  years); none of its awards falls within the exclusion (``rewins_while_excluded``);
* TED 2012-18 (a quarter of tenders single-bid at about 3 bids per tender): a keyed per-lot
  appeal draw shifts every organisation's interest in a lot together, keeping the average
  chance ``lot_interest``;
* seed 003 F31 ("the service can lose momentum and more importantly service users"): a new
  provider taking over from a different one delivers ``1 - switch_reach_loss`` of its reach in
  its first ``switch_months``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dps_sim import metrics
from dps_sim.model import award, bids, contracts, rounds, simulate, tendering
from dps_sim.model.market import Market
from dps_sim.model.stores import LIVE
from dps_sim.scenario import Scenario, load_scenario, resolve_policy, with_overrides
from hand_made import one_district_market

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
VALUE = 50_000.0


def _market(providers: int = 6, **over) -> Market:
    """A one-district market with ``providers`` admitted organisations, all able to bid for a £50k lot."""
    return one_district_market(providers, VALUE, **over)


def _need(mk: Market, start: int = 1) -> int:
    return int(mk.needs.add(district=0, value=VALUE, reach=VALUE / 400, start=start, end=2**30))


def _live_contract(mk: Market, need: int, lead: int, end: int) -> int:
    """Organisation ``lead`` holds a live contract for ``need`` ending at ``end``, using all its capacity."""
    C = mk.contracts
    c = C.add(need=need, lead=lead, annual_value=mk.P.capacity[lead], original_value=mk.P.capacity[lead], start=0,
              end=end, reach=VALUE / 400, unit_cost=400.0, quality=3.0, status=LIVE, delivery=1.0)
    mk.parties.add(contract=c, provider=lead, share=1.0)
    mk.P.committed[lead] += mk.P.capacity[lead]
    mk.needs.contract[need] = c
    mk.needs.last_lead[need] = lead
    return c


def _round(mk: Market, needs: list[int], m: int) -> rounds.Round:
    lots = tendering.call_off(mk, needs, m, m * 30.4375)
    bids, teams = tendering.take_bids(mk, lots, m)
    return rounds.Round(lots=lots, bids=bids, teams=teams)


# --------------------------------------------------------------------------- incumbents


def test_the_incumbent_considers_its_own_relet_without_an_interest_draw():
    """No one is interested in the lot (lot_interest 0) but the incumbent of the expiring contract."""
    mk = _market(**{"behaviour.lot_interest": 0.0})
    need = _need(mk)
    _live_contract(mk, need, lead=3, end=11)
    rnd = _round(mk, [need], 10)
    assert rnd.lots.incumbent.tolist() == [3]
    assert rnd.bids.who.tolist() == [3]


def test_the_expiring_contract_frees_the_incumbents_capacity_for_its_relet():
    """Its capacity is all committed to the expiring contract, yet it bids, and wins the re-let."""
    mk = _market(providers=1, **{"behaviour.lot_interest": 0.0})
    need = _need(mk)
    _live_contract(mk, need, lead=0, end=11)
    assert mk.P.capacity[0] - mk.P.committed[0] == 0
    rnd = _round(mk, [need], 10)
    assert rnd.bids.who.tolist() == [0] and rnd.bids.valid.all()
    award.close_round(mk, rnd, 10 * 30.4375 + 30)
    C = mk.contracts
    assert C.n == 2 and C.lead[1] == 0 and not C.switched[1]
    assert mk.counters["relets_expiry"] == 1 and mk.counters["relets_retained"] == 1


def test_without_the_incumbent_rule_a_fully_committed_incumbent_cannot_bid():
    """The rule before issue 12 (kept as incumbent_relet: false): the same market gets no bid."""
    mk = _market(providers=1, **{"behaviour.lot_interest": 1.0, "procurement.competitions.incumbent_relet": False})
    need = _need(mk)
    _live_contract(mk, need, lead=0, end=11)
    rnd = _round(mk, [need], 10)
    assert len(rnd.bids.who) == 0
    assert rnd.lots.incumbent.tolist() == [0] and rnd.lots.freed.tolist() == [0.0]   # named, for the KPI only


def test_the_freed_capacity_is_for_its_own_relet_only():
    """A fully committed incumbent gets no bid on another lot of the same round."""
    mk = _market(providers=1, **{"behaviour.lot_interest": 1.0})
    need, other = _need(mk), _need(mk)
    _live_contract(mk, need, lead=0, end=11)
    rnd = _round(mk, [need, other], 10)
    assert rnd.bids.who.tolist() == [0]
    assert rnd.lots.need[rnd.bids.at].tolist() == [need]


# --------------------------------------------------------------------------- exclusion


def _terminate(mk: Market, lead: int, m: int) -> int:
    """Drive the real monitoring path: a contract under its last notice delivers nothing at a review."""
    need = _need(mk)
    c = _live_contract(mk, need, lead=lead, end=40)
    C = mk.contracts
    C.notices[c] = mk.s.contracts.monitoring.notices_before_termination - 1
    C.q_months[c] = mk.s.contracts.monitoring.review_months
    C.q_promised[c], C.q_delivered[c], C.q_quality[c] = 30.0, 0.0, 9.0
    contracts.reviews(mk, m, m * 30.4375)
    assert mk.counters["terminations"] == 1
    return need


@pytest.mark.parametrize("months, bids_at_12, bids_at_48", [(36, False, True), (0, True, True), (12, False, True)])
def test_a_terminated_provider_cannot_bid_until_its_exclusion_ends(months, bids_at_12, bids_at_48):
    """PCR 2015 reg 57(8)(g), 57(11): excluded for exclusion_months from the termination (month 10)."""
    mk = _market(**{"procurement.exclusion_months": months})
    _terminate(mk, lead=2, m=10)
    assert mk.tender.excluded_until[2] == (10 + months if months else 0)
    for m, expected in ((12, bids_at_12), (10 + months - 1, months == 0), (48, bids_at_48)):
        rnd = _round(mk, [_need(mk, start=m + 1)], m)
        assert (2 in rnd.bids.who.tolist()) == expected, m
        assert len(rnd.bids.who) >= 5  # the others bid throughout


def test_the_terminated_provider_cannot_win_its_own_service_back():
    """The service it lost is re-let; its holder is excluded, so another provider wins (and it is a switch)."""
    mk = _market()
    need = _terminate(mk, lead=1, m=10)
    rnd = _round(mk, [need], 12)
    assert 1 not in rnd.bids.who.tolist()
    award.close_round(mk, rnd, 12 * 30.4375 + 30)
    C = mk.contracts
    assert C.lead[C.n - 1] != 1 and C.switched[C.n - 1]


def test_a_bidder_terminated_after_the_call_off_is_not_awarded():
    """Reg 57(10): exclusion applies at any stage; a bid made before the termination is passed over."""
    mk = _market(providers=1)
    need = _need(mk)
    rnd = _round(mk, [need], 10)
    assert rnd.bids.who.tolist() == [0]
    mk.tender.excluded_until[0] = 50           # terminated elsewhere before the tender window closed
    award.close_round(mk, rnd, 10 * 30.4375 + 30)
    assert mk.contracts.n == 0 and mk.counters["failed_competitions"] == 1


def test_no_award_falls_within_an_exclusion_and_the_check_would_see_one():
    """On Kent, rewins_while_excluded is 0; with exclusion off the same check finds re-wins within 36 months.

    Kent ran under PCR 2006 (no exclusion ground for Part B services), so the rule is tried under PCR 2015.
    """
    kent = with_overrides(resolve_policy(load_scenario(SCENARIOS / "kent_youth_dps.yaml"), "baseline"), {"rules": "pcr2015"})
    found = []
    for seed in (1, 2, 3):
        on = simulate(kent, np.random.SeedSequence(seed), "none")
        assert metrics.kpis(on)["terminations"] > 0
        assert metrics.rewins_while_excluded(on) == 0
        off = simulate(with_overrides(kent, {"procurement.exclusion_months": 0}), np.random.SeedSequence(seed), "none")
        # the same check, with the window of the default, on a run that did not exclude
        counted = metrics.rewins_while_excluded(type(off)(**{**off.__dict__, "scenario": kent}))
        found.append(counted)
    assert sum(found) > 0


# --------------------------------------------------------------------------- lot appeal


def test_lot_appeal_is_keyed_by_lot_and_keeps_the_average_interest():
    """The fit stays standard normal (lot_interest is the average chance); a lot's appeal is one draw for all."""
    mk = _market(providers=400)
    needs = [_need(mk) for _ in range(300)]
    lots = tendering.call_off(mk, needs, 1, 30.0)
    at = np.repeat(np.arange(len(lots)), 400)
    org = np.tile(np.arange(400), len(lots))
    fit = bids.lot_fit(lots, at, org, 1.0).reshape(len(lots), 400)
    assert abs(fit.mean()) < 0.05 and abs(fit.std() - 1.0) < 0.03
    share = (fit < -0.5).mean(axis=1)                               # interest share of each lot
    p = (fit < -0.5).mean()
    assert share.var() > 10 * p * (1 - p) / 400                     # far more spread than independent draws
    np.testing.assert_array_equal(bids.lot_appeal(lots), bids.lot_appeal(lots))
    np.testing.assert_array_equal(bids.lot_fit(lots, at, org, 0.0).reshape(len(lots), 400)[:, 0],
                                  bids.lot_fit(lots, at[::400], org[::400], 0.0))


def test_lot_appeal_spreads_bids_between_lots_at_the_same_average():
    """Default market, one replication: with appeal the bid counts spread out (more single-bid and many-bid lots)."""
    base = Scenario(name="x", horizon_months=36)
    counts = {}
    for sd in (0.0, 1.0):
        out = simulate(with_overrides(base, {"behaviour.lot_appeal_sd": sd}), np.random.SeedSequence(4), "all")
        ev = metrics.event_columns(out)
        lots = ev["lot"][ev["event"] == "call_off"]
        counts[sd] = np.bincount(ev["lot"][ev["event"] == "bid"], minlength=lots.max() + 1)[lots]
    flat, spread = counts[0.0], counts[1.0]
    assert spread.var() / spread.mean() > 1.3 * flat.var() / flat.mean()
    assert np.mean(spread == 0) > np.mean(flat == 0)


def test_the_chance_estimate_divides_by_the_lots_field_or_by_the_fixed_expectation():
    """model.md submodel 6, prediction: p = (0.5 + skill) / rivals, limited to [0.02, 0.95]; rivals are the
    organisations able and interested in the lot (itself included, at least 1) up to the usual
    behaviour.expected_bidders (3) or, under rivals "fixed", expected_bidders on every lot."""
    from dps_sim.model.bids import win_chance_estimate

    lot = Scenario(name="x").behaviour
    fixed = lot.model_copy(update={"rivals": "fixed"})
    skill, field = np.array([0.5, 0.5, 0.5, 0.9, 0.01]), np.array([1, 2, 0, 100, 3])
    np.testing.assert_allclose(win_chance_estimate(skill, lot, field), [0.95, 0.5, 0.95, 1.4 / 3, 0.51 / 3])
    np.testing.assert_allclose(win_chance_estimate(skill, fixed, field), [1 / 3, 1 / 3, 1 / 3, 1.4 / 3, 0.51 / 3])


def test_a_crowded_lot_looks_less_winnable_so_a_bidder_goes_to_the_quieter_one():
    """Two lots of the same value, one bid allowed: an organisation serving both districts bids where it
    is alone, not on the lot that all ten organisations of its district can bid for (under rivals "fixed"
    the two lots look the same to it)."""
    mk = _market(10, market={"districts": 2}, **{"procurement.competitions.max_bids_per_round": 1})
    mk.P.county_wide[0] = True
    crowded, quiet = _need(mk), int(mk.needs.add(district=1, value=VALUE, reach=VALUE / 400, start=1, end=2**30))
    lots = tendering.call_off(mk, [crowded, quiet], 1, 30.0)
    bids, _ = tendering.take_bids(mk, lots, 1)
    assert lots.need[bids.at[bids.who == 0]].tolist() == [quiet]
    on_crowded = bids.who[lots.need[bids.at] == crowded]
    assert 0 not in on_crowded and len(on_crowded) >= 5              # its district's own still bid there


# --------------------------------------------------------------------------- switching cost


def test_switch_factor_applies_only_in_the_mobilisation_months_of_a_switch():
    f = contracts.switch_factor(np.array([True, True, False, True]), np.array([0, 3, 0, 2]), 0.25, 3)
    np.testing.assert_allclose(f, [0.75, 1.0, 1.0, 0.75])


def test_a_new_provider_loses_users_in_its_first_months_and_monitoring_expects_it():
    """Two identical live contracts, one taken over from another provider: it delivers 25% less for 3 months."""
    mk = _market()
    for lead in (0, 1):
        c = _live_contract(mk, _need(mk), lead=lead, end=40)
    mk.contracts.switched[c] = True                                  # contract 1 (lead 1) is a takeover
    delivered = []
    for m in range(5):
        before = mk.contracts.users[:2].copy()
        mk.rng["delivery"] = np.random.default_rng(m)                # same noise for both contracts' month
        contracts.deliver(mk, m)
        delivered.append(mk.contracts.users[:2] - before)
    d = np.array(delivered)
    ratio = d[:, 1] / d[:, 0]
    assert (ratio[:3] < 1).all() and mk.counters["users_lost_switching"] > 0
    C = mk.contracts
    assert C.q_promised[1] < C.q_promised[0]                         # the mobilisation dip is expected
