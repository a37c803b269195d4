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

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import scipy
from scipy.optimize import brentq

from ..scenario import BASELINE, Scenario, ScenarioError, resolve_policy, with_overrides
from ..scenario.loading import key_location
from .executors import execute
from .tasks import Payload, Task

Counter = Callable[[int], None]
"""Called with the number of matching replications run so far."""

RTOL = 1e-4
"""How closely the factor is found, relative to it (a hundredth of a per cent of the envelope)."""
FIRST_STEP = 0.05
"""The smallest first step of the bracket search (5% of the envelope), however small the first gap."""
MAX_BRACKET_STEPS = 8
"""Doublings of the first step before the search gives up: spend does not depend on the budget."""


class SpendMatchError(ValueError):
    """No budget factor gives the target's spend (the budget does not bind, or binds too little)."""


class MatchRunFailed(RuntimeError):
    """A replication raised while matching spend: a failure of the model, not of the input."""


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

    @classmethod
    def from_record(cls, policy: str, r: dict) -> "SpendMatch":
        """The match a manifest recorded (a resumed comparison)."""
        return cls(policy, r["matches"], float(r["budget_factor"]), float(r["budget_annual"]), float(r["mean_spend"]),
                   float(r["target_mean_spend"]), int(r["evaluations"]))

    def record(self) -> dict[str, float | int | str]:
        """The manifest's entry."""
        return {"matches": self.matches, "budget_factor": self.factor, "budget_annual": round(self.annual, 2),
                "mean_spend": round(self.spend, 2), "target_mean_spend": round(self.target_spend, 2),
                "spend_ratio": round(self.spend / self.target_spend, 6) if self.target_spend else math.nan,
                "evaluations": self.evaluations}


@dataclass(frozen=True)
class Runner:
    """Runs replications 0..reps-1 of a scenario under the root seed and returns each one's spend.

    Always on this machine (in process, or a local pool of ``workers``), also when the comparison itself
    runs on Dask: the search runs a few replications at a time, one after another, and a cluster started
    for each would cost more than the runs. The numbers are the same on every backend."""

    reps: int
    seed: int
    workers: int = 1
    count: Counter | None = None

    def spend(self, scenario: Scenario) -> np.ndarray:
        payload = Payload({"s": scenario}, self.seed, events="none", keep_tables=False)
        tasks = [Task("s", r, (r,)) for r in range(self.reps)]
        spend = np.full(self.reps, np.nan)
        for chunk in execute(payload, tasks, self.workers):
            for res in chunk:
                if res.error:
                    raise MatchRunFailed(f"replication {res.task.replication} failed while matching spend (budget "
                                         f"{scenario.budget.annual:,.2f} a year): {res.error.splitlines()[0]}")
                spend[res.task.replication] = res.kpis["commissioner_spend"]
            if self.count:
                self.count(len(chunk))
        return spend


def spend_match_inputs(sc: Scenario, resolved: dict[str, Scenario]) -> dict[str, object]:
    """What decides the factors besides the policies run: each matched policy as written, this module's code
    and SciPy's version (for a run's fingerprint; empty when no policy matches)."""
    targets = sorted(set(matching(resolved).values()))
    if not targets:
        return {}
    return {"matched": {t: w.model_dump(mode="json") if (w := _written_or_none(sc, t)) else None for t in targets},
            "search_code": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(), "scipy": scipy.__version__}


def matching(resolved: dict[str, Scenario]) -> dict[str, str]:
    """Policy → the policy whose spend it matches, for the policies that match one."""
    return {p: s.budget.match_spend_of for p, s in resolved.items() if s.budget.match_spend_of is not None}


def match_budgets(sc: Scenario, resolved: dict[str, Scenario], runner: Runner,
                  known: dict[str, dict] | None = None) -> tuple[dict[str, Scenario], list[SpendMatch]]:
    """The resolved policies with every matching policy's envelope scaled, and what was found. ``known``:
    the records of a run being resumed (same fingerprint, so the same factors), taken without searching."""
    targets: dict[str, float] = {}
    found = []
    out = dict(resolved)
    for policy, target in matching(resolved).items():
        if (match := _recorded(policy, target, known or {})) is not None:  # the factor is stored exactly
            out[policy] = _scaled(resolved[policy], resolved[policy].budget.annual * match.factor)
            found.append(match)
            continue
        try:
            if target not in targets:
                targets[target] = float(runner.spend(_as_written(sc, target)).mean())
            scaled, match = match_one(resolved[policy], policy, target, targets[target], runner)
        except SpendMatchError as exc:  # bad input: name the file, key and line (exit code 2); MatchRunFailed is not
            key = f"policies.{policy}.budget.match_spend_of"
            file, line = key_location(sc, key)
            raise ScenarioError.single(file, str(exc), key, line) from None
        out[policy] = scaled
        found.append(match)
    return out, found


def _recorded(policy: str, target: str, known: dict[str, dict]) -> SpendMatch | None:
    """The match a resumed run's manifest holds for ``policy``, or None (absent, or not readable: search)."""
    record = known.get(policy)
    if not isinstance(record, dict) or record.get("matches") != target:
        return None
    try:
        return SpendMatch.from_record(policy, record)
    except (KeyError, TypeError, ValueError):
        return None


def _written_or_none(sc: Scenario, name: str) -> Scenario | None:
    """A policy of ``sc`` as written, or None if it has no such policy (the search reports it, naming its key)."""
    return resolve_policy(sc, name) if name == BASELINE or name in sc.policies else None


def _as_written(sc: Scenario, target: str) -> Scenario:
    if (written := _written_or_none(sc, target)) is None:
        raise SpendMatchError(f"budget.match_spend_of names unknown policy '{target}'")
    return written


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
    factor = lo if gap(lo) == 0 else hi if gap(hi) == 0 else float(brentq(gap, lo, hi, xtol=1e-9, rtol=RTOL))
    spend = (gap(factor) + 1.0) * target_spend
    return _scaled(scenario, annual * factor), SpendMatch(policy, target, factor, annual * factor, spend,
                                                          target_spend, len(tried))


def _bracket(gap: Callable[[float], float], policy: str, target: str) -> tuple[float, float]:
    """Factors either side of the match: from 1, steps against the gap (at least FIRST_STEP), doubled until
    the sign changes; factors stay above zero."""
    first = gap(1.0)
    if first == 0:
        return 1.0, 1.0
    step = -math.copysign(max(abs(first), FIRST_STEP), first)
    other = 1.0
    for _ in range(MAX_BRACKET_STEPS):
        other = max(1.0 + step, RTOL)
        if gap(other) == 0 or math.copysign(1.0, gap(other)) != math.copysign(1.0, first):
            return min(1.0, other), max(1.0, other)
        if other == RTOL:
            break
        step *= 2
    hint = ("its spend does not fall with its budget" if first > 0 else
            "more budget does not buy more (it already lets every lot it can, or its lots fail): scale the other "
            "policy to match this one instead")
    raise SpendMatchError(
        f"policy '{policy}' cannot be made to spend what '{target}' spends by scaling its budget: its mean spend is "
        f"{100 * first:+.3f}% from the target's with the budget as written and {100 * gap(other):+.3f}% with the "
        f"budget x {other:.4g}; {hint}; or compare without match_spend_of")


def _scaled(scenario: Scenario, annual: float) -> Scenario:
    """The scenario with the envelope ``annual``; the match itself is then done (``match_spend_of`` kept, for the
    record: the engine ignores it)."""
    return with_overrides(scenario, {"budget.annual": annual})
