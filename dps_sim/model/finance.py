"""Finance: when payments arrive, what a bond costs, each month's cash, when a provider is insolvent.

The rules are plain functions of numbers, so that each can be checked against a hand-computed
ledger; :func:`cash_step` applies them to every organisation at once.
Time is in days; a month is 365.25/12 days. Payments are whole pence (int64) so that money
conservation can be checked exactly.
"""

from __future__ import annotations

import numpy as np

from .market import Market
from .population import ACTIVE
from .stores import LIVE

MONTH_DAYS = 365.25 / 12.0
"""Length of the model's month in days."""

TERMS = ("advance", "monthly_arrears", "quarterly_arrears", "payment_by_results")
ADVANCE, MONTHLY_ARREARS, QUARTERLY_ARREARS, PAYMENT_BY_RESULTS = range(4)


def to_pence(pounds: np.ndarray | float) -> np.ndarray:
    """Round pounds to whole pence (int64)."""
    return np.rint(np.asarray(pounds, dtype=float) * 100.0).astype(np.int64)


def month_of(day: np.ndarray | float) -> np.ndarray:
    """Model month containing a given day."""
    return np.floor(np.asarray(day, dtype=float) / MONTH_DAYS + 1e-9).astype(np.int64)


def invoice_day(month: np.ndarray | int, terms: np.ndarray | int) -> np.ndarray:
    """Day an invoice for contract month ``month`` is raised.

    advance: the first day of the month it covers; arrears (monthly, quarterly, and the
    monthly part of payment by results): the last day of the month.
    """
    month = np.asarray(month, dtype=float)
    start = month * MONTH_DAYS
    return np.where(np.asarray(terms) == ADVANCE, start, start + MONTH_DAYS)


def payment_day(invoice: np.ndarray, terms: np.ndarray | int, period_days: float, late_days: np.ndarray) -> np.ndarray:
    """Day an invoice is paid: arrears wait the payment period; everything can be late.

    Payment in advance is made on the invoice day (the start of the month) plus any delay;
    arrears invoices are paid ``period_days`` after the invoice (PCR 2015 reg 113: 30 days).
    """
    period = np.where(np.asarray(terms) == ADVANCE, 0.0, period_days)
    return np.asarray(invoice) + period + np.asarray(late_days)


def is_quarter_end(contract_month: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Whether a contract month closes a quarter (every third month, or the last month)."""
    contract_month = np.asarray(contract_month)
    return ((contract_month + 1) % 3 == 0) | (contract_month + 1 >= np.asarray(length))


def taper_factor(contract_month: np.ndarray, taper_per_year: float) -> np.ndarray:
    """Share of the first year's value paid in a contract month when value tapers each year."""
    year = np.asarray(contract_month) // 12
    return (1.0 - taper_per_year) ** year


def bond_amount(annual_value: np.ndarray, threshold: float | None, fraction: float, waived: np.ndarray | bool = False) -> np.ndarray:
    """Performance bond required on a contract: ``fraction`` of annual value at or above the threshold."""
    annual_value = np.asarray(annual_value, dtype=float)
    if threshold is None:
        return np.zeros_like(annual_value)
    needed = (annual_value >= threshold) & ~np.asarray(waived, dtype=bool)
    return np.where(needed, fraction * annual_value, 0.0)


def bond_premium_monthly(bond: np.ndarray, premium_rate: float) -> np.ndarray:
    """Monthly premium paid to the surety for a bond (a yearly rate of the bond amount)."""
    return np.asarray(bond) * premium_rate / 12.0


def adjusted_spending(base: np.ndarray, cash: np.ndarray, target_cash: np.ndarray, adjustment: float) -> np.ndarray:
    """Monthly spending: a provider cuts back when reserves are below target and spends more above it.

    ``adjustment`` is the largest change, as a share of base spending.
    """
    gap = np.divide(cash - target_cash, np.maximum(target_cash, 1.0))
    return base * (1.0 + adjustment * np.clip(gap, -1.0, 1.0))


def insolvent(cash: np.ndarray, spending: np.ndarray, overdraft_months: float) -> np.ndarray:
    """Insolvency test: free cash below minus the overdraft limit (months of spending)."""
    return np.asarray(cash) < -overdraft_months * np.asarray(spending)


def cash_step(mk: Market, m: int) -> None:
    """Other income and spending for every organisation in the market, then bond premiums."""
    P, s = mk.P, mk.s
    k = mk.entered[m]
    z = mk.rng["income"].standard_normal(k)
    active = P.status[:k] == ACTIVE
    base = P.spending[:k] * P.income_factor[:k]
    income = np.where(active, base * (1.0 + s.market.income_volatility * z), 0.0)
    spend = adjusted_spending(P.spending[:k], P.cash[:k], mk.target_cash[:k], s.behaviour.spending_adjustment)
    if s.support.peppercorn_rent:
        spend = np.where(P.committed[:k] > 0, spend * (1.0 - s.support.peppercorn_saving), spend)
    spend = np.where(active, spend, 0.0)
    P.cash[:k] += income - spend
    mk.flows["other_income"][:k] += income
    mk.flows["spending"][:k] -= spend
    C = mk.contracts
    live = np.flatnonzero((C.view("status") == LIVE) & (C.view("bond") > 0))
    if len(live):
        prem = bond_premium_monthly(C.bond[live], s.contracts.performance_bond.premium_rate)
        np.add.at(P.cash, C.lead[live], -prem)
        np.add.at(mk.flows["bond_premiums"], C.lead[live], -prem)
