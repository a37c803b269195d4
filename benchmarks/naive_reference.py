"""A naive reference: the monthly cash-flow and bidding step as one SimPy process per provider.

This is how a first simulation of the market is often written: every organisation is a
SimPy process that wakes each month, updates its cash in plain Python, and looks at every
lot of the round to decide whether to bid. It uses the same population, lots and rules
(simplified: no admission stage, contracts paid in advance) so that its cost per replication
can be compared with the real model's array-based step. It is a benchmark, not a model.
"""

from __future__ import annotations

import math
import random

import numpy as np
import simpy

from dps_sim.model.finance import MONTH_DAYS
from dps_sim.model.population import draw_organisations
from dps_sim.scenario import Scenario


class NaiveMarket:
    def __init__(self, scenario: Scenario, seed: int):
        self.s = scenario
        self.rng = random.Random(seed)
        orgs = draw_organisations(scenario, np.random.default_rng(seed), scenario.market.providers)
        self.orgs = [{k: (v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in orgs.items()}
                     for i in range(scenario.market.providers)]
        for o in self.orgs:
            o["cash"] = o["reserves_initial"] * o["income"] / 12
            o["contracts"] = []
            o["alive"] = True
        self.env = simpy.Environment()
        self.lots: list[dict] = []
        self.bids: list[tuple[int, dict, float]] = []

    def provider(self, i: int):
        o = self.orgs[i]
        beh = self.s.behaviour
        for m in range(self.s.horizon_months):
            yield self.env.timeout(MONTH_DAYS)
            if not o["alive"]:
                return
            base = o["income"] / 12
            o["cash"] += base * (1 + 0.1 * self.rng.gauss(0, 1)) - base
            for c in o["contracts"]:
                if c["end"] > m:
                    o["cash"] += c["value"] / 12 - c["cost"] / 12
            if o["cash"] < 0:
                o["alive"] = False
                return
            for lot in self.lots:
                if lot["month"] != m:
                    continue
                if not (o["county_wide"] or o["district"] == lot["district"]):
                    continue
                if self.rng.random() > beh.lot_interest:
                    continue
                cost = (beh.bid_hours_fixed + beh.bid_hours_per_page * 10) * (1.5 - o["skill"]) * beh.hour_cost
                if o["capacity"] < 0.5 * lot["value"] or o["cash"] < cost:
                    continue
                gain = min(0.95, (0.5 + o["skill"]) / beh.expected_bidders) * beh.contract_value_share * lot["value"] * 3
                if gain * math.exp(0.5 * self.rng.gauss(0, 1)) < cost:
                    continue
                o["cash"] -= cost
                score = 0.4 * (o["quality"] / 5) + 0.3 * self.rng.random() + 0.3 * self.rng.random()
                self.bids.append((i, lot, score))

    def commissioner(self):
        c = self.s.procurement.competitions
        for m in range(self.s.horizon_months):
            for _ in range(c.lots_per_round):
                self.lots.append({"month": m, "district": self.rng.randrange(self.s.market.districts),
                                  "value": c.lot_value.median * math.exp(c.lot_value.sigma * self.rng.gauss(0, 1))})
            yield self.env.timeout(MONTH_DAYS * 1.5)
            best: dict[int, tuple[float, int]] = {}
            for i, lot, score in self.bids:
                key = id(lot)
                if key not in best or score > best[key][0]:
                    best[key] = (score, i)
            for lot in self.lots:
                if id(lot) in best and lot["month"] == m:
                    w = self.orgs[best[id(lot)][1]]
                    w["contracts"].append({"value": lot["value"], "cost": lot["value"] * 0.95, "end": m + 36})
            self.bids.clear()
            yield self.env.timeout(MONTH_DAYS * -0.5 + MONTH_DAYS)

    def run(self) -> int:
        for i in range(len(self.orgs)):
            self.env.process(self.provider(i))
        self.env.process(self.commissioner())
        self.env.run(until=self.s.horizon_months * MONTH_DAYS + 1)
        return sum(o["alive"] for o in self.orgs)
