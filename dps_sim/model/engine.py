"""The engine: SimPy wiring of months, tender closes and admission decisions to the rooms.

SimPy schedules what happens at a moment: the start of each month, the close of each tender
window, each admission decision day. What happens is decided in the rooms, each a module of
plain functions over the :class:`~.market.Market` of one replication:

========================  ==================================================================
room                      what it decides
========================  ==================================================================
``organisations``         entry, insolvency, closure (attributes drawn in ``population``)
``shocks``                funding cuts, cost inflation, grant loss (schedule and effects)
``contracts``             starts, delivery, monitoring, extensions, ends, service gaps
``payments``              invoices, when they are paid, the commissioner's ledger
``finance``               each month's other income, spending, credit, interest and bond premiums
``budget``                the council's envelope: which lots can be let, commitments
``admission``             applications and decisions (DPS and framework)
``tendering``             call-offs and who bids, a round at once (rules in ``bids``;
                          ``consortia`` for joint bids)
``award``                 scoring, checks at award, the contract, failed competitions
``records``               the monthly time series
========================  ==================================================================

The month's order (DESIGN.md "The model"): entries, shocks, contract completions and starts,
delivery and invoices, receipts and the cash step, exits, reviews, contract ends, service
gaps, applications, call-offs; tender windows close ``tender_days`` later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from ..scenario.schema import Scenario
from . import admission, award, contracts, finance, organisations, payments, shocks, tendering
from .finance import MONTH_DAYS
from .market import Market
from .population import Providers
from .records import MonthlyRecords
from .rounds import Round


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
        self.mk = Market.build(scenario, root, events)
        self.records = MonthlyRecords(scenario.horizon_months)
        self.env = simpy.Environment()
        self.simpy_events = 0

    def run(self) -> RunOutput:
        """Run to the horizon and return what happened."""
        mk = self.mk
        self.env.process(self._months())
        self.env.run(until=mk.H * MONTH_DAYS + 1e-6)
        T = mk.tender
        mk.counters["first_round_winners"] = len(T.first_round_winners)
        ids = np.array(sorted(T.first_round_winners), dtype=int)
        mk.counters["first_round_local_winners"] = int((~mk.P.county_wide[ids]).sum()) if len(ids) else 0
        return RunOutput(
            scenario=mk.s, providers=mk.P, needs=mk.needs.table(), contracts=mk.contracts.table(),
            parties=mk.parties.table(), events=mk.log.columns(), timeseries=self.records.finish(),
            ledger=payments.ledger(mk), flows=mk.flows, cash_start=mk.cash_start, counters=mk.counters,
            simpy_events=self.simpy_events,
        )

    def _timeout(self, delay: float) -> simpy.Timeout:
        self.simpy_events += 1
        return self.env.timeout(delay)

    def _months(self):
        for m in range(self.mk.H):
            delay = m * MONTH_DAYS - self.env.now
            if delay > 0:
                yield self._timeout(delay)
            self.month_step(m)

    def month_step(self, m: int) -> None:
        """Everything that happens at the start of month ``m``, in the documented order."""
        mk, day = self.mk, m * MONTH_DAYS
        organisations.entries(mk, m, day)
        shocks.apply_starting(mk, m, day)
        contracts.complete_and_start(mk, m, day)
        contracts.deliver(mk, m)
        payments.receive(mk, m)
        finance.cash_step(mk, m)
        organisations.exits(mk, m, day)
        contracts.reviews(mk, m, day)
        award.arrange_covers(mk, m, day)
        contracts.contract_ends(mk, m, day)
        contracts.service_gaps(mk, m)
        apps = admission.applications(mk, m, day)
        if apps is not None:
            self.env.process(self._admissions_desk(apps))
        rnd = tendering.call_off_round(mk, m, day)
        if rnd is not None:
            self.env.process(self._tender_close(day + mk.s.procurement.competitions.tender_days, rnd))
        self.records.record(mk, m)

    def _admissions_desk(self, apps: admission.Applications):
        """Decide a month's applications, each on its own day (one SimPy timeout per decision day)."""
        days, first = np.unique(apps.decide_day, return_index=True)
        bounds = list(first) + [len(apps.decide_day)]
        for j, day in enumerate(days):
            yield self._timeout(float(day) - self.env.now)
            sl = slice(bounds[j], bounds[j + 1])
            admission.decide(self.mk, apps.who[sl], apps.score[sl], self.env.now)

    def _tender_close(self, when: float, rnd: Round):
        yield self._timeout(when - self.env.now)
        award.close_round(self.mk, rnd, when)


def simulate(scenario: Scenario, root: np.random.SeedSequence, events: str = "awards") -> RunOutput:
    """Run one replication of a (policy-resolved) scenario."""
    return Simulation(scenario, root, events).run()
