"""``dps-sim discover``: in which futures of a sweep does a condition hold? (PRIM and CART, :mod:`.prim`)

The cases are the sweep's futures (points). For a policies x futures sweep and ``policy=P``, each
future has, for the KPI K,

    diff      the mean over replications of P's result minus the baseline's (paired, same seeds)
    value     P's mean result (also available under the KPI's own name)
    baseline  the baseline's mean result

and for a one-policy sweep only ``value`` (and K). ``where`` is a condition on these, such as
``diff > 0`` or ``value >= 10 and diff > 2``: comparisons, and/or/not, numbers and these names only.
Writes ``discovery_trajectory.csv`` (PRIM's peeling trajectory), ``discovery.csv`` (the chosen PRIM
box, with restrictions whose removal lowers its density by at most 0.05 dropped, and the CART boxes, one row per box and restricted parameter) and a ``discovery`` record in
the manifest; the report then shows a section and the chart ``charts/discovery.png``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import outdir, store
from .prim import Box, cart_boxes, peel, select, simplify

ALLOWED_NODES = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Compare, ast.Gt,
                 ast.GtE, ast.Lt, ast.LtE, ast.Eq, ast.NotEq, ast.Name, ast.Load, ast.Constant, ast.BinOp, ast.Add,
                 ast.Sub, ast.Mult, ast.Div)
TRAJECTORY_FILE, BOXES_FILE = "discovery_trajectory.csv", "discovery.csv"


class DiscoveryError(ValueError):
    """Bad input to discover (unknown KPI or policy, a condition that cannot be read): exit code 2."""


@dataclass
class Discovery:
    trajectory: pd.DataFrame
    boxes: pd.DataFrame
    prim_box: Box
    cases: int
    share: float
    record: dict[str, Any]


def cases(folder: Path, kpi: str, policy: str | None) -> tuple[pd.DataFrame, list[str], dict[str, list], str | None]:
    """One row per future: the parameters, and diff / value / baseline of ``kpi`` (see the module); the
    parameters, the levels of those swept as levels, and the policy (default: the first after the baseline)."""
    manifest = outdir.read_manifest(folder) or {}
    spec = manifest.get("sweep") or {}
    if not (folder / "points.parquet").is_file():
        raise DiscoveryError(f"{folder}: no points.parquet (a finished sweep folder is needed)")
    points = pd.read_parquet(folder / "points.parquet")
    points = points[points["error"] == ""]
    parameters = [p for p in (spec.get("parameters") or {}) if p in points.columns]
    if kpi not in points.columns:
        raise DiscoveryError(f"unknown KPI {kpi!r}")
    policies = list(spec.get("policies") or [])
    frame = points.groupby("point")[parameters].first()
    if policies:
        policy = policy or (policies[1] if len(policies) > 1 else None)
        if policy not in policies[1:]:
            raise DiscoveryError(f"--policy must be one of this sweep's policies besides the baseline: "
                                 f"{', '.join(policies[1:])}")
        means = points.groupby(["point", "policy"])[kpi].mean().unstack("policy")
        frame["value"], frame["baseline"] = means[policy], means[policies[0]]
        frame["diff"] = frame["value"] - frame["baseline"]
    else:
        if policy:
            raise DiscoveryError("--policy: this sweep runs one policy (give a policies sweep, or leave --policy out)")
        frame["value"] = points.groupby("point")[kpi].mean()
    frame[kpi] = frame["value"]
    levels = {p: list(v["levels"]) for p, v in (spec.get("parameters") or {}).items()
              if isinstance(v, dict) and "levels" in v and p in parameters}
    for p, names in levels.items():  # levels as their index, in the order the sweep lists them
        text = [n if isinstance(n, str) else str(n) for n in names]
        frame[p] = frame[p].map(lambda v: text.index(v if isinstance(v, str) else str(v)) if
                                (v if isinstance(v, str) else str(v)) in text else np.nan)
    return frame.dropna(), parameters, levels, policy


def condition(frame: pd.DataFrame, where: str, names: set[str]) -> np.ndarray:
    """Evaluate ``where`` on the cases (only comparisons, and/or/not, arithmetic, numbers and ``names``)."""
    try:
        tree = ast.parse(where.strip(), mode="eval")
    except SyntaxError as exc:
        raise DiscoveryError(f"--where {where!r} cannot be read: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED_NODES):
            raise DiscoveryError(f"--where {where!r}: only comparisons, and/or/not, numbers and the names "
                                 f"{', '.join(sorted(names))} may be used")
        if isinstance(node, ast.Name) and node.id not in names:
            raise DiscoveryError(f"--where: unknown name {node.id!r}; use {', '.join(sorted(names))}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise DiscoveryError(f"--where: {node.value!r} is not a number")
    env = {n: frame[n].to_numpy(dtype=float) for n in names}
    result = _evaluate(tree.body, env)
    result = np.broadcast_to(np.asarray(result), (len(frame),))
    if result.dtype != bool:
        raise DiscoveryError(f"--where {where!r} is not a condition (it gives numbers, not true/false)")
    return result.copy()


def _evaluate(node: ast.AST, env: dict[str, np.ndarray]) -> Any:
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp):
        v = _evaluate(node.operand, env)
        return np.logical_not(v) if isinstance(node.op, ast.Not) else -v
    if isinstance(node, ast.BoolOp):
        values = [_evaluate(v, env) for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = np.logical_and(out, v) if isinstance(node.op, ast.And) else np.logical_or(out, v)
        return out
    if isinstance(node, ast.BinOp):
        a, b = _evaluate(node.left, env), _evaluate(node.right, env)
        return {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}[type(node.op)](a, b)
    assert isinstance(node, ast.Compare)
    ops = {ast.Gt: np.greater, ast.GtE: np.greater_equal, ast.Lt: np.less, ast.LtE: np.less_equal,
           ast.Eq: np.equal, ast.NotEq: np.not_equal}
    left, out = _evaluate(node.left, env), True
    for op, right in zip(node.ops, node.comparators):
        r = _evaluate(right, env)
        out = np.logical_and(out, ops[type(op)](left, r))
        left = r
    return out


def discover(folder: str | Path, kpi: str, where: str, policy: str | None = None, method: str = "auto",
             alpha: float = 0.05, min_mass: float = 0.05, density: float | None = None,
             write: bool = True) -> Discovery:
    """Find the futures where ``where`` holds, with PRIM (and CART, if scikit-learn is installed or
    ``method`` asks for it); write the tables and the manifest record."""
    folder = Path(folder)
    frame, parameters, levels, policy = cases(folder, kpi, policy)
    names = {"value", kpi} | ({"diff", "baseline"} if "diff" in frame else set())
    y = condition(frame, where, names)
    if len(frame) < 10:
        raise DiscoveryError(f"only {len(frame)} futures finished: too few to find boxes")
    if not y.any() or y.all():
        raise DiscoveryError(f"--where {where!r} holds in {'no' if not y.any() else 'every'} future: nothing "
                             "to separate")
    x = frame[parameters]
    trajectory = peel(x, y, alpha, min_mass)
    chosen = select(trajectory, density)
    reported = simplify(chosen, x, y)
    traj = pd.DataFrame([{"step": b.step, "coverage": b.coverage, "density": b.density, "mass": b.mass,
                          "restricted": len(b.limits), "box": b.describe(levels), "selected": b is chosen}
                         for b in trajectory])
    boxes = [("prim", 1, reported)]
    cart_used = method in ("cart", "both") or (method == "auto" and _sklearn())
    if cart_used:
        boxes += [("cart", i + 1, b) for i, b in enumerate(cart_boxes(x, y, min_leaf=min_mass))]
    rows = []
    for how, number, b in boxes:
        for name, (lo, hi) in (b.limits or {"(none)": (np.nan, np.nan)}).items():
            rows.append({"method": how, "box": number, "parameter": name, "low": lo, "high": hi,
                         "levels": b.describe({name: levels[name]}) if name in levels else "",
                         "coverage": b.coverage, "density": b.density, "mass": b.mass, "description": b.describe(levels)})
    table = pd.DataFrame(rows)
    record = {"kpi": kpi, "policy": policy if "diff" in frame else None, "where": where, "futures": int(len(frame)),
              "futures_where_it_holds": int(y.sum()), "peel_alpha": alpha, "min_mass": min_mass,
              "density_target": density, "prim_box": reported.describe(levels), "prim_step": chosen.step,
              "prim_coverage": reported.coverage, "prim_density": reported.density, "prim_mass": reported.mass,
              "prim_box_as_peeled": chosen.describe(levels), "restrictions_dropped": sorted(set(chosen.limits)
                                                                                            - set(reported.limits)),
              "cart": bool(cart_used)}
    if write:
        with store.writing(folder, [TRAJECTORY_FILE, BOXES_FILE]):  # claimed before, their SHA-256 after
            store.write_csv(folder / TRAJECTORY_FILE, traj)
            store.write_csv(folder / BOXES_FILE, table)
        store.update_manifest(folder, discovery=record)
    return Discovery(traj, table, reported, len(frame), float(y.mean()), record)


def _sklearn() -> bool:
    import importlib.util

    return importlib.util.find_spec("sklearn") is not None
