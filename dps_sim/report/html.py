"""The self-contained HTML report: inline CSS, charts embedded as base64 PNG, no network."""

from __future__ import annotations

import base64
import re
from html import escape

from .document import RenderedChart, ReportContent, Table

NUMBER = re.compile(r"^[+−-]?£?[\d.,]+(?:k|m|%| pp)?(?:,|\s|$)")
"""A table cell that starts with a number (right-aligned)."""

CSS = """
:root { --ink: #222; --muted: #555; --rule: #d9d9d9; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 17px/1.55 "DejaVu Sans", Arial, Helvetica, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 28px 60px; }
h1 { font-size: 1.9em; line-height: 1.25; margin: 0 0 6px; }
h2 { font-size: 1.35em; margin: 38px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.1em; margin: 24px 0 8px; }
p.meta { color: var(--muted); margin: 0 0 18px; font-size: 0.95em; }
ul { padding-left: 1.3em; } li { margin: 4px 0; }
ul.findings li { margin: 10px 0; }
figure { margin: 26px 0 34px; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--ink); margin-top: 8px; font-size: 0.95em; }
figcaption b { display: block; font-size: 1.05em; margin-bottom: 2px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 6px; font-size: 0.88em; }
caption { text-align: left; font-weight: bold; font-size: 1.05em; padding: 6px 0; }
th, td { border-bottom: 1px solid var(--rule); padding: 6px 8px; text-align: left; vertical-align: top; }
tbody th { font-weight: normal; min-width: 13em; } thead th { font-size: 0.92em; }
td.better { color: #007a5a; } td.worse { color: #b34700; }
dl.glossary { grid-template-columns: 16em 1fr; font-size: 1em; } dl.glossary dt { color: var(--ink); font-weight: bold; }
dl.glossary dd { word-break: normal; }
th { background: #f2f2f2; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
p.note { color: var(--muted); font-size: 0.9em; margin: 2px 0 22px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; font-size: 0.92em; }
dt { color: var(--muted); } dd { margin: 0; word-break: break-all; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; } }
"""

IMAGE_CHECK = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images-loaded', ok + '/' + imgs.length);
  document.body.setAttribute('data-image-widths', imgs.map(function (i) { return i.naturalWidth; }).join(' '));
});
"""
"""Sets data-images-loaded="<loaded>/<total>" and data-image-widths (decoded pixel widths) on <body>
once the page has loaded: a headless browser's DOM dump shows whether every chart rendered."""


def render_html(content: ReportContent) -> str:
    """The whole report as one HTML document."""
    parts = [
        f"<h1>{escape(content.title)}</h1>",
        f"<p class=\"meta\">{escape(content.subtitle)}</p>",
        _section("The question", f"<p>{escape(content.question)}</p>"),
        _section("The scenario", "".join(f"<p>{escape(p)}</p>" for p in content.scenario) or "<p>Not recorded.</p>"),
        _section(content.policies_heading, _policies(content.policies)),
        _section("Main findings", _findings(content.findings)),
        _section("Charts", "".join(_figure(c) for c in content.charts) or "<p>No charts could be drawn.</p>"),
        _section("Results with 95% confidence intervals", "".join(_table(t) for t in content.tables)),
        _section("How to read these results", _list(content.notes)),
        _section("Caveats of this scenario (from its file)", _list(content.caveats)) if content.caveats else "",
        _section("Known limitations of the model", _list(content.limitations)) if content.limitations else "",
        _section("Glossary", _glossary(content.glossary)) if content.glossary else "",
        _section("Where these numbers come from", _provenance(content.provenance)),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(content.title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{''.join(parts)}\n</main>\n<script>{IMAGE_CHECK}</script>\n</body>\n</html>\n"
    )


def _section(heading: str, body: str) -> str:
    return f"<section>\n<h2>{escape(heading)}</h2>\n{body}\n</section>\n"


def _list(items: list[str]) -> str:
    if not items:
        return "<p>None.</p>"
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def _findings(items: list[str]) -> str:
    """The findings as a list, each with its lead (the policy, up to the first colon) in bold."""
    if not items:
        return "<p>None.</p>"
    out = []
    for item in items:
        head, sep, rest = item.partition(": ")
        out.append(f"<li><b>{escape(head)}</b>: {escape(rest)}</li>" if sep else f"<li>{escape(item)}</li>")
    return "<ul class=\"findings\">" + "".join(out) + "</ul>"


def _policies(policies: list[tuple[str, list[str]]]) -> str:
    items = []
    for name, changes in policies:
        items.append(f"<li><b>{escape(name)}</b>: {escape('; '.join(changes))}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def data_uri(png: bytes) -> str:
    """A PNG as a data: URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figure(chart: RenderedChart) -> str:
    return (f"<figure id=\"chart-{escape(chart.name)}\">"
            f"<img src=\"{data_uri(chart.png)}\" alt=\"{escape(chart.title)}\">"
            f"<figcaption>{escape(chart.caption)}</figcaption></figure>\n")  # the title is in the image


def _table(table: Table) -> str:
    head = "".join(f"<th scope=\"col\">{escape(h)}</th>" for h in table.header)
    body = []
    for row in table.rows:
        cells = [f"<th scope=\"row\">{escape(row[0])}</th>"]
        cells += [f"<td class=\"{_cell_class(c)}\">{_lines(c)}</td>" for c in row[1:]]
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = f"<p class=\"note\">{escape(table.note)}</p>" if table.note else ""
    return (f"<table><caption>{escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{note}\n")


def _lines(cell: str) -> str:
    """A cell's lines (value, then its interval) as HTML."""
    return "<br>".join(escape(line) for line in cell.split("\n"))


def _cell_class(cell: str) -> str:
    """'num' for numbers, plus 'better' or 'worse' for a difference with a clear verdict."""
    classes = ["num"] if _numeric(cell) else []
    first = cell.split("\n")[0]
    classes += [w for w in ("better", "worse") if first.endswith(f", {w}")]
    return " ".join(classes)


def _numeric(cell: str) -> bool:
    """Whether a cell is a number ('4.7', '−£55.5k', '+0.3 pp, better'), not a unit such as '£ per user'."""
    return bool(NUMBER.match(cell))


def _glossary(items: list[tuple[str, str]]) -> str:
    return "<dl class=\"glossary\">" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items) + "</dl>"


def _provenance(items: list[tuple[str, str]]) -> str:
    if not items:
        return "<p>Not recorded.</p>"
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items) + "</dl>"
