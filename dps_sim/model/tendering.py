"""Tendering: the lots called off each round, who bids, what a bid costs and offers, consortia.

* Call-offs: each round (``every_months`` from ``first_round_month``) calls off new lots and
  the re-lets queued for the month; a lot's district and value are drawn per round from the
  ``lots`` stream.
* Who bids: an organisation in the market (admitted where the route has admission) that
  serves the lot's district, is interested in it, has spare capacity for half its target
  reach, meets the turnover rule (PCR 2015 reg 58), can pay the bid cost and bond collateral
  without going further below its credit line than its own risk appetite allows
  (:meth:`.Market.bid_floor`), and expects the bid to be worth its cost.
* One step: all lots of the round are decided together over a lots × candidates table
  (:func:`take_bids`); the bid rules themselves are in :mod:`.bids`, consortia in
  :mod:`.consortia`.
"""

from __future__ import annotations

import numpy as np

from . import procurement as proc
from .bids import (APPETITE_ROW, MIN_REACH_SHARE, bid_cost, interest_threshold, learn, lot_fit, offers,
                   pay_bid_costs, spare_and_turnover, win_chance_estimate)
from .budget import fund_lots
from .consortia import consortium_bids, work_of
from .finance import MONTH_DAYS, bond_costs
from .market import OPEN_ENDED, Market
from .population import ACTIVE
from .rounds import Bids, Lots, Round, Team
from .schedule import demand_factor
from .stores import LIVE
from .streams import item_key, item_keys, keyed_normals, keyed_uniforms

def is_round_month(mk: Market, m: int) -> bool:
    """Whether month ``m`` calls off a new round of lots."""
    c = mk.s.procurement.competitions
    first = c.first_round_month
    return m >= first and (m - first) % c.every_months == 0 and m < mk.H - 1


def round_candidates(mk: Market, k: int, m: int) -> np.ndarray:
    """Organisations that may bid at all in month ``m`` (in the market, admitted where the route needs it,
    not excluded after a termination: PCR 2015 reg 57(8)(g))."""
    P = mk.P
    base = (P.status[:k] == ACTIVE) & (mk.tender.excluded_until[:k] <= m)
    if proc.has_admission(mk.s.procurement.route):
        base &= P.admitted[:k]
    if proc.known_only(mk.s.procurement):
        base &= P.entry_month[:k] == 0
    return base


def call_off_round(mk: Market, m: int, day: float) -> Round | None:
    """Call off this month's lots (the round's new lots and the re-lets queued for it) and take the bids."""
    relets = list(mk.tender.queue.pop(m, []))
    new_round = is_round_month(mk, m)
    if not relets and not new_round:
        return None
    mk.tender.bids_round[:] = 0
    fresh = new_needs(mk, m) if new_round else []
    needs = funded(mk, fresh + relets, len(fresh), m)
    if not needs:
        return None
    lots = call_off(mk, needs, m, day)
    bids, teams = take_bids(mk, lots, m)
    return Round(lots=lots, bids=bids, teams=teams)


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


