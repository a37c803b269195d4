"""Drawing and saving charts, in this process or in a helper process beside it.

A helper draws the named charts of a results folder, writes charts/NAME.png and .svg, and sends back one
JSON line per chart (name, title, caption) or warning. build_report starts one helper per spare core and
draws the other charts itself meanwhile. On Linux, from a process with a single thread, the helper is a
fork of this process (:class:`ForkedHelper`): it starts in milliseconds with everything already imported.
Otherwise it is ``python -m dps_sim.report.draw FOLDER NAME...``, a plain subprocess that starts in about
a second and a half. Neither is multiprocessing: neither re-imports the caller's script, so a user's
script without a main guard works.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
import traceback
import warnings
from dataclasses import asdict
from pathlib import Path

from ..experiment.store import atomic_write_bytes
from .charts import RUN_CHARTS, Chart, ChartFunction
from .data import ResultsFolder
from .document import RenderedChart
from .style import house_style, png_bytes, rendered_pixels, svg_bytes


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
    pixels = rendered_pixels(chart.fig)
    chart.fig.set_layout_engine("none")  # laid out by the PNG pass; keep that layout for the SVG
    atomic_write_bytes(out / f"{chart.name}.png", png)
    atomic_write_bytes(out / f"{chart.name}.svg", svg_bytes(chart.fig))
    return RenderedChart(chart.name, chart.title, chart.caption, png, pixels)


def draw_and_save(data: ResultsFolder, fns: list[ChartFunction]) -> list[RenderedChart]:
    """Draw and save charts in this process, in order, skipping those without their tables."""
    rendered = []
    with house_style():
        for fn in fns:
            chart = draw_one(fn, data)
            if chart is not None:
                rendered.append(save_chart(data.folder, chart))
    return rendered


HELPER_TIMEOUT = 300.0
"""Seconds a helper may take before it is stopped and its charts are drawn here instead."""


def start_helper(folder: Path, names: list[str]) -> ForkedHelper | subprocess.Popen:
    """A helper process drawing the named charts (read back with :func:`helper_results`): a fork of this
    process when that is safe, else a fresh Python process."""
    if can_fork():
        return ForkedHelper(Path(folder), names)
    return spawn_helper(folder, names)


def can_fork() -> bool:
    """Whether forking is safe here: Linux, and no Python thread but this one (a fork copies only the
    calling thread, so a notebook's or a process pool's thread holding a lock could leave the child
    waiting). The idle native threads of the libraries the report uses (OpenBLAS, jemalloc, Arrow's
    thread pool) are reset in a child by their own fork handlers; a child that hangs all the same is
    stopped after HELPER_TIMEOUT and its charts are drawn here."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


