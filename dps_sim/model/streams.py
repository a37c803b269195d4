"""Named, independent random streams for one replication.

One root :class:`numpy.random.SeedSequence` per replication; each model component draws
from its own child stream, identified by a fixed index, so that two policies run with
the same replication seed meet the same providers, the same entrants, the same lots and
the same shocks (common random numbers), whatever else the policy changes.
"""

from __future__ import annotations

import numpy as np

STREAMS: tuple[str, ...] = (
    "population",   # attributes of initial organisations and of entrants
    "entry",        # arrival times of entrants
    "income",       # month-to-month noise in other income
    "lots",         # lots called off: district, value, per-lot evaluator noise
    "bids",         # bid-decision appetite, prices and promised reach
    "admission",    # application timing and assessment noise
    "delivery",     # delivered reach and quality
    "payments",     # late-payment delays
    "shocks",       # random shock timings and who is hit
    "renewals",     # external-funding renewals for extensions
)


def spawn_streams(root: np.random.SeedSequence) -> dict[str, np.random.Generator]:
    """One Generator per named stream, children of ``root`` in the fixed order above."""
    children = root.spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children)}


def substream(root: np.random.SeedSequence, stream: str, *key: int) -> np.random.Generator:
    """A Generator for one item (e.g. one lot) of a stream, independent of draw order.

    Used where the number of draws depends on the policy (how many providers bid), so
    that item k of a stream gets the same numbers under every policy.
    """
    index = STREAMS.index(stream)
    seq = np.random.SeedSequence(entropy=root.entropy, spawn_key=tuple(root.spawn_key) + (len(STREAMS) + index, *key))
    return np.random.default_rng(seq)
