"""Shared fixtures: a tiny valid scenario and a helper that runs the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

TINY_SCENARIO = """\
# A tiny scenario for fast tests: 40 organisations over one year.
name: Tiny test DPS
description: Small and quick; used by the test suite.
seed: 11
horizon_months: 12
rules: pcr2015
market:
  districts: 3
  providers: 40
  entry_per_year: 4
  private_share: 0.1
  size_mix: {micro: 0.5, small: 0.3, medium: 0.15, large: 0.04, major: 0.01}
procurement:
  route: dps
  admission:
    evaluation_working_days: 10
  competitions:
    first_round_lots: 6
    every_months: 3
    lots_per_round: 2
    tender_days: 30
    lot_value: {median: 40000, sigma: 0.5}
    weights:
      quality: 0.4
      reach: 0.3
      price: 0.3
contracts:
  length_months: 12
  payment:
    terms: advance
    period_days: 30
  performance_bond:
    threshold: 200000
shocks:
  - {type: funding_cut, month: 6, fraction: 0.1}
policies:
  baseline: {}
  pay_monthly_in_arrears:
    contracts: {payment: {terms: monthly_arrears}}
"""
"""A small valid scenario (horizon 12 months, 40 providers, two policies)."""

RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="session")
def tiny_scenario_text() -> str:
    return TINY_SCENARIO


@pytest.fixture
def tiny_scenario_file(tmp_path: Path) -> Path:
    """The tiny scenario written to ``tmp_path/tiny.yaml``."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SCENARIO, encoding="utf-8")
    return path


def _run_cli(*args: str | os.PathLike, cwd: str | os.PathLike | None = None, timeout: float = 300) -> tuple[int, str, str]:
    """Run ``python -m dps_sim ARGS`` as a user would; return (returncode, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "DPS_SIM_DEBUG"}
    proc = subprocess.run([sys.executable, "-m", "dps_sim", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="session")
def run_cli() -> RunCli:
    """``run_cli(*args, cwd=None)`` runs ``python -m dps_sim`` in a subprocess: (returncode, stdout, stderr)."""
    return _run_cli


LONG_COMPARISON = 4096
"""Bytes or characters above which a failed ``==`` is explained briefly instead of by pytest's diff."""


def _size(x: object) -> int:
    """Characters or bytes held by a text, a byte string, or a list, tuple or dict of them (one level)."""
    if isinstance(x, (bytes, str)):
        return len(x)
    if isinstance(x, dict):
        x = list(x.values())
    if isinstance(x, (list, tuple)):
        return sum(len(v) for v in x if isinstance(v, (bytes, str)))
    return 0


def _where(left: bytes | str, right: bytes | str) -> str:
    first = next((i for i, (a, b) in enumerate(zip(left, right)) if a != b), min(len(left), len(right)))
    return (f"{type(left).__name__} of {len(left):,} and {len(right):,} differ first at offset {first:,}: "
            f"{left[first:first + 40]!r} against {right[first:first + 40]!r}")


def pytest_assertrepr_compare(op: str, left: object, right: object) -> list[str] | None:
    """A failed ``==`` of long byte strings or texts (whole files), or of lists or dicts of them, says
    where they first differ.

    pytest's own explanation diffs them line by line, which for files of a few megabytes takes hours
    (a CI run once ran out of time so): this takes microseconds."""
    if op != "==" or max(_size(left), _size(right)) <= LONG_COMPARISON:
        return None
    if isinstance(left, (bytes, str)) and type(left) is type(right):
        return [_where(left, right)]
    if isinstance(left, dict) and isinstance(right, dict):
        if list(left) != list(right):
            return [f"keys differ: {list(left)!r} against {list(right)!r}"[:2000]]
        pairs = list(zip(left, left.values(), right.values()))
    elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        if len(left) != len(right):
            return [f"{len(left)} items against {len(right)}"]
        pairs = list(zip(range(len(left)), left, right))
    else:
        return None
    lines = [f"differ at {k!r}: " + (_where(a, b) if isinstance(a, (bytes, str)) and type(a) is type(b)
                                     else f"{repr(a)[:200]} against {repr(b)[:200]}")
             for k, a, b in pairs if a != b]
    return lines[:20] or None
