"""Shocks: the one-off effects of the shocks that start in a month (schedule in :mod:`.schedule`).

* a funding cut reduces live contracts' value (and part of their scope, ``scope_reduction``)
  and/or the value and target reach of lots still to be let;
* cost inflation raises every delivery cost from then on (bids price it in);
* a loss of grant income cuts other income for a share of the organisations in the market
  then (those that enter later are not hit).
"""

from __future__ import annotations

import numpy as np

from ..scenario.schema import CostInflation, FundingCut, GrantLoss
from .contracts import release_budget
from .market import Market
from .population import ACTIVE
from .schedule import starting
from .stores import LIVE
from .streams import substream


def apply_starting(mk: Market, m: int, day: float) -> None:
    """Land this month's one-off shock effects: funding cuts, cost inflation, loss of grant income."""
    C = mk.contracts
    for sh in starting(mk.shocks, m):
        shock = sh.shock
        mk.log.add("shock", day, value=float(mk.s.shocks.index(shock)))
        if isinstance(shock, FundingCut):
            if shock.applies_to in ("all", "contracts"):
                live = np.flatnonzero(C.view("status") <= LIVE)
                for c in live.tolist():  # the cut part of their remaining months goes back to the budget
                    release_budget(mk, c, m, shock.fraction)
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
            hit = (g.random(mk.P.n) < shock.share_of_providers) & (mk.P.status == ACTIVE)
            mk.P.income_factor[hit] *= 1.0 - shock.fraction
