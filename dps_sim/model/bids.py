"""Bid rules: what a bid costs, what its writer expects, what it offers, and the panel's score.

Plain functions over arrays, each with its source:

* bid cost scales with pages and falls with skill (seed 003: over a week for a two-year £50k
  tender; CEBR: about £5,800 a bid);
* the written submission mixes true quality, bid-writing skill and evaluator noise (seed 003
  ¶14: "good at youth work but poor at writing bids");
* a bid offers reach up to spare capacity, priced at unit cost plus margin, within the lot's
  budget; under half the target reach it is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from ..scenario.schema import Behaviour
from .finance import bond_price_load
from .market import Market
from .rounds import Bids, Lots
from .streams import keyed_normals

QUALITY_SCALE_MAX = 5.0
"""Top of the panel's quality scale (0 non-compliant, 3 satisfactory, 5 excellent)."""

MIN_REACH_SHARE = 0.5
"""A bid must promise at least this share of the lot's target reach to be valid (assumption)."""

NOISE_ROWS = 7
"""Keyed noise rows per organisation and lot: panel, appetite, margin, ambition, interest, delivery, lottery."""
INTEREST_ROW = 4
"""Drawn first for every candidate; the other rows only for those who get further."""
APPETITE_ROW = 1
"""Drawn for the interested candidates able to bid (the appetite test)."""
BID_ROWS = (0, 2, 3, 5, 6)
"""Drawn for the bids made: panel, margin, ambition, delivery, lottery."""


# --------------------------------------------------------------------------- bid rules


def bid_cost(pages: float, skill: np.ndarray, behaviour: Behaviour) -> np.ndarray:
    """£ cost of writing a bid: fixed hours plus hours per page, falling with skill.

    An average writer (skill 0.5) takes ``bid_hours_fixed + bid_hours_per_page × pages``
    hours; a novice half as long again, an expert half as long (seed 003: over a week for a
    two-year £50k tender; CEBR: about £5,800 per bid).
    """
    hours = behaviour.bid_hours_fixed + behaviour.bid_hours_per_page * pages
    return hours * (1.5 - np.asarray(skill)) * behaviour.hour_cost


def win_chance_estimate(skill: np.ndarray, behaviour: Behaviour, field: np.ndarray | float) -> np.ndarray:
    """A provider's own estimate of its chance: better writers expect to win more often, against the
    competition it expects: the usual ``behaviour.expected_bidders``, or fewer where the lot's ``field``
    (the organisations able and interested in it, itself included) is smaller (``behaviour.rivals``
    "lot"; with "fixed", ``expected_bidders`` on every lot). Not more than the usual where the field is
    larger: a bidder cannot tell which of the interested will in the end bid."""
    rivals = behaviour.expected_bidders
    if behaviour.rivals == "lot":
        rivals = np.minimum(np.maximum(np.asarray(field, float), 1.0), behaviour.expected_bidders)
    return np.minimum(np.maximum((0.5 + np.asarray(skill)) / rivals, 0.02), 0.95)


def assessed_quality(quality: np.ndarray, skill: np.ndarray, noise: np.ndarray, behaviour: Behaviour,
                     clear: np.ndarray | float = 0.0) -> np.ndarray:
    """The panel's 0-5 score: true quality mixed with bid-writing skill, plus evaluator noise.

    ``clear`` (0-1) is how far bid-writing training lets a submission show what the
    organisation really does: it cuts both the weight of writing skill and the noise by
    that share (seed 003 ¶14: training for those "good at youth work but poor at writing
    bids"), so a trained organisation's score is nearer its true quality.
    """
    clear = np.asarray(clear, dtype=float)
    w = behaviour.skill_weight * (1.0 - clear)
    raw = (1 - w) * quality + w * QUALITY_SCALE_MAX * skill + behaviour.evaluator_noise * (1.0 - clear) * noise
    return np.minimum(np.maximum(raw, 0.0), QUALITY_SCALE_MAX)


def clarity(mk: Market, idx: np.ndarray) -> np.ndarray:
    """How clearly each organisation's submissions show its true quality: the training effect if trained, else 0."""
    return np.where(mk.P.trained[idx], mk.s.support.training_clarity, 0.0)


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


def bid_margin(full_cost: np.ndarray, z: np.ndarray, behaviour: Behaviour) -> np.ndarray:
    """Mark-up of a bid's price: over full cost (overheads included) for those who price to full
    cost, never below it; over direct cost for the rest, who leave their overheads unfunded
    (NPC 2022: two-thirds of VCSE contract holders are not paid full cost).
    """
    margin = behaviour.margin_mean + behaviour.margin_sd * np.asarray(z)
    margin = np.where(full_cost, np.maximum(margin, 0.0), margin)
    return np.minimum(np.maximum(margin, -0.12), 0.4)


