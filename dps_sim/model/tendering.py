"""Tendering: the lots called off each round, who bids, what a bid costs and offers, consortia.

* Call-offs: each round (``every_months`` from ``first_round_month``) calls off new lots and
  the re-lets queued for the month; a lot's district and value are drawn per round from the
  ``lots`` stream.
* Who bids: an organisation in the market (admitted where the route has admission) that
  serves the lot's district, is interested in it, has spare capacity for half its target
  reach, meets the turnover rule (PCR 2015 reg 58), can pay the bid cost and bond collateral
  without crossing its overdraft floor, and expects the bid to be worth its cost.
* Bid cost scales with pages and falls with skill (seed 003: over a week for a two-year
  £50k tender; CEBR: about £5,800 a bid); the written submission mixes true quality,
  bid-writing skill and evaluator noise (seed 003 ¶14: "good at youth work but poor at
  writing bids").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from ..scenario.schema import Behaviour
from . import finance as fin
from . import procurement as proc
from .market import OPEN_ENDED, Market
from .population import ACTIVE
from .shocks import demand_factor
from .streams import item_key, keyed_normals, substream

QUALITY_SCALE_MAX = 5.0
"""Top of the panel's quality scale (0 non-compliant, 3 satisfactory, 5 excellent)."""

MIN_REACH_SHARE = 0.5
"""A bid must promise at least this share of the lot's target reach to be valid (assumption)."""

NOISE_ROWS = 7
"""Keyed noise rows per organisation and lot: panel, appetite, margin, ambition, interest, delivery, lottery."""
INTEREST_ROW = 4
"""Drawn first for every candidate; the other rows only for the interested."""


# --------------------------------------------------------------------------- bid rules


def bid_cost(pages: float, skill: np.ndarray, behaviour: Behaviour) -> np.ndarray:
    """£ cost of writing a bid: fixed hours plus hours per page, falling with skill.

    An average writer (skill 0.5) takes ``bid_hours_fixed + bid_hours_per_page × pages``
    hours; a novice half as long again, an expert half as long (seed 003: over a week for a
    two-year £50k tender; CEBR: about £5,800 per bid).
    """
    hours = behaviour.bid_hours_fixed + behaviour.bid_hours_per_page * pages
    return hours * (1.5 - np.asarray(skill)) * behaviour.hour_cost


def win_chance_estimate(skill: np.ndarray, behaviour: Behaviour) -> np.ndarray:
    """A provider's own estimate of its chance: better writers expect to win more often."""
    return np.minimum(np.maximum((0.5 + np.asarray(skill)) / behaviour.expected_bidders, 0.02), 0.95)


def assessed_quality(quality: np.ndarray, skill: np.ndarray, noise: np.ndarray, behaviour: Behaviour) -> np.ndarray:
    """The panel's 0-5 score: true quality mixed with bid-writing skill, plus evaluator noise."""
    w = behaviour.skill_weight
    raw = (1 - w) * quality + w * QUALITY_SCALE_MAX * skill + behaviour.evaluator_noise * noise
    return np.minimum(np.maximum(raw, 0.0), QUALITY_SCALE_MAX)


@dataclass(frozen=True)
class BidTerms:
    """Price (£/year) and promised reach (users/year) of a set of bids."""

    price: np.ndarray
    reach: np.ndarray
    valid: np.ndarray


def bid_terms(lot_value: float, target_reach: float, spare_capacity: np.ndarray, cost_per_user: np.ndarray,
              margin: np.ndarray, ambition: np.ndarray) -> BidTerms:
    """What each bidder offers: reach up to its spare capacity (£/year), priced at cost plus margin.

    A bid may not exceed the lot's budget: a bidder whose price would exceed it promises
    less reach instead. A bid promising under half the target reach is invalid.
    """
    unit_price = cost_per_user * (1.0 + margin)
    # capacity is measured in £ a year of contract value, the unit of the price
    reach = np.minimum(np.minimum(spare_capacity, lot_value) / unit_price, target_reach * ambition)
    price = reach * unit_price
    valid = (reach >= MIN_REACH_SHARE * target_reach) & (price > 0)
    return BidTerms(price=price, reach=reach, valid=valid)


def split_by_capacity(spare: np.ndarray, needed: float) -> np.ndarray:
    """Shares of a consortium's work, in proportion to each party's spare capacity."""
    spare = np.maximum(np.asarray(spare, dtype=float), 0.0)
    total = spare.sum()
    if total <= 0:
        return np.full(len(spare), 1.0 / len(spare))
    return spare / total


@lru_cache(maxsize=64)
def interest_threshold(share: float) -> float:
    """Normal quantile of the lot-interest share (a lot interests an organisation when its draw is below)."""
    if share >= 1.0:
        return np.inf
    if share <= 0.0:
        return -np.inf
    return NormalDist().inv_cdf(share)


