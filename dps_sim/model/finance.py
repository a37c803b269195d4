"""Finance: when payments arrive, what a bond costs, each month's cash and credit, spending, insolvency.

The rules are plain functions of numbers, so that each can be checked against a hand-computed
ledger; :func:`cash_step` applies them to every organisation at once. A charity's finances as
a finance director would see them (docs/model.md, submodel "Cash, credit and insolvency"):
other income that moves with funders won and lost; spending the trustees plan from expected
income and their reserves policy, cut and rebased over months; an overdraft that costs
interest; bills that can be paid late for a while, at statutory interest; insolvency when
creditors have been stretched for months in a row, or further than they will wait.
Time is in days; a month is 365.25/12 days. Payments are whole pence (int64) so that money
conservation can be checked exactly.
"""

from __future__ import annotations

import numpy as np

from .budget import taper_factor  # noqa: F401  the payment rules use it as fin.taper_factor
from .funding import expected_income_step, income_shift_step
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


def bond_amount(annual_value: np.ndarray, threshold: float | None, fraction: float, waived: np.ndarray | bool = False) -> np.ndarray:
    """Performance bond required on a contract: ``fraction`` of annual value at or above the threshold."""
    annual_value = np.asarray(annual_value, dtype=float)
    if threshold is None:
        return np.zeros_like(annual_value)
    needed = (annual_value >= threshold) & ~np.asarray(waived, dtype=bool)
    return np.where(needed, fraction * annual_value, 0.0)


def bond_premium_monthly(bond: np.ndarray, premium_rate: float) -> np.ndarray:
    """Monthly equivalent of the premium paid to the surety for a bond (a yearly rate of the bond amount)."""
    return np.asarray(bond) * premium_rate / 12.0


def bond_premium_due(bond: np.ndarray, premium_rate: float, contract_month: np.ndarray) -> np.ndarray:
    """Premium due this month: a year's premium in advance in each contract year's first month
    (assumption: the premium is paid yearly in advance, as sureties usually ask), else nothing."""
    return np.where(np.asarray(contract_month) % 12 == 0, np.asarray(bond) * premium_rate, 0.0)


def bond_costs(bond: np.ndarray, premium_rate: float, fee: float, months: np.ndarray) -> np.ndarray:
    """£ a bond costs its holder over a contract: the arrangement fee plus the premium for ``months`` (0 without a bond)."""
    bond = np.asarray(bond, dtype=float)
    return np.where(bond > 0, fee + bond * premium_rate * np.asarray(months) / 12.0, 0.0)


def bond_price_load(bond: np.ndarray, annual_value: np.ndarray, premium_rate: float, fee: float,
                    months: np.ndarray) -> np.ndarray:
    """Share by which a bidder marks its unit cost up to recover the bond's costs: a year's premium plus
    the arrangement fee spread over the contract's years, over the lot's annual value."""
    months = np.maximum(np.asarray(months, dtype=float), 1.0)
    yearly = bond_costs(bond, premium_rate, fee, months) * 12.0 / months
    return yearly / np.maximum(np.asarray(annual_value, dtype=float), 1.0)


def bond_call(bond: float, collateral: float) -> tuple[int, int]:
    """Pence a called bond pays the council: (from the collateral, the provider's liability for the rest).

    The surety pays the council the whole bond; the collateral is forfeited to it and the
    uncollateralised part is recovered from the provider under its counter-indemnity (a
    debt that can deepen an insolvency). The two add up to the bond, to the penny.
    """
    total, held = int(to_pence(bond)), int(to_pence(min(collateral, bond)))
    return held, total - held


def average_cash(end_cash: np.ndarray, arrived_late: np.ndarray, spread_flow: np.ndarray) -> np.ndarray:
    """The month's average daily cash: the test of whether an organisation can meet its bills.

    Cash at the month's end, less the part of each payment that had not yet arrived on an
    average day (``arrived_late``: £ × share of the month gone when it arrives), less half the
    month's evenly spread net flow (income less spending, delivery costs and premiums). A
    payment a day late moves the average by a day's worth, not by a month.
    """
    return np.asarray(end_cash) - np.asarray(arrived_late) - 0.5 * np.asarray(spread_flow)


