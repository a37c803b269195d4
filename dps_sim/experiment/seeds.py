"""Seeds for replications: one root seed, children spawned per replication.

Replication ``r`` of every policy gets the same child ``SeedSequence(seed, spawn_key=(r,))``
(common random numbers), and a sweep point ``p`` gets ``spawn_key=(p, r)``; the numbers do
not depend on worker count, backend or the order tasks finish. Global random state is never
touched.
"""

from __future__ import annotations

import secrets

import numpy as np


def resolve_seed(seed: int | None, scenario_seed: int | None = None) -> int:
    """The root seed: the one given, else the scenario's, else fresh entropy (recorded in the manifest)."""
    if seed is not None:
        return int(seed)
    if scenario_seed is not None:
        return int(scenario_seed)
    return secrets.randbits(63)


def replication_seed(seed: int, *key: int) -> np.random.SeedSequence:
    """The SeedSequence of one replication (``key``: replication, or point and replication)."""
    return np.random.SeedSequence(entropy=seed, spawn_key=tuple(int(k) for k in key))


def seed_record(seed: int, *key: int) -> dict:
    """What the manifest stores to rebuild a replication's streams."""
    return {"entropy": int(seed), "spawn_key": [int(k) for k in key]}
