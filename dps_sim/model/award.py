"""Award: scoring the bids, the checks at award, the contract, and failed competitions.

The scoring rules are plain functions so that their tests can cite the rule they check:

* price score = lowest price ÷ bid price × weight (Crown Commercial Service worked example:
  £10k, £15k, £30k score 1, 0.667, 0.333 of the weight);
* reach score = bid reach ÷ highest reach × weight;
* quality score = panel score on the 0-5 scale ÷ 5 × weight;
* highest total wins; ties go to the higher quality score, then to the lower organisation
  number (a fixed, arbitrary order).

A round's lots close together and are awarded in one pass (DESIGN.md "A round is cleared in
one step"): lots in order of value, largest first (ties by lot key), each to its best-ranked
bidder still able to take it: in the market, with spare capacity for the price and cash for
the bond collateral (10% of annual value at or above the threshold, seed 000: £200k). An
organisation best on more lots than it can take so wins the largest it can, and the other
lots go to their next bidders. Listing the lots in another order changes nothing. A lot with
no valid bid is a failed competition and is re-run once at the next round; if that fails too it
is negotiated with one organisation (a single tender, :mod:`.negotiation`) or left unserved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..scenario.schema import Weights
from . import finance as fin
from .bids import QUALITY_SCALE_MAX
from .budget import schedule
from .consortia import freed_by_expiring
from .market import Market
from .negotiation import able_offers, best_rated
from .population import ACTIVE
from .rounds import Lots, Round
from .stores import LIVE
from .streams import item_keys

# --------------------------------------------------------------------------- scoring rules


def price_scores(prices: np.ndarray, weight: float, formula: str = "lowest_over_bid",
                 lowest: np.ndarray | float | None = None) -> np.ndarray:
    """Price score of each bid: lowest ÷ bid × weight, or linear distance from the lowest.

    ``lowest`` is the lowest valid price of each bid's lot (default: of these bids).
    """
    prices = np.asarray(prices, dtype=float)
    lowest = prices.min() if lowest is None else lowest
    if formula == "lowest_over_bid":
        return lowest / prices * weight
    if formula == "linear":
        return np.clip(1.0 - (prices - lowest) / lowest, 0.0, 1.0) * weight
    raise ValueError(f"unknown price formula {formula!r}")


def reach_scores(reach: np.ndarray, weight: float, highest: np.ndarray | float | None = None) -> np.ndarray:
    """Reach score of each bid: bid reach ÷ highest reach × weight (``highest`` of each bid's lot)."""
    reach = np.asarray(reach, dtype=float)
    return reach / (reach.max() if highest is None else highest) * weight


def quality_scores(panel: np.ndarray, weight: float) -> np.ndarray:
    """Quality score of each bid: panel score (0-5) ÷ 5 × weight."""
    return np.asarray(panel, dtype=float) / QUALITY_SCALE_MAX * weight


def total_scores(prices: np.ndarray, reach: np.ndarray, panel: np.ndarray, weights: Weights,
                 formula: str = "lowest_over_bid", lowest: np.ndarray | None = None,
                 highest: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Total score of each bid and its quality part (``lowest``/``highest``: per bid, of its lot)."""
    q = quality_scores(panel, weights.quality)
    total = q + reach_scores(reach, weights.reach, highest) + price_scores(prices, weights.price, formula, lowest)
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


def best_first(mk: Market, rnd: Round) -> tuple[np.ndarray, np.ndarray | None]:
    """The valid bids of a round, grouped by lot, best first within each lot by the lot's award rule (the
    lottery for grants); and the total score of every valid bid, in bid order (None for grants)."""
    s, B = mk.s, rnd.bids
    v = np.flatnonzero(B.valid)
    at = B.at[v]
    if s.procurement.route == "grant":
        return v[np.lexsort((B.who[v], B.lottery_z[v], at))], None  # a lottery among eligible applicants
    n = len(rnd.lots)
    lowest, highest = np.full(n, np.inf), np.zeros(n)
    np.minimum.at(lowest, at, B.price[v])
    np.maximum.at(highest, at, B.reach[v])
    c = s.procurement.competitions
    total, qs = total_scores(B.price[v], B.reach[v], B.panel[v], c.weights, c.price_formula, lowest[at], highest[at])
    return v[np.lexsort((B.who[v], -np.round(qs, 9), -np.round(total, 9), at))], total


def ranked_bids(mk: Market, rnd: Round, day: float) -> np.ndarray:
    """The valid bids of a round, grouped by lot, best first within each lot; their scores are logged."""
    order, total = best_first(mk, rnd)
    if total is not None:
        v = np.flatnonzero(rnd.bids.valid)
        mk.log.add_many("score", day, provider=rnd.bids.who[v], lot=rnd.lots.lot[rnd.bids.at[v]], value=total)
    return order


def count_bids(mk: Market, rnd: Round, day: float) -> None:
    """Bids per lot, single-bid lots, small bidders and their assessed-versus-true quality gap."""
    P, B, counters = mk.P, rnd.bids, mk.counters
    who = B.who
    small = np.ones(len(who), bool)  # a consortium counts as a small bidder
    own = who >= 0
    small[own] = P.band[who[own]] <= 1
    counts = np.bincount(B.at, minlength=len(rnd.lots))
    counters["lots_closed"] += len(rnd.lots)
    counters["bids"] += len(who)
    counters["bids_small"] += int(small.sum())
    counters["unopposed_lots"] += int((counts == 1).sum())
    counters["lots_with_bids"] += int((counts >= 1).sum())
    L = rnd.lots
    counters["relets_expiry"] += int((L.incumbent >= 0).sum())
    own = (B.who == L.incumbent[B.at]) & (L.incumbent[B.at] >= 0)    # the incumbent bid alone for its re-let
    counters["relets_incumbent_bid"] += len(np.unique(B.at[own]))
    mk.log.add_many("bid", day, provider=who, lot=rnd.lots.lot[B.at], amount=B.price, value=B.panel)
    if small.any():
        counters["assess_gap_small_sum"] += float((B.quality[small] - B.panel[small]).sum())
        counters["assess_gap_small_n"] += int(small.sum())


CONTRACT_COLUMNS = ("need", "lot", "lead", "consortium", "annual_value", "original_value", "start", "end", "terms",
                    "reach", "unit_cost", "quality", "assessed", "delivery", "bond", "collateral", "fee", "awarded",
                    "switched", "interim")


@dataclass
class Awards:
    """A round's awards, collected in one pass and written to the stores and the log together."""

    first_month: int                  # the month after the tender window closes: earliest start
    interim: bool = False             # interim cover of a failed contract's service (contracts.interim_cover)
    rows: list[tuple] = field(default_factory=list)
    parties: list[tuple[int, int, float, float]] = field(default_factory=list)

    def flush(self, mk: Market, day: float) -> None:
        if not self.rows:
            return
        cols = dict(zip(CONTRACT_COLUMNS, (np.array(col) for col in zip(*self.rows))))
        c = mk.contracts.add_many(len(self.rows), **cols)
        pc, who, share, pay = (np.array(col) for col in zip(*self.parties))
        mk.parties.add_many(len(self.parties), contract=pc, provider=who, share=share, pay_share=pay)
        fee = cols["fee"] > 0
        if fee.any():
            mk.log.add_many("winner_fee", day, provider=cols["lead"][fee], contract=c[fee], amount=cols["fee"][fee])
        mk.log.add_many("award", day, provider=cols["lead"], lot=cols["lot"], contract=c, amount=cols["annual_value"],
                        value=cols["assessed"])


def award_bonds(mk: Market, lead: np.ndarray, price: np.ndarray) -> np.ndarray:
    """The performance bond each award would need, from its price: none under a grant, none below the
    threshold, none where the waiver covers a VCSE lead (seed 000: 10% of annual value at £200k or more)."""
    s, pb = mk.s, mk.s.contracts.performance_bond
    if s.procurement.route == "grant":
        return np.zeros(len(lead))
    return fin.bond_amount(price, pb.threshold, pb.fraction, s.support.bond_waiver & ~mk.P.private[lead])


def close_round(mk: Market, rnd: Round, day: float) -> None:
    """Award every lot of a round in one pass: largest lots first, each to its best bidder able to take it."""
    s, L, B = mk.s, rnd.lots, rnd.bids
    count_bids(mk, rnd, day)
    order = ranked_bids(mk, rnd, day)
    starts = np.searchsorted(B.at[order], np.arange(len(L) + 1))
    lead = np.where(B.who >= 0, B.who, 0)
    for t, team in enumerate(rnd.teams):
        lead[B.who == -1 - t] = team.team[0]
    bond = award_bonds(mk, lead, B.price)
    awards = Awards(first_month=int(fin.month_of(day)) + 1)
    taper = s.contracts.taper_per_year
    unserved = []
    for i in np.lexsort((L.key, -L.value)).tolist():
        if mk.budget.active:  # the lot's earmark gives way to the contract's own commitment
            mk.budget.release(*schedule(int(L.start[i]), int(L.length[i]), float(L.value[i]), taper))
        for j in order[starts[i]:starts[i + 1]].tolist():
            if try_award(mk, rnd, i, j, float(bond[j]), awards, day):
                mk.counters["relets_retained"] += int(L.incumbent[i] >= 0 and lead[j] == L.incumbent[i])
                break
        else:
            if not failed_competition(mk, rnd, i, day):
                unserved.append(i)
    if unserved and s.procurement.competitions.negotiate_failed:
        mk.counters["negotiated_awards"] += negotiate(mk, rnd, np.array(unserved, np.int64), awards, day)
    awards.flush(mk, day)


def negotiate(mk: Market, rnd: Round, unserved: np.ndarray, awards: Awards, day: float,
              barred: list[np.ndarray] | None = None, event: str = "negotiated_award") -> int:
    """Lots that would be left unserved, largest first, each to the organisation whose offer is best among those
    able to take it, or the next best if it can no longer (a single tender: PCR 2015 reg 32(2)(a), PA 2023 s. 43;
    :mod:`.negotiation`), after every competitive award of the round. Best: by the lot's own award criteria
    (``negotiate_by: award_criteria``, competitive routes) or by the panel's view of the proposal alone
    (``quality``, and always under grants). Returns the number awarded."""
    L = rnd.lots
    offered = able_offers(mk, L, unserved, awards.first_month - 1, barred)
    s = mk.s
    if s.procurement.competitions.negotiate_by == "award_criteria" and s.procurement.route != "grant":
        offered = offered.take(best_first(mk, Round(lots=L, bids=offered, teams=[]))[0])   # the lot's own criteria
    else:        # the proposal rated best (grants: the council picks a known organisation, not by lottery)
        offered = offered.take(best_rated(offered))
    bond = award_bonds(mk, offered.who, offered.price)
    single = Round(lots=L, bids=offered, teams=[])
    starts = np.searchsorted(offered.at, np.arange(len(L) + 1))
    done = 0
    for i in unserved[np.lexsort((L.key[unserved], -L.value[unserved]))].tolist():
        for j in range(starts[i], starts[i + 1]):
            if try_award(mk, single, i, j, float(bond[j]), awards, day):
                done += 1
                mk.counters["relets_retained"] += int(L.incumbent[i] >= 0 and offered.who[j] == L.incumbent[i])
                mk.log.add(event, day, provider=int(offered.who[j]), lot=int(L.lot[i]), amount=float(offered.price[j]))
                break
    return done


COVER_ATTEMPT = 2**40
"""Offset of a cover's attempt number in its keyed draws, so that the re-let it covers for draws the same
numbers whether or not there was a cover (common random numbers across ``interim_cover``)."""


def arrange_covers(mk: Market, m: int, day: float) -> None:
    """The month's failed services, each covered while it is re-let, from next month until its re-let starts:
    an interim contract negotiated with the organisation whose offer is best among those able, never a
    party of the failed contract (seed 003 item 7 ¶12, F30: "there should never be a break in service
    delivery as there is always an opportunity to use another organisation"). Arranged after the month's
    exits and reviews, so that nobody terminated or insolvent this month is approached; largest first."""
    covers = [(f, r) for f, r in mk.tender.covers if r > m + 1]
    mk.tender.covers = []
    if not covers or m + 1 >= mk.H:
        return
    N, T, Pt = mk.needs, mk.tender, mk.parties
    failed = np.array([f for f, _ in covers], np.int64)
    need = mk.contracts.need[failed].astype(np.int64)
    key = item_keys(T.lot_key, need, N.attempts[need].astype(np.int64) + COVER_ATTEMPT)   # not the re-let's draws
    n = len(need)
    lots = Lots(lot=T.n_lots + np.arange(n), need=need, key=key, value=N.value[need].copy(),
                reach=N.reach[need].copy(), district=N.district[need].astype(np.int64),
                length=np.array([r - (m + 1) for _, r in covers]), start=np.full(n, m + 1),
                incumbent=np.full(n, -1), expiring=np.full(n, -1), freed=np.zeros(n))
    T.n_lots += n
    pc, who = Pt.view("contract"), Pt.view("provider")
    barred = [who[pc == f] for f in failed.tolist()]
    awards = Awards(first_month=m + 1, interim=True)
    mk.counters["interim_covers"] += negotiate(mk, Round(lots=lots, bids=None, teams=[]), np.arange(n), awards, day,
                                               barred, event="interim_cover")
    awards.flush(mk, day)


def try_award(mk: Market, rnd: Round, i: int, j: int, bond: float, awards: Awards, day: float) -> bool:
    """Award lot ``i`` to bid ``j`` if its bidder is still in the market, not excluded, with room and cash for the
    bond collateral (the incumbent of an expiry re-let counts the capacity its expiring contract frees)."""
    s, P, N = mk.s, mk.P, mk.needs
    B, L = rnd.bids, rnd.lots
    provider = int(B.who[j])
    price = float(B.price[j])
    cons = rnd.teams[-1 - provider] if provider < 0 else None
    lead = int(cons.team[0]) if cons is not None else provider
    if P.status[lead] != ACTIVE:
        return False
    team = cons.team.tolist() if cons is not None else (lead,)
    shares = cons.shares.tolist() if cons is not None else (1.0,)
    pays = cons.pay.tolist() if cons is not None else (1.0,)
    month = awards.first_month - 1
    if (mk.tender.excluded_until[list(team)] > month).any():
        return False      # terminated since the call-off: excluded at any stage (PCR 2015 reg 57(8)(g), 57(10))
    freed = float(L.freed[i]) if lead == L.incumbent[i] and mk.contracts.status[L.expiring[i]] == LIVE else 0.0
    if cons is None and P.capacity[lead] - P.committed[lead] + freed < price:
        return False
    if cons is not None:
        if (P.status[team] != ACTIVE).any():
            return False
        room = (P.capacity[team] - P.committed[team] + freed_by_expiring(mk, L, i, cons.team)).clip(min=0)
        if np.minimum(room, cons.stated).sum() < price:      # each party's stated capability, if it still has it
            return False
    collateral = bond * s.contracts.performance_bond.collateral_share
    bond_fee = s.contracts.performance_bond.arrangement_fee if bond > 0 else 0.0
    first_premium = bond * s.contracts.performance_bond.premium_rate      # due at the start, a year in advance
    if P.in_hand[lead] - collateral - bond_fee - first_premium < mk.floor(lead):
        return False
    need, length, lot = int(L.need[i]), int(L.length[i]), int(L.lot[i])
    start = max(int(N.start[need]), awards.first_month)
    if mk.budget.active:
        months, amounts = schedule(start, length, price, s.contracts.taper_per_year)
        if not mk.budget.fits(months, amounts):
            return False
        mk.budget.commit(months, amounts)
    terms = fin.TERMS.index(s.contracts.payment.terms)
    if s.procurement.route == "grant" or (s.support.upfront_below is not None and price < s.support.upfront_below):
        terms = fin.ADVANCE  # grants, and small contracts under the up-front support policy
    quality, panel = float(B.quality[j]), float(B.panel[j])
    delivery = min(1.15, max(0.3, 0.75 + 0.07 * quality + s.behaviour.delivery_sd * float(B.delivery_z[j])))
    c = mk.contracts.n + len(awards.rows)
    fee = s.procurement.winner_fee_rate * price
    switched = bool(0 <= N.last_lead[need] != lead)     # a different provider takes the service over (F31)
    awards.rows.append((need, lot, lead, cons is not None, price, price, start, start + length, terms,
                        float(B.reach[j]), float(B.unit_cost[j]), quality, panel, delivery, bond, collateral, fee,
                        month, switched, awards.interim))
    N.failures[need] = 0
    N.last_lead[need] = lead
    mk.counters["switches"] += int(switched)
    total_value = price * length / 12.0
    small_share = 0.0
    learn = s.behaviour.learn_per_win
    for who, share, pay in zip(team, shares, pays):
        awards.parties.append((c, who, share, pay))
        P.committed[who] += share * price
        P.value_won[who] += pay * total_value
        P.wins[who] += 1
        P.skill[who] += learn * (1.0 - P.skill[who])
        small_share += pay if P.band[who] <= 1 else 0.0
    if cons is not None:
        P.consortium_member[list(team)] = True
        mk.counters["awarded_value_consortium"] += total_value
    if collateral > 0:
        P.cash[lead] -= collateral
        P.in_hand[lead] -= collateral
        P.collateral[lead] += collateral
        mk.flows["collateral_locked"][lead] -= collateral
    if bond_fee > 0:    # legal and broker costs of arranging the bond (seed 000 l.19)
        P.cash[lead] -= bond_fee
        P.in_hand[lead] -= bond_fee
        mk.flows["bond_fees"][lead] -= bond_fee
    if fee > 0:
        P.cash[lead] -= fee
        P.in_hand[lead] -= fee
        mk.flows["fees"][lead] -= fee
        mk.book.fees += fee
    mk.counters["awards"] += 1
    mk.counters["awarded_value"] += total_value
    mk.counters["awarded_value_small"] += small_share * total_value
    if lot in mk.tender.first_round_lots:
        mk.tender.first_round_winners.add(lead)
    return True


def failed_competition(mk: Market, rnd: Round, i: int, day: float) -> bool:
    """No valid bid could be awarded: re-run the lot at the next round once (True: a re-run is queued); after
    that, or with re-runs off, the lot is negotiated or left unserved (False)."""
    s, N = mk.s, mk.needs
    need = int(rnd.lots.need[i])
    mk.counters["failed_competitions"] += 1
    mk.log.add("failed_competition", day, lot=int(rnd.lots.lot[i]), amount=float(rnd.lots.value[i]))
    c = s.procurement.competitions
    N.failures[need] += 1
    if c.rerun_failed and N.failures[need] < 2:
        m = int(fin.month_of(day)) + 1
        first = c.first_round_month
        nxt = first + max(0, -(-(m - first) // c.every_months)) * c.every_months
        if nxt < mk.H - 1:
            mk.tender.queue.setdefault(nxt, []).append(need)
            return True
    return False
