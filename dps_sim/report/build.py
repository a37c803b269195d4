"""build_report: charts, report.html and report.pdf from the saved tables of a results folder.

A results folder owns only the files its manifest lists (with their SHA-256): the report refuses to
replace a report file the tool did not write, lists what it writes in the manifest, and removes an
old chart it did not draw this time only if the manifest says the tool wrote it."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

from ..experiment.outdir import check_report_target, owned, read_manifest
from ..experiment.store import atomic_write_text, writing
from .content import RenderedChart, ReportContent, compose
from .charts import ChartFunction
from .data import ResultsFolder
from .html import render_html
from .pdf import write_pdf
from .draw import CHART_NAMES, HelperFailed, chart_functions, draw_and_save, start_helper, stream_results
from .style import house_style

__all__ = ["CHART_NAMES", "build_content", "build_report", "chart_functions", "render_charts"]

def helpers(workers: int | None) -> int:
    """Helper processes to draw charts beside this one: one per spare core (at most one on two cores)."""
    cores = workers if workers is not None else (os.cpu_count() or 1)
    return max(0, min(cores - 1, MAX_HELPERS))


MAX_HELPERS = 3
"""Most helper processes a report starts (each costs about a second of start-up)."""


COST: dict[str, float] = {"kpi_comparison": 1.4, "providers_over_time": 1.0, "survival": 0.75,
                          "reserves_end": 0.55, "bids_per_lot": 0.6, "service_gap": 0.45, "share_value_small": 0.5}
"""Seconds each chart took to draw and save on a Kent 20-replication compare (2-core machine), to share out
the work; a helper's start-up counts as HELPER_START."""
PDF_BESIDE = 0.7
"""Seconds of the PDF this process writes while helpers still draw (the opening pages and the chart pages;
the tables and the closing come after the last chart), counted as this process's load when the PDF is
written as the charts come."""
HELPER_START = 1.5
"""Seconds a helper process takes to start (imports)."""


def split_in_order(fns: list[ChartFunction], n: int, start: float = HELPER_START,
                   here: float = 0.0) -> list[list[ChartFunction]]:
    """This process's charts first, then each helper's, as consecutive runs of the report order: this
    process draws the first charts (its PDF needs them first) while the helpers draw the later ones.
    ``start``: a helper's start-up; ``here``: other work of this process meanwhile (the PDF's pages)."""
    costs = [COST.get(fn.__name__, 1.0) for fn in fns]
    target = (here + n * start + sum(costs)) / (n + 1)
    shares: list[list[ChartFunction]] = [[]]
    load = here
    for i, (fn, cost) in enumerate(zip(fns, costs)):
        left = len(fns) - i  # charts still to give, one at least for each share not started
        if shares[-1] and len(shares) <= n and (load + cost / 2 > target or left <= n - len(shares) + 1):
            shares.append([])
            load = start
        shares[-1].append(fn)
        load += cost
    return shares


