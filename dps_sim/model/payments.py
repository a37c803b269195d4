"""Payments: invoices for the month's work, when the commissioner pays them, and the ledger.

Payment terms (DESIGN.md, seed 000): ``advance`` is invoiced on the first day of the month it
covers, ``monthly_arrears`` on its last day, ``quarterly_arrears`` at each quarter's end, and
``payment_by_results`` pays a monthly part plus a results share each quarter in proportion to
delivered ÷ promised reach. Arrears wait the payment period (PCR 2015 reg 113: 30 days); any
payment can be late. Payments are whole pence, scheduled in the month they arrive, so that
money is conserved exactly.
"""

from __future__ import annotations

import numpy as np

from . import finance as fin
from .market import Market
from .schedule import extra_payment_days


def invoice_month(mk: Market, m: int, live: np.ndarray, value: np.ndarray, promised: np.ndarray,
                  delivered: np.ndarray, contract_month: np.ndarray) -> None:
    """Raise the invoices due for month ``m``'s work on the live contracts ``live``."""
    C, s = mk.contracts, mk.s
    terms = C.terms[live]
    extra = extra_payment_days(mk.shocks, m)
    amounts = np.zeros(len(live))
    inv_day = np.zeros(len(live))
    adv = terms == fin.ADVANCE
    marr = terms == fin.MONTHLY_ARREARS
    qarr = terms == fin.QUARTERLY_ARREARS
    pbr = terms == fin.PAYMENT_BY_RESULTS
    amounts[adv | marr] = value[adv | marr]
    inv_day[:] = fin.invoice_day(m, np.where(adv, fin.ADVANCE, fin.MONTHLY_ARREARS))
    share = s.contracts.payment.results_share
    amounts[pbr] = value[pbr] * (1.0 - share)
    qend = fin.is_quarter_end(contract_month, C.end[live] - C.start[live])
    if qarr.any():
        C.acc_invoice[live[qarr]] += value[qarr]
        close = qarr & qend
        amounts[close] = C.acc_invoice[live[close]]
        C.acc_invoice[live[close]] = 0.0
    if pbr.any():
        idx = live[pbr]
        C.acc_results[idx] += value[pbr] * share
        C.acc_results_promised[idx] += promised[pbr]
        C.acc_results_delivered[idx] += delivered[pbr]
        close = pbr & qend
        ci = live[close]
        ratio = np.minimum(1.0, C.acc_results_delivered[ci] / np.maximum(C.acc_results_promised[ci], 1e-9))
        results_pay = C.acc_results[ci] * ratio
        C.acc_results[ci] = 0.0
        C.acc_results_promised[ci] = 0.0
        C.acc_results_delivered[ci] = 0.0
        raise_invoices(mk, ci, results_pay, fin.invoice_day(m, fin.MONTHLY_ARREARS) * np.ones(len(ci)),
                       fin.QUARTERLY_ARREARS, extra)
    pay = amounts > 0
    if pay.any():
        raise_invoices(mk, live[pay], amounts[pay], inv_day[pay], terms[pay], extra)


def raise_invoices(mk: Market, contracts: np.ndarray, amounts: np.ndarray, inv_day: np.ndarray, terms,
                   extra: float) -> None:
    """Schedule payment of invoices in the month they will arrive (whole pence)."""
    C, book = mk.contracts, mk.book
    pay = mk.s.contracts.payment
    terms = np.broadcast_to(np.asarray(terms), contracts.shape)
    late = mk.rng["payments"].exponential(pay.late_days_mean, len(contracts)) if pay.late_days_mean > 0 else 0.0
    paid_day = fin.payment_day(inv_day, terms, pay.period_days, late + extra)
    month = np.minimum(fin.month_of(paid_day), book.sched.shape[0] - 1)
    pence = fin.to_pence(amounts)
    lead = C.lead[contracts]
    book.invoiced_pence += int(pence.sum())
    C.invoiced[contracts] += pence / 100.0
    cons = C.consortium[contracts]
    for k in np.flatnonzero(cons):  # the lead is paid in full and passes members their shares
        pass_on(mk, int(contracts[k]), int(pence[k]), paid_day[k])
    np.add.at(book.sched, (month, lead), pence)
    mk.log.add_many("payment", paid_day, provider=lead, contract=contracts, amount=pence / 100.0)


def pass_on(mk: Market, c: int, pence: int, paid_day: float) -> int:
    """A consortium lead passes members their share after its own delay; returns pence passed."""
    Pt, transfers = mk.parties, mk.book.transfers
    rows = np.flatnonzero((Pt.view("contract") == c) & Pt.view("active"))
    members = rows[Pt.provider[rows] != mk.contracts.lead[c]]
    if len(members) == 0:
        return 0
    parts = np.floor(pence * Pt.share[members]).astype(np.int64)
    month = min(int(fin.month_of(paid_day + mk.s.support.consortium_pass_on_days)), transfers.shape[0] - 1)
    lead = int(mk.contracts.lead[c])
    transfers[month, lead] -= int(parts.sum())
    np.add.at(transfers, (month, Pt.provider[members]), parts)
    return int(parts.sum())


def receive(mk: Market, m: int) -> None:
    """The month's commissioner payments (and consortium transfers) reach the organisations."""
    P, book = mk.P, mk.book
    arriving = book.sched[m]
    book.paid_pence += int(arriving.sum())
    P.receipts_pence += arriving
    got = arriving / 100.0
    P.cash += got
    mk.flows["contract_receipts"] += got
    if book.transfers is not None:
        t = book.transfers[m] / 100.0
        P.cash += t
        mk.flows["consortium_transfers"] += t


def paid_in_month(mk: Market, m: int) -> float:
    """£ the commissioner pays in month ``m``."""
    return mk.book.sched[m].sum() / 100.0


def ledger(mk: Market) -> dict[str, float]:
    """The commissioner's ledger at the horizon: invoiced, paid, still owed, passed on, fees, bonds."""
    H, book = mk.H, mk.book
    tr = book.transfers
    return dict(
        invoiced_pence=int(book.invoiced_pence),
        paid_pence=int(book.paid_pence),
        outstanding_pence=int(book.sched[H:].sum()),
        provider_receipts_pence=int(mk.P.receipts_pence.sum()),
        transfers_net_pence=int(tr.sum()) if tr is not None else 0,
        transfers_outstanding_pence=int(tr[H:].sum()) if tr is not None else 0,
        fees=float(book.fees),
        bond_calls=float(book.bond_calls),
    )
