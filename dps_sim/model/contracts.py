"""Contracts: starting, delivering, quarterly monitoring, extensions, and how contracts end.

* Delivery: each live contract delivers a month of its promised reach (with month-to-month
  noise around its persistent delivery rate) and quality; each party pays its share of the
  promised work at its own unit cost plus the overheads it brings (``finance.overhead_rate``:
  a price below full cost leaves them to reserves); invoices follow the payment terms.
* Monitoring (DESIGN.md; seed 003): every ``review_months`` delivered reach and quality are
  compared with the bid; poor performance brings an improvement notice, repeated notices
  termination; a provider losing more than ``handback_loss`` on a contract hands it back.
* Ends: a month before a contract ends a grant is renewed to its holder (the former model),
  an extension is taken up (if funding is renewed, the budget allows and no notice is open),
  or an ongoing service is re-let; a failed or terminated contract leaves a service gap
  until it is re-commissioned (``recommission_months``, about three).
"""

from __future__ import annotations

import numpy as np

from . import finance as fin
from . import procurement as proc
from .market import Market
from .budget import schedule
from .payments import final_account, invoice_month
from .stores import COMPLETED, END_HANDBACK, END_INSOLVENCY, END_TERMINATED, FAILED, LIVE, PENDING
from .streams import substream

MD = fin.MONTH_DAYS


def complete_and_start(mk: Market, m: int, day: float) -> None:
    """Contracts whose term is over complete; awarded contracts whose start month has come go live."""
    C, N = mk.contracts, mk.needs
    status = C.view("status")
    ending = np.flatnonzero((status == LIVE) & (C.view("end") <= m))
    if len(ending):
        close_contracts(mk, ending, m, COMPLETED)
        mk.log.add_many("contract_end", day, provider=C.lead[ending], contract=ending)
    starting_now = np.flatnonzero((status == PENDING) & (C.view("start") <= m))
    if len(starting_now):
        C.status[starting_now] = LIVE
        N.contract[C.need[starting_now]] = starting_now
        mk.log.add_many("contract_start", day, provider=C.lead[starting_now], contract=starting_now,
                        amount=C.annual_value[starting_now])


def deliver(mk: Market, m: int) -> None:
    """Live contracts deliver a month of service; costs fall on parties; invoices are raised."""
    C, s = mk.contracts, mk.s
    live = np.flatnonzero(C.view("status") == LIVE)
    if len(live) == 0:
        return
    cm = m - C.start[live]
    value = C.annual_value[live] / 12.0 * fin.taper_factor(cm, s.contracts.taper_per_year)
    promised = C.reach[live] / 12.0
    z = mk.rng["delivery"].standard_normal((2, len(live)))
    beh = s.behaviour
    delivered = np.maximum(promised * C.delivery[live] * (1.0 + beh.delivery_monthly_sd * z[0]), 0.0)
    kept = switch_factor(C.switched[live], cm, beh.switch_reach_loss, beh.switch_months)
    mk.counters["users_lost_switching"] += float((delivered * (1.0 - kept)).sum())
    delivered *= kept
    quality = np.clip(C.quality[live] + beh.quality_monthly_sd * z[1], 0.0, 5.0)
    C.users[live] += delivered
    C.quality_months[live] += quality
    C.months_delivered[live] += 1
    C.q_delivered[live] += delivered
    C.q_promised[live] += promised * kept          # monitoring expects the mobilisation dip
    C.q_quality[live] += quality
    C.q_months[live] += 1
    party_costs(mk, live)
    invoice_month(mk, m, live, value, promised, delivered, cm)


def switch_factor(switched: np.ndarray, contract_month: np.ndarray, loss: float, months: int) -> np.ndarray:
    """Share of its reach a contract delivers this month: ``1 − loss`` in the first ``months`` of a contract
    taken over from a different provider (seed 003 F31: the service "can lose momentum and more importantly
    service users"), else 1."""
    return np.where(switched & (contract_month < months), 1.0 - loss, 1.0)


def party_costs(mk: Market, live: np.ndarray) -> None:
    """Each party pays its share of the promised work at its own unit cost (the lead covers a failed member)."""
    C, Pt, P = mk.contracts, mk.parties, mk.P
    pc = Pt.view("contract")
    is_live = np.zeros(C.n, bool)
    is_live[live] = True
    rows = np.flatnonzero(is_live[pc])
    if len(rows) == 0:
        return
    contract = pc[rows]
    who = Pt.provider[rows].copy()
    inactive = ~Pt.active[rows]
    who[inactive] = C.lead[contract[inactive]]
    cost = Pt.share[rows] * C.reach[contract] / 12.0 * P.cost_per_user[who] * mk.cost_factor * (
        1.0 + mk.s.finance.overhead_rate)
    np.add.at(P.cash, who, -cost)
    np.add.at(mk.flows["delivery_cost"], who, -cost)
    np.add.at(mk.month_cost, who, cost)