def spare_and_turnover(mk: Market, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spare capacity (£/year of contract work) and turnover (other income plus contract work)."""
    P = mk.P
    committed = P.committed[idx]
    return P.capacity[idx] - committed, P.income[idx] * P.income_factor[idx] + committed


# --------------------------------------------------------------------------- the round


def is_round_month(mk: Market, m: int) -> bool:
    """Whether month ``m`` calls off a new round of lots."""
    c = mk.s.procurement.competitions
    first = c.first_round_month
    return m >= first and (m - first) % c.every_months == 0 and m < mk.H - 1


def call_off_round(mk: Market, m: int, day: float) -> list[dict]:
    """Call off this month's lots: the round's new lots plus any re-lets queued for this month."""
    s, N = mk.s, mk.needs
    c = s.procurement.competitions
    k = mk.entered[m]
    lots: list[dict] = []
    relets = list(mk.tender.queue.pop(m, []))
    new_round = is_round_month(mk, m)
    if not relets and not new_round:
        return lots
    mk.tender.bids_round[:] = 0
    base = round_candidates(mk, k)
    if new_round:
        count = c.first_round_lots if (m == c.first_round_month and c.first_round_lots is not None) else c.lots_per_round
        g = substream(mk.root, "lots", 0, m)
        districts = g.integers(0, s.market.districts, size=count)
        values = c.lot_value.median * np.exp(c.lot_value.sigma * g.standard_normal(count))
        surge = demand_factor(mk.shocks, m)
        for j in range(count):
            v = float(values[j]) * mk.lot_factor * surge
            start = m + 1
            end = OPEN_ENDED if c.retender_on_expiry else start + s.contracts.length_months
            need = N.add(district=int(districts[j]), value=v, reach=v / c.cost_per_user_target, start=start, end=end)
            lots.append(call_off(mk, need, m, day, base))
    for need in relets:
        lots.append(call_off(mk, need, m, day, base))
    return lots


def round_candidates(mk: Market, k: int) -> np.ndarray:
    """Organisations that may bid at all this round (in the market, admitted where the route needs it)."""
    P = mk.P
    base = P.status[:k] == ACTIVE
    if proc.has_admission(mk.s.procurement.route):
        base &= P.admitted[:k]
    return base


def call_off(mk: Market, need: int, m: int, day: float, base: np.ndarray) -> dict:
    """Call off one lot: every eligible organisation decides whether to bid; bids pay their cost now."""
    s, P, N, T = mk.s, mk.P, mk.needs, mk.tender
    lot = T.n_lots
    T.n_lots += 1
    key = item_key(T.lot_key, need, int(N.attempts[need]))
    N.attempts[need] += 1
    if m == s.procurement.competitions.first_round_month:
        T.first_round_lots.add(lot)
    value, reach, district = float(N.value[need]), float(N.reach[need]), int(N.district[need])
    length = min(s.contracts.length_months, max(1, int(N.end[need]) - max(int(N.start[need]), m + 1)))
    mk.counters["lots"] += 1
    mk.log.add("call_off", day, lot=lot, amount=value, value=float(district))
    k = len(base)
    cand = base & (P.county_wide[:k] | (P.district[:k] == district))
    cand &= T.bids_round[:k] < s.procurement.competitions.max_bids_per_round
    idx = np.flatnonzero(cand)
    idx = idx[keyed_normals(key, idx, (INTEREST_ROW,))[0] < interest_threshold(s.behaviour.lot_interest)]
    z = keyed_normals(key, idx, NOISE_ROWS)
    pages = proc.tender_pages(s.procurement, s.support.paperwork_reduction)
    bids = decide_bids(mk, idx, value, reach, length, pages, z)
    cons = None
    if s.support.consortia and s.procurement.route != "grant":
        cons = consortium_bid(mk, district, value, reach, length, pages, key, k, bids["who"])
    return dict(lot=lot, need=need, value=value, reach=reach, length=length, bids=bids, consortium=cons, key=key,
                month=m)


def pay_bid_costs(mk: Market, who: np.ndarray, cost: np.ndarray) -> None:
    """Bidders pay for their bids now; each bid counts against the round's allowance."""
    P = mk.P
    P.cash[who] -= cost
    P.bid_cost_paid[who] += cost
    mk.flows["bid_costs"][who] -= cost
    P.bids[who] += 1
    mk.tender.bids_round[who] += 1


def decide_bids(mk: Market, idx: np.ndarray, value: float, reach: float, length: int, pages: float,
                z: np.ndarray) -> dict:
    """Who bids among the candidates, and what they offer (price, reach, assessed quality).

    ``z`` holds the lot's keyed noise for the candidates, one column per candidate.
    """
    s, P = mk.s, mk.P
    beh, pb = s.behaviour, s.contracts.performance_bond
    spare, turnover = spare_and_turnover(mk, idx)
    ok = (spare >= MIN_REACH_SHARE * value) & proc.meets_turnover(turnover, value, s.procurement.admission.min_turnover_multiple)
    if s.procurement.route != "grant" and pb.threshold is not None and value >= pb.threshold:
        waived = s.support.bond_waiver & ~P.private[idx]
        collateral = np.where(waived, 0.0, pb.fraction * value * pb.collateral_share)
    else:
        collateral = 0.0
    skill = P.skill[idx]
    cost = bid_cost(pages, skill, beh)
    ok &= P.cash[idx] - cost - collateral >= mk.floor(idx)
    gain = win_chance_estimate(skill, beh) * beh.contract_value_share * value * length / 12.0
    ok &= gain * np.exp(beh.appetite_sd * z[1]) >= cost
    who, cost, spare, z = idx[ok], cost[ok], spare[ok], z[:, ok]
    pay_bid_costs(mk, who, cost)
    skill = P.skill[who]
    margin = np.where(P.full_cost[who], beh.margin_mean + 0.05, beh.margin_mean - 0.05) + beh.margin_sd * z[2]
    margin = np.minimum(np.maximum(margin, -0.12), 0.4)
    ambition = np.minimum(np.maximum(1.05 + 0.15 * (skill - 0.5) + beh.ambition_sd * z[3], 0.8), 1.4)
    unit_cost = P.cost_per_user[who]  # before inflation; bids price in today's costs
    terms = bid_terms(value, reach, spare, unit_cost * mk.cost_factor, margin, ambition)
    quality = P.quality[who]
    panel = assessed_quality(quality, skill, z[0], beh)
    P.skill[who] = skill + beh.learn_per_bid * (1.0 - skill)
    return dict(who=who, price=terms.price, reach=terms.reach, valid=terms.valid, panel=panel, quality=quality,
                unit_cost=unit_cost, delivery_z=z[5], lottery_z=z[6])


def consortium_bid(mk: Market, district: int, value: float, reach: float, length: int, pages: float, key: int,
                   k: int, bidding: np.ndarray) -> dict | None:
    """Small VCSE organisations join a lead that could not bid alone (seed 000: 5 core, 23 associates)."""
    s, P = mk.s, mk.P
    beh, sup, pb = s.behaviour, s.support, s.contracts.performance_bond
    here = (P.status[:k] == ACTIVE) & (P.county_wide[:k] | (P.district[:k] == district)) & ~P.private[:k]
    here[bidding] = False
    room = mk.tender.bids_round[:k] < s.procurement.competitions.max_bids_per_round
    lead_ok = here & room & (P.band[:k] >= 2)
    if proc.has_admission(s.procurement.route):
        lead_ok &= P.admitted[:k]
    leads = np.flatnonzero(lead_ok)
    member_cost = bid_cost(pages * 0.25, P.skill[:k], beh)
    floor = mk.floor(slice(0, k))
    members = np.flatnonzero(here & room & (P.band[:k] <= 1) & (P.cash[:k] - member_cost >= floor))
    if len(leads) == 0 or len(members) == 0:
        return None
    lead = int(leads[np.argmax(P.skill[leads])])
    members = members[np.argsort(-P.quality[members], kind="stable")][: sup.consortium_members]
    team = np.concatenate([[lead], members])
    spare, turnover = spare_and_turnover(mk, team)
    spare = spare.clip(min=0)
    if spare.sum() < MIN_REACH_SHARE * value or not proc.meets_turnover(turnover.sum(), value, s.procurement.admission.min_turnover_multiple):
        return None
    bond = float(fin.bond_amount(value, pb.threshold, pb.fraction, sup.bond_waiver))
    costs = np.concatenate([bid_cost(pages, P.skill[[lead]], beh), bid_cost(pages * 0.25, P.skill[members], beh)])
    if P.cash[lead] - costs[0] - bond * pb.collateral_share < mk.floor(lead):
        return None
    shares = split_by_capacity(spare, value)
    unit_cost = float((shares * P.cost_per_user[team]).sum())
    pay_bid_costs(mk, team, costs)
    z = keyed_normals(key, np.array([lead]), NOISE_ROWS)[:, 0]
    margin = float(np.clip(beh.margin_mean + (0.05 if P.full_cost[lead] else -0.05) + beh.margin_sd * z[2], -0.12, 0.4))
    ambition = float(np.clip(1.05 + 0.15 * (P.skill[lead] - 0.5) + beh.ambition_sd * z[3], 0.8, 1.4))
    terms = bid_terms(value, reach, np.array([spare.sum()]), np.array([unit_cost * mk.cost_factor]),
                      np.array([margin]), np.array([ambition]))
    quality = float((shares * P.quality[team]).sum())
    panel = assessed_quality(np.array([quality]), P.skill[[lead]], z[[0]], beh)
    return dict(team=team, shares=shares, price=terms.price, reach=terms.reach, valid=terms.valid, panel=panel,
                quality=np.array([quality]), unit_cost=np.array([unit_cost]), delivery_z=z[[5]], lottery_z=z[[6]])
