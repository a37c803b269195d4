"""Scenario discovery: PRIM peeling (Friedman and Fisher 1999) and CART boxes (scikit-learn).

Given the uncertain parameters of each future (X, one column per parameter) and whether a condition
holds there (y), find boxes, limits on a few parameters, inside which the condition mostly holds:

    coverage  share of all the futures where it holds that fall inside the box
    density   share of the futures inside the box where it holds
    mass      share of all futures inside the box

PRIM starts from the box holding every future and peels: at each step it tries cutting off the
``alpha`` share of the futures still inside at the low or the high end of each parameter and keeps
the cut that leaves the highest density, until the box holds fewer than ``min_mass`` of all futures.
The boxes along the way are the *peeling trajectory*: density rises as coverage falls, and the
analyst picks one. No pasting step (it rarely changes a box by more than one peel).

CART fits a shallow decision tree (``sklearn.tree.DecisionTreeClassifier``, the optional extra
``discover``); each leaf where the condition is predicted to hold is a box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Box:
    """Limits per parameter (only the restricted ones), with the box's coverage, density and mass."""

    limits: dict[str, tuple[float, float]]
    coverage: float
    density: float
    mass: float
    step: int = 0

    def describe(self, levels: dict[str, list] | None = None) -> str:
        """'late days mean 31.2 to 60; entry per year 4 to 9.8' (levels shown by name)."""
        levels = levels or {}
        parts = []
        for name, (lo, hi) in self.limits.items():
            if name in levels:
                names = levels[name][int(np.ceil(lo - 1e-9)):int(np.floor(hi + 1e-9)) + 1]
                parts.append(f"{name} in {{{', '.join(map(str, names))}}}")
            else:
                parts.append(f"{name} {lo:.4g} to {hi:.4g}")
        return "; ".join(parts) or "(all futures)"


def _stats(inside: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    hits = float(y[inside].sum())
    total = float(y.sum())
    n_in = int(inside.sum())
    return (hits / total if total else float("nan"), hits / n_in if n_in else float("nan"), n_in / len(y))


def peel(x: pd.DataFrame, y: np.ndarray, alpha: float = 0.05, min_mass: float = 0.05) -> list[Box]:
    """The PRIM peeling trajectory: the starting box (every future) first, then one box per peel."""
    if not 0 < alpha < 0.5:
        raise ValueError("alpha (the share peeled at each step) must be between 0 and 0.5")
    data = x.to_numpy(dtype=float)
    y = np.asarray(y, dtype=bool)
    n, d = data.shape
    lower, upper = data.min(axis=0), data.max(axis=0)
    first_lower, first_upper = lower.copy(), upper.copy()
    inside = np.ones(n, dtype=bool)

    def box(step: int) -> Box:
        limits = {str(c): (float(lower[j]), float(upper[j])) for j, c in enumerate(x.columns)
                  if lower[j] > first_lower[j] or upper[j] < first_upper[j]}
        return Box(limits, *_stats(inside, y), step=step)

    trajectory = [box(0)]
    while inside.sum() / n > min_mass:
        best: tuple[float, int, int, np.ndarray, float] | None = None  # density, -removed, j, keep, new bound
        for j in range(d):
            col = data[:, j]
            values = col[inside]
            for side in (0, 1):
                q = np.quantile(values, alpha if side == 0 else 1 - alpha)
                cut = (col < q) if side == 0 else (col > q)
                if not (cut & inside).any():  # ties at the end: remove the end value itself
                    end = values.min() if side == 0 else values.max()
                    cut = (col <= end) if side == 0 else (col >= end)
                keep = inside & ~cut
                if keep.sum() / n < min_mass:
                    continue
                kept = col[keep]
                density = float(y[keep].mean())
                removed = int(inside.sum() - keep.sum())
                bound = float(kept.min() if side == 0 else kept.max())
                if best is None or (density, -removed) > (best[0], best[1]):
                    best = (density, -removed, j * 2 + side, keep, bound)
        if best is None:
            break
        density, _, code, keep, bound = best
        j, side = divmod(code, 2)
        if side == 0:
            lower[j] = bound
        else:
            upper[j] = bound
        inside = keep
        trajectory.append(box(len(trajectory)))
    return trajectory


def simplify(box: Box, x: pd.DataFrame, y: np.ndarray, tolerance: float = 0.05) -> Box:
    """The box with the restrictions that do not matter dropped: one at a time, the restriction whose
    removal lowers the density least, while the density stays within ``tolerance`` of the box's own
    (the peeling often trims a parameter a little on the way without it mattering)."""
    y = np.asarray(y, dtype=bool)
    limits = dict(box.limits)

    def inside(lims: dict[str, tuple[float, float]]) -> np.ndarray:
        keep = np.ones(len(x), dtype=bool)
        for name, (lo, hi) in lims.items():
            col = x[name].to_numpy(dtype=float)
            keep &= (col >= lo) & (col <= hi)
        return keep

    while len(limits) > 1:
        trials = {name: _stats(inside({k: v for k, v in limits.items() if k != name}), y) for name in limits}
        name, (coverage, density, mass) = max(trials.items(), key=lambda kv: (kv[1][1], kv[1][0]))
        if density < box.density - tolerance:
            break
        del limits[name]
    if limits == box.limits:
        return box
    return Box(limits, *_stats(inside(limits), y), step=box.step)


def select(trajectory: list[Box], density: float | None = None) -> Box:
    """The box to report: the first reaching ``density`` if given (the most coverage at that density),
    else the one with the largest coverage x density."""
    if density is not None:
        for b in trajectory:
            if b.density >= density:
                return b
        return max(trajectory, key=lambda b: b.density)
    return max(trajectory, key=lambda b: (b.coverage * b.density, -b.step))


def cart_boxes(x: pd.DataFrame, y: np.ndarray, max_depth: int = 3, min_leaf: float = 0.05,
               seed: int = 0) -> list[Box]:
    """The leaves of a decision tree where the condition is predicted to hold, as boxes (largest
    coverage first). Needs scikit-learn (pip install 'dps_sim[discover]')."""
    try:
        from sklearn.tree import DecisionTreeClassifier
    except ImportError:
        raise RuntimeError("CART needs scikit-learn: pip install 'dps_sim[discover]'") from None
    data = x.to_numpy(dtype=float)
    y = np.asarray(y, dtype=bool)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(1, int(np.ceil(min_leaf * len(y)))),
                                  random_state=seed).fit(data, y)
    t = tree.tree_
    lows, highs = data.min(axis=0), data.max(axis=0)
    boxes: list[Box] = []

    def walk(node: int, lo: np.ndarray, hi: np.ndarray) -> None:
        if t.children_left[node] == -1:
            counts = t.value[node][0]
            if len(tree.classes_) == 2 and counts[list(tree.classes_).index(True)] > counts.sum() / 2:
                inside = np.all((data >= lo) & (data <= hi), axis=1)
                limits = {str(c): (float(lo[j]), float(hi[j])) for j, c in enumerate(x.columns)
                          if lo[j] > lows[j] or hi[j] < highs[j]}
                boxes.append(Box(limits, *_stats(inside, y), step=node))
            return
        j, cut = t.feature[node], t.threshold[node]
        left_hi = hi.copy()
        left_hi[j] = min(hi[j], data[data[:, j] <= cut, j].max())
        right_lo = lo.copy()
        right_lo[j] = max(lo[j], data[data[:, j] > cut, j].min())
        walk(t.children_left[node], lo, left_hi)
        walk(t.children_right[node], right_lo, hi)

    walk(0, lows.copy(), highs.copy())
    return sorted(boxes, key=lambda b: -b.coverage)