def credit_use(position: np.ndarray, credit_line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(overdraft drawn, bills owed to creditors beyond the credit line) at an average cash ``position``."""
    short = np.maximum(-np.asarray(position), 0.0)
    used = np.minimum(short, credit_line)
    return used, short - used


def finance_costs(overdraft: np.ndarray, owed: np.ndarray, overdraft_rate: float, late_rate: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A month's interest on the overdraft drawn and on bills paid late (Late Payment Act 1998)."""
    return overdraft * overdraft_rate / 12.0, owed * late_rate / 12.0


def planned_spending(spending: np.ndarray, expected_income: np.ndarray, cash: np.ndarray, reserve_months: float,
                     adjust_months: float, rebuild_months: float, clear_months: float | None = None) -> np.ndarray:
    """Next month's spending: trustees move it towards what income and the reserves policy allow.

    The aim is expected income plus the gap to the reserves target (``reserve_months`` of
    spending) spread over ``rebuild_months``, or, while it owes money (cash below zero), the
    debt cleared within ``clear_months`` (before its creditors act); spending moves a
    ``1 / adjust_months`` share of the way there each month (cuts take notice periods; then
    it rebases on the new income), never below zero.
    """
    cash = np.asarray(cash)
    aim = expected_income + (cash - reserve_months * spending) / rebuild_months
    if clear_months is not None:
        aim = np.where(cash < 0, np.minimum(aim, expected_income + cash / clear_months), aim)
    return np.maximum(spending + (aim - spending) / adjust_months, 0.0)


def in_arrears(owed: np.ndarray, petition_minimum: float) -> np.ndarray:
    """Whether the bills it pays late are large enough for a creditor to act on (at least the petition minimum)."""
    return np.asarray(owed) >= max(petition_minimum, 0.01)


def insolvent(arrears_months: np.ndarray, owed: np.ndarray, spending: np.ndarray, creditor_months: float,
              creditor_limit_months: float) -> np.ndarray:
    """Unable to pay debts as they fall due (Insolvency Act 1986 s.123): creditors stretched too long or too far."""
    owed = np.asarray(owed)
    return (np.asarray(arrears_months) >= creditor_months) | ((owed > creditor_limit_months * np.asarray(spending)) & (owed > 0))


def winds_up(expected_income: np.ndarray, scale: np.ndarray, in_hand: np.ndarray, spending: np.ndarray,
             viable_share: float) -> np.ndarray:
    """Trustees close an organisation that has lost the income that sustained it and the reserves to adapt.

    Expected other income below ``viable_share`` of its income at entry, and less than a
    month of its (already cut) spending in hand: an organisation with reserves rebases
    instead (CC19: reserves are there to manage a fall in income).
    """
    return (np.asarray(expected_income) < viable_share * np.asarray(scale)) & (np.asarray(in_hand) < np.asarray(spending))


def cash_step(mk: Market, m: int) -> None:
    """Other income, spending, bond premiums and interest for every organisation; trustees plan next month."""
    P, s, f = mk.P, mk.s, mk.s.finance
    k = mk.entered[m]
    z = mk.rng["income"].standard_normal((2, k))
    active = P.status[:k] == ACTIVE
    sd = np.array(s.market.income_shock_sd.as_tuple())[P.band[:k]]
    P.income_shift[:k] = income_shift_step(P.income_shift[:k], z[0], sd, s.market.income_reversion_years)
    income = P.scale[:k] * P.income_factor[:k] * np.exp(P.income_shift[:k]) * (1.0 + s.market.income_volatility * z[1])
    income = np.where(active, np.maximum(income, 0.0), 0.0)
    spend = P.spending[:k]
    if s.support.peppercorn_rent:
        spend = np.where(P.committed[:k] > 0, spend * (1.0 - s.support.peppercorn_saving), spend)
    spend = np.where(active, spend, 0.0)
    premium = np.zeros(k)
    C = mk.contracts
    live = np.flatnonzero((C.view("status") == LIVE) & (C.view("bond") > 0))
    if len(live):
        np.add.at(premium, C.lead[live], bond_premium_due(C.bond[live], s.contracts.performance_bond.premium_rate,
                                                          m - C.start[live]))
    P.cash[:k] += income - spend - premium
    mk.flows["other_income"][:k] += income
    mk.flows["spending"][:k] -= spend
    mk.flows["bond_premiums"][:k] -= premium
    spread = income - spend - premium - mk.month_cost[:k]
    position = average_cash(P.cash[:k], mk.arrived_late[:k], spread)
    overdraft, owed = credit_use(position, -mk.floor(slice(0, k)))
    od_interest, late_interest = finance_costs(overdraft, owed, f.overdraft_rate, f.late_payment_rate)
    od_interest, late_interest = np.where(active, od_interest, 0.0), np.where(active, late_interest, 0.0)
    P.cash[:k] -= od_interest + late_interest
    mk.flows["overdraft_interest"][:k] -= od_interest
    mk.flows["late_payment_interest"][:k] -= late_interest
    P.in_hand[:k] = position - od_interest - late_interest
    P.owed_creditors[:k] = np.where(active, owed, 0.0)
    P.arrears_months[:k] = np.where(active & in_arrears(owed, f.petition_minimum), P.arrears_months[:k] + 1, 0)
    P.expected_income[:k] = np.where(active, expected_income_step(P.expected_income[:k], income, f.income_memory_months),
                                     P.expected_income[:k])
    P.spending[:k] = np.where(active, planned_spending(P.spending[:k], P.expected_income[:k], P.in_hand[:k],
                                                       f.reserves_policy_months, f.adjust_months, f.rebuild_months,
                                                       f.creditor_months),
                              P.spending[:k])
    mk.month_cost[:] = 0.0