def reviews(mk: Market, m: int, day: float) -> None:
    """Quarterly monitoring: notices, termination after repeated notices, hand-backs of loss-making work."""
    C, s, counters = mk.contracts, mk.s, mk.counters
    mon = s.contracts.monitoring
    live = np.flatnonzero((C.view("status") == LIVE) & (C.view("q_months") >= mon.review_months))
    if len(live) == 0:
        return
    ratio = C.q_delivered[live] / np.maximum(C.q_promised[live], 1e-9)
    quality = C.q_quality[live] / np.maximum(C.q_months[live], 1)
    C.q_delivered[live] = C.q_promised[live] = C.q_quality[live] = 0.0
    C.q_months[live] = 0
    revenue = C.annual_value[live] * fin.taper_factor(m - C.start[live], s.contracts.taper_per_year) / 12.0
    cost = C.reach[live] * C.unit_cost[live] * mk.cost_factor / 12.0
    handback = (revenue <= 0) | ((cost - revenue) / np.maximum(revenue, 1e-9) > s.behaviour.handback_loss)
    poor = ~handback & ((ratio < mon.min_reach_ratio) | (quality < mon.min_quality))
    if proc.lightly_monitored(s.procurement):
        poor[:] = False      # the former grants: reviewed for hand-backs, but no improvement notices
    C.notices[live[~handback & ~poor]] = 0
    C.notices[live[poor]] += 1
    for j in np.flatnonzero(handback):
        c = int(live[j])
        counters["handbacks"] += 1
        mk.log.add("handback", day, provider=int(C.lead[c]), contract=c, amount=float(revenue[j] - cost[j]))
        fail_contract(mk, c, m, day, END_HANDBACK)
    for j in np.flatnonzero(poor):
        c = int(live[j])
        counters["notices"] += 1
        mk.log.add("notice", day, provider=int(C.lead[c]), contract=c, value=float(ratio[j]))
        if C.notices[c] >= mon.notices_before_termination:
            counters["terminations"] += 1
            mk.log.add("termination", day, provider=int(C.lead[c]), contract=c)
            exclude(mk, int(C.lead[c]), m)
            fail_contract(mk, c, m, day, END_TERMINATED)


def exclude(mk: Market, lead: int, m: int) -> None:
    """A provider whose contract is terminated for poor performance may not bid for ``exclusion_months``.

    PCR 2015 reg 57(8)(g): a contracting authority may exclude an operator that "has shown
    significant or persistent deficiencies in the performance of a substantive requirement
    under a prior public contract ... which led to early termination"; reg 57(11): for at most
    three years from the event. The ground is not limited to the same service, so the
    exclusion covers every lot of the commissioner (its lead only: the contractor).
    """
    months = proc.exclusion_months(mk.s)
    if months > 0:
        T = mk.tender
        T.excluded_until[lead] = max(int(T.excluded_until[lead]), m + months)


def contract_ends(mk: Market, m: int, day: float) -> None:
    """A month before a contract ends: take up an extension, or re-let an ongoing service."""
    C, N, s = mk.contracts, mk.needs, mk.s
    ext = s.contracts.extensions_months
    for c in np.flatnonzero((C.view("status") == LIVE) & (C.view("end") == m + 1) & ~C.view("interim")):
        c = int(c)
        used = int(C.extensions_used[c])
        need = int(C.need[c])
        if N.end[need] > m + 1 and proc.renews_to_holder(s, int(C.notices[c])):
            u = substream(mk.root, "renewals", need, used).random()
            if u < mk.renewal_p and fund_extension(mk, c, s.contracts.length_months, day):
                C.end[c] += s.contracts.length_months   # the grant is renewed to its holder for another term
                C.extensions_used[c] = used + 1
                mk.log.add("extension", day, provider=int(C.lead[c]), contract=c, value=float(s.contracts.length_months))
                continue
        if used < len(ext):
            u = substream(mk.root, "renewals", need, used).random()
            if C.notices[c] == 0 and u < s.contracts.extension_probability * mk.renewal_p and fund_extension(
                    mk, c, ext[used], day):
                C.end[c] += ext[used]
                C.extensions_used[c] = used + 1
                N.end[need] = max(int(N.end[need]), int(C.end[c]))
                mk.log.add("extension", day, provider=int(C.lead[c]), contract=c, value=float(ext[used]))
                continue
            if not s.procurement.competitions.retender_on_expiry:
                N.end[need] = min(int(N.end[need]), m + 1)
        if s.procurement.competitions.retender_on_expiry and N.end[need] > m + 1:
            N.start[need] = m + 1
            mk.tender.queue.setdefault(m, []).append(need)


