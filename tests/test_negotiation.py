"""A lot no competition could let is negotiated with one organisation (docs/model.md, submodel 5).

Rules checked, each with its source:
* PCR 2015 reg 32(2)(a): where no tenders or no suitable tenders were submitted, the contract
  may be negotiated without prior publication, "provided that the initial conditions of the
  contract are not substantially altered"; Procurement Act 2023 s. 43 (switching to direct
  award), to a supplier that is not excluded;
* the model's order: a failed competition is re-run once at the next round, and only a lot
  whose re-run failed too is negotiated (``procurement.competitions.negotiate_failed``);
* the council awards to the able organisation whose offer is best by the lot's own award rule
  (reg 32(2)(a) keeps the initial conditions; reg 67(1): the most economically advantageous
  tender), or, with ``negotiate_by: quality``, whose proposal the panel rates best; it answers
  no tender, so it pays no bid cost;
* Kent (F1, seed 003 item 8 ¶7): every launch service is let within the first year.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dps_sim import metrics
from dps_sim.experiment.seeds import replication_seed
from dps_sim.model import award, bids, contracts, rounds, simulate, tendering
from dps_sim.model.audit import KIND
from dps_sim.model.stores import END_HANDBACK, END_TERMINATED, LIVE
from dps_sim.scenario import load_scenario, resolve_policy, with_overrides
from hand_made import one_district_market

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
VALUE = 50_000.0
DAY = 30.4375


def _market(providers: int = 6, negotiate: bool = True, by: str = "award_criteria"):
    """Organisations able to take the lot but none interested in bidding for it (lot_interest 0)."""
    return one_district_market(providers, VALUE, **{"behaviour.lot_interest": 0.0,
                                                    "procurement.competitions.negotiate_failed": negotiate,
                                                    "procurement.competitions.negotiate_by": by})


def _compete(mk, need: int, m: int) -> rounds.Round:
    lots = tendering.call_off(mk, [need], m, m * DAY)
    b, teams = tendering.take_bids(mk, lots, m)
    rnd = rounds.Round(lots=lots, bids=b, teams=teams)
    award.close_round(mk, rnd, m * DAY + 20)
    return rnd


def _two_failed_rounds(mk, before_rerun=None) -> rounds.Round:
    """A lot with no bid at month 10 and again at its re-run at month 11; ``before_rerun(mk, lots)`` is called
    with the re-run's lot before it closes (to compute what the test expects on the state the award meets)."""
    need = int(mk.needs.add(district=0, value=VALUE, reach=VALUE / 400, start=11, end=2**30))
    first = _compete(mk, need, 10)
    assert len(first.bids.who) == 0 and mk.contracts.n == 0        # no bid: failed, and re-run, not negotiated
    assert mk.tender.queue.get(11) == [need]
    mk.tender.queue.pop(11)
    if before_rerun is not None:
        preview = tendering.call_off(mk, [need], 11, 11 * DAY)      # the re-run's lot (same keyed draws)
        mk.needs.attempts[need] -= 1
        before_rerun(mk, preview)
    return _compete(mk, need, 11)


def _ratings(mk, rnd: rounds.Round, who: np.ndarray) -> np.ndarray:
    """The panel's score of each organisation's proposal for the round's lot (the keyed draws of a bid)."""
    spare = mk.P.capacity[who] - mk.P.committed[who]
    return bids.offers(mk, rnd.lots, np.zeros(len(who), np.int64), who, spare, np.zeros(len(who))).panel


def _scores(mk, lots, who: np.ndarray, i: int = 0) -> np.ndarray:
    """Each organisation's offer for lot ``i`` scored by the award criteria among these offers (submodel 9);
    −inf for an invalid offer. (In the hand-made market every organisation passes the capacity, turnover and
    cash screens of an able candidate, so these are the offers the council weighs.)"""
    spare = mk.P.capacity[who] - mk.P.committed[who]
    o = bids.offers(mk, lots, np.full(len(who), i, np.int64), who, spare, np.zeros(len(who)))
    c, v = mk.s.procurement.competitions, o.valid
    total, _ = award.total_scores(o.price, o.reach, o.panel, c.weights, c.price_formula,
                                  np.full(len(who), o.price[v].min()), np.full(len(who), o.reach[v].max()))
    return np.where(v, total, -np.inf)


