"""Sweep throughput: runs (tasks) per second of a Kent sweep on 1 worker (``workers=1`` runs in-process),
on the process pool with 2 workers, on a Dask LocalCluster with 2 workers, and in shard mode (two
``dps-sim sweep --shard i/2 --workers 1`` processes started together, as a job array would, then
``--resume`` merging them); the pool's parallel efficiency, Dask's and the shards' rates relative to
the pool, each one's share of worker time spent in runs, and the time a 10,000-run Sobol sweep would
take at the measured rate.

    python benchmarks/bench_sweep.py [--quick] [--samples N]   # or through run_benchmarks.py

The sweep is scenarios/sweeps/payment_bond_quality.yaml (payment delay, bond threshold and quality
weight in the Kent scenario) drawn as a Latin hypercube of 500 points x 2 replications = 1,000
runs (``quick``: 50 x 2 = 100; ``--samples N``: N x 2). Each timing is the wall time of the whole ``sweep()`` call,
so it includes starting the workers (or the cluster) and writing the output folder. A run's
cost does not depend on the sampler, so the 10,000-run Sobol estimate is 10,000 / (pool rate with
2 workers). The machine is shared: each row's note gives the 1-minute load average when it was
measured.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BACKENDS = (("1 worker (in-process)", {"workers": 1}), ("pool 2 workers", {"workers": 2}),
            ("dask LocalCluster 2 workers", {"workers": 2, "scheduler": "local"}))
TARGET_RUNS = 10_000
SHIPPED = ROOT / "scenarios" / "sweeps" / "payment_bond_quality.yaml"


def bench_sweep(quick: bool, samples: int | None = None) -> list[dict]:
    """Rows {benchmark, value, unit, note} of the sweep benchmark."""
    import yaml

    from dps_sim.experiment.sweep import parse_sweep, sweep

    data = yaml.safe_load(SHIPPED.read_text())
    data.update(method="lhs", samples=samples or (50 if quick else 500), replications=2)
    spec = parse_sweep(data, base_dir=SHIPPED.parent)
    spec.design()  # drawn once (and scipy imported) before any timing
    runs = spec.run_count()
    what = f"{runs:,}-run LHS sweep of Kent"
    rows, rates, busy = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        for label, kw in BACKENDS:
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            res = sweep(spec, out=Path(tmp) / label.replace(" ", "_"), **kw)
            elapsed = time.perf_counter() - t0
            rates[label] = runs / elapsed
            busy[label] = res.manifest["run_seconds_total"] / (elapsed * kw["workers"])
            rows.append(_row(f"sweep {label}", rates[label], "runs/s", f"{what}; "
                             f"{res.manifest['run_seconds_total'] / runs:.3f} s a run; load {load:.2f} at start"))
            rows.append(_row(f"  worker time spent in runs, {label}", busy[label], "share",
                             "rest: start-up, scheduling, writing (other load slows runs, not this share)"))
        label = "shards 2 x 1 worker"
        load = os.getloadavg()[0]
        rates[label], busy[label] = _shards(data, Path(tmp), 2)
        rows.append(_row(f"sweep {label}", rates[label], "runs/s", f"{what}; two --shard processes started "
                         f"together, then --resume merging; load {load:.2f} at start"))
        rows.append(_row(f"  worker time spent in runs, {label}", busy[label], "share",
                         "rest: each shard's start-up (imports, scenario), writing parts, and the merge"))
    load = os.getloadavg()[0]
    one, two, dask = (rates[label] for label, _ in BACKENDS)
    shards = rates["shards 2 x 1 worker"]
    rows.append(_row("sweep shards / pool (2 workers)", shards / two, "share", "shard mode against the pool"))
    rows.append(_row("sweep shards efficiency (2 shards)", shards / (2 * one), "share", "against 2 x in-process"))
    rows.append(_row("sweep shards / pool (2 workers), worker time in runs",
                     busy["shards 2 x 1 worker"] / busy[BACKENDS[1][0]], "share", "without the machine's other load"))
    rows.append(_row("sweep pool efficiency (2 workers)", two / (2 * one), "share", f"load {load:.2f} at end"))
    rows.append(_row("sweep dask / pool (2 workers)", dask / two, "share", "target >= 0.85"))
    rows.append(_row("sweep dask / pool (2 workers), worker time in runs", busy[BACKENDS[2][0]] / busy[BACKENDS[1][0]],
                     "share", "the same ratio without the machine's other load"))
    rows.append(_row(f"sweep {TARGET_RUNS:,}-run Sobol, estimated", TARGET_RUNS / two / 60, "min",
                     "10,000 / pool rate with 2 workers; target < 10"))
    return rows


def _shards(data: dict, tmp: Path, n: int) -> tuple[float, float]:
    """Run the sweep as n shard processes of one worker each, started together, then merge: (runs/s over
    the whole wall time, share of the shard processes' time spent in runs)."""
    import pyarrow.parquet as pq
    import yaml

    sweep_file = tmp / "shards.yaml"
    sweep_file.write_text(yaml.safe_dump({**data, "scenario": str((SHIPPED.parent / data["scenario"]).resolve())}))
    out = tmp / "shards"
    command = [sys.executable, "-m", "dps_sim", "sweep", str(sweep_file), "--out", str(out), "--quiet", "--no-report"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    procs = [subprocess.Popen(command + ["--shard", f"{i}/{n}", "--workers", "1"], env=env, stdout=subprocess.DEVNULL)
             for i in range(n)]
    if any(p.wait() != 0 for p in procs):
        raise RuntimeError("a shard failed")
    shard_seconds = time.perf_counter() - t0
    run_seconds = sum(float(pq.read_table(f, columns=["seconds"]).column("seconds").to_numpy().sum())
                      for f in (out / ".parts" / "points").glob("*.parquet"))
    runs = sum(pq.read_metadata(f).num_rows for f in (out / ".parts" / "points").glob("*.parquet"))
    subprocess.run(command + ["--resume", "--workers", "1"], env=env, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    return runs / elapsed, run_seconds / (shard_seconds * n)


def _row(name: str, value: float, unit: str, note: str) -> dict:
    return {"benchmark": name, "value": round(value, 4), "unit": unit, "note": note}


if __name__ == "__main__":
    args = sys.argv[1:]
    n = int(args[args.index("--samples") + 1]) if "--samples" in args else None
    for row in bench_sweep("--quick" in args, n):
        print(f"{row['benchmark']:<44} {row['value']:>10,.4f} {row['unit']:<8} {row['note']}", flush=True)