def spawn_helper(folder: Path, names: list[str]) -> subprocess.Popen:
    """A helper that is a fresh ``python -m dps_sim.report.draw`` process.

    It starts in the folder that holds this dps_sim package, so that ``-m`` imports this same code and
    not another dps_sim that the caller's working directory may hold."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen([sys.executable, "-m", "dps_sim.report.draw", str(Path(folder).resolve()), *names],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class ForkedHelper:
    """A forked child drawing charts, with the part of :class:`subprocess.Popen` that
    :func:`helper_results` uses (``communicate`` and ``returncode``)."""

    def __init__(self, folder: Path, names: list[str]):
        read, write = os.pipe()
        with warnings.catch_warnings():  # Python 3.12+ warns of any native thread; see can_fork
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: draw, report, and leave without running the parent's exit handlers
            code = 1
            try:
                os.close(read)
                with os.fdopen(write, "w", encoding="utf-8") as out:
                    try:
                        for line in drawn_lines(folder, names):
                            out.write(line + "\n")
                            out.flush()  # the parent may be waiting for this chart
                        code = 0
                    except BaseException:  # noqa: BLE001 - any failure is reported; the parent then draws
                        out.write(json.dumps({"error": traceback.format_exc()}) + "\n")
            finally:
                os._exit(code)
        os.close(write)
        self.pid, self.fd = pid, read
        self.returncode: int | None = None

    def lines(self, timeout: float = HELPER_TIMEOUT):
        """The lines the child sends, as they come; then ``returncode`` is set. A child silent for
        ``timeout`` seconds is killed and an error line is given instead."""
        buffer = ""
        with selectors.DefaultSelector() as sel:
            sel.register(self.fd, selectors.EVENT_READ)
            while True:
                if not sel.select(timeout):
                    os.kill(self.pid, signal.SIGKILL)
                    yield json.dumps({"error": f"timed out after {timeout:.0f} s"})
                    break
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    break
                buffer += chunk.decode("utf-8")
                *done, buffer = buffer.split("\n")
                yield from done
        os.close(self.fd)
        _, status = os.waitpid(self.pid, 0)
        self.returncode = os.waitstatus_to_exitcode(status)

    def communicate(self, timeout: float = HELPER_TIMEOUT) -> tuple[str, str]:
        """What the child sent once it has finished: (chart and warning lines, error text)."""
        lines = list(self.lines(timeout))
        errors = [json.loads(x)["error"] for x in lines if x.startswith('{"error"')]
        if errors and self.returncode == 0:
            self.returncode = 1
        return "\n".join(x for x in lines if not x.startswith('{"error"')), "\n".join(errors)


def stream_results(proc: ForkedHelper | subprocess.Popen, folder: Path):
    """The charts a helper draws, each as soon as it is saved (a chart it could not draw comes as None with
    its name); raises HelperFailed when the helper fails, after the charts it did draw."""
    lines = proc.lines() if isinstance(proc, ForkedHelper) else (x.rstrip("\n") for x in proc.stdout)
    errors = []
    for line in lines:
        if not line:
            continue
        meta = json.loads(line)
        if "error" in meta:
            errors.append(meta["error"])
        elif "warning" in meta:
            warnings.warn(meta["warning"], stacklevel=2)
        elif meta.get("skipped"):
            yield meta["name"], None
        else:
            png = (folder / "charts" / f"{meta['name']}.png").read_bytes()
            yield meta["name"], RenderedChart(meta["name"], meta["title"], meta["caption"], png)
    if isinstance(proc, subprocess.Popen):
        with proc:  # closes its pipes
            errors.append(proc.stderr.read() if proc.wait() != 0 else "")
    if proc.returncode != 0 or any(errors):
        raise HelperFailed(f"chart helper failed ({proc.returncode}): {' '.join(errors).strip()[-500:]}")


class HelperFailed(RuntimeError):
    """A helper process stopped before drawing all its charts."""


def helper_results(proc: ForkedHelper | subprocess.Popen, folder: Path) -> list[RenderedChart] | None:
    """The charts a helper drew (PNG bytes read back from charts/), or None when it failed; warnings it
    relayed are raised again here."""
    out, err = proc.communicate()
    if proc.returncode != 0:
        warnings.warn(f"chart helper failed ({proc.returncode}): {err.strip()[-500:]}", stacklevel=2)
        return None
    rendered = []
    for line in out.splitlines():
        meta = json.loads(line)
        if "warning" in meta:
            warnings.warn(meta["warning"], stacklevel=2)
            continue
        if meta.get("skipped"):
            continue
        png = (folder / "charts" / f"{meta['name']}.png").read_bytes()
        rendered.append(RenderedChart(meta["name"], meta["title"], meta["caption"], png))
    return rendered


def drawn_lines(folder: Path, names: list[str]):
    """Draw and save the named charts of a folder, in report order: one JSON line per chart as it is saved
    (or skipped, without its tables), and one per warning raised."""
    data = ResultsFolder.open(folder)
    with house_style():
        for fn in [fn for fn in chart_functions(data) if fn.__name__ in set(names)]:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                chart = draw_one(fn, data)
            yield from (json.dumps({"warning": str(w.message)}) for w in caught)
            if chart is None:
                yield json.dumps({"name": fn.__name__, "skipped": True})
                continue
            meta = {k: v for k, v in asdict(save_chart(data.folder, chart)).items() if k not in ("png", "pixels")}
            yield json.dumps(meta)


def main(argv: list[str]) -> int:
    """Entry point of the helper: FOLDER NAME..."""
    for line in drawn_lines(Path(argv[0]), argv[1:]):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
