"""Consortia: small VCSE organisations bidding together behind a lead (seed 000, Bromley Well).

A lead (a medium or larger VCSE organisation in the market, admitted where the route has
admission, able to pay for the bid and the bond, and interested in the lot by the same keyed
draw as a bid of its own (the lot fits its services and plans); of those, the one with most
spare capacity; at an expiry re-let the lead of the expiring contract, which considers its
re-let without the draw, and every party counts its share of the expiring work as spare, as an
incumbent bidding alone does) that did not bid alone forms a team with the best-quality organisations in the
lot's district that have bids left this round and can pay their part of the bid: up to
``consortium_core_members − 1`` medium or larger core members (seed 000 F63: five core
members), then micro and small associate members, ``consortium_members`` in all. Each member **states its capability**:
the work it says it can take on, at most ``member_capability`` of its own yearly income and
never more than its spare capacity (the lead: its spare capacity). The work is shared in
proportion to stated capability, so no member is given more than it stated. Each member
**chooses to join on expected value**, like any bid: its share of the contract's gain at the
lead's chance of winning, net of its own bid cost (a quarter of the pages), against its own
appetite draw, and only if it can pay that cost without going below its own risk floor
(:meth:`.Market.bid_floor`). Its bid is written by its best writer. **Pay** (``consortium_risk``):
with ``lead`` (default; seed 003 F42: "Risk is not transferred. It remains with the umbrella
organisation") each member quotes what its part costs it, overheads included (plus the margin if
positive), and is paid that quote; the lead prices its own part as it prices any bid and bears the
risk of that price (:func:`members_quote`). With ``shared`` the team prices at its members'
share-weighted cost plus one margin and each member is paid its own cost plus that margin (its pay
share: work share × own unit cost ÷ the team's unit cost, :func:`pay_shares`). The lead carries the bond, its fee and
premiums (seed 000: 5 core and 23 associate members).

Consortia are formed lot by lot after the individual bids of the round, in the order of the
lots' keys (not their listing), so that the round stays order-free.
"""

from __future__ import annotations

import numpy as np

from . import finance as fin
from . import procurement as proc
from .bids import (APPETITE_ROW, MIN_REACH_SHARE, NOISE_ROWS, assessed_quality, bid_cost, bid_margin, bid_terms, clarity,
                   interest_threshold, lot_fit, pay_bid_costs, spare_and_turnover, win_chance_estimate)
from .market import Market
from .population import ACTIVE
from .rounds import Bids, Lots, Team
from .stores import LIVE
from .streams import keyed_normals

MEMBER_PAGES_SHARE = 0.25
"""Share of the tender's pages a member writes (assumption)."""


def split_by_capacity(spare: np.ndarray, needed: float) -> np.ndarray:
    """Shares of a consortium's work, in proportion to each party's stated capability."""
    spare = np.maximum(np.asarray(spare, dtype=float), 0.0)
    total = spare.sum()
    if total <= 0:
        return np.full(len(spare), 1.0 / len(spare))
    return spare / total


def stated_capability(spare: np.ndarray, income: np.ndarray, share: float, lead_first: bool = True) -> np.ndarray:
    """£/year of work each party says it can take on: members at most ``share`` of their own yearly
    income and their spare capacity; the lead (first) its spare capacity."""
    stated = np.minimum(np.maximum(np.asarray(spare, dtype=float), 0.0), share * np.asarray(income, dtype=float))
    if lead_first and len(stated):
        stated[0] = max(float(spare[0]), 0.0)
    return stated


def pay_shares(work: np.ndarray, unit_cost: np.ndarray) -> np.ndarray:
    """Shares of the payment: each party's own cost of its work plus the same margin (sums to 1)."""
    cost = np.asarray(work, dtype=float) * np.asarray(unit_cost, dtype=float)
    return cost / cost.sum() if cost.sum() > 0 else np.asarray(work, dtype=float)


def members_quote(parts: np.ndarray, lead_full_cost: bool, margin: float, overhead_rate: float,
                  load: float) -> tuple[float, np.ndarray]:
    """The team's price per user before the lead's margin, and the pay shares, when risk stays with the lead
    (``consortium_risk: lead``; seed 003 F42). ``parts`` is each party's direct cost per user (lead first).
    Each member quotes what its part costs it, overheads included, plus the lead's margin if that is positive;
    the lead prices its own part as it prices any bid (full or direct cost, its margin, which may be below
    cost) and adds the bond's cost, which it carries. Each member is paid its quote; the lead the rest."""
    parts = np.asarray(parts, dtype=float)
    quote = parts * (1.0 + overhead_rate) * (1.0 + max(margin, 0.0))
    quote[0] = parts[0] * (1.0 + overhead_rate if lead_full_cost else 1.0) * (1.0 + margin)
    total = quote.sum() * (1.0 + load)
    pay = quote / total
    pay[0] = 1.0 - pay[1:].sum()
    return total / (1.0 + margin), pay