def fund_extension(mk: Market, c: int, months: int, day: float) -> bool:
    """Commit an extension's months against the budget; False (logged) if it cannot be funded."""
    C = mk.contracts
    if not mk.budget.active:
        return True
    start, end = int(C.start[c]), int(C.end[c])
    when, amounts = schedule(end, months, float(C.annual_value[c]), mk.s.contracts.taper_per_year, end - start)
    if not mk.budget.fits(when, amounts):
        mk.log.add("extension_unfunded", day, provider=int(C.lead[c]), contract=c, value=float(months))
        return False
    mk.budget.commit(when, amounts)
    return True


def release_budget(mk: Market, c: int, first: int, share: float = 1.0) -> None:
    """Give back to the budget ``share`` of a contract's months from ``first`` on (it ended early, or was cut)."""
    C = mk.contracts
    if not mk.budget.active or share <= 0:
        return
    start, end = int(C.start[c]), int(C.end[c])
    first = max(first, start)
    if end > first:
        months, amounts = schedule(first, end - first, float(C.annual_value[c]), mk.s.contracts.taper_per_year,
                                   first - start)
        mk.budget.release(months, amounts * share)


def service_gaps(mk: Market, m: int) -> None:
    """Every need that should be served this month and has no live contract adds a month of gap."""
    N = mk.needs
    n = N.n
    if n == 0:
        return
    gap = (N.start[:n] <= m) & (N.end[:n] > m) & (N.contract[:n] < 0)
    N.gap_days[:n][gap] += MD


def close_contracts(mk: Market, ended: np.ndarray, m: int, status: int, bond_called: bool = False) -> None:
    """End contracts: release their capacity, and their collateral unless the bond was called."""
    C, P, N, Pt = mk.contracts, mk.P, mk.needs, mk.parties
    C.status[ended] = status
    C.ended_month[ended] = m
    lead, collateral = C.lead[ended], C.collateral[ended]
    if not bond_called and (collateral > 0).any():
        np.add.at(P.cash, lead, collateral)
        np.add.at(mk.flows["collateral_released"], lead, collateral)
    np.subtract.at(P.collateral, lead, collateral)
    mask = np.zeros(C.n, bool)
    mask[ended] = True
    rows = np.flatnonzero(mask[Pt.view("contract")])
    np.add.at(P.committed, Pt.provider[rows], -Pt.share[rows] * C.original_value[Pt.contract[rows]])
    need = C.need[ended]
    served = N.contract[need] == ended
    N.contract[need[served]] = -1


def call_bond(mk: Market, c: int, day: float) -> None:
    """The council calls the bond: it is paid the whole bond, from the lead's forfeited collateral and, for the
    uncollateralised rest, by the surety, which recovers it from the lead (a debt in its cash)."""
    C, book, lead = mk.contracts, mk.book, int(mk.contracts.lead[c])
    held, rest = fin.bond_call(float(C.bond[c]), float(C.collateral[c]))
    book.bond_calls += float(C.bond[c])
    book.bond_received_pence += held + rest
    book.bond_collateral_pence += held
    book.bond_liability_pence += rest
    mk.P.cash[lead] -= rest / 100.0
    mk.P.in_hand[lead] -= rest / 100.0
    mk.flows["bond_liability"][lead] -= rest / 100.0
    mk.counters["bond_calls"] += 1
    mk.log.add("bond_call", day, provider=lead, contract=c, amount=float(C.bond[c]))


def fail_contract(mk: Market, c: int, m: int, day: float, cause: int) -> None:
    """A contract ends early: the bond is called (insolvency, termination), the service is re-let."""
    C, N, s = mk.contracts, mk.needs, mk.s
    was_live = C.status[c] == LIVE
    C.end_cause[c] = cause
    mk.counters["contract_failures"] += 1
    mk.log.add("contract_failure", day, provider=int(C.lead[c]), contract=c, value=float(cause))
    called = bool(C.bond[c] > 0 and cause in (END_INSOLVENCY, END_TERMINATED))
    if called:
        call_bond(mk, c, day)
    final_account(mk, c, m)
    release_budget(mk, c, m + 1 if was_live else int(C.start[c]))
    close_contracts(mk, np.array([c]), m, FAILED, bond_called=called)
    need = int(C.need[c])
    restart = m + s.contracts.recommission_months
    if C.interim[c]:
        return      # the service's re-let is already queued; it has a gap until then
    if restart < N.end[need]:
        N.start[need] = max(int(N.start[need]), m) if not was_live else m
        call = max(m, restart - 1)
        mk.tender.queue.setdefault(call, []).append(need)
        if was_live and s.contracts.interim_cover:     # arranged once the month's failures are known
            close = call * fin.MONTH_DAYS + s.procurement.competitions.tender_days
            mk.tender.covers.append((c, int(fin.month_of(close)) + 1))   # until the re-let can start