class ChartStream:
    """The charts of a folder in report order, drawn as they are asked for: those of this process when
    reached, those of a helper as soon as it has saved them (waiting for it if need be), those of a helper
    that failed drawn here instead. The PDF can so lay out its first pages while helpers still draw."""

    def __init__(self, data: ResultsFolder, workers: int | None = None, here_first: float = 0.0):
        self.data = data
        self.fns = list(chart_functions(data))
        shares = split_in_order(self.fns, helpers(workers) if len(self.fns) > 2 else 0, HELPER_START, here_first)
        self.owner = {fn.__name__: k for k, share in enumerate(shares) for fn in share}
        self.streams = {k: stream_results(start_helper(data.folder, [fn.__name__ for fn in share]), data.folder)
                        for k, share in enumerate(shares) if k > 0}
        self.got: dict[str, RenderedChart | None] = {}
        self.done: list[RenderedChart] = []
        self.pos = 0

    def _from_helper(self, name: str) -> RenderedChart | None:
        k = self.owner[name]
        while name not in self.got and k in self.streams:
            try:
                got_name, chart = next(self.streams[k])
                self.got[got_name] = chart
            except StopIteration:
                del self.streams[k]
            except HelperFailed as exc:
                warnings.warn(str(exc), stacklevel=3)
                del self.streams[k]
        if name in self.got:
            return self.got.pop(name)
        self.owner = {n: 0 if o == k else o for n, o in self.owner.items()}  # a failed helper: draw here
        return self._here(name)

    def _here(self, name: str) -> RenderedChart | None:
        drawn = draw_and_save(self.data, [fn for fn in self.fns if fn.__name__ == name])
        return drawn[0] if drawn else None

    def __iter__(self) -> Iterator[RenderedChart]:
        """The charts not given yet, in report order (iterating again continues where the last stopped)."""
        while self.pos < len(self.fns):
            name = self.fns[self.pos].__name__
            chart = self._here(name) if self.owner[name] == 0 else self._from_helper(name)
            self.pos += 1
            if chart is not None:
                self.done.append(chart)
                yield chart
        for stream in self.streams.values():  # a helper with nothing left to send: let it finish
            for _ in stream:
                pass
        self.streams.clear()


def chart_files(data: ResultsFolder) -> list[str]:
    """The chart files a report of this folder may write (relative to the folder)."""
    return [f"charts/{fn.__name__}.{ext}" for fn in chart_functions(data) for ext in ("png", "svg")]


def render_charts(data: ResultsFolder, workers: int | None = None) -> list[RenderedChart]:
    """Draw and save every chart whose tables are present, in report order, sharing the work with
    helper processes; charts a failed helper should have drawn are drawn here instead."""
    with writing(data.folder, chart_files(data)):
        return finish_charts(data, ChartStream(data, workers))


def finish_charts(data: ResultsFolder, stream: ChartStream) -> list[RenderedChart]:
    """Every chart of the stream, the rest drawn now; then an earlier build's chart not drawn this time is
    removed, only if the tool wrote it (inside ``writing``: the manifest lists the files the tool owns)."""
    list(stream)
    rendered = stream.done
    mine = owned(read_manifest(data.folder), data.folder)
    stale = sorted(set(CHART_NAMES) - {c.name for c in rendered})
    for name in stale:  # an earlier build's chart not drawn this time: removed only if the tool wrote it
        for ext in ("png", "svg"):
            if f"charts/{name}.{ext}" in mine:
                (data.folder / "charts" / f"{name}.{ext}").unlink(missing_ok=True)
    return rendered


def build_content(folder: str | Path, workers: int | None = None) -> ReportContent:
    """Draw and save the charts of a results folder and compose the report content."""
    data = ResultsFolder.open(folder)
    return compose(data, render_charts(data, workers))


def build_report(folder: str | Path, workers: int | None = None) -> Path:
    """(Re)draw charts/, report.html and report.pdf of a results folder; returns the path of report.html.

    ``workers``: processes that draw charts (default: the machine's cores, at most four). The PDF is
    written first, each chart page as soon as its chart is drawn, then the HTML."""
    folder = Path(folder)
    check_report_target(folder)  # a report file that is a user's own: refused, before anything is drawn
    data = ResultsFolder.open(folder)
    with writing(folder, [*chart_files(data), "report.html", "report.pdf"]):
        stream = ChartStream(data, workers, here_first=PDF_BESIDE)
        content = compose(data, [])
        content.charts = stream  # type: ignore[assignment]  # consumed, in order, by the PDF's chart pages
        try:
            with house_style():
                write_pdf(content, folder / "report.pdf")
        finally:  # every chart drawn and every helper waited for, even when the PDF failed
            content.charts = finish_charts(data, stream)
        html_path = folder / "report.html"
        atomic_write_text(html_path, render_html(content))
    return html_path
