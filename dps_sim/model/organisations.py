"""Organisations entering and leaving the market.

Attributes are drawn in :mod:`.population`; this room moves organisations through their
life: arrival at their entry month, insolvency (unable to pay its debts as they fall due:
creditors stretched beyond the credit line for ``finance.creditor_months`` in a row, or
further than they will wait; its contracts fail and its bonds are called), and winding up by
its trustees when, with no contract work, the income it expects has fallen below
``finance.viable_share`` of what it was (DESIGN.md: "insolvency is failing to meet
liabilities over a sustained period (or trustees deciding to close)").
"""

from __future__ import annotations

import numpy as np

from . import finance as fin
from .contracts import fail_contract
from .market import Market
from .population import ACTIVE, EXIT_CLOSED, EXIT_INSOLVENT, EXITED
from .stores import END_INSOLVENCY, LIVE

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
    """Trustees wind up those whose income no longer sustains them; then insolvent organisations fail.

    Trustees act first: those of an organisation with no contract work that has lost its
    income and its reserves close it before its creditors force it (Charity Commission CC12:
    trustees must act when a charity cannot meet its liabilities).
    """
    P, f = mk.P, mk.s.finance
    k = mk.entered[m]
    wind_up = (P.status[:k] == ACTIVE) & (P.committed[:k] <= 0) & fin.winds_up(
        P.expected_income[:k], P.scale[:k], P.in_hand[:k], P.spending[:k], f.viable_share)
    for i in np.flatnonzero(wind_up):
        exit_market(mk, int(i), m, day, EXIT_CLOSED)
    broke = (P.status[:k] == ACTIVE) & fin.insolvent(P.arrears_months[:k], P.owed_creditors[:k], P.spending[:k],
                                                     f.creditor_months, f.creditor_limit_months)
    for i in np.flatnonzero(broke):
        exit_market(mk, int(i), m, day, EXIT_INSOLVENT)


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
