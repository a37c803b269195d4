"""Sweep points as scenario overrides: dotted paths looked up in a scenario, constrained groups
rescaled so they still sum to 1, and paths through lists turned into whole-list values."""

from __future__ import annotations

import copy
from typing import Any

from ..scenario.names import did_you_mean
from .sweep_spec import CONSTRAINED_GROUPS


def lookup(data: Any, dotted: str) -> tuple[bool, Any]:
    """(True, value) at a dotted path through mappings and lists, or (False, an explanation)."""
    current = data
    done: list[str] = []
    for part in dotted.split("."):
        if isinstance(current, dict):
            if part not in current:
                where = ".".join(done) or "the scenario"
                return False, (f"unknown parameter: '{where}' has no key '{part}'"
                               + did_you_mean(part, current, current, "it has"))
            current = current[part]
        elif isinstance(current, (list, tuple)):
            if not part.isdigit() or int(part) >= len(current):
                return False, (f"unknown parameter: '{'.'.join(done)}' is a list of {len(current)}; "
                               f"use an index 0..{len(current) - 1}")
            current = current[int(part)]
        else:
            return False, f"unknown parameter: '{'.'.join(done)}' is a value, it has no key '{part}'"
        done.append(part)
    return True, current


def point_overrides(values: dict[str, Any], base_dump: dict[str, Any]) -> dict[str, Any]:
    """A point's overrides: its values, plus the rescaled members of constrained groups."""
    out = dict(values)
    for group in CONSTRAINED_GROUPS:
        swept = {n.rsplit(".", 1)[1]: float(v) for n, v in values.items() if n.rsplit(".", 1)[0] == group}
        if not swept:
            continue
        found, members = lookup(base_dump, group)
        if not found or not isinstance(members, dict):
            continue
        rest = [k for k in members if k not in swept]
        if not rest:
            continue
        left = 1.0 - sum(swept.values())
        total = sum(float(members[k]) for k in rest)
        for k in rest:
            share = float(members[k]) / total if total > 0 else 1.0 / len(rest)
            out[f"{group}.{k}"] = left * share
    return out


def concrete_overrides(overrides: dict[str, Any], base_dump: dict[str, Any]) -> dict[str, Any]:
    """Overrides with paths through lists (e.g. ``shocks.0.extra_days``) turned into whole-list values."""
    out: dict[str, Any] = {}
    lists: dict[str, Any] = {}
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        current = base_dump
        cut = None
        for i, part in enumerate(parts[:-1]):
            current = current[int(part)] if isinstance(current, (list, tuple)) else current[part]
            if isinstance(current, (list, tuple)):
                cut = i + 1
                break
        if cut is None:
            out[dotted] = value
            continue
        head = ".".join(parts[:cut])
        if head not in lists:
            lists[head] = copy.deepcopy(list(lookup(base_dump, head)[1]))
        target: Any = lists[head]
        rest = parts[cut:]
        for part in rest[:-1]:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(rest[-1])] = value
        else:
            target[rest[-1]] = value
    out.update(lists)
    return out
