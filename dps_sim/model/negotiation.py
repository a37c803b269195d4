"""Negotiation: a lot no competition could let is offered to one organisation (a single tender).

A lot whose competition fails (no valid bid could be awarded) is re-run once at the next
round (submodel 5). When the re-run fails too, or re-runs are off, the council does not
leave the service unserved if ``procurement.competitions.negotiate_failed`` is on: it
approaches one organisation and negotiates the contract on the lot's original terms (its
value, length and district), without a new advert. The law allows it under every regime
the model knows:

* PCR 2015 reg 32(2)(a): the negotiated procedure without prior publication "where no
  tenders, no suitable tenders ... have been submitted in response to an open procedure or
  a restricted procedure, provided that the initial conditions of the contract are not
  substantially altered" (the light-touch regime, regs 74-76, leaves the procedure to the
  council);
* Procurement Act 2023 s. 43: switching to direct award when a competitive tendering
  procedure received no suitable tenders, to a supplier that is not excluded;
* PCR 2006 Part B services and the NHS provider selection regime impose no competition.

Whom the council approaches: the organisation with the best offer among the round's candidates
for the lot (in the market, admitted where the route needs it, known to the council under
the former grants, not excluded after a termination, serving the lot's district) that could
take it on its original terms: capacity for at least half the target reach, the turnover
test, cash for any bond within its own risk appetite. Each writes the proposal and prices the
offer it would bid (:func:`.bids.offers`, with the keyed draws of a bid for that lot). The
council takes the best offer by the lot's own award criteria (``negotiate_by: award_criteria``:
:func:`.award.best_first`; our modelling choice, consistent with PCR 2015, where every award goes to
the most economically advantageous tender, reg 67(1), though reg 32(2)(a) does not require asking
more than one organisation), or, with ``quality`` and always under grants (no lottery for a
negotiated grant), the proposal the panel rates best; either way the choice is as fallible as a
panel's. It answers no tender, so it pays no bid cost and learns nothing from bidding.
The award then passes the checks of any award (:func:`.award.try_award`: budget, capacity,
collateral); if the best can no longer take it (another lot of the same close took its room),
the next is approached.
"""

from __future__ import annotations

import numpy as np

from . import procurement as proc
from .bids import MIN_REACH_SHARE, offers, spare_and_turnover
from .market import Market
from .rounds import Bids, Lots
from .tendering import bond_needs, round_candidates


def able_offers(mk: Market, lots: Lots, failed: np.ndarray, m: int, barred: list[np.ndarray] | None = None
                ) -> Bids:
    """For the failed lots (indices into ``lots``), the valid offers of the organisations able to take them,
    grouped by lot in index order (:func:`.award.negotiate` ranks them within each lot).

    A lot no organisation can take has no offer (it stays unserved). ``barred[k]`` are organisations not
    approached for lot ``failed[k]`` (the parties of the contract that just failed).
    """
    s, P = mk.s, mk.P
    k = int(mk.entered[min(m, len(mk.entered) - 1)])
    base = round_candidates(mk, k, m)
    cw, district = P.county_wide[:k], P.district[:k]
    parts = []
    for n, i in enumerate(failed.tolist()):
        ok = base & (cw | (district == lots.district[i]))
        if barred is not None:
            ok[barred[n][barred[n] < k]] = False
        parts.append(np.flatnonzero(ok))
    org = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    at = np.repeat(failed.astype(np.int64), [len(p) for p in parts])
    value = lots.value[at]
    spare, turnover = spare_and_turnover(mk, org)
    incumbent = (org == lots.incumbent[at]) & s.procurement.competitions.incumbent_relet
    spare = spare + np.where(incumbent, lots.freed[at], 0.0)        # the capacity its expiring contract frees
    ok = (spare >= MIN_REACH_SHARE * value) & proc.meets_turnover(
        turnover, value, s.procurement.admission.min_turnover_multiple, proc.turnover_exempt_below(s.procurement))
    bond, need_cash = bond_needs(mk, org, value)
    ok &= P.in_hand[org] - need_cash >= mk.bid_floor(org)
    w = np.flatnonzero(ok)
    offered = offers(mk, lots, at[w], org[w], spare[w], bond[w])
    return offered.take(np.flatnonzero(offered.valid))


def best_rated(offered: Bids) -> np.ndarray:
    """Offers grouped by lot, the proposal the panel rates best first (ties to the lower organisation number):
    the choice under ``negotiate_by: quality`` and under grants."""
    return np.lexsort((offered.who, -np.round(offered.panel, 9), offered.at))
