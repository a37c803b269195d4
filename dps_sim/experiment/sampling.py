"""Sweep designs: which parameter values each sweep point runs with.

Every method first draws points in the unit cube ``[0, 1]^D`` (one column per parameter)
and then maps each column onto its parameter: a range ``{low, high}`` linearly (or
log-uniformly with ``log: true``; whole numbers for integer fields), a list of ``levels``
by cutting ``[0, 1)`` into equal slices, one per level. The unit points are what the
sensitivity analysis works on, so a categorical or integer parameter needs no special case.

- ``grid``   every combination of ``samples`` evenly spaced values per range (all levels of
             a levels parameter); the first parameter varies slowest.
- ``lhs``    ``samples`` points of a scrambled Latin hypercube (``scipy.stats.qmc``).
- ``sobol``  Saltelli's scheme for first- and total-order indices (``SALib.sample.sobol``,
             ``calc_second_order=False``): ``samples`` × (D + 2) points, in blocks of D + 2.
- ``morris`` ``samples`` one-at-a-time trajectories on a 4-level grid (``SALib.sample.morris``):
             ``samples`` × (D + 1) points, in blocks of D + 1.

The design depends only on the method, the parameters, ``samples`` and the sampler seed
(derived from the sweep seed), so a sweep can be rebuilt from its manifest.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

METHODS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris")
MORRIS_LEVELS = 4
SAMPLER_SPAWN_KEY = (0x5357_4550,)  # "SWEP": the sampler's stream, apart from every (point, replication) key


@dataclass(frozen=True)
class Parameter:
    """One swept scenario value, by dotted key path."""

    name: str
    low: float | None = None
    high: float | None = None
    levels: tuple[Any, ...] | None = None
    log: bool = False
    integer: bool = False

    @property
    def kind(self) -> str:
        return "levels" if self.levels is not None else "range"

    def value(self, u: float) -> Any:
        """The parameter value at unit coordinate ``u`` in [0, 1]."""
        u = min(max(float(u), 0.0), 1.0)
        if self.levels is not None:
            return self.levels[min(int(u * len(self.levels)), len(self.levels) - 1)]
        lo, hi = float(self.low), float(self.high)
        if self.integer:
            if self.log:
                v = math.exp(math.log(lo) + u * (math.log(hi + 1.0) - math.log(lo)))
                return int(min(max(math.floor(v), lo), hi))
            return int(min(math.floor(lo + u * (hi - lo + 1.0)), hi))
        if self.log:
            return float(math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))))
        return float(lo + u * (hi - lo))

    def grid(self, n: int) -> list[tuple[float, Any]]:
        """(unit coordinate, value) pairs of a grid: all levels, or ``n`` evenly spaced values."""
        if self.levels is not None:
            k = len(self.levels)
            return [((i + 0.5) / k, v) for i, v in enumerate(self.levels)]
        lo, hi = float(self.low), float(self.high)
        if n == 1:
            raw = np.array([math.sqrt(lo * hi) if self.log else (lo + hi) / 2])
        else:
            raw = np.geomspace(lo, hi, n) if self.log else np.linspace(lo, hi, n)
        out: list[tuple[float, Any]] = []
        seen: set = set()
        for v in raw:
            value: Any = int(round(float(v))) if self.integer else float(v)
            if value in seen:
                continue
            seen.add(value)
            out.append((self.unit(value), value))
        return out

    def unit(self, value: Any) -> float:
        """Inverse of :meth:`value` for a range (the unit coordinate of a value)."""
        if self.levels is not None:
            i = [json.dumps(v) for v in self.levels].index(json.dumps(value))
            return (i + 0.5) / len(self.levels)
        lo, hi = float(self.low), float(self.high)
        if hi == lo:
            return 0.5
        if self.log:
            return (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return (float(value) - lo) / (hi - lo)

    def describe(self) -> dict[str, Any]:
        """What the manifest records about this parameter."""
        if self.levels is not None:
            return {"levels": list(self.levels)}
        return {"low": self.low, "high": self.high, "log": self.log, "integer": self.integer}


@dataclass
class Design:
    """The points of a sweep: unit coordinates (what analysis uses) and parameter values."""

    method: str
    parameters: list[Parameter]
    unit: np.ndarray                         # (points, D) in [0, 1]
    values: list[tuple[Any, ...]]            # one tuple of parameter values per point
    sampler: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def __len__(self) -> int:
        return len(self.values)

    def point(self, i: int) -> dict[str, Any]:
        return dict(zip(self.names, self.values[i]))

    @property
    def block(self) -> int:
        """Rows per independent block: D + 2 (sobol), D + 1 (morris), 1 (grid, lhs)."""
        d = len(self.parameters)
        return {"sobol": d + 2, "morris": d + 1}.get(self.method, 1)

    def problem(self) -> dict[str, Any]:
        """The SALib problem: every parameter on [0, 1] (the unit coordinates)."""
        return unit_problem(self.names)


def unit_problem(names: list[str]) -> dict[str, Any]:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def sampler_seed(seed: int) -> int:
    """The sampler's seed, derived from the sweep seed (SeedSequence, its own spawn key)."""
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=SAMPLER_SPAWN_KEY)
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def point_count(method: str, n_params: int, samples: int, parameters: list[Parameter] | None = None) -> int:
    """Points in a design, without building it."""
    if method == "sobol":
        return samples * (n_params + 2)
    if method == "morris":
        return samples * (n_params + 1)
    if method == "lhs":
        return samples
    if method == "grid":
        assert parameters is not None
        return math.prod(len(p.grid(samples)) for p in parameters)
    raise ValueError(f"unknown method {method!r}")


def build_design(method: str, parameters: list[Parameter], samples: int, seed: int) -> Design:
    """Draw the sweep's points (deterministic for a given method, parameters, samples and seed)."""
    d = len(parameters)
    names = [p.name for p in parameters]
    sseed = sampler_seed(seed)
    if method == "grid":
        axes = [p.grid(samples) for p in parameters]
        combos = list(itertools.product(*axes))
        unit = np.array([[u for u, _ in c] for c in combos], dtype=float).reshape(len(combos), d)
        values = [tuple(v for _, v in c) for c in combos]
        sampler = {"name": "grid", "levels_per_range": samples}
        return Design(method, list(parameters), unit, values, sampler)
    if method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=d, rng=np.random.default_rng(sseed)).random(samples)
        sampler = {"name": "scipy.stats.qmc.LatinHypercube", "scramble": True, "seed": sseed,
                   "seed_note": "numpy.random.default_rng(seed) passed as rng"}
    elif method == "sobol":
        import warnings

        from SALib.sample import sobol

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unit = sobol.sample(unit_problem(names), samples, calc_second_order=False, scramble=True, seed=sseed)
        sampler = {"name": "SALib.sample.sobol", "N": samples, "calc_second_order": False, "scramble": True,
                   "seed": sseed}
    elif method == "morris":
        from SALib.sample import morris

        unit = morris.sample(unit_problem(names), samples, num_levels=MORRIS_LEVELS, seed=sseed)
        sampler = {"name": "SALib.sample.morris", "N": samples, "num_levels": MORRIS_LEVELS, "seed": sseed}
    else:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    unit = np.asarray(unit, dtype=float).reshape(-1, d)
    values = [tuple(p.value(u) for p, u in zip(parameters, row)) for row in unit]
    return Design(method, list(parameters), unit, values, sampler)