def test_a_lot_whose_rerun_failed_is_negotiated_with_the_best_offer_by_the_award_criteria():
    mk = _market()
    cost_before = mk.P.bid_cost_paid.copy()
    expected = []
    _two_failed_rounds(mk, lambda mk, lots: expected.append(int(np.argmax(_scores(mk, lots, np.arange(6))))))
    assert mk.counters["failed_competitions"] == 2 and mk.counters["negotiated_awards"] == 1
    assert mk.contracts.n == 1
    assert int(mk.contracts.lead[0]) == expected[0]
    assert mk.contracts.original_value[0] <= VALUE                   # the lot's terms, not more
    np.testing.assert_array_equal(mk.P.bid_cost_paid, cost_before)   # nobody wrote a bid
    ev = mk.log.columns()
    assert (ev["kind"] == KIND["negotiated_award"]).sum() == 1 and (ev["kind"] == KIND["interim_cover"]).sum() == 0


def test_the_best_proposal_is_not_the_best_offer_when_it_reaches_far_fewer():
    """Organisation 0 writes the best proposal but costs 1.9 times as much a user, so it offers far fewer users
    for the lot's money: under the award criteria (40 quality, 30 reach, 30 price) another wins; judged on the
    proposal alone (``quality``) it would."""
    leads, best_offer, best_rated = [], [], []

    def expect(mk, lots):
        best_offer.append(int(np.argmax(_scores(mk, lots, np.arange(6)))))
        best_rated.append(int(np.argmax(_ratings(mk, rounds.Round(lots, None, []), np.arange(6)))))

    for by in ("award_criteria", "quality"):
        mk = _market(by=by)
        mk.P.quality[0], mk.P.skill[0] = 5.0, 0.95
        mk.P.cost_per_user[0] *= 1.9
        _two_failed_rounds(mk, expect)
        leads.append(int(mk.contracts.lead[0]))
    assert best_rated == [0, 0] and best_offer[0] != 0
    assert leads == [best_offer[0], 0]


def test_a_negotiated_grant_goes_to_the_best_rated_proposal_not_by_lottery():
    """Under the former grants (a lottery among applications) a failed grant is negotiated with the known
    organisation whose proposal is rated best, whatever ``negotiate_by`` says: no lottery for a single tender."""
    leads, best_rated = [], []
    for by in ("award_criteria", "quality"):
        mk = one_district_market(6, VALUE, **{"behaviour.lot_interest": 0.0, "procurement.route": "grant",
                                              "procurement.competitions.negotiate_by": by})
        mk.P.cost_per_user[0] *= 1.9
        mk.P.quality[0], mk.P.skill[0] = 5.0, 0.95
        _two_failed_rounds(mk, lambda mk, lots: best_rated.append(
            int(np.argmax(_ratings(mk, rounds.Round(lots, None, []), np.arange(6))))))
        assert mk.counters["negotiated_awards"] == 1
        leads.append(int(mk.contracts.lead[0]))
    assert leads == best_rated == [0, 0]


def test_without_negotiation_the_lot_is_left_unserved():
    mk = _market(negotiate=False)
    _two_failed_rounds(mk)
    assert mk.contracts.n == 0 and mk.counters["negotiated_awards"] == 0 and not mk.tender.queue


def test_an_excluded_or_full_organisation_is_not_approached():
    """The best is excluded after a termination and the second has no spare capacity: the best of the rest is."""
    mk = _market()
    need = int(mk.needs.add(district=0, value=VALUE, reach=VALUE / 400, start=11, end=2**30))
    _compete(mk, need, 10)
    mk.tender.queue.clear()
    preview = tendering.call_off(mk, [need], 11, 11 * DAY)          # the re-run's lot, to rate the proposals
    mk.needs.attempts[need] -= 1
    rank = np.argsort(-_scores(mk, preview, np.arange(6)))
    left = np.setdiff1d(np.arange(6), rank[:2])
    expected = int(left[np.argmax(_scores(mk, preview, left))])      # the best among those still able
    mk.tender.excluded_until[rank[0]] = 40
    mk.P.committed[rank[1]] = mk.P.capacity[rank[1]]
    _compete(mk, need, 11)
    assert mk.contracts.n == 1 and int(mk.contracts.lead[0]) == expected


def test_a_lot_no_organisation_can_take_stays_unserved():
    mk = _market()
    mk.P.committed[:] = mk.P.capacity                                # nobody has room for half the target reach
    _two_failed_rounds(mk)
    assert mk.contracts.n == 0 and mk.counters["negotiated_awards"] == 0