def joins(gain_share: np.ndarray, win_chance: float, value_share: float, contract_value: float, cost: np.ndarray,
          appetite: np.ndarray, appetite_sd: float) -> np.ndarray:
    """Whether each member joins: its expected gain from its share of the contract, at the team's chance
    of winning, is worth its own bid cost (the individual bid rule, tendering)."""
    gain = win_chance * value_share * np.asarray(gain_share) * contract_value
    return gain * np.exp(appetite_sd * np.asarray(appetite)) >= np.asarray(cost)


def lead_for(leads: np.ndarray, spare: np.ndarray, skill: np.ndarray) -> int:
    """The lead: of the organisations able to lead (and to carry the bond), the one with the most spare
    capacity, which takes the largest part of the work and its risk (F42); ties to the better bid writer."""
    return int(leads[np.lexsort((-skill, -spare))[0]])


def freed_by_expiring(mk: Market, lots: Lots, i: int, team: np.ndarray) -> np.ndarray:
    """£/year of capacity that lot ``i``'s expiring contract frees for each of ``team``: its share of that
    contract's work. An incumbent team counts it as spare, as an incumbent bidding alone does (issue 12)."""
    c = int(lots.expiring[i])
    if c < 0 or not mk.s.procurement.competitions.incumbent_relet or mk.contracts.status[c] != LIVE:
        return np.zeros(len(team))
    return work_of(mk, c, team)


def work_of(mk: Market, c: int, who: np.ndarray) -> np.ndarray:
    """£/year of contract ``c``'s work that each of ``who`` delivers: all of it for a sole provider, a party's
    share of it in a consortium (what its ``committed`` drops by when the contract ends)."""
    C, Pt = mk.contracts, mk.parties
    work = np.zeros(len(who))
    if not C.consortium[c]:
        work[who == C.lead[c]] = C.original_value[c]
        return work
    rows = np.flatnonzero(Pt.view("contract") == c)
    for party, share in zip(Pt.view("provider")[rows].tolist(), Pt.share[rows].tolist()):
        work[who == party] += share * C.original_value[c]
    return work


def choose_members(pool: np.ndarray, band: np.ndarray, quality: np.ndarray, lead: int, core: int, most: int) -> np.ndarray:
    """The lead's partners, best quality first: up to ``core − 1`` medium or larger core members (the lead is the
    first core member; F63: five core members), then micro and small associate members, ``most`` in all."""
    pool = pool[pool != lead]
    pool = pool[np.argsort(-quality[pool], kind="stable")]
    big = pool[band[pool] >= 2][: max(core - 1, 0)]
    small = pool[band[pool] <= 1]
    return np.concatenate([big, small])[:most].astype(np.int64)


def consortium_bids(mk: Market, lots: Lots, bids: Bids, pages: float, m: int, field: np.ndarray
                    ) -> tuple[Bids, list[Team]]:
    """Add a consortium bid to each lot where one can be formed; returns all bids, grouped by lot.
    ``field``: per lot, the organisations able and interested in it (the competition a team expects)."""
    k = mk.entered[m]
    extra: list[dict] = []
    teams: list[Team] = []
    for i in np.argsort(lots.key, kind="stable"):
        bidding = bids.who[bids.at == i]
        one = consortium_bid(mk, int(i), lots, pages, k, bidding, m, int(field[i]))
        if one is None:
            continue
        team, row = one
        row.update(at=int(i), who=-1 - len(teams))
        teams.append(team)
        extra.append(row)
    if not extra:
        return bids, teams
    add = {name: np.array([row[name] for row in extra]) for name in extra[0]}
    merged = {name: np.concatenate([getattr(bids, name), add[name]]) for name in add}
    order = np.argsort(merged["at"], kind="stable")
    return Bids(**{name: col[order] for name, col in merged.items()}), teams


