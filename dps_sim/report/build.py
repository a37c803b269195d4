"""build_report: charts, report.html and report.pdf from the saved tables of a results folder."""

from __future__ import annotations

import os
from pathlib import Path

from ..experiment.store import atomic_write_text
from .content import RenderedChart, ReportContent, compose
from .charts import ChartFunction
from .data import ResultsFolder
from .html import render_html
from .pdf import write_pdf
from .draw import CHART_NAMES, can_fork, chart_functions, draw_and_save, helper_results, start_helper
from .style import house_style

__all__ = ["CHART_NAMES", "build_content", "build_report", "chart_functions", "render_charts"]

def helpers(workers: int | None) -> int:
    """Helper processes to draw charts beside this one: one per spare core (at most one on two cores)."""
    cores = workers if workers is not None else (os.cpu_count() or 1)
    return max(0, min(cores - 1, MAX_HELPERS))


MAX_HELPERS = 3
"""Most helper processes a report starts (each costs about a second of start-up)."""


COST: dict[str, float] = {"kpi_comparison": 2.3, "providers_over_time": 2.3, "survival": 2.2,
                          "reserves_end": 1.9, "bids_per_lot": 1.6, "service_gap": 1.2, "share_value_small": 1.1}
"""Seconds each chart took to draw and save on a Kent 20-replication compare (2-core machine), to share out
the work; a helper's start-up counts as HELPER_START."""
HELPER_START = 1.5
"""Seconds a fresh helper process takes to start (imports); a forked one starts at once."""


def split_work(fns: list[ChartFunction], n: int, start: float = HELPER_START) -> list[list[ChartFunction]]:
    """This process's charts first, then each helper's: the costliest chart to the least loaded, each
    share kept in report order."""
    loads = [0.0] + [start] * n
    shares: list[list[ChartFunction]] = [[] for _ in loads]
    for fn in sorted(fns, key=lambda f: -COST.get(f.__name__, 1.5)):
        k = loads.index(min(loads))
        shares[k].append(fn)
        loads[k] += COST.get(fn.__name__, 1.5)
    order = {fn: i for i, fn in enumerate(fns)}
    return [sorted(share, key=order.__getitem__) for share in shares if share or share is shares[0]]


def render_charts(data: ResultsFolder, workers: int | None = None) -> list[RenderedChart]:
    """Draw and save every chart whose tables are present, in report order, sharing the work with
    helper processes; charts a failed helper should have drawn are drawn here instead."""
    fns = list(chart_functions(data))
    shares = split_work(fns, helpers(workers) if len(fns) > 2 else 0, 0.0 if can_fork() else HELPER_START)
    procs = [start_helper(data.folder, [fn.__name__ for fn in share]) for share in shares[1:]]
    rendered = draw_and_save(data, shares[0])
    for proc, share in zip(procs, shares[1:]):
        got = helper_results(proc, data.folder)
        rendered += got if got is not None else draw_and_save(data, share)
    order = {fn.__name__: i for i, fn in enumerate(fns)}
    rendered.sort(key=lambda c: order.get(c.name, len(order)))
    stale = set(CHART_NAMES) - {c.name for c in rendered}
    for name in stale:
        for ext in ("png", "svg"):
            (data.folder / "charts" / f"{name}.{ext}").unlink(missing_ok=True)
    return rendered


def build_content(folder: str | Path, workers: int | None = None) -> ReportContent:
    """Draw and save the charts of a results folder and compose the report content."""
    data = ResultsFolder.open(folder)
    return compose(data, render_charts(data, workers))


def build_report(folder: str | Path, workers: int | None = None) -> Path:
    """(Re)draw charts/, report.html and report.pdf of a results folder; returns the path of report.html.

    ``workers``: processes that draw charts (default: the machine's cores, at most four)."""
    folder = Path(folder)
    content = build_content(folder, workers)
    html_path = folder / "report.html"
    atomic_write_text(html_path, render_html(content))
    with house_style():
        write_pdf(content, folder / "report.pdf")
    return html_path