def test_every_kent_launch_service_is_let_within_the_first_year(reps: int = 6):
    """F1: the launch services were all let (22 providers). Without negotiation some stay unserved."""
    kent = resolve_policy(load_scenario(SCENARIOS / "kent_youth_dps.yaml"), "baseline")
    off = with_overrides(kent, {"procurement.competitions.negotiate_failed": False})
    launch = kent.procurement.competitions.first_round_lots
    unlet = {}
    for name, sc in (("on", kent), ("off", off)):
        unlet[name] = []
        for r in range(reps):
            out = simulate(sc, replication_seed(1, r))
            C = out.contracts
            let = np.unique(C["need"][(C["need"] < launch) & (C["start"] < 12 + sc.procurement.competitions.first_round_month)])
            unlet[name].append(launch - len(let))
            negotiated = int((out.events["kind"] == KIND["negotiated_award"]).sum())
            assert metrics.kpis(out)["negotiated_awards"] == negotiated                  # the KPI counts the events
    assert max(unlet["on"]) == 0, unlet
    assert sum(unlet["off"]) > 0, unlet


# ----------------------------------------------------------------- interim cover after a failure (F30)


def _holding(mk, lead: int) -> tuple[int, int]:
    """Organisation ``lead`` holds a live contract for an ongoing service: (need, contract)."""
    need = int(mk.needs.add(district=0, value=VALUE, reach=VALUE / 400, start=1, end=2**30))
    C = mk.contracts
    c = C.add(need=need, lead=lead, annual_value=VALUE, original_value=VALUE, start=1, end=40, reach=VALUE / 400,
              unit_cost=400.0, quality=3.0, status=LIVE, delivery=1.0)
    mk.parties.add(contract=c, provider=lead, share=1.0)
    mk.P.committed[lead] += VALUE
    mk.needs.contract[need] = c
    mk.needs.last_lead[need] = lead
    return need, int(c)


def _failed_service(interim: bool = True, m: int = 10, tender_days: int = 30):
    """Organisation 0 held a live contract for an ongoing service; it is terminated in month ``m``."""
    mk = one_district_market(6, VALUE, **{"contracts.interim_cover": interim,
                                         "procurement.competitions.tender_days": tender_days})
    need, c = _holding(mk, 0)
    contracts.fail_contract(mk, c, m, m * DAY, END_TERMINATED)
    award.arrange_covers(mk, m, m * DAY)
    return mk, need, c


def test_cover_is_arranged_after_the_months_terminations():
    """A provider terminated later in the same month (so excluded: reg 57(8)(g)) is not asked to cover.

    Organisation 0 hands its contract back, then organisation 1 is terminated; the others are full, so only
    1 could have covered 0's service had cover been arranged at once. 0 may cover 1's."""
    mk = one_district_market(6, VALUE)
    _, a = _holding(mk, 0)
    _, b = _holding(mk, 1)
    mk.P.committed[2:] = mk.P.capacity[2:]
    contracts.fail_contract(mk, a, 10, 10 * DAY, END_HANDBACK)
    contracts.exclude(mk, 1, 10)
    contracts.fail_contract(mk, b, 10, 10 * DAY, END_TERMINATED)
    award.arrange_covers(mk, 10, 10 * DAY)
    C = mk.contracts
    covers = np.flatnonzero(C.view("interim"))
    assert 1 not in C.lead[covers].tolist()
    assert C.lead[covers].tolist() == [0] and int(C.need[covers[0]]) == int(C.need[b])


def test_a_failed_service_is_covered_by_another_organisation_until_its_relet_starts():
    """Seed 003 item 7 ¶12 (F30): "there should never be a break in service delivery"; F29: re-let in 3 months."""
    mk, need, failed = _failed_service()
    R = mk.s.contracts.recommission_months
    C = mk.contracts
    assert C.n == 2 and C.interim[1] and not C.interim[0]
    assert int(C.lead[1]) != 0                                          # never the provider that failed
    assert (int(C.start[1]), int(C.end[1])) == (11, 10 + R)             # next month until the re-let starts
    assert mk.tender.queue == {10 + R - 1: [need]}                      # the re-let is still called off
    assert mk.counters["interim_covers"] == 1 and C.switched[1]
    assert (mk.log.columns()["kind"] == KIND["interim_cover"]).sum() == 1
    lots = tendering.call_off(mk, [need], 10 + R - 1, (10 + R - 1) * DAY)
    assert lots.incumbent.tolist() == [-1] and int(lots.start[0]) == 10 + R   # no incumbent; starts as it ends


