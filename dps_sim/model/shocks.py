"""Shocks: commissioner payment delays, funding cuts, cost inflation, grant loss, demand surges.

Each shock in the scenario is resolved, once per replication, into a start month (fixed,
or drawn from the ``shocks`` stream when it has a yearly probability) so that every policy
meets the same shocks. The engine asks this schedule what applies in a given month, and
:func:`apply_starting` lands the one-off effects of the shocks that start in a month.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..scenario.schema import CostInflation, DemandSurge, FundingCut, FundingUncertainty, GrantLoss, PaymentDelay, Scenario
from .stores import LIVE
from .streams import substream

if TYPE_CHECKING:  # the market holds the schedule; only its type is needed here
    from .market import Market


@dataclass(frozen=True)
class ScheduledShock:
    """A shock with its resolved start month (None: it never happens in this replication)."""

    shock: object
    start: int | None

    @property
    def kind(self) -> str:
        return self.shock.type  # type: ignore[attr-defined]

    def duration(self) -> int:
        return getattr(self.shock, "months", 1)

    def active(self, month: int) -> bool:
        return self.start is not None and self.start <= month < self.start + self.duration()

    def starts(self, month: int) -> bool:
        return self.start is not None and self.start == month


def resolve_shocks(scenario: Scenario, rng: np.random.Generator) -> list[ScheduledShock]:
    """Fix the start month of every shock for one replication."""
    out = []
    for shock in scenario.shocks:
        # one draw per shock whatever its kind keeps the stream aligned across policies
        u = rng.random(scenario.horizon_months // 12 + 1)
        if isinstance(shock, FundingUncertainty):
            out.append(ScheduledShock(shock, 0))
            continue
        p = shock.probability_per_year
        if p is None:
            start = getattr(shock, "start_month", getattr(shock, "month", 0))
        else:
            years = np.flatnonzero(u < p)
            start = int(years[0] * 12 + 6) if len(years) else None
            if start is not None and start >= scenario.horizon_months:
                start = None
        out.append(ScheduledShock(shock, start))
    return out


def extra_payment_days(schedule: list[ScheduledShock], month: int) -> float:
    """Days added to payments for invoices raised in ``month`` (payment delay shocks)."""
    return sum(s.shock.extra_days for s in schedule if isinstance(s.shock, PaymentDelay) and s.active(month))


def demand_factor(schedule: list[ScheduledShock], month: int) -> float:
    """Multiplier on new lots' value and target reach (demand surges)."""
    f = 1.0
    for s in schedule:
        if isinstance(s.shock, DemandSurge) and s.active(month):
            f *= 1.0 + s.shock.fraction
    return f


def renewal_probability(schedule: list[ScheduledShock]) -> float:
    """Chance external funding behind an extension is renewed (1 when there is no such shock)."""
    p = 1.0
    for s in schedule:
        if isinstance(s.shock, FundingUncertainty):
            p *= s.shock.renewal_probability
    return p


def starting(schedule: list[ScheduledShock], month: int) -> list[ScheduledShock]:
    """Shocks whose one-off effect (cut, inflation, grant loss) lands this month."""
    return [s for s in schedule if s.starts(month) and isinstance(s.shock, (FundingCut, CostInflation, GrantLoss, PaymentDelay, DemandSurge))]


def apply_starting(mk: "Market", m: int, day: float) -> None:
    """Land this month's one-off shock effects: funding cuts, cost inflation, loss of grant income."""
    C = mk.contracts
    for sh in starting(mk.shocks, m):
        shock = sh.shock
        mk.log.add("shock", day, value=float(mk.s.shocks.index(shock)))
        if isinstance(shock, FundingCut):
            if shock.applies_to in ("all", "contracts"):
                live = np.flatnonzero(C.view("status") <= LIVE)
                C.annual_value[live] *= 1.0 - shock.fraction
                C.reach[live] *= 1.0 - shock.scope_reduction * shock.fraction
            if shock.applies_to in ("all", "lots"):
                mk.lot_factor *= 1.0 - shock.fraction
                N = mk.needs
                N.view("value")[:] *= 1.0 - shock.fraction
                N.view("reach")[:] *= 1.0 - shock.fraction
        elif isinstance(shock, CostInflation):
            mk.cost_factor *= 1.0 + shock.fraction
        elif isinstance(shock, GrantLoss):
            g = substream(mk.root, "shocks", m, 1)
            hit = g.random(mk.P.n) < shock.share_of_providers
            mk.P.income_factor[hit] *= 1.0 - shock.fraction