def consortium_bid(mk: Market, i: int, lots: Lots, pages: float, k: int, bidding: np.ndarray, m: int,
                   field: int) -> tuple[Team, dict] | None:
    """One lot's consortium, if a lead and members can be found and join: its team and bid (no excluded party).
    The team expects to compete with the lot's ``field`` of single organisations."""
    s, P = mk.s, mk.P
    beh, sup, pb = s.behaviour, s.support, s.contracts.performance_bond
    district, value, reach, key = int(lots.district[i]), float(lots.value[i]), float(lots.reach[i]), int(lots.key[i])
    length = int(lots.length[i])
    here = (P.status[:k] == ACTIVE) & (P.county_wide[:k] | (P.district[:k] == district)) & ~P.private[:k]
    here &= mk.tender.excluded_until[:k] <= m
    here[bidding] = False
    room = mk.tender.bids_round[:k] < s.procurement.competitions.max_bids_per_round
    lead_ok = here & room & (P.band[:k] >= 2)
    if proc.has_admission(s.procurement.route):
        lead_ok &= P.admitted[:k]
    bond = float(fin.bond_amount(value, pb.threshold, pb.fraction, sup.bond_waiver))
    fee = pb.arrangement_fee if bond > 0 else 0.0
    lead_cost = bid_cost(pages, P.skill[:k], beh)
    lead_ok &= P.in_hand[:k] - lead_cost - bond * (pb.collateral_share + pb.premium_rate) - fee >= mk.bid_floor(slice(0, k))
    leads = np.flatnonzero(lead_ok)
    own = (leads == lots.incumbent[i]) & s.procurement.competitions.incumbent_relet  # an incumbent lead considers its re-let
    leads = leads[(lot_fit(lots, np.full(len(leads), i), leads, beh.lot_appeal_sd) < interest_threshold(beh.lot_interest)) | own]
    member_cost = bid_cost(pages * MEMBER_PAGES_SHARE, P.skill[:k], beh)
    can_join = here & room & (P.in_hand[:k] - member_cost >= mk.bid_floor(slice(0, k)))
    if len(leads) == 0 or not can_join.any():
        return None
    lead = int(lots.incumbent[i]) if own.any() else lead_for(leads, P.capacity[leads] - P.committed[leads], P.skill[leads])
    members = choose_members(np.flatnonzero(can_join), P.band, P.quality, lead, sup.consortium_core_members,
                             sup.consortium_members)
    if len(members) == 0:
        return None
    chance = float(win_chance_estimate(P.skill[[lead]], beh, field + 1)[0])
    # each member decides on its share of the team as first proposed
    team = np.concatenate([[lead], members])
    spare, turnover = spare_and_turnover(mk, team)
    spare = spare + freed_by_expiring(mk, lots, i, team)
    stated = stated_capability(spare, P.income[team] * P.income_factor[team], sup.member_capability)
    work = split_by_capacity(stated, value)
    appetite = keyed_normals(key, members, (APPETITE_ROW,))[0]
    yes = joins(work[1:], chance, beh.contract_value_share, value * length / 12.0, member_cost[members], appetite,
                beh.appetite_sd) & (stated[1:] > 0)
    members = members[yes]
    if len(members) == 0:
        return None
    team = np.concatenate([[lead], members])
    keep = np.concatenate([[True], yes])
    spare, turnover, stated = spare[keep], turnover[keep], stated[keep]
    if stated.sum() < MIN_REACH_SHARE * value or not proc.meets_turnover(turnover.sum(), value, s.procurement.admission.min_turnover_multiple,
                                                                      proc.turnover_exempt_below(s.procurement)):
        return None
    costs = np.concatenate([lead_cost[[lead]], member_cost[members]])
    shares = split_by_capacity(stated, value)
    unit_cost = float((shares * P.cost_per_user[team]).sum())
    pay_bid_costs(mk, team, costs)
    if bond > 0:
        mk.counters["bids_vcse_bonded"] += 1
    z = keyed_normals(key, np.array([lead]), NOISE_ROWS)[:, 0]
    full = P.full_cost[[lead]]
    margin = bid_margin(full, z[[2]], beh)  # the lead prices for the team
    ambition = float(np.clip(1.05 + 0.15 * (P.skill[lead] - 0.5) + beh.ambition_sd * z[3], 0.8, 1.4))
    load = float(fin.bond_price_load(bond, value, pb.premium_rate, pb.arrangement_fee, length))
    if sup.consortium_risk == "lead":                           # members quote their own cost, the lead prices the rest
        priced, pay = members_quote(shares * P.cost_per_user[team] * mk.cost_factor, bool(full[0]), float(margin[0]),
                                    s.finance.overhead_rate, load)
    else:                                                       # one ratio of price to cost for every party
        priced = unit_cost * (1.0 + s.finance.overhead_rate if full[0] else 1.0) * mk.cost_factor * (1.0 + load)
        pay = pay_shares(shares, P.cost_per_user[team])
    terms = bid_terms(value, reach, np.array([stated.sum()]), np.array([priced]), margin, np.array([ambition]))
    quality = float((shares * P.quality[team]).sum())
    writer = team[[int(np.argmax(P.skill[team]))]]              # the team's best writer writes the bid
    panel = assessed_quality(np.array([quality]), P.skill[writer], z[[0]], beh, clarity(mk, writer))
    row = dict(price=float(terms.price[0]), reach=float(terms.reach[0]), valid=bool(terms.valid[0]),
               panel=float(panel[0]), quality=quality, unit_cost=unit_cost, delivery_z=float(z[5]),
               lottery_z=float(z[6]))
    return Team(team=team, shares=shares, pay=pay, stated=stated), row
