"""dps_sim benchmarks: speed and scale, measured in one run so that ratios are comparable.

    python benchmarks/run_benchmarks.py            # full set (about 10-15 minutes on 2 cores)
    python benchmarks/run_benchmarks.py --quick    # fewer repetitions and smaller sweeps

Prints a table and writes it to benchmarks/results/benchmarks.csv. Machines are shared and
noisy: read the ratios (growth 10k/1k, overhead over SimPy, naive/model, parallel efficiency)
rather than the absolute times. Nothing here is asserted: speed is measured, not tested.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from dps_sim.model import Simulation  # noqa: E402

KENT = ROOT / "scenarios" / "kent_youth_dps.yaml"
ROWS: list[dict] = []


def record(name: str, value: float, unit: str, note: str = "") -> None:
    ROWS.append({"benchmark": name, "value": round(value, 4), "unit": unit, "note": note})
    print(f"{name:<48} {value:>14,.4f} {unit:<14} {note}", flush=True)


from bench_engine import market  # noqa: E402  the default market, 10 lots a month, 10 years


def time_replications(n: int, repeats: int) -> tuple[float, int]:
    """Median wall time of one replication, and the SimPy events it processed."""
    sc = market(n)
    times, events = [], 0
    for r in range(repeats):
        sim = Simulation(sc, np.random.SeedSequence(r), events="awards")
        t0 = time.perf_counter()
        sim.run()
        times.append(time.perf_counter() - t0)
        events = sim.simpy_events
    return statistics.median(times), events


def simpy_event_rate(n_events: int = 200_000) -> float:
    """Events per second of a bare SimPy timeout loop."""
    import simpy

    env = simpy.Environment()

    def loop():
        for _ in range(n_events):
            yield env.timeout(1)

    env.process(loop())
    t0 = time.perf_counter()
    env.run()
    return n_events / (time.perf_counter() - t0)


def naive_vs_model(n: int, repeats: int) -> tuple[float, float]:
    from naive_reference import NaiveMarket

    sc = market(n)
    naive = []
    for r in range(repeats):
        t0 = time.perf_counter()
        NaiveMarket(sc, r).run()
        naive.append(time.perf_counter() - t0)
    model, _ = time_replications(n, repeats)
    return statistics.median(naive), model


def peak_memory(n: int) -> float:
    """Peak Python/NumPy allocation (MiB) during one replication (tracemalloc)."""
    sc = market(n)
    tracemalloc.start()
    Simulation(sc, np.random.SeedSequence(0), events="awards").run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def compare_efficiency(reps: int) -> tuple[float, float]:
    from dps_sim.experiment import compare

    times = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            compare(KENT, reps=reps, seed=1, workers=workers, events="none", out=Path(tmp) / "c")
            times[workers] = time.perf_counter() - t0
    return times[1], times[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, smaller compare and sweep")
    ap.add_argument("--skip-sweep", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results" / "benchmarks.csv"))
    args = ap.parse_args()
    q = args.quick
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    record("load average (1 min) at start", os.getloadavg()[0], "", "other work on the machine skews absolute times")

    rate = simpy_event_rate()
    record("simpy bare timeout loop", rate, "events/s")
    from bench_engine import bench_engine

    for row in bench_engine(quick=q):
        record(row["benchmark"], row["value"], row["unit"], row["note"])
    t, ev = time_replications(1_000, 3 if q else 5)
    record("  overhead above SimPy, 1,000 providers", t / (ev / rate), "x",
           f"time / (events / bare event rate); {ev:,} SimPy events")

    naive, model = naive_vs_model(1_000, 2 if q else 3)
    record("naive one-process-per-provider, 1,000", naive * 1000, "ms")
    record("naive / model at 1,000 providers", naive / model, "x", "how much the array step saves")

    record("peak memory, 10,000 providers", peak_memory(10_000), "MiB", "tracemalloc peak of one replication")

    reps = 20 if q else 100
    t1, t2 = compare_efficiency(reps)
    record(f"compare Kent --reps {reps}, 1 worker", t1, "s", "5 policies")
    record(f"compare Kent --reps {reps}, 2 workers", t2, "s")
    record("compare parallel efficiency (2 workers)", t1 / (2 * t2), "share", "target >= 0.95")

    if not args.skip_sweep:
        from bench_sweep import bench_sweep

        for row in bench_sweep(quick=q):
            record(row["benchmark"], row["value"], row["unit"], row["note"])

    record("load average (1 min) at end", os.getloadavg()[0], "")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["benchmark", "value", "unit", "note"])
        w.writeheader()
        w.writerows(ROWS)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
