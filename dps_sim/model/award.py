"""Award: scoring the bids, the checks at award, the contract, and failed competitions.

The scoring rules are plain functions so that their tests can cite the rule they check:

* price score = lowest price ÷ bid price × weight (Crown Commercial Service worked example:
  £10k, £15k, £30k score 1, 0.667, 0.333 of the weight);
* reach score = bid reach ÷ highest reach × weight;
* quality score = panel score on the 0-5 scale ÷ 5 × weight;
* highest total wins; ties go to the higher quality score, then to the earlier bid.

At award the winner must still be in the market, have spare capacity for the price and cash
for the bond collateral (10% of annual value at or above the threshold, seed 000: £200k);
otherwise the next bidder is tried. A lot with no valid bid is a failed competition and is
re-run once at the next round, then left unserved.
"""

from __future__ import annotations

import numpy as np

from ..scenario.schema import Weights
from . import finance as fin
from .market import Market
from .population import ACTIVE
from .tendering import QUALITY_SCALE_MAX

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


# --------------------------------------------------------------------------- the award

BID_COLUMNS = ("who", "price", "reach", "panel", "valid", "quality", "unit_cost", "delivery_z", "lottery_z")


def close_round(mk: Market, lots: list[dict], day: float) -> None:
    """Award every lot of a round whose tender window has closed."""
    for lot in lots:
        award(mk, lot, day)


def award(mk: Market, lot: dict, day: float) -> None:
    """Score the valid bids and award the lot to the best bidder still able to take it."""
    s, P, counters = mk.s, mk.P, mk.counters
    b, cons = lot["bids"], lot["consortium"]
    if cons is None:
        who, price, reach, panel, valid, quality, unit, dz, lz = (b[c] for c in BID_COLUMNS)
    else:
        who, price, reach, panel, valid, quality, unit, dz, lz = (
            np.concatenate([b[c], [-1] if c == "who" else cons[c]]) for c in BID_COLUMNS)
    n_bids = len(who)
    counters["lots_closed"] += 1
    if n_bids == 0:
        failed_competition(mk, lot, day)
        return
    band = np.where(who >= 0, P.band[np.maximum(who, 0)], 0)  # a consortium counts as a small bidder
    small = band <= 1
    counters["bids"] += n_bids
    counters["bids_small"] += int(small.sum())
    counters["unopposed_lots"] += n_bids == 1
    mk.log.add_many("bid", day, provider=who, lot=lot["lot"], amount=price, value=panel)
    if small.any():
        counters["assess_gap_small_sum"] += float((quality[small] - panel[small]).sum())
        counters["assess_gap_small_n"] += int(small.sum())
    idx = np.flatnonzero(valid)
    if len(idx) == 0:
        failed_competition(mk, lot, day)
        return
    if s.procurement.route == "grant":
        order = idx[np.argsort(lz[idx], kind="stable")]  # a lottery among eligible applicants
    else:
        c = s.procurement.competitions
        total, qs = total_scores(price[idx], reach[idx], panel[idx], c.weights, c.price_formula)
        mk.log.add_many("score", day, provider=who[idx], lot=lot["lot"], value=total)
        order = idx[np.lexsort((np.arange(len(idx)), -np.round(qs, 9), -np.round(total, 9)))]
    for j in order:
        if try_award(mk, lot, int(who[j]), float(price[j]), float(reach[j]), float(panel[j]), float(quality[j]),
                     float(unit[j]), float(dz[j]), day):
            return
    failed_competition(mk, lot, day)


def try_award(mk: Market, lot: dict, provider: int, price: float, reach: float, panel: float, quality: float,
              unit: float, delivery_z: float, day: float) -> bool:
    """Award to one bidder if it is still in the market with room and cash for the bond collateral."""
    s, P, C, N, Pt = mk.s, mk.P, mk.contracts, mk.needs, mk.parties
    pb = s.contracts.performance_bond
    cons = lot["consortium"] if provider < 0 else None
    lead = int(cons["team"][0]) if cons is not None else provider
    if P.status[lead] != ACTIVE:
        return False
    team = cons["team"] if cons is not None else (lead,)
    shares = cons["shares"] if cons is not None else (1.0,)
    if cons is None and P.capacity[lead] - P.committed[lead] < price:
        return False
    if cons is not None:
        if (P.status[team] != ACTIVE).any():
            return False
        if (P.capacity[team] - P.committed[team]).clip(min=0).sum() < price:
            return False
    waived = s.support.bond_waiver and not P.private[lead]
    grant = s.procurement.route == "grant"
    bond = 0.0 if grant else float(fin.bond_amount(price, pb.threshold, pb.fraction, waived))
    collateral = bond * pb.collateral_share
    if P.cash[lead] - collateral < mk.floor(lead):
        return False
    need = lot["need"]
    start = max(int(N.start[need]), int(fin.month_of(day)) + 1)
    terms = fin.TERMS.index(s.contracts.payment.terms)
    if grant or (s.support.upfront_below is not None and price < s.support.upfront_below):
        terms = fin.ADVANCE  # grants, and small contracts under the up-front support policy
    delivery = min(1.15, max(0.3, 0.75 + 0.07 * quality + s.behaviour.delivery_sd * delivery_z))
    c = C.add(need=need, lot=lot["lot"], lead=lead, consortium=cons is not None, annual_value=price,
              original_value=price, start=start, end=start + lot["length"], terms=terms, reach=reach,
              unit_cost=unit, quality=quality, assessed=panel, delivery=delivery, bond=bond, collateral=collateral)
    N.failures[need] = 0
    total_value = price * lot["length"] / 12.0
    small_share = 0.0
    for who, share in zip(team, shares):
        Pt.add(contract=c, provider=int(who), share=float(share))
        P.committed[who] += share * price
        P.value_won[who] += share * total_value
        P.wins[who] += 1
        P.skill[who] += s.behaviour.learn_per_win * (1.0 - P.skill[who])
        small_share += share if P.band[who] <= 1 else 0.0
    if collateral > 0:
        P.cash[lead] -= collateral
        P.collateral[lead] += collateral
        mk.flows["collateral_locked"][lead] -= collateral
    if s.procurement.winner_fee_rate > 0:
        fee = s.procurement.winner_fee_rate * price
        P.cash[lead] -= fee
        mk.flows["fees"][lead] -= fee
        mk.book.fees += fee
        C.fee[c] = fee
        mk.log.add("winner_fee", day, provider=lead, contract=c, amount=fee)
    mk.counters["awards"] += 1
    mk.counters["awarded_value"] += total_value
    mk.counters["awarded_value_small"] += small_share * total_value
    if lot["lot"] in mk.tender.first_round_lots:
        mk.tender.first_round_winners.add(lead)
    mk.log.add("award", day, provider=lead, lot=lot["lot"], contract=c, amount=price, value=panel)
    return True


def failed_competition(mk: Market, lot: dict, day: float) -> None:
    """No valid bid: re-run the lot at the next round once, then leave the need unserved."""
    s, N = mk.s, mk.needs
    need = lot["need"]
    mk.counters["failed_competitions"] += 1
    mk.log.add("failed_competition", day, lot=lot["lot"], amount=lot["value"])
    c = s.procurement.competitions
    N.failures[need] += 1
    if c.rerun_failed and N.failures[need] < 2:
        m = int(fin.month_of(day)) + 1
        first = c.first_round_month
        nxt = first + max(0, -(-(m - first) // c.every_months)) * c.every_months
        if nxt < mk.H - 1:
            mk.tender.queue.setdefault(nxt, []).append(need)
