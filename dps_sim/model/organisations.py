"""Organisations entering and leaving the market.

Attributes are drawn in :mod:`.population`; this room moves organisations through their
life: arrival at their entry month, insolvency (free cash below the overdraft limit: its
contracts fail and its bonds are called), and closure by trustees when reserves run low
with no contract work (DESIGN.md: "organisations leave when insolvent, or when reserves run
low without work").
"""

from __future__ import annotations

import numpy as np

from . import finance as fin
from .contracts import fail_contract
from .market import Market
from .population import ACTIVE, EXIT_CLOSED, EXIT_INSOLVENT, EXITED
from .stores import END_INSOLVENCY, LIVE

SETTLING_MONTHS = 6
"""Months in the market before trustees consider closing a quiet organisation (assumption)."""


def entries(mk: Market, m: int, day: float) -> None:
    """Organisations whose entry month has come join the market."""
    lo, hi = (mk.entered[m - 1] if m > 0 else 0), mk.entered[m]
    if m == 0 or hi <= lo:
        return
    idx = np.arange(lo, hi)
    mk.P.status[idx] = ACTIVE
    mk.counters["entries"] += len(idx)
    mk.log.add_many("entry", day, provider=idx)


def exits(mk: Market, m: int, day: float) -> None:
    """Insolvent organisations fail; quiet ones with low reserves close."""
    P, s = mk.P, mk.s
    k = mk.entered[m]
    active = P.status[:k] == ACTIVE
    broke = active & fin.insolvent(P.cash[:k], P.spending[:k], s.finance.overdraft_months)
    for i in np.flatnonzero(broke):
        exit_market(mk, int(i), m, day, EXIT_INSOLVENT)
    settled = m - P.entry_month[:k] >= SETTLING_MONTHS
    quiet = (P.status[:k] == ACTIVE) & settled & (P.committed[:k] <= 0) & (
        P.cash[:k] < s.behaviour.close_reserve_months * P.spending[:k])
    for i in np.flatnonzero(quiet):
        exit_market(mk, int(i), m, day, EXIT_CLOSED)


def exit_market(mk: Market, i: int, m: int, day: float, cause: int) -> None:
    """Organisation ``i`` leaves; an insolvent lead's contracts fail, an insolvent member drops out."""
    P, C, Pt, counters = mk.P, mk.contracts, mk.parties, mk.counters
    P.status[i] = EXITED
    P.exit_month[i] = m
    P.exit_cause[i] = cause
    small = P.band[i] <= 1
    if cause == EXIT_INSOLVENT:
        counters["insolvencies"] += 1
        counters["insolvencies_small"] += float(small)
        mk.log.add("insolvency", day, provider=i, amount=float(P.cash[i]))
        for c in np.flatnonzero((C.view("lead") == i) & (C.view("status") <= LIVE)):
            fail_contract(mk, int(c), m, day, END_INSOLVENCY)
        rows = np.flatnonzero((Pt.view("provider") == i) & Pt.view("active"))
        for r in rows:
            c = Pt.contract[r]
            if C.lead[c] != i:
                Pt.active[r] = False
    else:
        counters["closures"] += 1
        mk.log.add("closure", day, provider=i, amount=float(P.cash[i]))
