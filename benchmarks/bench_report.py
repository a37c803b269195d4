"""How long the report takes to draw, against the runs it reports on (issue 15).

    python benchmarks/bench_report.py                       # Kent, 20 replications, 3 repeats
    python benchmarks/bench_report.py --reps 20 --repeats 5 --folder DIR   # reuse a compare folder

Runs ``dps-sim compare scenarios/kent_youth_dps.yaml --reps N --no-report --quiet`` once (unless
``--folder`` names a finished compare), then ``dps-sim report`` on copies of it ``--repeats`` times,
each in a fresh process as a user would; then, in this process, each chart's drawing, PNG and SVG
times and the HTML and PDF. Prints wall and CPU seconds (CPU = user + system of the command and its
helpers: less sensitive than wall time to other work on a shared machine). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KENT = ROOT / "scenarios" / "kent_youth_dps.yaml"
sys.path.insert(0, str(ROOT))  # this checkout's dps_sim, here and (cwd=ROOT) in the commands timed


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of a command, its children included."""
    before = os.times()
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def dps_sim() -> list[str]:
    return [sys.executable, "-m", "dps_sim"]


def per_chart(folder: Path) -> None:
    """Each chart's build, PNG and SVG seconds (one process, no helper), then HTML and PDF."""
    from dps_sim.report.content import compose
    from dps_sim.report.data import ResultsFolder
    from dps_sim.report.draw import chart_functions, save_chart
    from dps_sim.report.html import render_html
    from dps_sim.report.pdf import write_pdf
    from dps_sim.report.style import house_style, png_bytes, svg_bytes

    data = ResultsFolder.open(folder)
    t0 = time.perf_counter()
    _ = data.timeseries, data.providers, data.runs, data.summary
    print(f"  {'tables read':<22} {time.perf_counter() - t0:6.2f} s")
    rendered = []
    with house_style():
        for fn in chart_functions(data):
            t0 = time.perf_counter()
            chart = fn(data)
            t1 = time.perf_counter()
            png = png_bytes(chart.fig)
            t2 = time.perf_counter()
            chart.fig.set_layout_engine("none")
            svg = svg_bytes(chart.fig)
            t3 = time.perf_counter()
            print(f"  {fn.__name__:<22} build {t1 - t0:5.2f}  png {t2 - t1:5.2f}  svg {t3 - t2:5.2f}  "
                  f"total {t3 - t0:5.2f} s  ({len(png) // 1000} kB png, {len(svg) // 1000} kB svg)")
            rendered.append(save_chart(folder, chart))
    t0 = time.perf_counter()
    content = compose(data, rendered)
    html = render_html(content)
    t1 = time.perf_counter()
    with house_style():
        pages = write_pdf(content, folder / "report.pdf")
    t2 = time.perf_counter()
    print(f"  {'compose + html':<22} {t1 - t0:6.2f} s ({len(html) // 1000} kB)")
    print(f"  {'pdf':<22} {t2 - t1:6.2f} s ({pages} pages)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--folder", type=Path, help="a finished compare folder to reuse (not modified)")
    ap.add_argument("--no-charts", action="store_true", help="skip the per-chart timings")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_report_") as tmp:
        tmp = Path(tmp)
        source = args.folder
        if source is None:
            source = tmp / "kent"
            wall, cpu = timed([*dps_sim(), "compare", str(KENT), "--reps", str(args.reps), "--out", str(source),
                               "--no-report", "--quiet"])
            print(f"compare Kent, {args.reps} replications: {wall:.2f} s wall, {cpu:.2f} s CPU")
        walls, cpus = [], []
        for i in range(args.repeats):
            copy = tmp / f"copy{i}"
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("charts", "report.*", "explore.html"))
            wall, cpu = timed([*dps_sim(), "report", str(copy)])
            walls.append(wall)
            cpus.append(cpu)
            print(f"dps-sim report, repeat {i + 1}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
        print(f"dps-sim report: median {statistics.median(walls):.2f} s wall (range {min(walls):.2f}-"
              f"{max(walls):.2f}), median {statistics.median(cpus):.2f} s CPU; load average "
              f"{os.getloadavg()[0]:.1f}")
        if not args.no_charts:
            print("per chart, in one process:")
            copy = tmp / "charts"
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("charts", "report.*", "explore.html"))
            per_chart(copy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
