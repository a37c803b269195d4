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


def test_the_streams_are_those_spawn_gives_and_the_root_is_left_as_it_was():
    """A replication's streams are the children SeedSequence.spawn would make, but the root is not
    consumed: running the same SeedSequence object twice gives the same numbers (same seed, same numbers)."""
    root = np.random.SeedSequence(entropy=42, spawn_key=(3,))
    ours = spawn_streams(root)
    assert root.n_children_spawned == 0
    theirs = [np.random.default_rng(c) for c in np.random.SeedSequence(entropy=42, spawn_key=(3,)).spawn(len(STREAMS))]
    for name, rng in zip(STREAMS, theirs):
        np.testing.assert_array_equal(ours[name].random(5), rng.random(5))
    again = spawn_streams(root)
    np.testing.assert_array_equal(spawn_streams(root)["lots"].random(5), again["lots"].random(5))
    root.spawn(2)  # spawned from elsewhere: the replication's streams stay the same
    np.testing.assert_array_equal(spawn_streams(root)["lots"].random(5), spawn_streams(again_root := np.random.SeedSequence(
        entropy=42, spawn_key=(3,)))["lots"].random(5))
    assert again_root.n_children_spawned == 0


def test_a_replication_run_twice_with_one_seed_object_gives_the_same_numbers():
    from dps_sim import metrics
    from dps_sim.model import simulate
    from dps_sim.scenario import Scenario

    sc = Scenario.model_validate({"name": "twice", "horizon_months": 24, "market": {"providers": 60}})
    seed = np.random.SeedSequence(entropy=9, spawn_key=(0,))
    first, second = (metrics.kpis(simulate(sc, seed)) for _ in range(2))
    assert all(first[k] == second[k] or (np.isnan(first[k]) and np.isnan(second[k])) for k in first)
