"""Engine speed against the bare mechanics of a similar market, measured in one process run.

    python benchmarks/bench_engine.py [--quick]      # or through run_benchmarks.py

The reference is ``../shared/perf/dps.py`` (found beside the repository, or at ``$DPS_PERF``):
``run_B`` keeps organisations in NumPy arrays with one month step and one market step;
``run_A`` is one SimPy process per organisation. Targets (issue "Engine v2") are ratios:

* 1,000 organisations, 10 years, 10 lots a month: ≤ 1.5 × ``run_B(1000, 120, 10)`` and
  ≥ 15 × faster than ``run_A(1000, 120, 10)``;
* 10,000 organisations: ≤ 3 × the 1,000-organisation time;
* a Kent replication (scenarios/kent_youth_dps.yaml) ≥ 4 × faster than before Engine v2
  (then 1.26 × ``run_B`` in the same run);
* a regional market, 50,000 organisations, 60 districts, 60 lots a month for 10 years:
  ≤ 5 s and ≤ 1 GB per replication (peak resident memory of a fresh process).

Times are medians; the machine is shared, so compare the ratios, which are measured
alternately in the same process.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dps_sim.model import simulate  # noqa: E402
from dps_sim.scenario import Scenario, load_scenario, resolve_policy  # noqa: E402

KENT = ROOT / "scenarios" / "kent_youth_dps.yaml"


def reference():
    """The shared bare-mechanics module (``dps.py``), or None when it is not on this machine."""
    for path in (os.environ.get("DPS_PERF"), ROOT.parent / "shared" / "perf" / "dps.py",
                 ROOT.parent.parent / "shared" / "perf" / "dps.py"):
        if path and Path(path).is_file():
            spec = importlib.util.spec_from_file_location("dps_perf_reference", path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            return mod
    return None


def market(n: int, lots: int = 10, districts: int = 12, months: int = 120) -> Scenario:
    """The default market with ``n`` organisations (entry scaled with size) and monthly rounds."""
    return Scenario(name=f"bench-{n}", horizon_months=months,
                    market={"providers": n, "entry_per_year": n / 25, "districts": districts},
                    procurement={"competitions": {"every_months": 1, "lots_per_round": lots}})


def median_time(fn, repeats: int) -> float:
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        fn(r)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def regional_memory() -> float:
    """Peak resident memory (MiB) of a fresh process running one regional replication."""
    code = ("import sys, resource; sys.path.insert(0, %r); import numpy as np; "
            "from bench_engine import market; from dps_sim.model import simulate; "
            "simulate(market(50_000, lots=60, districts=60), np.random.SeedSequence(0), 'awards'); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)") % str(HERE)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0


def bench_engine(quick: bool) -> list[dict]:
    """Rows {benchmark, value, unit, note} of the engine benchmark."""
    rows: list[dict] = []
    ref = reference()
    reps = 3 if quick else 7
    kent = resolve_policy(load_scenario(KENT), "baseline")
    one_k, ten_k = market(1_000), market(10_000)
    simulate(one_k, np.random.SeedSequence(99), "awards")  # warm caches and imports before timing
    t_1k = median_time(lambda r: simulate(one_k, np.random.SeedSequence(r), "awards"), reps)
    t_kent = median_time(lambda r: simulate(kent, np.random.SeedSequence(r), "awards"), reps)
    rows.append(_row("engine: 1,000 organisations, 10 lots a month, 10 years", t_1k * 1000, "ms", f"median of {reps}"))
    rows.append(_row("engine: Kent replication", t_kent * 1000, "ms", f"median of {reps}"))
    if ref is not None:
        t_b = median_time(lambda r: ref.run_B(1000, 120, 10, seed=r), reps)
        t_a = median_time(lambda r: ref.run_A(1000, 120, 10, seed=r), 1 if quick else 3)
        rows.append(_row("reference run_B(1000, 120, 10)", t_b * 1000, "ms", "arrays, one month and one market step"))
        rows.append(_row("reference run_A(1000, 120, 10)", t_a * 1000, "ms", "one SimPy process per organisation"))
        rows.append(_row("engine 1k / run_B", t_1k / t_b, "x", "target <= 1.5"))
        rows.append(_row("run_A / engine 1k", t_a / t_1k, "x", "target >= 15"))
        rows.append(_row("engine Kent / run_B", t_kent / t_b, "x", "before Engine v2: 1.26; target <= 0.315 (4x faster)"))
    t_10k = median_time(lambda r: simulate(ten_k, np.random.SeedSequence(r), "awards"), 2 if quick else 3)
    rows.append(_row("engine: 10,000 organisations", t_10k * 1000, "ms", "median"))
    rows.append(_row("engine 10k / 1k", t_10k / t_1k, "x", "target <= 3"))
    if not quick:
        regional = market(50_000, lots=60, districts=60)
        t_reg = median_time(lambda r: simulate(regional, np.random.SeedSequence(r), "awards"), 1)
        rows.append(_row("engine: regional, 50,000 organisations, 60 districts, 60 lots a month", t_reg, "s",
                         "target <= 5"))
        rows.append(_row("engine: regional peak memory (fresh process)", regional_memory(), "MiB", "target <= 1024"))
    return rows


def _row(name: str, value: float, unit: str, note: str) -> dict:
    return {"benchmark": name, "value": round(value, 4), "unit": unit, "note": note}


if __name__ == "__main__":
    print(f"load average {os.getloadavg()[0]:.2f}", flush=True)
    for row in bench_engine("--quick" in sys.argv[1:]):
        print(f"{row['benchmark']:<72} {row['value']:>10,.3f} {row['unit']:<4} {row['note']}", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
