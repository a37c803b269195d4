"""Random streams: named streams are independent, keyed draws are standard normal and order-free."""

from __future__ import annotations

import numpy as np
from scipy import stats

from dps_sim.model.streams import STREAMS, item_key, keyed_normals, spawn_streams, stream_key


def test_keyed_normals_are_standard_normal_and_independent():
    """Kolmogorov-Smirnov against N(0,1); no correlation between rows or neighbours."""
    z = keyed_normals(item_key(stream_key(np.random.SeedSequence(11), "lots"), 3, 0), np.arange(200_000), 3)
    for row in z:
        assert stats.kstest(row, "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z[0], z[1])[0, 1]) < 0.01
    assert abs(np.corrcoef(z[0, :-1], z[0, 1:])[0, 1]) < 0.01


def test_keyed_normals_depend_only_on_key_and_index():
    """An organisation's draw for a lot is the same whoever else is drawn (common random numbers)."""
    key = item_key(stream_key(np.random.SeedSequence(5), "lots"), 7, 1)
    everyone = keyed_normals(key, np.arange(1000), 6)
    some = np.array([3, 500, 999])
    np.testing.assert_array_equal(keyed_normals(key, some, 6), everyone[:, some])
    other = keyed_normals(item_key(stream_key(np.random.SeedSequence(5), "lots"), 7, 2), np.arange(1000), 6)
    assert abs(np.corrcoef(everyone[0], other[0])[0, 1]) < 0.1


def test_keyed_normals_row_subset_equals_full_rows():
    """Drawing the screening row alone gives the same numbers as that row of the full draw."""
    key = item_key(stream_key(np.random.SeedSequence(9), "lots"), 2, 0)
    idx = np.array([0, 17, 4242])
    full = keyed_normals(key, idx, 7)
    np.testing.assert_array_equal(keyed_normals(key, idx, (4,))[0], full[4])
    np.testing.assert_array_equal(keyed_normals(key, idx, (6, 1)), full[[6, 1]])


def test_named_streams_differ_and_repeat():
    a = spawn_streams(np.random.SeedSequence(1))
    b = spawn_streams(np.random.SeedSequence(1))
    draws = {name: a[name].random(4) for name in STREAMS}
    assert len({tuple(v) for v in draws.values()}) == len(STREAMS)
    for name in STREAMS:
        np.testing.assert_array_equal(draws[name], b[name].random(4))
