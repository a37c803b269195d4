"""The engine: SimPy wiring of months, competitions and admissions for one replication.

SimPy schedules the events that happen at a moment (the start of each month, the close of
each tender window, each admission decision). What every provider does every month (cash,
spending, contract delivery) is advanced for all providers at once on NumPy arrays.

One replication = one :class:`Simulation`; it draws from named streams spawned from the
replication's :class:`numpy.random.SeedSequence`, so policies meet the same market.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import simpy

from ..scenario.schema import FundingCut, CostInflation, GrantLoss, Scenario
from . import competition as comp
from . import finance as fin
from . import procurement as proc
from .audit import EventLog
from .contracts import (COMPLETED, END_HANDBACK, END_INSOLVENCY, END_TERMINATED, FAILED, LIVE, PENDING,
                        new_contracts, new_needs, new_parties, split_by_capacity)
from .population import ACTIVE, EXIT_CLOSED, EXIT_INSOLVENT, EXITED, Providers, build_population
from .shocks import demand_factor, extra_payment_days, renewal_probability, resolve_shocks, starting
from .streams import item_key, keyed_normals, spawn_streams, stream_key, substream

MD = fin.MONTH_DAYS
FLOW_NAMES = ("other_income", "spending", "delivery_cost", "bid_costs", "bond_premiums", "collateral_locked",
              "collateral_released", "fees", "contract_receipts", "consortium_transfers")


@dataclass
class RunOutput:
    """Everything one replication produced: state arrays, stores, log, time series, ledgers."""

    scenario: Scenario
    providers: Providers
    needs: dict[str, np.ndarray]
    contracts: dict[str, np.ndarray]
    parties: dict[str, np.ndarray]
    events: dict[str, np.ndarray]
    timeseries: dict[str, np.ndarray]
    ledger: dict[str, float]
    flows: dict[str, np.ndarray]
    cash_start: np.ndarray
    counters: dict[str, float]
    simpy_events: int


OPEN_ENDED = 2**30  # end month of an ongoing service: the horizon ends the observation, not the service


def _median(x: np.ndarray) -> float:
    """np.median of a 1-D array (0 when empty), by partition: equal result, a tenth of the time."""
    n = len(x)
    if n == 0:
        return 0.0
    h = n // 2
    if n % 2:
        return float(np.partition(x, h)[h])
    part = np.partition(x, (h - 1, h))
    return float((part[h - 1] + part[h]) / 2.0)


class Simulation:
    """One replication of one scenario (already resolved for its policy)."""

    def __init__(self, scenario: Scenario, root: np.random.SeedSequence, events: str = "awards"):
        self.s = scenario
        self.root = root
        self.rng = spawn_streams(root)
        self.P = build_population(scenario, self.rng["population"], self.rng["entry"])
        self.H = scenario.horizon_months
        self.shocks = resolve_shocks(scenario, self.rng["shocks"])
        self.log = EventLog(events)
        self.needs, self.contracts, self.parties = new_needs(), new_contracts(), new_parties()
        n, cols = self.P.n, self.H + 36
        # month-major (month, provider) so that one month's arrivals are one contiguous row
        self.sched = np.zeros((cols, n), np.int64)           # commissioner payments arriving, pence
        self.transfers = np.zeros((cols, n), np.int64) if scenario.support.consortia else None
        self.flows = {k: np.zeros(n) for k in FLOW_NAMES}
        self.cash_start = self.P.cash.copy()
        self.target_cash = self.P.cash.copy()
        self.bids_round = np.zeros(n, np.int32)
        self.cost_factor = 1.0
        self.lot_factor = 1.0
        self.renewal_p = renewal_probability(self.shocks)
        self.queue: dict[int, list[int]] = {}                # month -> needs to (re)let then
        self.n_lots = 0
        self.ledger = dict(invoiced_pence=0, paid_pence=0, fees=0.0, bond_calls=0.0)
        self.counters = {k: 0.0 for k in (
            "lots", "lots_closed", "bids", "bids_small", "unopposed_lots", "failed_competitions", "awards", "awarded_value",
            "awarded_value_small", "notices", "terminations", "handbacks", "contract_failures", "insolvencies",
            "insolvencies_small", "closures", "entries", "applications", "admissions", "rejections",
            "assess_gap_small_sum", "assess_gap_small_n", "first_round_winners", "first_round_local_winners",
            "bond_calls")}
        self.entered = np.searchsorted(self.P.entry_month, np.arange(self.H + 1), side="right")
        self.ts = self._timeseries_arrays()
        self.first_round_lots: set[int] = set()
        self.first_round_winner_ids: set[int] = set()
        self.lot_key = stream_key(root, "lots")
        self.env = simpy.Environment()

    # ------------------------------------------------------------------ running

    def run(self) -> RunOutput:
        """Run to the horizon and return what happened."""
        self.env.process(self._months())
        self.env.run(until=self.H * MD + 1e-6)
        self._finish()
        P = self.P
        return RunOutput(
            scenario=self.s, providers=P, needs=self.needs.table(), contracts=self.contracts.table(),
            parties=self.parties.table(), events=self.log.columns(), timeseries=self.ts,
            ledger=self._ledger(), flows=self.flows, cash_start=self.cash_start, counters=self.counters,
            simpy_events=self._event_count,
        )

    _event_count = 0

    def _timeout(self, delay: float):
        self._event_count += 1
        return self.env.timeout(delay)

    def _months(self):
        for m in range(self.H):
            delay = m * MD - self.env.now
            if delay > 0:
                yield self._timeout(delay)
            self.month_step(m)

    # ------------------------------------------------------------------ the month

    def month_step(self, m: int) -> None:
        """Everything that happens at the start of month ``m``, in a fixed order."""
        day = m * MD
        self._entries(m, day)
        self._shocks(m, day)
        self._complete_and_start(m, day)
        self._deliver_and_invoice(m, day)
        self._cash_step(m, day)
        self._exits(m, day)
        self._reviews(m, day)
        self._contract_ends(m, day)
        self._service_gaps(m)
        self._applications(m, day)
        self._competitions(m, day)
        self._record(m)

    def _entries(self, m: int, day: float) -> None:
        P = self.P
        lo, hi = (self.entered[m - 1] if m > 0 else 0), self.entered[m]
        if m == 0 or hi <= lo:
            return
        idx = np.arange(lo, hi)
        P.status[idx] = ACTIVE
        self.counters["entries"] += len(idx)
        self.log.add_many("entry", day, provider=idx)

    def _shocks(self, m: int, day: float) -> None:
        C = self.contracts
        for sh in starting(self.shocks, m):
            shock = sh.shock
            self.log.add("shock", day, value=float(self.s.shocks.index(shock)))
            if isinstance(shock, FundingCut):
                if shock.applies_to in ("all", "contracts"):
                    live = np.flatnonzero(C.view("status") <= LIVE)
                    C.annual_value[live] *= 1.0 - shock.fraction
                    C.reach[live] *= 1.0 - shock.scope_reduction * shock.fraction
                if shock.applies_to in ("all", "lots"):
                    self.lot_factor *= 1.0 - shock.fraction
                    N = self.needs
                    N.view("value")[:] *= 1.0 - shock.fraction
                    N.view("reach")[:] *= 1.0 - shock.fraction
            elif isinstance(shock, CostInflation):
                self.cost_factor *= 1.0 + shock.fraction
            elif isinstance(shock, GrantLoss):
                g = substream(self.root, "shocks", m, 1)
                hit = g.random(self.P.n) < shock.share_of_providers
                self.P.income_factor[hit] *= 1.0 - shock.fraction

    def _complete_and_start(self, m: int, day: float) -> None:
        C, N, P = self.contracts, self.needs, self.P
        status = C.view("status")
        ending = np.flatnonzero((status == LIVE) & (C.view("end") <= m))
        for c in ending:
            self._close_contract(int(c), m, day, COMPLETED)
            self.log.add("contract_end", day, provider=int(C.lead[c]), contract=int(c))
        starting_now = np.flatnonzero((status == PENDING) & (C.view("start") <= m))
        for c in starting_now:
            C.status[c] = LIVE
            N.contract[C.need[c]] = c
            self.log.add("contract_start", day, provider=int(C.lead[c]), contract=int(c), amount=float(C.annual_value[c]))

    def _deliver_and_invoice(self, m: int, day: float) -> None:
        """Live contracts deliver a month of service; costs fall on parties; invoices are raised."""
        C, P, s = self.contracts, self.P, self.s
        live = np.flatnonzero(C.view("status") == LIVE)
        if len(live) == 0:
            return
        rng = self.rng["delivery"]
        cm = m - C.start[live]
        value = C.annual_value[live] / 12.0 * fin.taper_factor(cm, s.contracts.taper_per_year)
        promised = C.reach[live] / 12.0
        z = rng.standard_normal((2, len(live)))
        beh = s.behaviour
        delivered = np.maximum(promised * C.delivery[live] * (1.0 + beh.delivery_monthly_sd * z[0]), 0.0)
        quality = np.clip(C.quality[live] + beh.quality_monthly_sd * z[1], 0.0, 5.0)
        C.users[live] += delivered
        C.quality_months[live] += quality
        C.months_delivered[live] += 1
        C.q_delivered[live] += delivered
        C.q_promised[live] += promised
        C.q_quality[live] += quality
        C.q_months[live] += 1
        # delivery costs: each party pays its share of the promised work at its own unit cost
        self._party_costs(live)
        # invoices
        terms = C.terms[live]
        extra = extra_payment_days(self.shocks, m)
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
        qend = fin.is_quarter_end(cm, C.end[live] - C.start[live])
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
            self._raise_invoices(ci, results_pay, fin.invoice_day(m, fin.MONTHLY_ARREARS) * np.ones(len(ci)),
                                 fin.QUARTERLY_ARREARS, extra, day)
        pay = amounts > 0
        if pay.any():
            self._raise_invoices(live[pay], amounts[pay], inv_day[pay], terms[pay], extra, day)

    def _party_costs(self, live: np.ndarray) -> None:
        C, Pt, P = self.contracts, self.parties, self.P
        pc = Pt.view("contract")
        rows = np.flatnonzero(np.isin(pc, live))
        if len(rows) == 0:
            return
        contract = pc[rows]
        who = Pt.provider[rows].copy()
        inactive = ~Pt.active[rows]
        who[inactive] = C.lead[contract[inactive]]
        cost = Pt.share[rows] * C.reach[contract] / 12.0 * P.cost_per_user[who] * self.cost_factor
        np.add.at(P.cash, who, -cost)
        np.add.at(self.flows["delivery_cost"], who, -cost)

    def _raise_invoices(self, contracts: np.ndarray, amounts: np.ndarray, inv_day: np.ndarray, terms, extra: float,
                        day: float) -> None:
        """Schedule payment of invoices in the month they will arrive (whole pence)."""
        C, s = self.contracts, self.s
        pay = s.contracts.payment
        terms = np.broadcast_to(np.asarray(terms), contracts.shape)
        late = self.rng["payments"].exponential(pay.late_days_mean, len(contracts)) if pay.late_days_mean > 0 else 0.0
        paid_day = fin.payment_day(inv_day, terms, pay.period_days, late + extra)
        month = np.minimum(fin.month_of(paid_day), self.sched.shape[0] - 1)
        pence = fin.to_pence(amounts)
        lead = C.lead[contracts]
        self.ledger["invoiced_pence"] += int(pence.sum())
        C.invoiced[contracts] += pence / 100.0
        cons = C.consortium[contracts]
        for k in np.flatnonzero(cons):  # the lead is paid in full and passes members their shares
            self._pass_on(int(contracts[k]), int(pence[k]), paid_day[k])
        np.add.at(self.sched, (month, lead), pence)
        self.log.add_many("payment", paid_day, provider=lead, contract=contracts, amount=pence / 100.0)

    def _pass_on(self, c: int, pence: int, paid_day: float) -> int:
        """A consortium lead passes members their share after its own delay; returns pence passed."""
        Pt = self.parties
        rows = np.flatnonzero((Pt.view("contract") == c) & Pt.view("active"))
        members = rows[Pt.provider[rows] != self.contracts.lead[c]]
        if len(members) == 0:
            return 0
        parts = np.floor(pence * Pt.share[members]).astype(np.int64)
        month = min(int(fin.month_of(paid_day + self.s.support.consortium_pass_on_days)), self.transfers.shape[0] - 1)
        lead = int(self.contracts.lead[c])
        self.transfers[month, lead] -= int(parts.sum())
        np.add.at(self.transfers, (month, Pt.provider[members]), parts)
        return int(parts.sum())

    def _cash_step(self, m: int, day: float) -> None:
        """Receipts arrive; other income and spending; bond premiums. All providers at once."""
        P, s = self.P, self.s
        arriving = self.sched[m]
        self.ledger["paid_pence"] += int(arriving.sum())
        P.receipts_pence += arriving
        got = arriving / 100.0
        P.cash += got
        self.flows["contract_receipts"] += got
        if self.transfers is not None:
            t = self.transfers[m] / 100.0
            P.cash += t
            self.flows["consortium_transfers"] += t
        k = self.entered[m]
        z = self.rng["income"].standard_normal(k)
        active = P.status[:k] == ACTIVE
        base = P.spending[:k] * P.income_factor[:k]
        income = np.where(active, base * (1.0 + s.market.income_volatility * z), 0.0)
        spend = fin.adjusted_spending(P.spending[:k], P.cash[:k], self.target_cash[:k], s.behaviour.spending_adjustment)
        if s.support.peppercorn_rent:
            spend = np.where(P.committed[:k] > 0, spend * (1.0 - s.support.peppercorn_saving), spend)
        spend = np.where(active, spend, 0.0)
        P.cash[:k] += income - spend
        self.flows["other_income"][:k] += income
        self.flows["spending"][:k] -= spend
        C = self.contracts
        live = np.flatnonzero((C.view("status") == LIVE) & (C.view("bond") > 0))
        if len(live):
            prem = fin.bond_premium_monthly(C.bond[live], s.contracts.performance_bond.premium_rate)
            np.add.at(P.cash, C.lead[live], -prem)
            np.add.at(self.flows["bond_premiums"], C.lead[live], -prem)

    def _exits(self, m: int, day: float) -> None:
        P, s = self.P, self.s
        k = self.entered[m]
        active = P.status[:k] == ACTIVE
        broke = active & fin.insolvent(P.cash[:k], P.spending[:k], s.finance.overdraft_months)
        for i in np.flatnonzero(broke):
            self._exit(int(i), m, day, EXIT_INSOLVENT)
        settled = m - P.entry_month[:k] >= 6  # trustees wind down over months, not at once (assumption)
        quiet = (P.status[:k] == ACTIVE) & settled & (P.committed[:k] <= 0) & (P.cash[:k] < s.behaviour.close_reserve_months * P.spending[:k])
        for i in np.flatnonzero(quiet):
            self._exit(int(i), m, day, EXIT_CLOSED)

    def _exit(self, i: int, m: int, day: float, cause: int) -> None:
        P, C, Pt = self.P, self.contracts, self.parties
        P.status[i] = EXITED
        P.exit_month[i] = m
        P.exit_cause[i] = cause
        small = P.band[i] <= 1
        if cause == EXIT_INSOLVENT:
            self.counters["insolvencies"] += 1
            self.counters["insolvencies_small"] += float(small)
            self.log.add("insolvency", day, provider=i, amount=float(P.cash[i]))
            for c in np.flatnonzero((C.view("lead") == i) & (C.view("status") <= LIVE)):
                self._fail_contract(int(c), m, day, END_INSOLVENCY)
            rows = np.flatnonzero((Pt.view("provider") == i) & Pt.view("active"))
            for r in rows:
                c = Pt.contract[r]
                if C.lead[c] != i:
                    Pt.active[r] = False
        else:
            self.counters["closures"] += 1
            self.log.add("closure", day, provider=i, amount=float(P.cash[i]))

    def _reviews(self, m: int, day: float) -> None:
        """Quarterly monitoring: notices, termination after repeated notices, hand-backs of loss-making work."""
        C, s = self.contracts, self.s
        mon = s.contracts.monitoring
        live = np.flatnonzero((C.view("status") == LIVE) & (C.view("q_months") >= mon.review_months))
        if len(live) == 0:
            return
        ratio = C.q_delivered[live] / np.maximum(C.q_promised[live], 1e-9)
        quality = C.q_quality[live] / np.maximum(C.q_months[live], 1)
        C.q_delivered[live] = C.q_promised[live] = C.q_quality[live] = 0.0
        C.q_months[live] = 0
        revenue = C.annual_value[live] * fin.taper_factor(m - C.start[live], s.contracts.taper_per_year) / 12.0
        cost = C.reach[live] * C.unit_cost[live] * self.cost_factor / 12.0
        handback = (revenue <= 0) | ((cost - revenue) / np.maximum(revenue, 1e-9) > s.behaviour.handback_loss)
        poor = ~handback & ((ratio < mon.min_reach_ratio) | (quality < mon.min_quality))
        C.notices[live[~handback & ~poor]] = 0
        C.notices[live[poor]] += 1
        for j in np.flatnonzero(handback):
            c = int(live[j])
            self.counters["handbacks"] += 1
            self.log.add("handback", day, provider=int(C.lead[c]), contract=c, amount=float(revenue[j] - cost[j]))
            self._fail_contract(c, m, day, END_HANDBACK)
        for j in np.flatnonzero(poor):
            c = int(live[j])
            self.counters["notices"] += 1
            self.log.add("notice", day, provider=int(C.lead[c]), contract=c, value=float(ratio[j]))
            if C.notices[c] >= mon.notices_before_termination:
                self.counters["terminations"] += 1
                self.log.add("termination", day, provider=int(C.lead[c]), contract=c)
                self._fail_contract(c, m, day, END_TERMINATED)

    def _contract_ends(self, m: int, day: float) -> None:
        """A month before a contract ends: take up an extension, or re-let an ongoing service."""
        C, N, s = self.contracts, self.needs, self.s
        ext = s.contracts.extensions_months
        for c in np.flatnonzero((C.view("status") == LIVE) & (C.view("end") == m + 1)):
            c = int(c)
            used = int(C.extensions_used[c])
            need = int(C.need[c])
            if used < len(ext):
                u = substream(self.root, "renewals", need, used).random()
                if C.notices[c] == 0 and u < s.contracts.extension_probability * self.renewal_p:
                    C.end[c] += ext[used]
                    C.extensions_used[c] = used + 1
                    N.end[need] = max(int(N.end[need]), int(C.end[c]))
                    self.log.add("extension", day, provider=int(C.lead[c]), contract=c, value=float(ext[used]))
                    continue
                if not s.procurement.competitions.retender_on_expiry:
                    N.end[need] = min(int(N.end[need]), m + 1)
            if s.procurement.competitions.retender_on_expiry and N.end[need] > m + 1:
                N.start[need] = m + 1
                self.queue.setdefault(m, []).append(need)

    def _service_gaps(self, m: int) -> None:
        N = self.needs
        n = N.n
        if n == 0:
            return
        gap = (N.start[:n] <= m) & (N.end[:n] > m) & (N.contract[:n] < 0)
        N.gap_days[:n][gap] += MD

    # ------------------------------------------------------------------ contracts end

    def _close_contract(self, c: int, m: int, day: float, status: int, bond_called: bool = False) -> None:
        """End a contract: release its capacity, and its collateral unless the bond was called."""
        C, P, N = self.contracts, self.P, self.needs
        C.status[c] = status
        C.ended_month[c] = m
        lead = int(C.lead[c])
        if C.collateral[c] > 0 and not bond_called:
            P.cash[lead] += C.collateral[c]
            self.flows["collateral_released"][lead] += C.collateral[c]
        P.collateral[lead] -= C.collateral[c]
        self._release_capacity(c)
        need = int(C.need[c])
        if N.contract[need] == c:
            N.contract[need] = -1

    def _release_capacity(self, c: int) -> None:
        Pt = self.parties
        rows = np.flatnonzero(Pt.view("contract") == c)
        np.add.at(self.P.committed, Pt.provider[rows], -Pt.share[rows] * self.contracts.original_value[c])

    def _fail_contract(self, c: int, m: int, day: float, cause: int) -> None:
        """A contract ends early: the bond is called (insolvency, termination), the service is re-let."""
        C, N, s = self.contracts, self.needs, self.s
        was_live = C.status[c] == LIVE
        C.end_cause[c] = cause
        self.counters["contract_failures"] += 1
        self.log.add("contract_failure", day, provider=int(C.lead[c]), contract=c, value=float(cause))
        called = bool(C.bond[c] > 0 and cause in (END_INSOLVENCY, END_TERMINATED))
        if called:
            self.ledger["bond_calls"] += float(C.bond[c])
            self.counters["bond_calls"] += 1
            self.log.add("bond_call", day, provider=int(C.lead[c]), contract=c, amount=float(C.bond[c]))
        self._close_contract(c, m, day, FAILED, bond_called=called)
        need = int(C.need[c])
        restart = m + s.contracts.recommission_months
        if restart < N.end[need]:
            N.start[need] = max(int(N.start[need]), m) if not was_live else m
            call = max(m, restart - 1)
            self.queue.setdefault(call, []).append(need)

    # ------------------------------------------------------------------ admission

    def _applications(self, m: int, day: float) -> None:
        """Organisations apply to join; each decision is a SimPy event after the evaluation period."""
        s, P = self.s, self.P
        if not proc.has_admission(s.procurement.route) or not proc.admission_open(s.procurement, m):
            return
        k = self.entered[m]
        g = substream(self.root, "admission", m)
        u = g.random((3, k))
        adm = s.procurement.admission
        new = P.entry_month[:k] == m
        chance = np.where(new | (m == 0), adm.apply_probability, 1 - (1 - adm.apply_probability) ** (1 / 12))
        if s.procurement.route == "framework":
            chance = np.full(k, adm.apply_probability)
        eligible = (P.status[:k] == ACTIVE) & ~P.admitted[:k] & ~P.applying[:k] & (P.next_apply_day[:k] <= day)
        typical = s.procurement.competitions.lot_value.median
        useful = P.capacity[:k] >= comp.MIN_REACH_SHARE * typical
        if s.support.consortia:
            useful |= ~P.private[:k]
        cost_all = comp.bid_cost(adm.questionnaire_pages, P.skill[:k], s.behaviour)
        afford = P.cash[:k] - cost_all >= -s.finance.overdraft_months * P.spending[:k]
        apply = np.flatnonzero(eligible & useful & afford & (u[0] < chance))
        if len(apply) == 0:
            return
        cost = cost_all[apply]
        P.cash[apply] -= cost
        P.bid_cost_paid[apply] += cost
        self.flows["bid_costs"][apply] -= cost
        P.applying[apply] = True
        self.counters["applications"] += len(apply)
        submit = day + np.floor(u[1, apply] * 15.0)  # within the first fortnight of the month
        self.log.add_many("application", submit, provider=apply)
        score = comp.assessed_quality(P.quality[apply], P.skill[apply], g.standard_normal(k)[apply], s.behaviour)
        decide = submit + proc.evaluation_days(adm.evaluation_working_days)
        self.env.process(self._admissions_desk(decide, apply, score))

    def _admissions_desk(self, decide: np.ndarray, who: np.ndarray, score: np.ndarray):
        """Decide this month's applications, each on its own day (one SimPy timeout per decision day)."""
        order = np.argsort(decide, kind="stable")
        decide, who, score = decide[order], who[order], score[order]
        days, first = np.unique(decide, return_index=True)
        bounds = list(first) + [len(decide)]
        for j, day in enumerate(days):
            yield self._timeout(float(day) - self.env.now)
            sl = slice(bounds[j], bounds[j + 1])
            self._decide(who[sl], score[sl])

    def _decide(self, who: np.ndarray, score: np.ndarray) -> None:
        """Admit applicants whose assessed score reaches the pass mark; the rest may reapply later."""
        P, s = self.P, self.s
        m = int(fin.month_of(self.env.now))
        ok = proc.admitted_on_assessment(score, s.procurement.admission.pass_score) & (P.status[who] == ACTIVE)
        P.applying[who] = False
        yes, no = who[ok], who[~ok]
        P.admitted[yes] = True
        P.admitted_month[yes] = m
        P.next_apply_day[no] = self.env.now + s.procurement.admission.reapply_after_days
        P.skill[no] += s.behaviour.learn_per_bid * (1.0 - P.skill[no])
        self.counters["admissions"] += len(yes)
        self.counters["rejections"] += len(no)
        self.log.add_many("admission", self.env.now, provider=yes, value=score[ok])
        self.log.add_many("rejection", self.env.now, provider=no, value=score[~ok])

    # ------------------------------------------------------------------ competitions

    NOISE_ROWS = 7  # per provider and lot: panel noise, appetite, margin, ambition, interest, delivery, grant lottery
    INTEREST_ROW = 4  # drawn first for every candidate; the other rows only for the interested

    def _competitions(self, m: int, day: float) -> None:
        """Call off this month's lots: the round's new lots plus any re-lets queued for this month."""
        s, N = self.s, self.needs
        c = s.procurement.competitions
        k = self.entered[m]
        lots: list[dict] = []
        relets = list(self.queue.pop(m, []))
        first = c.first_round_month
        new_round = m >= first and (m - first) % c.every_months == 0 and m < self.H - 1
        if not relets and not new_round:
            return
        self.bids_round[:] = 0
        base = self._round_candidates(k)
        if new_round:
            count = c.first_round_lots if (m == first and c.first_round_lots is not None) else c.lots_per_round
            g = substream(self.root, "lots", 0, m)
            districts = g.integers(0, s.market.districts, size=count)
            values = c.lot_value.median * np.exp(c.lot_value.sigma * g.standard_normal(count))
            surge = demand_factor(self.shocks, m)
            for j in range(count):
                v = float(values[j]) * self.lot_factor * surge
                start = m + 1
                end = OPEN_ENDED if c.retender_on_expiry else start + s.contracts.length_months
                need = N.add(district=int(districts[j]), value=v, reach=v / c.cost_per_user_target, start=start, end=end)
                lots.append(self._call_off(need, m, day, base))
        for need in relets:
            lots.append(self._call_off(need, m, day, base))
        self.env.process(self._close_round(day + c.tender_days, lots))

    def _round_candidates(self, k: int) -> np.ndarray:
        """Organisations that may bid at all this round (in the market, admitted where the route needs it)."""
        P = self.P
        base = P.status[:k] == ACTIVE
        if proc.has_admission(self.s.procurement.route):
            base &= P.admitted[:k]
        return base

    def _call_off(self, need: int, m: int, day: float, base: np.ndarray) -> dict:
        """Call off one lot: every eligible organisation decides whether to bid; bids pay their cost now."""
        s, P, N = self.s, self.P, self.needs
        lot = self.n_lots
        self.n_lots += 1
        key = item_key(self.lot_key, need, int(N.attempts[need]))
        N.attempts[need] += 1
        if m == s.procurement.competitions.first_round_month:
            self.first_round_lots.add(lot)
        value, reach, district = float(N.value[need]), float(N.reach[need]), int(N.district[need])
        length = min(s.contracts.length_months, max(1, int(N.end[need]) - max(int(N.start[need]), m + 1)))
        self.counters["lots"] += 1
        self.log.add("call_off", day, lot=lot, amount=value, value=float(district))
        k = len(base)
        cand = base & (P.county_wide[:k] | (P.district[:k] == district))
        cand &= self.bids_round[:k] < s.procurement.competitions.max_bids_per_round
        idx = np.flatnonzero(cand)
        idx = idx[keyed_normals(key, idx, (self.INTEREST_ROW,))[0] < self._interest_z]
        z = keyed_normals(key, idx, self.NOISE_ROWS)
        pages = proc.tender_pages(s.procurement, s.support.paperwork_reduction)
        bids = self._decide_bids(idx, value, reach, length, pages, z)
        cons = None
        if s.support.consortia and s.procurement.route != "grant":
            cons = self._consortium_bid(district, value, reach, length, pages, key, k, bids["who"])
        return dict(lot=lot, need=need, value=value, reach=reach, length=length, bids=bids, consortium=cons, key=key,
                    month=m)

    @cached_property
    def _interest_z(self) -> float:
        """Normal quantile of the lot-interest share (a lot interests an organisation when its draw is below)."""
        share = self.s.behaviour.lot_interest
        if share >= 1.0:
            return np.inf
        if share <= 0.0:
            return -np.inf
        from statistics import NormalDist

        return NormalDist().inv_cdf(share)

    def _spare_and_turnover(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        P = self.P
        committed = P.committed[idx]
        return P.capacity[idx] - committed, P.income[idx] * P.income_factor[idx] + committed

    def _decide_bids(self, idx: np.ndarray, value: float, reach: float, length: int, pages: float, z: np.ndarray) -> dict:
        """Who bids among the candidates, and what they offer (price, reach, assessed quality).

        ``z`` holds the lot's keyed noise for the candidates, one column per candidate.
        """
        s, P = self.s, self.P
        beh, pb = s.behaviour, s.contracts.performance_bond
        spare, turnover = self._spare_and_turnover(idx)
        ok = (spare >= comp.MIN_REACH_SHARE * value) & proc.meets_turnover(turnover, value, s.procurement.admission.min_turnover_multiple)
        if s.procurement.route != "grant" and pb.threshold is not None and value >= pb.threshold:
            waived = s.support.bond_waiver & ~P.private[idx]
            collateral = np.where(waived, 0.0, pb.fraction * value * pb.collateral_share)
        else:
            collateral = 0.0
        skill = P.skill[idx]
        cost = comp.bid_cost(pages, skill, beh)
        ok &= P.cash[idx] - cost - collateral >= -s.finance.overdraft_months * P.spending[idx]
        gain = comp.win_chance_estimate(skill, beh) * beh.contract_value_share * value * length / 12.0
        ok &= gain * np.exp(beh.appetite_sd * z[1]) >= cost
        who, cost, spare, z = idx[ok], cost[ok], spare[ok], z[:, ok]
        P.cash[who] -= cost
        P.bid_cost_paid[who] += cost
        self.flows["bid_costs"][who] -= cost
        P.bids[who] += 1
        self.bids_round[who] += 1
        skill = P.skill[who]
        margin = np.where(P.full_cost[who], beh.margin_mean + 0.05, beh.margin_mean - 0.05) + beh.margin_sd * z[2]
        margin = np.minimum(np.maximum(margin, -0.12), 0.4)
        ambition = np.minimum(np.maximum(1.05 + 0.15 * (skill - 0.5) + beh.ambition_sd * z[3], 0.8), 1.4)
        unit_cost = P.cost_per_user[who]  # before inflation; bids price in today's costs
        terms = comp.bid_terms(value, reach, spare, unit_cost * self.cost_factor, margin, ambition)
        quality = P.quality[who]
        panel = comp.assessed_quality(quality, skill, z[0], beh)
        P.skill[who] = skill + beh.learn_per_bid * (1.0 - skill)
        return dict(who=who, price=terms.price, reach=terms.reach, valid=terms.valid, panel=panel, quality=quality,
                    unit_cost=unit_cost, delivery_z=z[5], lottery_z=z[6])

    def _consortium_bid(self, district: int, value: float, reach: float, length: int, pages: float, key: int,
                        k: int, bidding: np.ndarray) -> dict | None:
        """Small VCSE organisations join a lead that could not bid alone (seed 000: 5 core, 23 associates)."""
        s, P = self.s, self.P
        beh, sup, pb = s.behaviour, s.support, s.contracts.performance_bond
        here = (P.status[:k] == ACTIVE) & (P.county_wide[:k] | (P.district[:k] == district)) & ~P.private[:k]
        here[bidding] = False
        room = self.bids_round[:k] < s.procurement.competitions.max_bids_per_round
        lead_ok = here & room & (P.band[:k] >= 2)
        if proc.has_admission(s.procurement.route):
            lead_ok &= P.admitted[:k]
        leads = np.flatnonzero(lead_ok)
        member_cost = comp.bid_cost(pages * 0.25, P.skill[:k], beh)
        floor = -s.finance.overdraft_months * P.spending[:k]
        members = np.flatnonzero(here & room & (P.band[:k] <= 1) & (P.cash[:k] - member_cost >= floor))
        if len(leads) == 0 or len(members) == 0:
            return None
        lead = int(leads[np.argmax(P.skill[leads])])
        members = members[np.argsort(-P.quality[members], kind="stable")][: sup.consortium_members]
        team = np.concatenate([[lead], members])
        spare, turnover = self._spare_and_turnover(team)
        spare = spare.clip(min=0)
        if spare.sum() < comp.MIN_REACH_SHARE * value or not proc.meets_turnover(turnover.sum(), value, s.procurement.admission.min_turnover_multiple):
            return None
        bond = float(fin.bond_amount(value, pb.threshold, pb.fraction, sup.bond_waiver))
        costs = np.concatenate([comp.bid_cost(pages, P.skill[[lead]], beh), comp.bid_cost(pages * 0.25, P.skill[members], beh)])
        if P.cash[lead] - costs[0] - bond * pb.collateral_share < -s.finance.overdraft_months * P.spending[lead]:
            return None
        shares = split_by_capacity(spare, value)
        unit_cost = float((shares * P.cost_per_user[team]).sum())
        P.cash[team] -= costs
        P.bid_cost_paid[team] += costs
        self.flows["bid_costs"][team] -= costs
        P.bids[team] += 1
        self.bids_round[team] += 1
        z = keyed_normals(key, np.array([lead]), self.NOISE_ROWS)[:, 0]
        margin = float(np.clip(beh.margin_mean + (0.05 if P.full_cost[lead] else -0.05) + beh.margin_sd * z[2], -0.12, 0.4))
        ambition = float(np.clip(1.05 + 0.15 * (P.skill[lead] - 0.5) + beh.ambition_sd * z[3], 0.8, 1.4))
        terms = comp.bid_terms(value, reach, np.array([spare.sum()]), np.array([unit_cost * self.cost_factor]),
                               np.array([margin]), np.array([ambition]))
        quality = float((shares * P.quality[team]).sum())
        panel = comp.assessed_quality(np.array([quality]), P.skill[[lead]], z[[0]], beh)
        return dict(team=team, shares=shares, price=terms.price, reach=terms.reach, valid=terms.valid, panel=panel,
                    quality=np.array([quality]), unit_cost=np.array([unit_cost]), delivery_z=z[[5]], lottery_z=z[[6]])

    def _close_round(self, when: float, lots: list[dict]):
        yield self._timeout(when - self.env.now)
        for lot in lots:
            self._award(lot, when)

    def _award(self, lot: dict, day: float) -> None:
        """Score the valid bids and award the lot to the best bidder still able to take it."""
        s, P = self.s, self.P
        b, cons = lot["bids"], lot["consortium"]
        cols = ("who", "price", "reach", "panel", "valid", "quality", "unit_cost", "delivery_z", "lottery_z")
        if cons is None:
            who, price, reach, panel, valid, quality, unit, dz, lz = (b[c] for c in cols)
        else:
            who, price, reach, panel, valid, quality, unit, dz, lz = (
                np.concatenate([b[c], [-1] if c == "who" else cons[c]]) for c in cols)
        n_bids = len(who)
        self.counters["lots_closed"] += 1
        if n_bids == 0:
            self._failed_competition(lot, day)
            return
        band = np.where(who >= 0, P.band[np.maximum(who, 0)], 0)  # a consortium counts as a small bidder
        small = band <= 1
        self.counters["bids"] += n_bids
        self.counters["bids_small"] += int(small.sum())
        self.counters["unopposed_lots"] += n_bids == 1
        self.log.add_many("bid", day, provider=who, lot=lot["lot"], amount=price, value=panel)
        if small.any():
            self.counters["assess_gap_small_sum"] += float((quality[small] - panel[small]).sum())
            self.counters["assess_gap_small_n"] += int(small.sum())
        idx = np.flatnonzero(valid)
        if len(idx) == 0:
            self._failed_competition(lot, day)
            return
        if s.procurement.route == "grant":
            order = idx[np.argsort(lz[idx], kind="stable")]  # a lottery among eligible applicants
        else:
            c = s.procurement.competitions
            total, qs = comp.total_scores(price[idx], reach[idx], panel[idx], c.weights, c.price_formula)
            self.log.add_many("score", day, provider=who[idx], lot=lot["lot"], value=total)
            order = idx[np.lexsort((np.arange(len(idx)), -np.round(qs, 9), -np.round(total, 9)))]
        for j in order:
            if self._try_award(lot, int(who[j]), float(price[j]), float(reach[j]), float(panel[j]), float(quality[j]),
                               float(unit[j]), float(dz[j]), day):
                return
        self._failed_competition(lot, day)

    def _try_award(self, lot: dict, provider: int, price: float, reach: float, panel: float, quality: float,
                   unit: float, delivery_z: float, day: float) -> bool:
        """Award to one bidder if it is still in the market with room and cash for the bond collateral."""
        s, P, C, N, Pt = self.s, self.P, self.contracts, self.needs, self.parties
        pb = s.contracts.performance_bond
        cons = lot["consortium"] if provider < 0 else None
        lead = int(cons["team"][0]) if cons is not None else provider
        if P.status[lead] != ACTIVE:
            return False
        team = cons["team"] if cons is not None else (lead,)
        shares = cons["shares"] if cons is not None else (1.0,)
        if cons is None and P.capacity[lead] - P.committed[lead] < price:
            return False
        if cons is not None:
            if (P.status[team] != ACTIVE).any():
                return False
            if (P.capacity[team] - P.committed[team]).clip(min=0).sum() < price:
                return False
        waived = s.support.bond_waiver and not P.private[lead]
        grant = s.procurement.route == "grant"
        bond = 0.0 if grant else float(fin.bond_amount(price, pb.threshold, pb.fraction, waived))
        collateral = bond * pb.collateral_share
        if P.cash[lead] - collateral < -s.finance.overdraft_months * P.spending[lead]:
            return False
        need = lot["need"]
        start = max(int(N.start[need]), int(fin.month_of(day)) + 1)
        terms = fin.TERMS.index(s.contracts.payment.terms)
        if grant or (s.support.upfront_below is not None and price < s.support.upfront_below):
            terms = fin.ADVANCE  # grants, and small contracts under the up-front support policy
        delivery = min(1.15, max(0.3, 0.75 + 0.07 * quality + s.behaviour.delivery_sd * delivery_z))
        c = C.add(need=need, lot=lot["lot"], lead=lead, consortium=cons is not None, annual_value=price,
                  original_value=price, start=start, end=start + lot["length"], terms=terms, reach=reach,
                  unit_cost=unit, quality=quality, assessed=panel, delivery=delivery, bond=bond, collateral=collateral)
        N.failures[need] = 0
        total_value = price * lot["length"] / 12.0
        small_share = 0.0
        for who, share in zip(team, shares):
            Pt.add(contract=c, provider=int(who), share=float(share))
            P.committed[who] += share * price
            P.value_won[who] += share * total_value
            P.wins[who] += 1
            P.skill[who] += s.behaviour.learn_per_win * (1.0 - P.skill[who])
            small_share += share if P.band[who] <= 1 else 0.0
        if collateral > 0:
            P.cash[lead] -= collateral
            P.collateral[lead] += collateral
            self.flows["collateral_locked"][lead] -= collateral
        if s.procurement.winner_fee_rate > 0:
            fee = s.procurement.winner_fee_rate * price
            P.cash[lead] -= fee
            self.flows["fees"][lead] -= fee
            self.ledger["fees"] += fee
            C.fee[c] = fee
            self.log.add("winner_fee", day, provider=lead, contract=c, amount=fee)
        self.counters["awards"] += 1
        self.counters["awarded_value"] += total_value
        self.counters["awarded_value_small"] += small_share * total_value
        if lot["lot"] in self.first_round_lots:
            self.first_round_winner_ids.add(lead)
        self.log.add("award", day, provider=lead, lot=lot["lot"], contract=c, amount=price, value=panel)
        return True

    def _failed_competition(self, lot: dict, day: float) -> None:
        """No valid bid: re-run the lot at the next round once, then leave the need unserved."""
        s, N = self.s, self.needs
        need = lot["need"]
        self.counters["failed_competitions"] += 1
        self.log.add("failed_competition", day, lot=lot["lot"], amount=lot["value"])
        c = s.procurement.competitions
        N.failures[need] += 1
        if c.rerun_failed and N.failures[need] < 2:
            m = int(fin.month_of(day)) + 1
            first = c.first_round_month
            nxt = first + max(0, -(-(m - first) // c.every_months)) * c.every_months
            if nxt < self.H - 1:
                self.queue.setdefault(nxt, []).append(need)

    # ------------------------------------------------------------------ records

    TS_COLUMNS = ("providers_active", "providers_active_micro", "providers_active_small", "providers_active_medium",
                  "providers_active_large", "providers_active_major", "providers_admitted", "small_providers_active",
                  "contracts_live", "lots", "bids", "awards", "failed_competitions", "insolvencies", "contract_failures",
                  "service_gap_days", "commissioner_paid", "users_reached", "median_reserve_months", "awarded_value",
                  "awarded_value_small", "cash_total", "collateral_total")

    def _timeseries_arrays(self) -> dict[str, np.ndarray]:
        ts = {name: np.zeros(self.H) for name in self.TS_COLUMNS}
        ts["month"] = np.arange(self.H)
        self._prev = {}
        return ts

    def _record(self, m: int) -> None:
        P, ts, C, N = self.P, self.ts, self.contracts, self.needs
        active = P.status == ACTIVE
        counts = np.bincount(P.band[active], minlength=5)
        ts["providers_active"][m] = active.sum()
        for b, name in enumerate(("micro", "small", "medium", "large", "major")):
            ts[f"providers_active_{name}"][m] = counts[b]
        ts["small_providers_active"][m] = counts[0] + counts[1]
        ts["providers_admitted"][m] = (active & P.admitted).sum()
        ts["contracts_live"][m] = (C.view("status") == LIVE).sum()
        ts["commissioner_paid"][m] = self.sched[m].sum() / 100.0
        ts["users_reached"][m] = C.view("users").sum()
        ts["service_gap_days"][m] = N.view("gap_days").sum()
        res = P.cash[active] / np.maximum(P.spending[active], 1.0)
        ts["median_reserve_months"][m] = _median(res)
        ts["cash_total"][m] = P.cash[active].sum()
        ts["collateral_total"][m] = P.collateral[active].sum()
        for key in ("lots", "bids", "awards", "failed_competitions", "insolvencies", "contract_failures",
                    "awarded_value", "awarded_value_small"):
            now = self.counters[key]
            ts[key][m] = now - self._prev.get(key, 0.0)
            self._prev[key] = now

    def _finish(self) -> None:
        ts = self.ts
        ts["users_reached"] = np.diff(ts["users_reached"], prepend=0.0)
        ts["service_gap_days"] = np.diff(ts["service_gap_days"], prepend=0.0)
        self.counters["first_round_winners"] = len(self.first_round_winner_ids)
        P = self.P
        ids = np.array(sorted(self.first_round_winner_ids), dtype=int)
        self.counters["first_round_local_winners"] = int((~P.county_wide[ids]).sum()) if len(ids) else 0

    def _ledger(self) -> dict[str, float]:
        H = self.H
        outstanding = int(self.sched[H:].sum())
        return dict(
            invoiced_pence=int(self.ledger["invoiced_pence"]),
            paid_pence=int(self.ledger["paid_pence"]),
            outstanding_pence=outstanding,
            provider_receipts_pence=int(self.P.receipts_pence.sum()),
            transfers_net_pence=int(self.transfers.sum()) if self.transfers is not None else 0,
            transfers_outstanding_pence=int(self.transfers[H:].sum()) if self.transfers is not None else 0,
            fees=float(self.ledger["fees"]),
            bond_calls=float(self.ledger["bond_calls"]),
        )


def simulate(scenario: Scenario, root: np.random.SeedSequence, events: str = "awards") -> RunOutput:
    """Run one replication of a (policy-resolved) scenario."""
    return Simulation(scenario, root, events).run()
