"""Fingerprint of what the model produces: one hash per shipped scenario and policy.

    python benchmarks/fingerprint.py > before.txt     # then refactor, then
    python benchmarks/fingerprint.py | diff before.txt -

A refactoring that moves code without changing the model leaves every line unchanged. The
hash covers the event log, the time series, the counters, the ledger, the cash flows and
every provider, need, contract and party column, for two replications of each policy.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dps_sim.model import simulate  # noqa: E402
from dps_sim.scenario import load_scenario, policy_names, resolve_policy  # noqa: E402


def _feed(h: "hashlib._Hash", name: str, value) -> None:
    h.update(name.encode())
    if isinstance(value, dict):
        for k in sorted(value):
            _feed(h, f"{name}.{k}", value[k])
    else:
        a = np.ascontiguousarray(np.asarray(value))
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())


def fingerprint(scenario, seed: int) -> str:
    """SHA-256 (first 16 hex digits) of everything one replication produced."""
    out = simulate(scenario, np.random.SeedSequence(seed), "all")
    h = hashlib.sha256()
    for part in ("events", "timeseries", "counters", "ledger", "flows", "needs", "contracts", "parties", "cash_start"):
        _feed(h, part, getattr(out, part))
    _feed(h, "providers", out.providers.columns())
    return h.hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        loaded = load_scenario(path)
        for policy in policy_names(loaded):
            sc = resolve_policy(loaded, policy)
            prints = [fingerprint(sc, r) for r in range(args.reps)]
            print(f"{path.name:<32} {policy:<28} {' '.join(prints)}", flush=True)


if __name__ == "__main__":
    main()
