"""Payments: invoices for the month's work, when the commissioner pays them, and the ledger.

Payment terms (DESIGN.md, seed 000): ``advance`` is invoiced on the first day of the month it
covers, ``monthly_arrears`` on its last day, ``quarterly_arrears`` at each quarter's end, and
``payment_by_results`` pays a monthly part plus a results share each quarter in proportion to
delivered ÷ promised reach. Arrears wait the payment period (PCR 2015 reg 113: 30 days); any
payment can be late. Every payment is dated to the day: it is booked in the month it arrives
together with how far into that month it arrives, so that the month's average cash (the
finance room's test) moves smoothly with lateness instead of jumping a month at a time.

The value of the work is accounted in whole pence, so that money is conserved exactly: every
penny earned is invoiced (paid, or still owed at the horizon), still accrued towards a
quarterly or results invoice at the horizon, abated (a results share not earned), or written
off (a results share forfeited when the contract fails mid-quarter). Quarterly work already
done when a contract fails is invoiced in a final account.
"""

from __future__ import annotations

import numpy as np

from . import finance as fin
from .market import Market
from .schedule import extra_payment_days


def invoice_month(mk: Market, m: int, live: np.ndarray, value: np.ndarray, promised: np.ndarray,
                  delivered: np.ndarray, contract_month: np.ndarray) -> None:
    """Raise the invoices due for month ``m``'s work on the live contracts ``live`` (``value`` in £)."""
    C, s, book = mk.contracts, mk.s, mk.book
    terms = C.terms[live]
    extra = extra_payment_days(mk.shocks, m)
    earned = fin.to_pence(value)
    book.earned_pence += int(earned.sum())
    amounts = np.zeros(len(live), np.int64)
    adv = terms == fin.ADVANCE
    marr = terms == fin.MONTHLY_ARREARS
    qarr = terms == fin.QUARTERLY_ARREARS
    pbr = terms == fin.PAYMENT_BY_RESULTS
    amounts[adv | marr] = earned[adv | marr]
    inv_day = fin.invoice_day(m, np.where(adv, fin.ADVANCE, fin.MONTHLY_ARREARS))
    monthly_part = fin.to_pence(value[pbr] * (1.0 - s.contracts.payment.results_share))
    amounts[pbr] = monthly_part
    qend = fin.is_quarter_end(contract_month, C.end[live] - C.start[live])
    if qarr.any():
        C.acc_invoice[live[qarr]] += earned[qarr]
        close = qarr & qend
        amounts[close] = C.acc_invoice[live[close]]
        C.acc_invoice[live[close]] = 0
    if pbr.any():
        idx = live[pbr]
        C.acc_results[idx] += earned[pbr] - monthly_part
        C.acc_results_promised[idx] += promised[pbr]
        C.acc_results_delivered[idx] += delivered[pbr]
        close = pbr & qend
        ci = live[close]
        ratio = np.minimum(1.0, C.acc_results_delivered[ci] / np.maximum(C.acc_results_promised[ci], 1e-9))
        results_pay = np.floor(C.acc_results[ci] * ratio).astype(np.int64)
        book.abated_pence += int((C.acc_results[ci] - results_pay).sum())
        C.acc_results[ci] = 0
        C.acc_results_promised[ci] = 0.0
        C.acc_results_delivered[ci] = 0.0
        due = results_pay > 0
        raise_invoices(mk, ci[due], results_pay[due], fin.invoice_day(m, fin.MONTHLY_ARREARS) * np.ones(int(due.sum())),
                       fin.QUARTERLY_ARREARS, extra)
    pay = amounts > 0
    if pay.any():
        raise_invoices(mk, live[pay], amounts[pay], inv_day[pay], terms[pay], extra)


def final_account(mk: Market, c: int, m: int) -> None:
    """A contract that fails: quarterly work already done is invoiced at the month's end; an open results share is forfeited."""
    C, book = mk.contracts, mk.book
    due = int(C.acc_invoice[c])
    if due > 0:
        C.acc_invoice[c] = 0
        raise_invoices(mk, np.array([c]), np.array([due], np.int64), fin.invoice_day(np.array([m]), fin.MONTHLY_ARREARS),
                       fin.QUARTERLY_ARREARS, extra_payment_days(mk.shocks, m))
    book.written_off_pence += int(C.acc_results[c])
    C.acc_results[c] = 0
    C.acc_results_promised[c] = 0.0
    C.acc_results_delivered[c] = 0.0


