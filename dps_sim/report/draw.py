"""Drawing and saving charts, in this process or in a helper process beside it.

``python -m dps_sim.report.draw FOLDER NAME...`` draws the named charts of a results folder, writes
charts/NAME.png and .svg, and prints one JSON line per chart (name, title, caption). build_report
starts one such helper per spare core and draws the other charts itself meanwhile. A plain
subprocess, not multiprocessing: it never re-imports the caller's script, so a user's script
without an ``if __name__ == "__main__":`` guard works.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

from ..experiment.store import atomic_write_bytes
from .charts import RUN_CHARTS, Chart, ChartFunction
from .data import ResultsFolder
from .document import RenderedChart
from .style import house_style, png_bytes, svg_bytes


CHART_NAMES: tuple[str, ...] = ("kpi_comparison", "providers_over_time", "survival", "share_value_small",
                                "bids_per_lot", "service_gap", "reserves_end", "sensitivity", "sweep_scatter",
                                "robustness_differences", "discovery")
"""Every chart file stem build_report may write (and so may replace or remove)."""


def chart_functions(data: ResultsFolder) -> tuple[ChartFunction, ...]:
    """The charts that suit the folder's kind: a run's or comparison's, or a sweep's (from sweep_charts,
    imported only for sweep folders)."""
    if data.kind == "sweep":
        from .sweep_charts import SWEEP_CHARTS

        return SWEEP_CHARTS
    return RUN_CHARTS


def draw_one(fn: ChartFunction, data: ResultsFolder) -> Chart | None:
    """Draw a chart; one that fails is skipped with a warning (one bad chart must not lose the report)."""
    try:
        return fn(data)
    except Exception as exc:  # noqa: BLE001
        warnings.warn(f"chart {fn.__name__} could not be drawn: {type(exc).__name__}: {exc}", stacklevel=2)
        return None


def save_chart(folder: Path, chart: Chart) -> RenderedChart:
    """Write charts/<name>.png and .svg (replacing earlier ones); returns the chart as rendered."""
    out = folder / "charts"
    out.mkdir(parents=True, exist_ok=True)
    png = png_bytes(chart.fig)
    chart.fig.set_layout_engine("none")  # laid out by the PNG pass; keep that layout for the SVG
    atomic_write_bytes(out / f"{chart.name}.png", png)
    atomic_write_bytes(out / f"{chart.name}.svg", svg_bytes(chart.fig))
    return RenderedChart(chart.name, chart.title, chart.caption, png)


def draw_and_save(data: ResultsFolder, fns: list[ChartFunction]) -> list[RenderedChart]:
    """Draw and save charts in this process, in order, skipping those without their tables."""
    rendered = []
    with house_style():
        for fn in fns:
            chart = draw_one(fn, data)
            if chart is not None:
                rendered.append(save_chart(data.folder, chart))
    return rendered


def start_helper(folder: Path, names: list[str]) -> subprocess.Popen:
    """A helper process drawing the named charts (read back with :func:`helper_results`).

    It starts in the folder that holds this dps_sim package, so that ``-m`` imports this same code and
    not another dps_sim that the caller's working directory may hold."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen([sys.executable, "-m", "dps_sim.report.draw", str(Path(folder).resolve()), *names],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def helper_results(proc: subprocess.Popen, folder: Path) -> list[RenderedChart] | None:
    """The charts a helper drew (PNG bytes read back from charts/), or None when it failed."""
    out, err = proc.communicate()
    if proc.returncode != 0:
        warnings.warn(f"chart helper failed ({proc.returncode}): {err.strip()[-500:]}", stacklevel=2)
        return None
    rendered = []
    for line in out.splitlines():
        meta = json.loads(line)
        png = (folder / "charts" / f"{meta['name']}.png").read_bytes()
        rendered.append(RenderedChart(meta["name"], meta["title"], meta["caption"], png))
    return rendered


def main(argv: list[str]) -> int:
    """Entry point of the helper: FOLDER NAME..."""
    folder, names = Path(argv[0]), set(argv[1:])
    data = ResultsFolder.open(folder)
    for chart in draw_and_save(data, [fn for fn in chart_functions(data) if fn.__name__ in names]):
        meta = asdict(chart)
        meta.pop("png")
        print(json.dumps(meta), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
