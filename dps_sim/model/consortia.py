"""Consortia: small VCSE organisations bidding together behind a lead (seed 000, Bromley Well).

A lead (a medium or larger VCSE organisation in the market, admitted where the route has
admission) that did not bid alone forms a team with the best-quality small organisations in
the lot's district that have bids left this round and can pay their share of the bid (a
quarter of the pages each). The team's spare capacity and turnover are pooled; the work is
shared in proportion to spare capacity; the lead carries the bond (seed 000: 5 core and 23
associate members).

Consortia are formed lot by lot after the individual bids of the round, in the order of the
lots' keys (not their listing), so that the round stays order-free.
"""

from __future__ import annotations

import numpy as np

from . import finance as fin
from . import procurement as proc
from .bids import (MIN_REACH_SHARE, NOISE_ROWS, assessed_quality, bid_cost, bid_margin, bid_terms, pay_bid_costs,
                   spare_and_turnover)
from .market import Market
from .population import ACTIVE
from .rounds import Bids, Lots, Team
from .streams import keyed_normals

MEMBER_PAGES_SHARE = 0.25
"""Share of the tender's pages a member writes (assumption)."""


def split_by_capacity(spare: np.ndarray, needed: float) -> np.ndarray:
    """Shares of a consortium's work, in proportion to each party's spare capacity."""
    spare = np.maximum(np.asarray(spare, dtype=float), 0.0)
    total = spare.sum()
    if total <= 0:
        return np.full(len(spare), 1.0 / len(spare))
    return spare / total


def consortium_bids(mk: Market, lots: Lots, bids: Bids, pages: float, m: int) -> tuple[Bids, list[Team]]:
    """Add a consortium bid to each lot where one can be formed; returns all bids, grouped by lot."""
    k = mk.entered[m]
    extra: list[dict] = []
    teams: list[Team] = []
    for i in np.argsort(lots.key, kind="stable"):
        bidding = bids.who[bids.at == i]
        one = consortium_bid(mk, int(lots.district[i]), float(lots.value[i]), float(lots.reach[i]), pages,
                             int(lots.key[i]), k, bidding, m)
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


def consortium_bid(mk: Market, district: int, value: float, reach: float, pages: float, key: int, k: int,
                   bidding: np.ndarray, m: int) -> tuple[Team, dict] | None:
    """One lot's consortium, if a lead and members can be found and can pay: its team and bid (no excluded party)."""
    s, P = mk.s, mk.P
    beh, sup, pb = s.behaviour, s.support, s.contracts.performance_bond
    here = (P.status[:k] == ACTIVE) & (P.county_wide[:k] | (P.district[:k] == district)) & ~P.private[:k]
    here &= mk.tender.excluded_until[:k] <= m
    here[bidding] = False
    room = mk.tender.bids_round[:k] < s.procurement.competitions.max_bids_per_round
    lead_ok = here & room & (P.band[:k] >= 2)
    if proc.has_admission(s.procurement.route):
        lead_ok &= P.admitted[:k]
    leads = np.flatnonzero(lead_ok)
    member_cost = bid_cost(pages * MEMBER_PAGES_SHARE, P.skill[:k], beh)
    members = np.flatnonzero(here & room & (P.band[:k] <= 1) & (P.in_hand[:k] - member_cost >= mk.bid_floor(slice(0, k))))
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
    costs = np.concatenate([bid_cost(pages, P.skill[[lead]], beh), bid_cost(pages * MEMBER_PAGES_SHARE, P.skill[members], beh)])
    if P.in_hand[lead] - costs[0] - bond * pb.collateral_share < mk.bid_floor(lead):
        return None
    shares = split_by_capacity(spare, value)
    unit_cost = float((shares * P.cost_per_user[team]).sum())
    pay_bid_costs(mk, team, costs)
    z = keyed_normals(key, np.array([lead]), NOISE_ROWS)[:, 0]
    full = P.full_cost[[lead]]
    margin = bid_margin(full, z[[2]], beh)  # the lead prices for the team
    ambition = float(np.clip(1.05 + 0.15 * (P.skill[lead] - 0.5) + beh.ambition_sd * z[3], 0.8, 1.4))
    priced = unit_cost * (1.0 + s.finance.overhead_rate if full[0] else 1.0) * mk.cost_factor
    terms = bid_terms(value, reach, np.array([spare.sum()]), np.array([priced]), margin, np.array([ambition]))
    quality = float((shares * P.quality[team]).sum())
    panel = assessed_quality(np.array([quality]), P.skill[[lead]], z[[0]], beh)
    row = dict(price=float(terms.price[0]), reach=float(terms.reach[0]), valid=bool(terms.valid[0]),
               panel=float(panel[0]), quality=quality, unit_cost=unit_cost, delivery_z=float(z[5]),
               lottery_z=float(z[6]))
    return Team(team=team, shares=shares), row
