"""Admission to the DPS or framework: applications, evaluation, decisions, reapplication.

On a DPS admission is open for the whole period and each request is decided within the
evaluation period (PCR 2015 reg 34: 10 working days); a rejected applicant may reapply after
``reapply_after_days``. A framework admits only at the start and at its re-openings. An
application costs the questionnaire's pages at the applicant's bid-writing rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from . import finance as fin
from . import procurement as proc
from .calendar import working_days_later
from .finance import MONTH_DAYS
from .market import Market
from .population import ACTIVE
from .streams import item_key, keyed_normals, keyed_uniforms
from .bids import MIN_REACH_SHARE, assessed_quality, bid_cost, clarity

APPLY_WINDOW_DAYS = 15.0
"""Applications are submitted within the first fortnight of the month (assumption)."""


@dataclass(frozen=True)
class Applications:
    """One month's applications: who applied, their assessed score, and the day each is decided."""

    who: np.ndarray
    score: np.ndarray
    decide_day: np.ndarray


def applications(mk: Market, m: int, day: float) -> Applications | None:
    """Organisations apply to join; returns the applications to decide (None if there are none)."""
    s, P = mk.s, mk.P
    if not proc.has_admission(s.procurement.route) or not proc.admission_open(s.procurement, m):
        return None
    k = mk.entered[m]
    adm = s.procurement.admission
    eligible = (P.status[:k] == ACTIVE) & ~P.admitted[:k] & ~P.applying[:k] & (P.next_apply_day[:k] <= day)
    lv = s.procurement.competitions.lot_value     # a small lot it could take (not the median lot)
    small_lot = lv.median * np.exp(lv.sigma * float(ndtri(adm.useful_lot_quantile)))
    useful = P.capacity[:k] >= MIN_REACH_SHARE * small_lot
    if s.support.consortia:   # it could lead a consortium: a lead must be admitted, a member need not (consortia.py)
        useful |= ~P.private[:k] & (P.band[:k] >= 2)
    idx = np.flatnonzero(eligible & useful)
    cost = bid_cost(adm.questionnaire_pages, P.skill[idx], s.behaviour)
    afford = P.in_hand[idx] - cost >= mk.bid_floor(idx)
    idx, cost = idx[afford], cost[afford]
    key = item_key(mk.keys["admission"], m)
    u = keyed_uniforms(key, idx, 2)  # rows: apply this month, submission day
    if s.procurement.route == "framework" or m == 0:
        chance = np.full(len(idx), adm.apply_probability)
    else:
        monthly = 1 - (1 - adm.apply_probability) ** (1 / 12)
        chance = np.where(P.entry_month[idx] == m, adm.apply_probability, monthly)
    go = u[0] < chance
    apply, cost = idx[go], cost[go]
    if len(apply) == 0:
        return None
    P.cash[apply] -= cost
    P.in_hand[apply] -= cost
    P.bid_cost_paid[apply] += cost
    mk.flows["bid_costs"][apply] -= cost
    P.applying[apply] = True
    mk.counters["applications"] += len(apply)
    submit = day + np.floor(u[1, go] * APPLY_WINDOW_DAYS)
    mk.log.add_many("application", submit, provider=apply)
    noise = keyed_normals(key, apply, (2,))[0]
    score = assessed_quality(P.quality[apply], P.skill[apply], noise, s.behaviour, clarity(mk, apply))
    decide = working_days_later(mk.s.start_date, submit, adm.evaluation_working_days, mk.H * MONTH_DAYS)
    order = np.argsort(decide, kind="stable")
    return Applications(who=apply[order], score=score[order], decide_day=decide[order])


def decide(mk: Market, who: np.ndarray, score: np.ndarray, now: float) -> None:
    """Admit applicants whose assessed score reaches the pass mark; the rest may reapply later."""
    P, s = mk.P, mk.s
    m = int(fin.month_of(now))
    ok = proc.admitted_on_assessment(score, s.procurement.admission.pass_score) & (P.status[who] == ACTIVE)
    P.applying[who] = False
    yes, no = who[ok], who[~ok]
    P.admitted[yes] = True
    P.admitted_month[yes] = m
    P.next_apply_day[no] = now + s.procurement.admission.reapply_after_days
    P.skill[no] += s.behaviour.learn_per_bid * (1.0 - P.skill[no])
    mk.counters["admissions"] += len(yes)
    mk.counters["rejections"] += len(no)
    mk.log.add_many("admission", now, provider=yes, value=score[ok])
    mk.log.add_many("rejection", now, provider=no, value=score[~ok])
