"""Tendering: the lots called off each round, who bids, what a bid costs and offers, consortia.

* Call-offs: each round (``every_months`` from ``first_round_month``) calls off new lots and
  the re-lets queued for the month; a lot's district and value are drawn per round from the
  ``lots`` stream.
* Who bids: an organisation in the market (admitted where the route has admission) that
  serves the lot's district, is interested in it, has spare capacity for half its target
  reach, meets the turnover rule (PCR 2015 reg 58), can pay the bid cost and bond collateral
  without crossing its overdraft floor, and expects the bid to be worth its cost.
* One step: all lots of the round are decided together over a lots × candidates table
  (:func:`take_bids`); the bid rules themselves are in :mod:`.bids`, consortia in
  :mod:`.consortia`.
"""

from __future__ import annotations

import numpy as np

from . import procurement as proc
from .bids import (INTEREST_ROW, MIN_REACH_SHARE, NOISE_ROWS, assessed_quality, bid_cost, bid_terms,
                   interest_threshold, learn, pay_bid_costs, spare_and_turnover, win_chance_estimate)
from .consortia import consortium_bids
from .market import OPEN_ENDED, Market
from .population import ACTIVE
from .rounds import Bids, Lots, Round, Team
from .schedule import demand_factor
from .streams import item_key, item_keys, keyed_normals, keyed_uniforms

def is_round_month(mk: Market, m: int) -> bool:
    """Whether month ``m`` calls off a new round of lots."""
    c = mk.s.procurement.competitions
    first = c.first_round_month
    return m >= first and (m - first) % c.every_months == 0 and m < mk.H - 1


def round_candidates(mk: Market, k: int) -> np.ndarray:
    """Organisations that may bid at all this round (in the market, admitted where the route needs it)."""
    P = mk.P
    base = P.status[:k] == ACTIVE
    if proc.has_admission(mk.s.procurement.route):
        base &= P.admitted[:k]
    return base


def call_off_round(mk: Market, m: int, day: float) -> Round | None:
    """Call off this month's lots (the round's new lots and the re-lets queued for it) and take the bids."""
    relets = list(mk.tender.queue.pop(m, []))
    new_round = is_round_month(mk, m)
    if not relets and not new_round:
        return None
    mk.tender.bids_round[:] = 0
    needs = (new_needs(mk, m) if new_round else []) + relets
    lots = call_off(mk, needs, m, day)
    bids, teams = take_bids(mk, lots, m)
    return Round(lots=lots, bids=bids, teams=teams, month=m)


def new_needs(mk: Market, m: int) -> list[int]:
    """The services a new round lets: district and value keyed by round month (``lots`` stream)."""
    s, N = mk.s, mk.needs
    c = s.procurement.competitions
    count = c.first_round_lots if (m == c.first_round_month and c.first_round_lots is not None) else c.lots_per_round
    key, j = item_key(mk.keys["lots"], 0, m), np.arange(count)
    districts = np.minimum((keyed_uniforms(key, j, (0,))[0] * s.market.districts).astype(np.int64), s.market.districts - 1)
    values = c.lot_value.median * np.exp(c.lot_value.sigma * keyed_normals(key, j, (1,))[0])
    surge = demand_factor(mk.shocks, m)
    start = m + 1
    end = OPEN_ENDED if c.retender_on_expiry else start + s.contracts.length_months
    v = values * mk.lot_factor * surge
    return N.add_many(count, district=districts, value=v, reach=v / c.cost_per_user_target, start=start,
                      end=end).tolist()


def call_off(mk: Market, needs: list[int], m: int, day: float) -> Lots:
    """Number the lots, key their noise by need and attempt, and log the call-offs."""
    s, N, T = mk.s, mk.needs, mk.tender
    need = np.asarray(needs, dtype=np.int64)
    attempts = N.attempts[need]
    key = item_keys(T.lot_key, need, attempts)
    N.attempts[need] += 1
    lot = T.n_lots + np.arange(len(need))
    T.n_lots += len(need)
    if m == s.procurement.competitions.first_round_month:
        T.first_round_lots.update(lot.tolist())
    start = np.maximum(N.start[need].astype(np.int64), m + 1)
    length = np.minimum(s.contracts.length_months, np.maximum(1, N.end[need].astype(np.int64) - start))
    lots = Lots(lot=lot, need=need, key=key, value=N.value[need].copy(), reach=N.reach[need].copy(),
                district=N.district[need].astype(np.int64), length=length)
    mk.counters["lots"] += len(need)
    mk.log.add_many("call_off", day, lot=lot, amount=lots.value, value=lots.district.astype(float))
    return lots


