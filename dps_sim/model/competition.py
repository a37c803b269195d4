"""Mini-competitions: who bids, what a bid says, how bids are scored and who wins.

The scoring rules are plain functions so that their tests can cite the rule they check:

* price score = lowest price ÷ bid price × weight (Crown Commercial Service worked example:
  £10k, £15k, £30k score 1, 0.667, 0.333 of the weight);
* reach score = bid reach ÷ highest reach × weight;
* quality score = panel score on the 0-5 scale ÷ 5 × weight;
* highest total wins; ties go to the higher quality score, then to the earlier bid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scenario.schema import Behaviour, Weights

QUALITY_SCALE_MAX = 5.0
"""Top of the panel's quality scale (0 non-compliant, 3 satisfactory, 5 excellent)."""

MIN_REACH_SHARE = 0.5
"""A bid must promise at least this share of the lot's target reach to be valid (assumption)."""


# --------------------------------------------------------------------------- scoring rules


def price_scores(prices: np.ndarray, weight: float, formula: str = "lowest_over_bid") -> np.ndarray:
    """Price score of each bid: lowest ÷ bid × weight, or linear distance from the lowest."""
    prices = np.asarray(prices, dtype=float)
    lowest = prices.min()
    if formula == "lowest_over_bid":
        return lowest / prices * weight
    if formula == "linear":
        return np.clip(1.0 - (prices - lowest) / lowest, 0.0, 1.0) * weight
    raise ValueError(f"unknown price formula {formula!r}")


def reach_scores(reach: np.ndarray, weight: float) -> np.ndarray:
    """Reach score of each bid: bid reach ÷ highest reach × weight."""
    reach = np.asarray(reach, dtype=float)
    return reach / reach.max() * weight


def quality_scores(panel: np.ndarray, weight: float) -> np.ndarray:
    """Quality score of each bid: panel score (0-5) ÷ 5 × weight."""
    return np.asarray(panel, dtype=float) / QUALITY_SCALE_MAX * weight


def total_scores(prices: np.ndarray, reach: np.ndarray, panel: np.ndarray, weights: Weights,
                 formula: str = "lowest_over_bid") -> tuple[np.ndarray, np.ndarray]:
    """Total score of each bid and its quality part."""
    q = quality_scores(panel, weights.quality)
    total = q + reach_scores(reach, weights.reach) + price_scores(prices, weights.price, formula)
    return total, q


def winner(total: np.ndarray, quality: np.ndarray) -> int:
    """Index of the winning bid: highest total, ties to the higher quality score, then the first."""
    total = np.round(np.asarray(total, dtype=float), 9)
    best = np.flatnonzero(total == total.max())
    if len(best) == 1:
        return int(best[0])
    q = np.asarray(quality)[best]
    return int(best[np.flatnonzero(q == q.max())[0]])


# --------------------------------------------------------------------------- bids


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
