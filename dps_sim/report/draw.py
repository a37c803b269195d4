"""Drawing and saving charts, in this process or in a helper process beside it.

A helper draws the named charts of a results folder, writes charts/NAME.png and .svg, and sends back one
JSON line per chart (name, title, caption) or warning. build_report starts one helper per spare core and
draws the other charts itself meanwhile. The helper is ``python -m dps_sim.report.draw FOLDER NAME...``, a
plain subprocess that starts in about a second and a half, and is stopped if it stays silent for
HELPER_TIMEOUT. It is not multiprocessing: it does not re-import the caller's script, so a user's script
without a main guard works.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import IO

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


HELPER_TIMEOUT = 120.0
"""Seconds a helper may stay silent (a chart takes one or two) before it is stopped and its charts are
drawn here instead: a helper can never hold a report up for long."""


def start_helper(folder: Path, names: list[str]) -> Helper:
    """A helper process drawing the named charts (read back with :func:`stream_results`)."""
    errors = tempfile.TemporaryFile()  # a file, not a pipe: a helper writing much to stderr never blocks
    return Helper(spawn_helper(folder, names, errors), errors)


def spawn_helper(folder: Path, names: list[str], stderr: IO[bytes]) -> subprocess.Popen:
    """A fresh ``python -m dps_sim.report.draw`` process (its stdout a binary pipe that :class:`Helper`
    reads; its stderr to ``stderr``, a file: a pipe read only at the end could fill and stall it).

    It starts in the folder that holds this dps_sim package, so that ``-m`` imports this same code and
    not another dps_sim that the caller's working directory may hold. A fresh process, not a fork: a fork
    of a process whose libraries hold native threads (Arrow, OpenBLAS) can wait forever on a lock."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen([sys.executable, "-m", "dps_sim.report.draw", str(Path(folder).resolve()), *names],
                            cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)


class Helper:
    """A helper process read line by line, each line waited for at most ``HELPER_TIMEOUT`` seconds.
    ``errors``: the file its stderr goes to (else its stderr pipe is read at the end)."""

    def __init__(self, proc: subprocess.Popen, errors: IO[bytes] | None = None):
        self.proc, self.errors = proc, errors
        self.returncode: int | None = None

    def lines(self, timeout: float | None = None):
        """The lines the helper sends, as they come; then ``returncode`` is set. A helper silent for
        ``timeout`` seconds (default HELPER_TIMEOUT) is killed and an error line is given instead; one
        given up on before its last line (the reader stops early) is killed and waited for too."""
        timeout = HELPER_TIMEOUT if timeout is None else timeout
        fd, buffer = self.proc.stdout.fileno(), b""
        try:
            with selectors.DefaultSelector() as sel:
                sel.register(fd, selectors.EVENT_READ)
                while True:
                    if not sel.select(timeout):
                        self.proc.kill()
                        yield json.dumps({"error": f"timed out after {timeout:.0f} s"})
                        break
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        break
                    *done, buffer = (buffer + chunk).split(b"\n")
                    yield from (x.decode("utf-8", "replace") for x in done)
            if buffer.strip():
                yield buffer.decode("utf-8", "replace")  # a last line without its newline
            err = self._finish()
            if self.returncode != 0 and err.strip():
                yield json.dumps({"error": err})
        finally:
            if self.returncode is None:  # given up on: stop it
                self.proc.kill()
                self._finish()

    def _finish(self) -> str:
        """Wait for the helper, close its pipes, set ``returncode``; what it wrote to stderr."""
        with self.proc:  # closes the pipes and waits
            err = self._stderr()
        self.returncode = self.proc.returncode
        return err

    def _stderr(self) -> str:
        """What the helper wrote to stderr (the last 64 kB); its file is closed."""
        if self.errors is None:
            return self.proc.stderr.read().decode("utf-8", "replace") if self.proc.stderr else ""
        self.proc.wait()
        with self.errors:
            size = self.errors.seek(0, os.SEEK_END)
            self.errors.seek(max(0, size - (1 << 16)))
            return self.errors.read().decode("utf-8", "replace")

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        """What the helper sent once it has finished: (chart and warning lines, error text)."""
        lines = [(x, parse_line(x)) for x in self.lines(timeout) if x]
        errors = [meta["error"] for _, meta in lines if "error" in meta]
        if errors and self.returncode == 0:
            self.returncode = 1
        return "\n".join(x for x, meta in lines if "error" not in meta), "\n".join(errors)


def stream_results(proc: Helper, folder: Path):
    """The charts a helper draws, each as soon as it is saved (a chart it could not draw comes as None with
    its name); raises HelperFailed when the helper fails, after the charts it did draw."""
    errors = []
    for line in proc.lines():
        if not line:
            continue
        meta = parse_line(line)
        if "error" in meta:
            errors.append(meta["error"])
        elif "warning" in meta:
            warnings.warn(meta["warning"], stacklevel=2)
        elif meta.get("skipped"):
            yield meta["name"], None
        else:
            png = (folder / "charts" / f"{meta['name']}.png").read_bytes()
            yield meta["name"], RenderedChart(meta["name"], meta["title"], meta["caption"], png)
    if proc.returncode != 0 or any(errors):
        raise HelperFailed(f"chart helper failed ({proc.returncode}): {' '.join(errors).strip()[-500:]}")


def parse_line(line: str) -> dict:
    """A helper's line as sent (a JSON object); anything else a library printed is an error, so the helper's
    remaining charts are drawn here instead of the report failing."""
    try:
        meta = json.loads(line)
    except json.JSONDecodeError:
        meta = None
    return meta if isinstance(meta, dict) else {"error": f"unexpected output from the chart helper: {line[:200]!r}"}


class HelperFailed(RuntimeError):
    """A helper process stopped before drawing all its charts."""


def helper_results(proc: Helper, folder: Path) -> list[RenderedChart] | None:
    """Every chart a helper drew (PNG bytes read back from charts/), or None when it failed (with a
    warning); warnings it relayed are raised again here."""
    try:
        return [chart for _, chart in stream_results(proc, folder) if chart is not None]
    except HelperFailed as exc:
        warnings.warn(str(exc), stacklevel=2)
        return None


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
