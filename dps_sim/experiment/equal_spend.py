"""Equal-spend comparisons: a policy's budget scaled until it spends what another policy spends.

A committee comparing two ways of commissioning "at equal spend" asks what each achieves for
the same money. The same envelope is not the same spend when one route leaves more of it
unspent (a competition with no valid bid, a service waiting for its re-let). A policy whose
overlay sets ``budget.match_spend_of: P`` therefore runs with its envelope (``budget.annual``,
and with it every year of ``year_factors``) multiplied by the factor at which its mean
``commissioner_spend`` over the replications equals P's under the same seeds (common random
numbers). The factor is the root of ``mean spend(factor) / P's mean spend - 1``, found by
Brent's method (``scipy.optimize.brentq``) once a bracket is found; spend falls in steps as
lots drop out, so the root is where the step crosses P's spend and the ratio it reaches is
recorded beside it (docs/model.md, submodel 21).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import brentq

from ..scenario import BASELINE, Scenario, ScenarioError, resolve_policy, with_overrides
from ..scenario.loading import key_location
from .executors import execute
from .tasks import Payload, Task

Counter = Callable[[int], None]
"""Called with the number of matching replications run so far."""

XTOL = 1e-4
"""How closely the factor is found (a hundredth of a per cent of the envelope)."""
MAX_BRACKET_STEPS = 8
"""Doublings of the first step before the search gives up: spend does not depend on the budget."""


class SpendMatchError(ValueError):
    """No budget factor gives the target's spend (the budget does not bind, or binds too little)."""


@dataclass(frozen=True)
class SpendMatch:
    """The factor found for one policy, as manifest.json and the report show it."""

    policy: str
    matches: str
    factor: float
    annual: float
    spend: float
    target_spend: float
    evaluations: int

    def record(self) -> dict[str, float | int | str]:
        """The manifest's entry."""
        return {"matches": self.matches, "budget_factor": self.factor, "budget_annual": round(self.annual, 2),
                "mean_spend": round(self.spend, 2), "target_mean_spend": round(self.target_spend, 2),
                "spend_ratio": round(self.spend / self.target_spend, 6) if self.target_spend else math.nan,
                "evaluations": self.evaluations}


@dataclass(frozen=True)
class Runner:
    """Runs replications 0..reps-1 of a scenario under the root seed and returns each one's spend."""

    reps: int
    seed: int
    workers: int = 1
    scheduler: str | None = None
    count: Counter | None = None

    def spend(self, scenario: Scenario) -> np.ndarray:
        payload = Payload({"s": scenario}, self.seed, events="none", keep_tables=False)
        tasks = [Task("s", r, (r,)) for r in range(self.reps)]
        spend = np.full(self.reps, np.nan)
        for chunk in execute(payload, tasks, self.workers, self.scheduler):
            for res in chunk:
                spend[res.task.replication] = res.kpis["commissioner_spend"]
            if self.count:
                self.count(len(chunk))
        if np.isnan(spend).any():
            raise SpendMatchError("a replication failed while matching spend; run the policy alone to see its error")
        return spend


def matching(resolved: dict[str, Scenario]) -> dict[str, str]:
    """Policy → the policy whose spend it matches, for the policies that match one."""
    return {p: s.budget.match_spend_of for p, s in resolved.items() if s.budget.match_spend_of is not None}


def match_budgets(sc: Scenario, resolved: dict[str, Scenario], runner: Runner) -> tuple[dict[str, Scenario],
                                                                                     list[SpendMatch]]:
    """The resolved policies with every matching policy's envelope scaled, and what was found."""
    targets: dict[str, float] = {}
    found = []
    out = dict(resolved)
    for policy, target in matching(resolved).items():
        try:
            if target not in targets:
                targets[target] = float(runner.spend(_as_written(sc, target)).mean())
            scaled, match = match_one(resolved[policy], policy, target, targets[target], runner)
        except SpendMatchError as exc:  # bad input: name the file, key and line (exit code 2)
            key = f"policies.{policy}.budget.match_spend_of"
            file, line = key_location(sc, key)
            raise ScenarioError.single(file, str(exc), key, line) from None
        out[policy] = scaled
        found.append(match)
    return out, found


def _as_written(sc: Scenario, target: str) -> Scenario:
    if target != BASELINE and target not in sc.policies:
        raise SpendMatchError(f"budget.match_spend_of names unknown policy '{target}'")
    return resolve_policy(sc, target)


def match_one(scenario: Scenario, policy: str, target: str, target_spend: float,
              runner: Runner) -> tuple[Scenario, SpendMatch]:
    """``scenario`` with its envelope scaled so that its mean spend equals ``target_spend``."""
    annual = scenario.budget.annual
    if annual is None or annual <= 0:
        raise SpendMatchError(f"policy '{policy}' has no budget envelope to scale (budget.annual)")
    if target_spend <= 0:
        raise SpendMatchError(f"policy '{target}' spends nothing: there is no spend to match")
    tried: dict[float, float] = {}

    def gap(factor: float) -> float:
        if factor not in tried:
            tried[factor] = float(runner.spend(_scaled(scenario, annual * factor)).mean()) / target_spend - 1.0
        return tried[factor]

    lo, hi = _bracket(gap, policy, target)
    factor = lo if gap(lo) == 0 else hi if gap(hi) == 0 else float(brentq(gap, lo, hi, xtol=XTOL))
    spend = (gap(factor) + 1.0) * target_spend
    return _scaled(scenario, annual * factor), SpendMatch(policy, target, factor, annual * factor, spend,
                                                          target_spend, len(tried))


def _bracket(gap: Callable[[float], float], policy: str, target: str) -> tuple[float, float]:
    """Factors either side of the match: from 1, steps against the gap, doubled until the sign changes."""
    first = gap(1.0)
    if first == 0:
        return 1.0, 1.0
    step = -first if abs(first) > XTOL else math.copysign(10 * XTOL, -first)
    other = 1.0
    for _ in range(MAX_BRACKET_STEPS):
        other = max(1.0 + 1.5 * step, XTOL)
        if gap(other) == 0 or math.copysign(1.0, gap(other)) != math.copysign(1.0, first):
            return min(1.0, other), max(1.0, other)
        if other == XTOL:
            break
        step *= 2
    raise SpendMatchError(
        f"policy '{policy}' cannot be made to spend what '{target}' spends by scaling its budget: its mean spend is "
        f"{100 * first:+.1f}% from the target's with the budget as written and {100 * gap(other):+.1f}% with the "
        f"budget × {other:.3g}; its budget may not bind (set budget.annual lower) or compare without match_spend_of")


def _scaled(scenario: Scenario, annual: float) -> Scenario:
    """The scenario with the envelope ``annual``; the match itself is then done (``match_spend_of`` kept, for the
    record: the engine ignores it)."""
    return with_overrides(scenario, {"budget.annual": annual})
