"""build_report: charts, report.html and report.pdf from the saved tables of a results folder."""

from __future__ import annotations

import warnings
from pathlib import Path

from ..experiment.store import atomic_write_bytes, atomic_write_text
from .charts import RUN_CHARTS, Chart, ChartFunction
from .content import RenderedChart, ReportContent, compose
from .data import ResultsFolder
from .html import render_html
from .pdf import write_pdf
from .style import house_style, png_bytes, svg_bytes

CHART_NAMES: tuple[str, ...] = ("kpi_comparison", "providers_over_time", "survival", "share_value_small",
                                "bids_per_lot", "service_gap", "reserves_end", "sensitivity", "sweep_scatter")
"""Every chart file stem build_report may write (and so may replace or remove)."""


def chart_functions(data: ResultsFolder) -> tuple[ChartFunction, ...]:
    """The charts that suit the folder's kind: a run's or comparison's, or a sweep's (from sweep_charts,
    imported only for sweep folders)."""
    if data.kind == "sweep":
        from .sweep_charts import SWEEP_CHARTS

        return SWEEP_CHARTS
    return RUN_CHARTS


def draw_charts(data: ResultsFolder) -> list[Chart]:
    """Draw every chart whose tables are present; a chart that fails is skipped with a warning."""
    charts = []
    for fn in chart_functions(data):
        try:
            chart = fn(data)
        except Exception as exc:  # noqa: BLE001 - one bad chart must not lose the whole report
            warnings.warn(f"chart {fn.__name__} could not be drawn: {type(exc).__name__}: {exc}", stacklevel=2)
            continue
        if chart is not None:
            charts.append(chart)
    return charts


def save_charts(folder: Path, charts: list[Chart]) -> list[RenderedChart]:
    """Write charts/<name>.png and .svg (replacing earlier ones) and remove stale chart files."""
    out = folder / "charts"
    out.mkdir(parents=True, exist_ok=True)
    rendered = []
    for chart in charts:
        png = png_bytes(chart.fig)
        chart.fig.set_layout_engine("none")  # laid out by the PNG pass; keep that layout for the SVG
        atomic_write_bytes(out / f"{chart.name}.png", png)
        atomic_write_bytes(out / f"{chart.name}.svg", svg_bytes(chart.fig))
        rendered.append(RenderedChart(chart.name, chart.title, chart.caption, png))
    drawn = {c.name for c in charts}
    for name in set(CHART_NAMES) - drawn:
        for ext in ("png", "svg"):
            (out / f"{name}.{ext}").unlink(missing_ok=True)
    return rendered


def build_content(folder: str | Path) -> ReportContent:
    """Draw and save the charts of a results folder and compose the report content."""
    data = ResultsFolder.open(folder)
    with house_style():
        charts = draw_charts(data)
        rendered = save_charts(data.folder, charts)
    return compose(data, rendered)


def build_report(folder: str | Path) -> Path:
    """(Re)draw charts/, report.html and report.pdf of a results folder; returns the path of report.html."""
    folder = Path(folder)
    content = build_content(folder)
    html_path = folder / "report.html"
    atomic_write_text(html_path, render_html(content))
    with house_style():
        write_pdf(content, folder / "report.pdf")
    return html_path
