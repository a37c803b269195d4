"""The engine: SimPy wiring of months, competitions and admissions for one replication.

SimPy schedules the events that happen at a moment (the start of each month, the close of
each tender window, each admission decision). What every provider does every month (cash,
spending, contract delivery) is advanced for all providers at once on NumPy arrays.

One replication = one :class:`Simulation`; it draws from named streams spawned from the
replication's :class:`numpy.random.SeedSequence`, so policies meet the same market.
"""

from __future__ import annotations

from dataclasses import dataclass

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
from .streams import spawn_streams, substream

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
        self.sched = np.zeros((n, cols), np.int64)           # commissioner payments arriving, pence
        self.transfers = np.zeros((n, cols), np.int64) if scenario.support.consortia else None
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
            "lots", "bids", "bids_small", "unopposed_lots", "failed_competitions", "awards", "awarded_value",
            "awarded_value_small", "notices", "terminations", "handbacks", "contract_failures", "insolvencies",
            "insolvencies_small", "closures", "entries", "applications", "admissions", "rejections",
            "assess_gap_small_sum", "assess_gap_small_n", "first_round_winners", "first_round_local_winners",
            "bond_calls")}
        self.entered = np.searchsorted(self.P.entry_month, np.arange(self.H + 1), side="right")
        self.ts = self._timeseries_arrays()
        self.first_round_lots: set[int] = set()
        self.first_round_winner_ids: set[int] = set()
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
                if shock.applies_to in ("all", "lots"):
                    self.lot_factor *= 1.0 - shock.fraction
                    N = self.needs
                    N.view("value")[:] *= 1.0 - shock.fraction
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
        delivered = np.maximum(promised * C.delivery[live] * (1.0 + 0.08 * z[0]), 0.0)
        quality = np.clip(C.quality[live] + 0.3 * z[1], 0.0, 5.0)
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
        if s.support.upfront_below is not None:
            small = C.original_value[contracts] < s.support.upfront_below
            terms = np.where(small, fin.ADVANCE, terms)
            inv_day = np.where(small & (terms == fin.ADVANCE), np.floor(inv_day / MD + 1e-9) * MD, inv_day)
        late = self.rng["payments"].exponential(pay.late_days_mean, len(contracts)) if pay.late_days_mean > 0 else 0.0
        paid_day = fin.payment_day(inv_day, terms, pay.period_days, late + extra)
        month = np.minimum(fin.month_of(paid_day), self.sched.shape[1] - 1)
        pence = fin.to_pence(amounts)
        lead = C.lead[contracts]
        self.ledger["invoiced_pence"] += int(pence.sum())
        C.invoiced[contracts] += pence / 100.0
        cons = C.consortium[contracts]
        if cons.any():
            lead_pence = pence.copy()
            for k in np.flatnonzero(cons):
                lead_pence[k] = pence[k] - self._pass_on(int(contracts[k]), int(pence[k]), paid_day[k])
            np.add.at(self.sched, (lead, month), pence)
        else:
            np.add.at(self.sched, (lead, month), pence)
        self.log.add_many("payment", paid_day, provider=lead, contract=contracts, amount=pence / 100.0)

    def _pass_on(self, c: int, pence: int, paid_day: float) -> int:
        """A consortium lead passes members their share after its own delay; returns pence passed."""
        Pt = self.parties
        rows = np.flatnonzero((Pt.view("contract") == c) & Pt.view("active"))
        members = rows[Pt.provider[rows] != self.contracts.lead[c]]
        if len(members) == 0:
            return 0
        parts = np.floor(pence * Pt.share[members]).astype(np.int64)
        month = min(int(fin.month_of(paid_day + self.s.support.consortium_pass_on_days)), self.transfers.shape[1] - 1)
        lead = int(self.contracts.lead[c])
        self.transfers[lead, month] -= int(parts.sum())
        np.add.at(self.transfers, (Pt.provider[members], month), parts)
        return int(parts.sum())

    def _cash_step(self, m: int, day: float) -> None:
        """Receipts arrive; other income and spending; bond premiums. All providers at once."""
        P, s = self.P, self.s
        arriving = self.sched[:, m]
        self.ledger["paid_pence"] += int(arriving.sum())
        P.receipts_pence += arriving
        got = arriving / 100.0
        P.cash += got
        self.flows["contract_receipts"] += got
        if self.transfers is not None:
            t = self.transfers[:, m] / 100.0
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
        quiet = (P.status[:k] == ACTIVE) & (P.committed[:k] <= 0) & (P.cash[:k] < s.behaviour.close_reserve_months * P.spending[:k])
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
        for c in live:
            c = int(c)
            ratio = C.q_delivered[c] / max(C.q_promised[c], 1e-9)
            quality = C.q_quality[c] / max(C.q_months[c], 1)
            C.q_delivered[c] = C.q_promised[c] = C.q_quality[c] = 0.0
            C.q_months[c] = 0
            revenue = C.annual_value[c] * fin.taper_factor(m - C.start[c], s.contracts.taper_per_year) / 12.0
            cost = C.reach[c] * C.unit_cost[c] * self.cost_factor / 12.0
            if revenue <= 0 or (cost - revenue) / revenue > s.behaviour.handback_loss:
                self.counters["handbacks"] += 1
                self.log.add("handback", day, provider=int(C.lead[c]), contract=c, amount=revenue - cost)
                self._fail_contract(c, m, day, END_HANDBACK)
                continue
            if ratio < mon.min_reach_ratio or quality < mon.min_quality:
                C.notices[c] += 1
                self.counters["notices"] += 1
                self.log.add("notice", day, provider=int(C.lead[c]), contract=c, value=ratio)
                if C.notices[c] >= mon.notices_before_termination:
                    self.counters["terminations"] += 1
                    self.log.add("termination", day, provider=int(C.lead[c]), contract=c)
                    self._fail_contract(c, m, day, END_TERMINATED)
            else:
                C.notices[c] = 0

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

    def _close_contract(self, c: int, m: int, day: float, status: int) -> None:
        C, P, N = self.contracts, self.P, self.needs
        C.status[c] = status
        C.ended_month[c] = m
        lead = int(C.lead[c])
        if C.collateral[c] > 0 and status == COMPLETED:
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
        if C.bond[c] > 0 and cause in (END_INSOLVENCY, END_TERMINATED):
            self.ledger["bond_calls"] += float(C.bond[c])
            self.counters["bond_calls"] += 1
            self.log.add("bond_call", day, provider=int(C.lead[c]), contract=c, amount=float(C.bond[c]))
        self._close_contract(c, m, day, FAILED)
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
        submit = day + np.floor(u[1, apply] * 20.0)  # within the first weeks of the month
        self.log.add_many("application", submit, provider=apply)
        score = comp.assessed_quality(P.quality[apply], P.skill[apply], g.standard_normal(k)[apply], s.behaviour)
        decide = submit + proc.evaluation_days(adm.evaluation_working_days)
        for d in np.unique(decide):
            sel = decide == d
            self.env.process(self._decide(float(d), apply[sel], score[sel]))

    def _decide(self, when: float, who: np.ndarray, score: np.ndarray):
        yield self._timeout(when - self.env.now)
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

    def _competitions(self, m: int, day: float) -> None:
        s, N = self.s, self.needs
        c = s.procurement.competitions
        needs = list(self.queue.pop(m, []))
        first = c.first_round_month
        if m >= first and (m - first) % c.every_months == 0 and m < self.H - 1:
            count = c.first_round_lots if (m == first and c.first_round_lots is not None) else c.lots_per_round
            g = substream(self.root, "lots", 0, m)
            districts = g.integers(0, s.market.districts, size=count)
            values = c.lot_value.median * np.exp(c.lot_value.sigma * g.standard_normal(count))
            surge = demand_factor(self.shocks, m)
            for d, v in zip(districts, values):
                v = float(v) * self.lot_factor * surge
                start = m + 1
                end = self.H if c.retender_on_expiry else start + s.contracts.length_months
                needs.append(N.add(district=int(d), value=v, reach=v / c.cost_per_user_target, start=start, end=end))
        if not needs:
            return
        self.bids_round[:] = 0
        lots = []
        for need in needs:
            lots.append(self._call_off(need, m, day))
        self.env.process(self._close_round(day + c.tender_days, lots))

    def _call_off(self, need: int, m: int, day: float) -> dict:
        """Call off one lot: every eligible organisation decides whether to bid, and bids pay their cost now."""
        s, P, N = self.s, self.P, self.needs
        lot = self.n_lots
        self.n_lots += 1
        attempt = int(N.attempts[need])
        N.attempts[need] = attempt + 1
        if m == s.procurement.competitions.first_round_month:
            self.first_round_lots.add(lot)
        value = float(N.value[need])
        reach = float(N.reach[need])
        length = max(1, int(N.end[need]) - max(int(N.start[need]), m + 1))
        length = min(length, s.contracts.length_months)
        self.counters["lots"] += 1
        self.log.add("call_off", day, lot=lot, amount=value, value=float(N.district[need]))
        k = self.entered[m]
        g = substream(self.root, "lots", 1, need, attempt)
        z = g.standard_normal((4, k))
        u = g.random()
        beh, route = s.behaviour, s.procurement.route
        cand = (P.status[:k] == ACTIVE) & (P.county_wide[:k] | (P.district[:k] == N.district[need]))
        if proc.has_admission(route):
            cand &= P.admitted[:k]
        cand &= self.bids_round[:k] < s.procurement.competitions.max_bids_per_round
        spare = P.capacity[:k] - P.committed[:k]
        turnover = P.income[:k] * P.income_factor[:k] + P.committed[:k]
        idx = np.flatnonzero(cand)
        pages = proc.tender_pages(s.procurement, s.support.paperwork_reduction)
        bids = self._decide_bids(idx, value, reach, length, spare, turnover, pages, z, route)
        cons = None
        if s.support.consortia and route != "grant":
            cons = self._consortium_bid(need, value, reach, length, spare, turnover, pages, z, k, set(bids["who"].tolist()))
        return dict(lot=lot, need=need, value=value, reach=reach, length=length, bids=bids, consortium=cons,
                    u=u, month=m)

    def _decide_bids(self, idx, value, reach, length, spare, turnover, pages, z, route) -> dict:
        s, P = self.s, self.P
        beh = s.behaviour
        pb = s.contracts.performance_bond
        ok = spare[idx] >= comp.MIN_REACH_SHARE * value
        ok &= proc.meets_turnover(turnover[idx], value, s.procurement.admission.min_turnover_multiple)
        waived = s.support.bond_waiver & ~P.private[idx]
        bond = fin.bond_amount(value, pb.threshold, pb.fraction, waived) if route != "grant" else np.zeros(len(idx))
        collateral = np.broadcast_to(bond * pb.collateral_share, idx.shape)
        cost = comp.bid_cost(pages, P.skill[idx], beh)
        floor = -s.finance.overdraft_months * P.spending[idx]
        ok &= P.cash[idx] - cost - collateral >= floor
        gain = comp.win_chance_estimate(P.skill[idx], beh) * beh.contract_value_share * value * length / 12.0
        ok &= gain * np.exp(0.5 * z[1, idx]) >= cost
        who = idx[ok]
        cost = cost[ok]
        P.cash[who] -= cost
        P.bid_cost_paid[who] += cost
        self.flows["bid_costs"][who] -= cost
        P.bids[who] += 1
        self.bids_round[who] += 1
        margin = np.where(P.full_cost[who], beh.margin_mean + 0.05, beh.margin_mean - 0.05) + beh.margin_sd * z[2, who]
        margin = np.clip(margin, -0.12, 0.4)
        ambition = np.clip(1.05 + 0.15 * (P.skill[who] - 0.5) + 0.1 * z[3, who], 0.8, 1.4)
        terms = comp.bid_terms(value, reach, spare[who], P.cost_per_user[who], margin, ambition)
        panel = comp.assessed_quality(P.quality[who], P.skill[who], z[0, who], beh)
        P.skill[who] += beh.learn_per_bid * (1.0 - P.skill[who])
        return dict(who=who, price=terms.price, reach=terms.reach, valid=terms.valid, panel=panel,
                    quality=P.quality[who].copy(), unit_cost=P.cost_per_user[who].copy())

    def _consortium_bid(self, need, value, reach, length, spare, turnover, pages, z, k, bidding: set) -> dict | None:
        """Small VCSE organisations join a lead that could not bid alone (seed 000: 5 core, 23 associates)."""
        s, P, N = self.s, self.P, self.needs
        beh, sup = s.behaviour, s.support
        here = (P.status[:k] == ACTIVE) & (P.county_wide[:k] | (P.district[:k] == N.district[need])) & ~P.private[:k]
        leads = np.flatnonzero(here & P.admitted[:k] & (P.band[:k] >= 2) & (self.bids_round[:k] < s.procurement.competitions.max_bids_per_round))
        leads = np.array([i for i in leads if i not in bidding], dtype=int)
        members = np.flatnonzero(here & (P.band[:k] <= 1))
        members = np.array([i for i in members if i not in bidding], dtype=int)
        if len(leads) == 0 or len(members) == 0:
            return None
        lead = int(leads[np.argmax(P.skill[leads])])
        members = members[np.argsort(-P.quality[members], kind="stable")][: sup.consortium_members]
        team = np.concatenate([[lead], members])
        pooled_spare = spare[team].clip(min=0).sum()
        pooled_turnover = turnover[team].sum()
        pb = s.contracts.performance_bond
        bond = float(fin.bond_amount(value, pb.threshold, pb.fraction, sup.bond_waiver))
        cost_lead = float(comp.bid_cost(pages, P.skill[lead], beh))
        cost_members = comp.bid_cost(pages * 0.25, P.skill[members], beh)
        if pooled_spare < comp.MIN_REACH_SHARE * value or not proc.meets_turnover(pooled_turnover, value, s.procurement.admission.min_turnover_multiple):
            return None
        if P.cash[lead] - cost_lead - bond * pb.collateral_share < -s.finance.overdraft_months * P.spending[lead]:
            return None
        shares = split_by_capacity(spare[team], value)
        unit_cost = float((shares * P.cost_per_user[team]).sum())
        costs = np.concatenate([[cost_lead], cost_members])
        P.cash[team] -= costs
        P.bid_cost_paid[team] += costs
        self.flows["bid_costs"][team] -= costs
        P.bids[lead] += 1
        self.bids_round[lead] += 1
        margin = float(np.clip(beh.margin_mean + beh.margin_sd * z[2, lead], -0.12, 0.4))
        ambition = float(np.clip(1.05 + 0.15 * (P.skill[lead] - 0.5) + 0.1 * z[3, lead], 0.8, 1.4))
        terms = comp.bid_terms(value, reach, np.array([pooled_spare]), np.array([unit_cost]), np.array([margin]), np.array([ambition]))
        quality = float((shares * P.quality[team]).sum())
        panel = comp.assessed_quality(np.array([quality]), P.skill[[lead]], z[0, [lead]], beh)
        return dict(team=team, shares=shares, price=terms.price, reach=terms.reach, valid=terms.valid, panel=panel,
                    quality=quality, unit_cost=unit_cost)

    def _close_round(self, when: float, lots: list[dict]):
        yield self._timeout(when - self.env.now)
        for lot in lots:
            self._award(lot, when)

    def _award(self, lot: dict, day: float) -> None:
        """Score the valid bids and award the lot (or record a failed competition)."""
        s, P, N = self.s, self.P, self.needs
        b = lot["bids"]
        who = list(b["who"])
        price, reach, panel, valid = list(b["price"]), list(b["reach"]), list(b["panel"]), list(b["valid"])
        quality, unit = list(b["quality"]), list(b["unit_cost"])
        cons = lot["consortium"]
        if cons is not None:
            who.append(-1)
            price.append(float(cons["price"][0])); reach.append(float(cons["reach"][0]))
            panel.append(float(cons["panel"][0])); valid.append(bool(cons["valid"][0]))
            quality.append(cons["quality"]); unit.append(cons["unit_cost"])
        who_a = np.array(who, dtype=int)
        n_bids = len(who_a)
        small_bids = int(np.sum(P.band[who_a[who_a >= 0]] <= 1)) + (0 if cons is None else 1)
        self.counters["bids"] += n_bids
        self.counters["bids_small"] += small_bids
        self.log.add_many("bid", day, provider=who_a, lot=lot["lot"], amount=np.array(price, float), value=np.array(panel, float))
        if n_bids == 1:
            self.counters["unopposed_lots"] += 1
        small = who_a >= 0
        small[small] = P.band[who_a[small]] <= 1
        if small.any():
            gap = np.array(quality)[small] - np.array(panel)[small]
            self.counters["assess_gap_small_sum"] += float(gap.sum())
            self.counters["assess_gap_small_n"] += int(small.sum())
        ok = np.array(valid, dtype=bool)
        if not ok.any():
            self._failed_competition(lot, day)
            return
        idx = np.flatnonzero(ok)
        pr, re, pa = np.array(price)[idx], np.array(reach)[idx], np.array(panel)[idx]
        if s.procurement.route == "grant":
            order = [idx[int(lot["u"] * len(idx))]]
        else:
            total, qs = comp.total_scores(pr, re, pa, s.procurement.competitions.weights, s.procurement.competitions.price_formula)
            self.log.add_many("score", day, provider=who_a[idx], lot=lot["lot"], value=total)
            ranked = np.lexsort((np.arange(len(idx)), -np.round(qs, 9), -np.round(total, 9)))
            order = [idx[r] for r in ranked]
        for j in order:
            if self._try_award(lot, j, who_a[j], price[j], reach[j], panel[j], quality[j], unit[j], day):
                return
        self._failed_competition(lot, day)

    def _try_award(self, lot, j, provider, price, reach, panel, quality, unit, day) -> bool:
        s, P, C, N, Pt = self.s, self.P, self.contracts, self.needs, self.parties
        pb = s.contracts.performance_bond
        cons = lot["consortium"] if provider < 0 else None
        lead = int(cons["team"][0]) if cons is not None else int(provider)
        if P.status[lead] != ACTIVE:
            return False
        team = cons["team"] if cons is not None else np.array([lead])
        shares = cons["shares"] if cons is not None else np.array([1.0])
        if cons is None and P.capacity[lead] - P.committed[lead] < price:
            return False
        waived = s.support.bond_waiver and not P.private[lead]
        bond = float(fin.bond_amount(price, pb.threshold, pb.fraction, waived)) if s.procurement.route != "grant" else 0.0
        collateral = bond * pb.collateral_share
        if P.cash[lead] - collateral < -s.finance.overdraft_months * P.spending[lead]:
            return False
        m_award = int(fin.month_of(day))
        need = lot["need"]
        start = max(int(N.start[need]), m_award + 1)
        end = start + lot["length"]
        terms = fin.TERMS.index(s.contracts.payment.terms)
        if s.procurement.route == "grant":
            terms = fin.ADVANCE
        g = substream(self.root, "delivery", need, int(N.attempts[need]))
        delivery = float(np.clip(0.75 + 0.07 * quality + 0.05 * g.standard_normal(), 0.3, 1.15))
        c = C.add(need=need, lot=lot["lot"], lead=lead, consortium=cons is not None, annual_value=price,
                  original_value=price, start=start, end=end, terms=terms, reach=reach, unit_cost=unit,
                  quality=quality, assessed=panel, delivery=delivery, bond=bond, collateral=collateral)
        for who, share in zip(team, shares):
            Pt.add(contract=c, provider=int(who), share=float(share))
            P.committed[who] += share * price
            P.value_won[who] += share * price * lot["length"] / 12.0
            P.wins[who] += 1
            P.skill[who] += s.behaviour.learn_per_win * (1.0 - P.skill[who])
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
        total_value = price * lot["length"] / 12.0
        self.counters["awards"] += 1
        self.counters["awarded_value"] += total_value
        self.counters["awarded_value_small"] += float(sum(sh for w, sh in zip(team, shares) if P.band[w] <= 1)) * total_value
        if lot["lot"] in self.first_round_lots:
            self.first_round_winner_ids.update(int(w) for w in team[:1])
        self.log.add("award", day, provider=lead, lot=lot["lot"], contract=c, amount=price, value=panel)
        return True

    def _failed_competition(self, lot: dict, day: float) -> None:
        s, N = self.s, self.needs
        need = lot["need"]
        self.counters["failed_competitions"] += 1
        self.log.add("failed_competition", day, lot=lot["lot"], amount=lot["value"])
        m = int(fin.month_of(day))
        if s.procurement.competitions.rerun_failed and N.attempts[need] < 2:
            nxt = m + 1
            c = s.procurement.competitions
            first = c.first_round_month
            nxt = first + max(0, -(-(nxt - first) // c.every_months)) * c.every_months
            if nxt < self.H - 1:
                self.queue.setdefault(nxt, []).append(need)

    # ------------------------------------------------------------------ records

    TS_COLUMNS = ("providers_active", "providers_active_micro", "providers_active_small", "providers_active_medium",
                  "providers_active_large", "providers_active_major", "providers_admitted", "small_providers_active",
                  "contracts_live", "lots", "bids", "awards", "failed_competitions", "insolvencies", "contract_failures",
                  "service_gap_days", "commissioner_paid", "users_reached", "median_reserve_months", "awarded_value",
                  "awarded_value_small")

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
        ts["commissioner_paid"][m] = self.sched[:, m].sum() / 100.0
        ts["users_reached"][m] = C.view("users").sum()
        ts["service_gap_days"][m] = N.view("gap_days").sum()
        res = P.cash[active] / np.maximum(P.spending[active], 1.0)
        ts["median_reserve_months"][m] = float(np.median(res)) if len(res) else 0.0
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
        outstanding = int(self.sched[:, H:].sum())
        return dict(
            invoiced_pence=int(self.ledger["invoiced_pence"]),
            paid_pence=int(self.ledger["paid_pence"]),
            outstanding_pence=outstanding,
            provider_receipts_pence=int(self.P.receipts_pence.sum()),
            transfers_net_pence=int(self.transfers.sum()) if self.transfers is not None else 0,
            transfers_outstanding_pence=int(self.transfers[:, H:].sum()) if self.transfers is not None else 0,
            fees=float(self.ledger["fees"]),
            bond_calls=float(self.ledger["bond_calls"]),
        )


def simulate(scenario: Scenario, root: np.random.SeedSequence, events: str = "awards") -> RunOutput:
    """Run one replication of a (policy-resolved) scenario."""
    return Simulation(scenario, root, events).run()