def pairs(mk: Market, lots: Lots, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The lots × candidates table: (lot index, organisation) for every candidate serving each lot's district."""
    P = mk.P
    base = round_candidates(mk, k)
    cw = P.county_wide[:k]
    county = np.flatnonzero(base & cw)
    local = np.flatnonzero(base & ~cw)
    local = local[np.argsort(P.district[local], kind="stable")]
    bounds = np.searchsorted(P.district[local], np.arange(mk.s.market.districts + 1))
    parts, counts = [], []
    for d in lots.district.tolist():
        seg = local[bounds[d]:bounds[d + 1]]
        parts += (seg, county)
        counts.append(len(seg) + len(county))
    org = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    at = np.repeat(np.arange(len(lots)), counts)
    return at, org


def take_bids(mk: Market, lots: Lots, m: int) -> tuple[Bids, list[Team]]:
    """Every candidate decides on every lot of the round at once; bids pay their cost now.

    Order-free allowance: an organisation bids on the lots where its expected gain net of the
    bid cost is largest (ties to the lot that fits it best: its keyed interest draw), at most
    ``max_bids_per_round``, each one only if it
    can still pay for it after the round's earlier choices (DESIGN.md "A round is cleared in
    one step"). Listing the lots in another order changes nothing.
    """
    s, P = mk.s, mk.P
    beh, pb = s.behaviour, s.contracts.performance_bond
    at, org = pairs(mk, lots, mk.entered[m])
    keys = lots.key[at]
    fit = keyed_normals(keys, org, (INTEREST_ROW,))[0]         # how well the lot fits (lower: better)
    interested = fit < interest_threshold(beh.lot_interest)
    at, org, keys, fit = at[interested], org[interested], keys[interested], fit[interested]
    value, length = lots.value[at], lots.length[at]
    z = keyed_normals(keys, org, NOISE_ROWS)
    spare, turnover = spare_and_turnover(mk, org)
    ok = (spare >= MIN_REACH_SHARE * value) & proc.meets_turnover(turnover, value, s.procurement.admission.min_turnover_multiple)
    collateral = np.zeros(len(at))
    if s.procurement.route != "grant" and pb.threshold is not None:
        bonded = (value >= pb.threshold) & ~(s.support.bond_waiver & ~P.private[org])
        collateral[bonded] = pb.fraction * value[bonded] * pb.collateral_share
    skill = P.skill[org]
    pages = proc.tender_pages(s.procurement, s.support.paperwork_reduction)
    cost = bid_cost(pages, skill, beh)
    cash, floor = P.cash[org], mk.floor(org)
    ok &= cash - cost - collateral >= floor
    gain = win_chance_estimate(skill, beh) * beh.contract_value_share * value * length / 12.0
    ok &= gain * np.exp(beh.appetite_sd * z[1]) >= cost
    c = np.flatnonzero(ok)
    c = c[np.lexsort((fit[c], cost[c] - gain[c], org[c]))]           # per organisation, best net gain first
    oc = org[c]
    first = np.ones(len(c), bool)
    first[1:] = oc[1:] != oc[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(len(c)), 0))
    rank = np.arange(len(c)) - start
    spent = np.cumsum(cost[c])
    spent -= (spent - cost[c])[start]                                  # this round's bid costs so far, this one included
    keep = (rank < s.procurement.competitions.max_bids_per_round) & (cash[c] - spent - collateral[c] >= floor[c])
    b = np.sort(c[keep])                                               # back to lot order
    who = org[b]
    pay_bid_costs(mk, who, cost[b])
    full = P.full_cost[who]
    margin = np.where(full, beh.margin_mean + 0.05, beh.margin_mean - 0.05) + beh.margin_sd * z[2, b]
    margin = np.minimum(np.maximum(margin, -0.12), 0.4)
    ambition = np.minimum(np.maximum(1.05 + 0.15 * (skill[b] - 0.5) + beh.ambition_sd * z[3, b], 0.8), 1.4)
    unit_cost = P.cost_per_user[who]  # before inflation; bids price in today's costs
    terms = bid_terms(value[b], lots.reach[at[b]], spare[b], unit_cost * mk.cost_factor, margin, ambition)
    quality = P.quality[who]
    bids = Bids(at=at[b], who=who, price=terms.price, reach=terms.reach, valid=terms.valid,
                panel=assessed_quality(quality, skill[b], z[0, b], beh), quality=quality, unit_cost=unit_cost,
                delivery_z=z[5, b], lottery_z=z[6, b])
    learn(mk, who)
    teams: list[Team] = []
    if s.support.consortia and s.procurement.route != "grant":
        bids, teams = consortium_bids(mk, lots, bids, pages, m)
    return bids, teams


