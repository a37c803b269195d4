"""Named, independent random streams for one replication.

One root :class:`numpy.random.SeedSequence` per replication; each model component draws
from its own child stream, identified by a fixed index, so that two policies run with
the same replication seed meet the same providers, the same entrants, the same lots and
the same shocks (common random numbers), whatever else the policy changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

STREAMS: tuple[str, ...] = (
    "population",   # attributes of initial organisations and of entrants
    "entry",        # arrival times of entrants
    "income",       # month-to-month noise in other income
    "lots",         # lots called off: district, value; keyed per-lot noise (interest, appetite, price, panel)
    "admission",    # application timing and assessment noise
    "delivery",     # delivered reach and quality
    "payments",     # late-payment delays
    "shocks",       # random shock timings and who is hit
    "renewals",     # external-funding renewals for extensions
)


def spawn_streams(root: np.random.SeedSequence) -> dict[str, np.random.Generator]:
    """One Generator per named stream, children of ``root`` in the fixed order above.

    The children are those ``root.spawn`` gives a fresh SeedSequence, built without spawning: ``spawn``
    counts the children it made on ``root`` itself, so a replication run again with the same SeedSequence
    object (or one spawned from elsewhere) would otherwise get other streams (same seed, other numbers)."""
    children = [np.random.SeedSequence(entropy=root.entropy, spawn_key=(*root.spawn_key, i),
                                       pool_size=root.pool_size) for i in range(len(STREAMS))]
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children)}


def substream(root: np.random.SeedSequence, stream: str, *key: int) -> np.random.Generator:
    """A Generator for one item (e.g. one lot) of a stream, independent of draw order.

    Used where the number of draws depends on the policy (how many providers bid), so
    that item k of a stream gets the same numbers under every policy.
    """
    index = STREAMS.index(stream)
    seq = np.random.SeedSequence(entropy=root.entropy, spawn_key=tuple(root.spawn_key) + (len(STREAMS) + index, *key))
    return np.random.default_rng(seq)


# --------------------------------------------------------------------------- keyed draws

_M64 = 0xFFFFFFFFFFFFFFFF


def mix64(x: int) -> int:
    """SplitMix64 finaliser on a Python int: a well-tested 64-bit mixing function."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def stream_key(root: np.random.SeedSequence, stream: str) -> int:
    """A 64-bit key of one named stream of a replication (from the replication's SeedSequence)."""
    word = int(root.generate_state(1, np.uint64)[0])
    return mix64(word ^ mix64(STREAMS.index(stream) + 1))


def item_key(base: int, *key: int) -> int:
    """A 64-bit key of one item (e.g. need and attempt) under a stream key."""
    h = base
    for k in key:
        h = mix64(h ^ mix64(int(k) & _M64))
    return h


def mix64_array(x: np.ndarray) -> np.ndarray:
    """:func:`mix64` on a uint64 array (wrapping arithmetic), element by element the same numbers."""
    h = np.asarray(x, dtype=np.uint64) + _C1
    h ^= h >> _S30
    h *= _C2
    h ^= h >> _S27
    h *= _C3
    h ^= h >> _S31
    return h


def item_keys(base: int, *keys: np.ndarray) -> np.ndarray:
    """:func:`item_key` for many items at once: ``keys`` are equal-length integer arrays."""
    h = np.full(len(keys[0]), base, dtype=np.uint64)
    for k in keys:
        h = mix64_array(h ^ mix64_array(np.asarray(k).astype(np.int64).view(np.uint64)))
    return h


_C1, _C2, _C3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


def keyed_normals(key: int | np.ndarray, index: np.ndarray, rows: int | Sequence[int]) -> np.ndarray:
    """Standard normal draws, shape (rows, len(index)), for one item and the given organisations.

    ``key`` is one item's key, or an array of keys (uint64), one per column: a lots ×
    organisations table drawn at once gives each pair what the lot's own key would give it.

    ``rows`` is a count (rows ``0..rows-1``) or the row numbers wanted: row ``r`` is the same
    whichever other rows are drawn with it, so a caller can draw a screening row for every
    candidate and the other rows only for those who pass.

    Counter-based: the draw for organisation ``i`` in row ``r`` depends only on the item key,
    ``i`` and ``r``, so a lot gives each organisation the same noise under every policy (common
    random numbers) and costs only as many draws as there are candidates. One SplitMix64 hash
    of the counter gives two 32-bit uniforms, turned into a normal by the Box-Muller transform.
    """
    h = _keyed_hash(key, index, rows)
    u1 = (h >> _S32).astype(np.float64)
    u1 += 0.5
    u1 *= _INV32
    u2 = (h & _LOW32).astype(np.float64)
    u2 *= _INV32
    u2 *= _TWO_PI
    np.log(u1, out=u1)
    u1 *= -2.0
    np.sqrt(u1, out=u1)
    np.cos(u2, out=u2)
    u1 *= u2
    return u1


def keyed_uniforms(key: int | np.ndarray, index: np.ndarray, rows: int | Sequence[int]) -> np.ndarray:
    """Uniform draws on [0, 1), shape (rows, len(index)): as :func:`keyed_normals`, 53 bits of the same hash."""
    h = _keyed_hash(key, index, rows)
    h >>= _S11
    return h.astype(np.float64) * _INV53


def _keyed_hash(key: int | np.ndarray, index: np.ndarray, rows: int | Sequence[int]) -> np.ndarray:
    """SplitMix64 of the counter (row in the high bits, organisation in the low) xor the item key."""
    i = np.asarray(index, dtype=np.uint64)
    r = _ROW_BASES[:rows] if isinstance(rows, int) else _ROW_BASES[np.asarray(rows, dtype=np.intp)]
    # uint64 array arithmetic wraps modulo 2**64 without warnings (no errstate needed)
    h = r[:, None] + i[None, :]
    h ^= np.uint64(key) if isinstance(key, int) else np.asarray(key, dtype=np.uint64)
    h += _C1                             # SplitMix64 finaliser (as mix64), in place
    t = h >> _S30
    h ^= t
    h *= _C2
    np.right_shift(h, _S27, out=t)
    h ^= t
    h *= _C3
    np.right_shift(h, _S31, out=t)
    h ^= t
    return h


_S40, _S32 = np.uint64(40), np.uint64(32)
_INV53 = 1.0 / 9007199254740992.0
_LOW32 = np.uint64(0xFFFFFFFF)
_INV32 = 1.0 / 4294967296.0
_TWO_PI = 2.0 * np.pi
_ROW_BASES = np.arange(64, dtype=np.uint64) << _S40  # row r's counter offset (r << 40)
