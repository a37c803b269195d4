"""Every shipped scenario file (scenarios/*.yaml) loads, cites the seeds, and every policy runs.

The file list is a glob, so scenarios added later are covered without editing this test. Each
policy is run once over a short horizon to keep the suite fast; the checks are about soundness
(valid input, money conserved, finite KPIs), not about the size of any effect.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import yaml

from dps_sim.metrics import KPI_NAMES, kpis
from dps_sim.model import simulate
from dps_sim.scenario import load_scenario, policy_names, resolve_policy, with_overrides

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"
SCENARIO_FILES = sorted(SCENARIO_DIR.glob("*.yaml"))
SHORT_HORIZON = 24
"""Months simulated per policy in the smoke run (enough for launch, payments and a first review)."""

MUST_BE_FINITE = (
    "providers_active_end", "insolvencies", "insolvencies_small", "contract_failures", "service_users_reached",
    "service_gap_days", "failed_competitions", "unopposed_lots", "sector_bid_cost", "hhi", "commissioner_spend",
)
"""KPIs that are counts or sums and so always defined (ratios such as cost_per_user may be NaN when
their denominator is zero, e.g. no user reached in a short run)."""

SEED_CITATION = re.compile(r"\bseed 0\d\d\b")


def _policies_in(path: Path) -> list[str]:
    """Policy names written in a file, read without validation (so collection never fails)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names = [k for k, v in (data.get("policies") or {}).items() if v is not None]  # null drops an inherited one
    except (yaml.YAMLError, AttributeError, OSError):
        names = []
    return ["baseline"] + [n for n in names if n != "baseline"]


@lru_cache(maxsize=None)
def _load(path: Path):
    return load_scenario(path)


def _header(path: Path) -> list[str]:
    """The comment block at the top of a file (up to the first line that is not a comment or blank)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        lines.append(stripped)
    return lines


def test_scenarios_exist():
    assert SCENARIO_FILES, f"no scenario files found in {SCENARIO_DIR}"


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_scenario_validates_and_policies_resolve(path: Path):
    scenario = _load(path)
    assert scenario.name.strip(), "a scenario needs a name"
    assert scenario.description.strip(), "a scenario needs a plain-English description"
    names = policy_names(scenario)
    assert names[0] == "baseline" and scenario.policies.get("baseline", {}) == {}
    for name in names:
        resolved = resolve_policy(scenario, name)
        if name != "baseline":
            assert resolved != scenario, f"policy {name!r} changes nothing"


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_scenario_header_cites_seeds(path: Path):
    header = _header(path)
    assert header and header[0].startswith("#"), "the file should open with a comment header"
    cites = [line for line in header if SEED_CITATION.search(line)]
    assert cites, "the header should cite at least one seed fact as 'seed 0NN' (see docs/sources.md)"


CASES = [(path, policy) for path in SCENARIO_FILES for policy in _policies_in(path)]


@pytest.mark.parametrize("path,policy", CASES, ids=[f"{p.stem}-{pol}" for p, pol in CASES])
def test_policy_runs_briefly(path: Path, policy: str):
    scenario = _load(path)
    short = with_overrides(resolve_policy(scenario, policy), {"horizon_months": min(SHORT_HORIZON, scenario.horizon_months)})
    out = simulate(short, np.random.SeedSequence(1))
    k = kpis(out)
    assert set(KPI_NAMES) <= set(k)
    for name, value in k.items():
        assert not math.isinf(value), f"{name} is infinite"
    for name in MUST_BE_FINITE:
        assert math.isfinite(k[name]), f"{name} is not finite: {k[name]}"
    assert k["commissioner_spend"] >= 0
    assert k["sector_bid_cost"] >= 0
    assert out.ledger["paid_pence"] == out.ledger["provider_receipts_pence"], "commissioner payments were not all received"
    assert out.ledger["paid_pence"] <= out.ledger["invoiced_pence"], "paid more than was invoiced"
    assert out.ledger["transfers_net_pence"] == 0, "consortium pass-on created or lost money"
