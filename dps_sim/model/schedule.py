"""The shock schedule: when each shock of a replication happens, and what applies in a month.

Each shock in the scenario (commissioner payment delays, funding cuts, cost inflation, grant
loss, demand surges, funding uncertainty) is resolved, once per replication, into a start
month (fixed, or drawn from the ``shocks`` stream when it has a yearly probability) so that
every policy meets the same shocks. The rooms ask this schedule what applies in a given
month; :mod:`.shocks` lands the one-off effects.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from ..scenario.schema import CostInflation, DemandSurge, FundingCut, FundingUncertainty, GrantLoss, PaymentDelay, Scenario


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