def test_without_interim_cover_the_service_waits_for_its_relet():
    mk, need, _ = _failed_service(interim=False)
    assert mk.contracts.n == 1 and mk.counters["interim_covers"] == 0


def test_an_interim_that_fails_does_not_queue_the_service_twice():
    mk, need, _ = _failed_service()
    mk.contracts.status[1] = LIVE                                       # the interim has started
    contracts.fail_contract(mk, 1, 11, 11 * DAY, END_HANDBACK)
    award.arrange_covers(mk, 11, 11 * DAY)
    assert sum(q.count(need) for q in mk.tender.queue.values()) == 1 and mk.contracts.n == 2


def test_an_interim_contract_is_neither_extended_nor_relet_at_its_end():
    mk, need, _ = _failed_service()
    mk.contracts.status[1] = LIVE
    end = int(mk.contracts.end[1])
    queued = {k: list(v) for k, v in mk.tender.queue.items()}
    contracts.contract_ends(mk, end - 1, (end - 1) * DAY)
    assert int(mk.contracts.end[1]) == end and mk.tender.queue == queued


def test_two_lots_negotiated_at_one_close_go_largest_first_and_then_to_the_next_best():
    """Each organisation has room for one lot: the larger lot goes to its best offer, the smaller to the best
    of the others (the best may be the same organisation, which by then is full)."""
    mk = _market()
    mk.P.capacity[:] = VALUE
    mk.P.quality[0], mk.P.skill[0] = 5.0, 0.95                       # organisation 0 offers best for both
    mk.P.cost_per_user[0] = 0.8 * mk.P.cost_per_user.min()
    needs = [int(mk.needs.add(district=0, value=v, reach=v / 400, start=11, end=2**30)) for v in (VALUE, 0.9 * VALUE)]
    for m in (10, 11):
        lots = tendering.call_off(mk, needs, m, m * DAY)
        b, teams = tendering.take_bids(mk, lots, m)
        rnd = rounds.Round(lots=lots, bids=b, teams=teams)
        if m == 11:
            score = [_scores(mk, rnd.lots, np.arange(6), i) for i in (0, 1)]
        award.close_round(mk, rnd, m * DAY + 20)
        mk.tender.queue.clear()
    assert mk.counters["negotiated_awards"] == 2
    C = mk.contracts
    lead = {int(C.need[c]): int(C.lead[c]) for c in range(C.n)}
    big = int(np.argmax(score[0]))
    assert big == int(np.argmax(score[1])) == 0 and lead[needs[0]] == big
    # the smaller lot's offers are ranked once, among all six; the best is full by then, so the next best wins
    assert lead[needs[1]] == [o for o in np.argsort(-score[1]).tolist() if o != big][0]


@pytest.mark.parametrize("tender_days", [30, 60])
def test_the_relet_starts_the_month_the_cover_ends(tender_days):
    """With a 60-day tender window the re-let's contract starts a month later, and so does the cover's end."""
    mk, need, _ = _failed_service(tender_days=tender_days)
    C = mk.contracts
    call = next(iter(mk.tender.queue))
    lots = tendering.call_off(mk, mk.tender.queue.pop(call), call, call * DAY)
    b, teams = tendering.take_bids(mk, lots, call)
    award.close_round(mk, rounds.Round(lots=lots, bids=b, teams=teams), call * DAY + tender_days)
    relet = C.n - 1
    assert not C.interim[relet] and int(C.need[relet]) == need
    assert int(C.start[relet]) == int(C.end[1])


def test_a_cover_leaves_the_relets_draws_unchanged():
    """Common random numbers: the re-let's keyed draws are the same with and without the cover."""
    keys = []
    for interim in (True, False):
        mk, need, _ = _failed_service(interim=interim)
        call = next(iter(mk.tender.queue))
        keys.append(int(tendering.call_off(mk, [need], call, call * DAY).key[0]))
    assert keys[0] == keys[1]


def test_no_cover_starts_at_or_after_the_horizon():
    mk = one_district_market(6, VALUE)
    _, c = _holding(mk, 0)
    H = mk.H
    contracts.fail_contract(mk, c, H - 1, (H - 1) * DAY, END_HANDBACK)
    award.arrange_covers(mk, H - 1, (H - 1) * DAY)
    assert mk.contracts.n == 1 and mk.counters["interim_covers"] == 0