def offered_terms(mk: Market, need: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Start month and length (months) of the contract a lot called off in month ``m`` offers."""
    N = mk.needs
    start = np.maximum(N.start[need].astype(np.int64), m + 1)
    length = np.minimum(mk.s.contracts.length_months, np.maximum(1, N.end[need].astype(np.int64) - start))
    return start, length


def funded(mk: Market, needs: list[int], fresh: int, m: int) -> list[int]:
    """The needs the budget can fund this month (budget room); an unfunded re-let waits for the next round.

    The first ``fresh`` needs are new; an unfunded new need is not commissioned at all
    (counted as unfunded), an unfunded re-let is tried again at the next round while the
    service is still needed (its gap grows meanwhile).
    """
    if not mk.budget.active or not needs:
        return needs
    N = mk.needs
    need = np.asarray(needs, dtype=np.int64)
    start, length = offered_terms(mk, need, m)
    relet = np.arange(len(need)) >= fresh
    ok = fund_lots(mk.budget, needs, start, length, N.value[need], relet, mk.s.contracts.taper_per_year)
    for i in np.flatnonzero(~ok):
        n = int(need[i])
        mk.counters["unfunded_lots"] += 1
        mk.counters["unfunded_value"] += float(N.value[n])
        mk.log.add("unfunded", m * MONTH_DAYS, lot=-1, amount=float(N.value[n]))
        if relet[i]:
            nxt = m + 1
            while not is_round_month(mk, nxt) and nxt < mk.H:
                nxt += 1
            if nxt < mk.H and N.end[n] > nxt + 1:
                mk.tender.queue.setdefault(nxt, []).append(n)
        else:
            N.end[n] = N.start[n]        # never commissioned: not a service gap, an unmet need
    return need[ok].tolist()


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
    start, length = offered_terms(mk, need, m)
    incumbent, expiring, freed = incumbents(mk, need)
    lots = Lots(lot=lot, need=need, key=key, value=N.value[need].copy(), reach=N.reach[need].copy(),
                district=N.district[need].astype(np.int64), length=length, start=start, incumbent=incumbent,
                expiring=expiring, freed=freed)
    mk.counters["lots"] += len(need)
    mk.log.add_many("call_off", day, lot=lot, amount=lots.value, value=lots.district.astype(float))
    return lots


def incumbents(mk: Market, need: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each lot: the lead of the live contract it re-lets, that contract, and the capacity it frees.

    A lot whose need still has a live contract is an expiry re-let (a failed contract is
    closed before its need is queued). The freed capacity is the lead's share of the
    contract's value, the amount its ``committed`` drops by when the contract ends. With
    ``incumbent_relet`` off (the rule before issue 12) the incumbent is still named, for the
    retention KPI, but frees nothing and is treated like any other candidate.
    """
    C = mk.contracts
    n = len(need)
    incumbent, expiring, freed = np.full(n, -1, np.int64), np.full(n, -1, np.int64), np.zeros(n)
    if n == 0:
        return incumbent, expiring, freed
    c = mk.needs.contract[need].astype(np.int64)
    live = np.flatnonzero(c >= 0)
    live = live[(C.status[c[live]] == LIVE) & ~C.interim[c[live]]]      # an interim cover is no incumbent
    cl = c[live]
    incumbent[live], expiring[live] = C.lead[cl], cl
    freed[live] = C.original_value[cl]
    for j in np.flatnonzero(C.consortium[cl]):                       # the lead's share of a consortium's work
        freed[live[j]] = float(work_of(mk, int(cl[j]), incumbent[live[j]:live[j] + 1])[0])
    if not mk.s.procurement.competitions.incumbent_relet:
        freed[:] = 0.0
    return incumbent, expiring, freed


SLACK = 1e-9
"""Relative margin by which the screen of :func:`pairs` errs on the side of keeping a pair."""


def pairs(mk: Market, lots: Lots, k: int, caps: tuple[np.ndarray, np.ndarray], bonded: np.ndarray, m: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """The lots × candidates table: (lot index, organisation) for the candidates that could take each lot.

    A candidate serves the lot's district (or the whole county) and the lot's value is within
    its cap: ``caps`` holds each organisation's largest lot value for an unbonded and for a
    bonded lot (from capacity, turnover and cash; -inf for one that cannot bid at all),
    ``bonded`` which lots need a bond. Organisations are sorted by cap once a round, so each
    lot's candidates are a prefix of its district's list: the table never holds the
    organisations that could not take a lot. The exact rules are then applied to the pairs
    (:func:`take_bids`); the screen only keeps a superset (``SLACK``). The incumbent of an
    expiry re-let is always paired with its own lot (its cap does not count the capacity the
    expiring contract frees).
    """
    P = mk.P
    base = round_candidates(mk, k, m)
    cw = P.county_wide[:k]
    D = mk.s.market.districts
    county_code = np.where(cw, D, P.district[:k].astype(np.int64))     # county-wide organisations as district D
    lists = []
    for cap in caps:
        idx = np.flatnonzero(base & (cap > -np.inf))
        idx = idx[np.lexsort((-cap[idx], county_code[idx]))]          # by district, largest cap first
        lists.append((idx, -cap[idx], np.searchsorted(county_code[idx], np.arange(D + 2))))
    parts, counts = [], []
    for i, (d, v, b) in enumerate(zip(lots.district.tolist(), (lots.value * (1 - SLACK)).tolist(), bonded.tolist())):
        idx, neg, bounds = lists[1 if b else 0]
        for lo, hi in ((bounds[d], bounds[d + 1]), (bounds[D], bounds[D + 1])):
            n = int(np.searchsorted(neg[lo:hi], -v, side="right"))
            parts.append(idx[lo:lo + n])
            counts.append(n)
    org = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    at = np.repeat(np.repeat(np.arange(len(lots)), 2), counts)
    rule = mk.s.procurement.competitions.incumbent_relet
    inc = np.flatnonzero((lots.incumbent >= 0) & (lots.incumbent < k) & rule)
    inc = inc[base[lots.incumbent[inc]]]
    if len(inc):
        bounds = np.searchsorted(at, np.arange(len(lots) + 1))           # pairs are grouped by lot
        inc = np.array([i for i in inc.tolist() if not (org[bounds[i]:bounds[i + 1]] == lots.incumbent[i]).any()],
                       dtype=np.int64)                                   # not yet paired
        at = np.concatenate([at, inc]).astype(np.int64)
        org = np.concatenate([org, lots.incumbent[inc]]).astype(np.int64)
    return at, org


def bond_needs(mk: Market, org: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For organisation ``org[i]`` taking a lot of annual ``value[i]``: the performance bond it must give
    (none under a grant, below the threshold, or where the waiver covers a VCSE organisation) and the cash
    it needs for it at award and start (collateral, arrangement fee, the first year's premium)."""
    s, pb = mk.s, mk.s.contracts.performance_bond
    bond = np.zeros(len(org))
    if s.procurement.route != "grant" and pb.threshold is not None:
        bonded = (value >= pb.threshold) & ~(s.support.bond_waiver & ~mk.P.private[org])
        bond[bonded] = pb.fraction * value[bonded]
    return bond, bond * (pb.collateral_share + pb.premium_rate) + np.where(bond > 0, pb.arrangement_fee, 0.0)


def lot_caps(mk: Market, k: int, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each organisation's largest lot value it could bid for, unbonded and bonded (-inf: no bid at all).

    From the rules of :func:`take_bids`: spare capacity for half the lot, turnover of
    ``min_turnover_multiple`` times its value, cash for the bid and any bond collateral.
    """
    s, P = mk.s, mk.P
    pb = s.contracts.performance_bond
    spare, turnover = spare_and_turnover(mk, slice(0, k))
    mult = s.procurement.admission.min_turnover_multiple
    cap = np.minimum(2.0 * spare, np.maximum(turnover / mult if mult > 0 else np.inf,
                                             proc.turnover_exempt_below(s.procurement)))
    headroom = P.in_hand[:k] - cost - mk.bid_floor(slice(0, k))
    cap = np.where(headroom >= 0, cap, -np.inf) * (1 + SLACK)
    per_value = pb.fraction * (pb.collateral_share + pb.premium_rate)
    if per_value <= 0:
        return cap, cap
    bond_cap = np.minimum(cap, np.maximum(headroom, 0) / per_value * (1 + SLACK))
    waived = s.support.bond_waiver & ~P.private[:k]
    return cap, np.where(waived | (cap == -np.inf), cap, bond_cap)


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
    k = mk.entered[m]
    # conditions that need no noise first, from each organisation's state at the call-off
    spare_o, turnover_o = spare_and_turnover(mk, slice(0, k))
    pages = proc.tender_pages(s.procurement, s.support.paperwork_reduction)
    cost_o = bid_cost(pages, P.skill[:k], beh)
    bonded_lot = np.zeros(len(lots), bool)
    if s.procurement.route != "grant" and pb.threshold is not None:
        bonded_lot = lots.value >= pb.threshold
    at, org = pairs(mk, lots, k, lot_caps(mk, k, cost_o), bonded_lot, m)
    value = lots.value[at]
    own = (org == lots.incumbent[at]) & s.procurement.competitions.incumbent_relet   # the incumbent on its re-let
    spare, turnover = spare_o[org] + np.where(own, lots.freed[at], 0.0), turnover_o[org]
    ok = (spare >= MIN_REACH_SHARE * value) & proc.meets_turnover(turnover, value, s.procurement.admission.min_turnover_multiple,
                                                                  proc.turnover_exempt_below(s.procurement))
    bond, collateral = bond_needs(mk, org, value)
    cost = cost_o[org]
    cash, floor = P.in_hand[org], mk.bid_floor(org)
    ok &= cash - cost - collateral >= floor
    # then interest, drawn only for the pairs that could bid (keyed rows do not depend on who else is drawn)
    w = np.flatnonzero(ok)
    fit = lot_fit(lots, at[w], org[w], beh.lot_appeal_sd)               # how well the lot fits (lower: better)
    interested = (fit < interest_threshold(beh.lot_interest)) | own[w]  # incumbents always consider their re-let
    w, fit = w[interested], fit[interested]
    at, org, keys, value, length = at[w], org[w], lots.key[at[w]], value[w], lots.length[at[w]]
    spare, collateral, cost, cash, floor, bond = spare[w], collateral[w], cost[w], cash[w], floor[w], bond[w]
    skill = P.skill[org]
    bond_cost = bond_costs(bond, pb.premium_rate, pb.arrangement_fee, length)    # the bond's fee and premiums
    field = np.bincount(at, minlength=len(lots))                       # able and interested, per lot
    gain = win_chance_estimate(skill, beh, field[at]) * (beh.contract_value_share * value * length / 12.0 - bond_cost)
    appetite = keyed_normals(keys, org, (APPETITE_ROW,))[0]
    c = np.flatnonzero(gain * np.exp(beh.appetite_sd * appetite) >= cost)
    c = c[np.lexsort((fit[c], cost[c] - gain[c], org[c]))]           # per organisation, best net gain first
    oc = org[c]
    first = np.ones(len(c), bool)
    first[1:] = oc[1:] != oc[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(len(c)), 0))
    rank = np.arange(len(c)) - start
    spent = np.cumsum(cost[c])
    spent -= (spent - cost[c])[start]                                  # this round's bid costs so far, this one included
    keep = (rank < s.procurement.competitions.max_bids_per_round) & (cash[c] - spent - collateral[c] >= floor[c])
    b = c[keep]
    b = b[np.lexsort((org[b], P.county_wide[org[b]], at[b]))]          # lot order; local bidders first
    who = org[b]
    pay_bid_costs(mk, who, cost[b])
    mk.counters["bids_vcse_bonded"] += int(((bond[b] > 0) & ~P.private[who]).sum())
    bids = offers(mk, lots, at[b], who, spare[b], bond[b])
    learn(mk, who)
    teams: list[Team] = []
    if s.support.consortia and s.procurement.route != "grant":
        bids, teams = consortium_bids(mk, lots, bids, pages, m, field)
    return bids, teams