def book_arrival(sched: np.ndarray, late: np.ndarray, day: np.ndarray, who: np.ndarray, pence: np.ndarray) -> None:
    """Book payments in the month they arrive, with the share of that month already gone when they do."""
    month = fin.month_of(day)
    frac = np.clip(np.asarray(day, dtype=float) / fin.MONTH_DAYS - month, 0.0, 1.0)
    last = sched.shape[0] - 1
    frac = np.where(month > last, 0.0, frac)
    month = np.minimum(month, last)
    np.add.at(sched, (month, who), pence)
    np.add.at(late, (month, who), pence * frac)


def raise_invoices(mk: Market, contracts: np.ndarray, pence: np.ndarray, inv_day: np.ndarray, terms,
                   extra: float) -> None:
    """Schedule payment of invoices (whole pence) on the day they will arrive."""
    C, book = mk.contracts, mk.book
    pay = mk.s.contracts.payment
    terms = np.broadcast_to(np.asarray(terms), contracts.shape)
    late = mk.rng["payments"].exponential(pay.late_days_mean, len(contracts)) if pay.late_days_mean > 0 else 0.0
    paid_day = fin.payment_day(inv_day, terms, pay.period_days, late + extra)
    pence = np.asarray(pence, dtype=np.int64)
    lead = C.lead[contracts]
    book.invoiced_pence += int(pence.sum())
    C.invoiced[contracts] += pence / 100.0
    cons = C.consortium[contracts]
    for k in np.flatnonzero(cons):  # the lead is paid in full and passes members their shares
        pass_on(mk, int(contracts[k]), int(pence[k]), float(paid_day[k]))
    book_arrival(book.sched, book.late, paid_day, lead, pence)
    mk.log.add_many("payment", paid_day, provider=lead, contract=contracts, amount=pence / 100.0)


def pass_on(mk: Market, c: int, pence: int, paid_day: float) -> int:
    """A consortium lead passes members their share after its own delay; returns pence passed."""
    Pt, book = mk.parties, mk.book
    rows = np.flatnonzero((Pt.view("contract") == c) & Pt.view("active"))
    members = rows[Pt.provider[rows] != mk.contracts.lead[c]]
    if len(members) == 0:
        return 0
    parts = np.floor(pence * Pt.pay_share[members]).astype(np.int64)
    day = np.array([paid_day + mk.s.support.consortium_pass_on_days])
    lead = int(mk.contracts.lead[c])
    book_arrival(book.transfers, book.transfers_late, day, np.array([lead]), np.array([-int(parts.sum())]))
    book_arrival(book.transfers, book.transfers_late, np.repeat(day, len(members)), Pt.provider[members], parts)
    return int(parts.sum())


def receive(mk: Market, m: int) -> None:
    """The month's commissioner payments (and consortium transfers) reach the organisations.

    ``mk.arrived_late`` keeps, per organisation, the £ of this month's arrivals weighted by
    how far into the month each arrives: the finance room's average-cash test uses it.
    """
    P, book = mk.P, mk.book
    arriving = book.sched[m]
    book.paid_pence += int(arriving.sum())
    P.receipts_pence += arriving
    got = arriving / 100.0
    P.cash += got
    mk.flows["contract_receipts"] += got
    mk.arrived_late[:] = book.late[m] / 100.0
    if book.transfers is not None:
        t = book.transfers[m] / 100.0
        P.cash += t
        mk.flows["consortium_transfers"] += t
        mk.arrived_late += book.transfers_late[m] / 100.0


def paid_in_month(mk: Market, m: int) -> float:
    """£ the commissioner pays in month ``m``."""
    return mk.book.sched[m].sum() / 100.0


def ledger(mk: Market) -> dict[str, float]:
    """The commissioner's ledger at the horizon: earned, invoiced, paid, owed, accrued, written off, fees, bonds."""
    H, book, C = mk.H, mk.book, mk.contracts
    tr = book.transfers
    return dict(
        earned_pence=int(book.earned_pence),
        invoiced_pence=int(book.invoiced_pence),
        paid_pence=int(book.paid_pence),
        outstanding_pence=int(book.sched[H:].sum()),
        accrued_pence=int(C.view("acc_invoice").sum() + C.view("acc_results").sum()),
        abated_pence=int(book.abated_pence),
        written_off_pence=int(book.written_off_pence),
        provider_receipts_pence=int(mk.P.receipts_pence.sum()),
        transfers_net_pence=int(tr.sum()) if tr is not None else 0,
        transfers_outstanding_pence=int(tr[H:].sum()) if tr is not None else 0,
        fees=float(book.fees),
        bond_calls=float(book.bond_calls),
        bond_received_pence=int(book.bond_received_pence),
        bond_collateral_pence=int(book.bond_collateral_pence),
        bond_liability_pence=int(book.bond_liability_pence),
        budget=mk.budget.total(),
    )
