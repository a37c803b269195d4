"""A hand-made market for rule tests: one district, every organisation in it admitted and able to bid.

Shared by the competition and consortium/bond rule tests, so that both start from the same market.
"""

from __future__ import annotations

import numpy as np

from dps_sim.model.market import Market
from dps_sim.model.population import ACTIVE
from dps_sim.scenario import Scenario


def one_district_market(providers: int, lot_value: float, market: dict | None = None, skill: float | None = None,
                        **over) -> Market:
    """``providers`` active, admitted, local organisations with capacity for two lots of ``lot_value`` and £1m in hand.

    ``market`` adds keys to the market section; ``over`` sets dotted keys (``"procurement.exclusion_months"``).
    """
    data = {"name": "hand-made", "horizon_months": 60,
            "market": {"providers": providers, "entry_per_year": 0, "districts": 1, **(market or {})},
            "procurement": {"competitions": {"first_round_lots": 0, "lots_per_round": 0}},
            "behaviour": {"lot_interest": 1.0, "appetite_sd": 0.0, "lot_appeal_sd": 0.0}}
    for path, value in over.items():
        head, *rest = path.split(".")
        node = data.setdefault(head, {})
        for key in rest[:-1]:
            node = node.setdefault(key, {})
        node[rest[-1]] = value
    mk = Market.build(Scenario.model_validate(data), np.random.SeedSequence(7), "all")
    P = mk.P
    P.status[:] = ACTIVE
    P.admitted[:] = True
    P.county_wide[:] = False
    P.district[:] = 0
    P.capacity[:] = 2 * lot_value
    P.income[:] = 10 * lot_value
    if skill is not None:
        P.skill[:] = skill
    P.cash[:] = P.in_hand[:] = 1e6
    return mk