@lru_cache(maxsize=64)
def interest_threshold(share: float) -> float:
    """Normal quantile of the lot-interest share (a lot interests an organisation when its draw is below)."""
    if share >= 1.0:
        return np.inf
    if share <= 0.0:
        return -np.inf
    return NormalDist().inv_cdf(share)


APPEAL_ROW, APPEAL_INDEX = 7, 2**39
"""Keyed row and counter of a lot's own appeal draw (beyond every organisation's number, so no pair shares it)."""


def lot_appeal(lots: Lots) -> np.ndarray:
    """Each lot's appeal draw: standard normal, keyed by the lot (need and attempt), the same under every policy."""
    return keyed_normals(lots.key, np.full(len(lots), APPEAL_INDEX, np.int64), (APPEAL_ROW,))[0]


def lot_fit(lots: Lots, at: np.ndarray, org: np.ndarray, appeal_sd: float) -> np.ndarray:
    """How well lot ``at`` fits organisation ``org`` (standard normal; lower: better).

    The organisation's own keyed draw ``z₄`` less the lot's appeal ``a`` (district, service
    fit: shared by every organisation), scaled so that the fit stays standard normal:
    ``(z₄ − appeal_sd × a) / √(1 + appeal_sd²)``. ``lot_interest`` thus remains the average
    chance that a lot interests an organisation, while appealing lots interest many at once.
    """
    z = keyed_normals(lots.key[at], org, (INTEREST_ROW,))[0]
    if appeal_sd <= 0:
        return z
    return (z - appeal_sd * lot_appeal(lots)[at]) / np.sqrt(1.0 + appeal_sd**2)


def spare_and_turnover(mk: Market, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spare capacity (£/year of contract work) and turnover (other income plus contract work)."""
    P = mk.P
    committed = P.committed[idx]
    return P.capacity[idx] - committed, P.income[idx] * P.income_factor[idx] + committed



def offers(mk: Market, lots: Lots, at: np.ndarray, who: np.ndarray, spare: np.ndarray, bond: np.ndarray) -> Bids:
    """What organisations ``who`` offer for lots ``at``: price and reach from their costs, margin and ambition,
    and the panel's score of the written submission (keyed draws of the lot and the organisation).

    Used for competitive bids and for negotiated offers alike (the same proposal is written
    either way); ``spare`` is the capacity each can give the lot, ``bond`` the bond it needs.
    """
    s, P = mk.s, mk.P
    beh, pb = s.behaviour, s.contracts.performance_bond
    skill, value, length = P.skill[who], lots.value[at], lots.length[at]
    z = keyed_normals(lots.key[at], who, BID_ROWS)                     # panel, margin, ambition, delivery, lottery
    full = P.full_cost[who]
    margin = bid_margin(full, z[1], beh)
    ambition = np.minimum(np.maximum(1.05 + 0.15 * (skill - 0.5) + beh.ambition_sd * z[2], 0.8), 1.4)
    unit_cost = P.cost_per_user[who]  # direct cost before inflation; bids price in today's costs
    load = bond_price_load(bond, value, pb.premium_rate, pb.arrangement_fee, length)
    priced = unit_cost * np.where(full, 1.0 + s.finance.overhead_rate, 1.0) * mk.cost_factor * (1.0 + load)
    terms = bid_terms(value, lots.reach[at], spare, priced, margin, ambition)
    quality = P.quality[who]
    return Bids(at=at, who=who, price=terms.price, reach=terms.reach, valid=terms.valid,
                panel=assessed_quality(quality, skill, z[0], beh, clarity(mk, who)), quality=quality,
                unit_cost=unit_cost, delivery_z=z[3], lottery_z=z[4])


def pay_bid_costs(mk: Market, who: np.ndarray, cost: np.ndarray) -> None:
    """Bidders pay for their bids now (an organisation may appear once per lot it bids on)."""
    P = mk.P
    np.subtract.at(P.cash, who, cost)
    np.subtract.at(P.in_hand, who, cost)
    np.add.at(P.bid_cost_paid, who, cost)
    np.subtract.at(mk.flows["bid_costs"], who, cost)
    n = np.bincount(who, minlength=P.n).astype(np.int32)
    P.bids += n
    mk.tender.bids_round += n


def learn(mk: Market, who: np.ndarray) -> None:
    """Each bid teaches its writer: skill moves ``learn_per_bid`` of the way to 1, once per bid."""
    P = mk.P
    n = np.bincount(who, minlength=P.n)
    hit = np.flatnonzero(n)
    P.skill[hit] = 1.0 - (1.0 - P.skill[hit]) * (1.0 - mk.s.behaviour.learn_per_bid) ** n[hit]
