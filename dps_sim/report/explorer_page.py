"""The explore.html page: markup, style and the small script that draws the embedded figure data
with plotly.js (both embedded, so the page needs no network)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from .glossary import GLOSSARY

CSS = """
body { margin: 0; color: #222; font: 16px/1.5 "DejaVu Sans", Arial, sans-serif; }
header, main { max-width: 1200px; margin: 0 auto; padding: 12px 24px; }
h1 { font-size: 1.6em; margin: 8px 0 2px; } p.meta { color: #555; margin: 0 0 8px; font-size: .9em; }
nav button { font: inherit; padding: 6px 14px; margin-right: 4px; border: 1px solid #0072B2; background: #fff;
  color: #0072B2; border-radius: 4px; cursor: pointer; }
nav button[aria-selected="true"] { background: #0072B2; color: #fff; }
fieldset { border: 1px solid #d9d9d9; border-radius: 4px; margin: 10px 0; padding: 6px 12px; }
legend { font-weight: bold; } label { margin-right: 14px; white-space: nowrap; display: inline-block; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 4px; }
.status { color: #555; font-size: .92em; margin: 6px 0; }
.kpi-plot { width: 100%; height: 260px; }
table { border-collapse: collapse; width: 100%; font-size: .9em; margin-top: 10px; }
th, td { border-bottom: 1px solid #d9d9d9; padding: 4px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
th { background: #f2f2f2; } .better { color: #009E73; } .worse { color: #D55E00; }
dl { display: grid; grid-template-columns: 18em 1fr; gap: 4px 16px; font-size: .92em; } dt { font-weight: bold; }
select { font: inherit; }
"""

SCRIPT = r"""
(function () {
  const D = JSON.parse(document.getElementById('explorer-data').textContent);
  const $ = (s) => document.querySelector(s), $$ = (s) => Array.from(document.querySelectorAll(s));
  const pol = Object.fromEntries(D.policies.map((p) => [p.name, p]));
  const kpi = Object.fromEntries(D.kpis.map((k) => [k.name, k]));
  const cfg = {displaylogo: false, responsive: true};
  const chosen = (name) => $$('input[name="' + name + '"]:checked').map((e) => e.value);
  const DASH = ['solid', 'dash', 'dashdot', 'dot', 'longdash', 'longdashdot'];
  const dash = (p) => DASH[D.policies.findIndex((q) => q.name === p) % DASH.length];
  const rgba = (hex, a) => 'rgba(' + [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(',') + ',' + a + ')';

  function compare() {
    if (!$('#kpi-plots')) return;
    const ps = chosen('policy').filter((p) => !(D.intervals.diffs && p === D.baseline));
    const ks = chosen('kpi'), holder = $('#kpi-plots'), body = $('#kpi-table tbody');
    holder.innerHTML = ''; body.innerHTML = '';
    ks.forEach((k) => {
      const rows = D.intervals.rows.filter((r) => r.kpi === k && ps.includes(r.policy) && r.value !== null);
      const div = document.createElement('div'); div.className = 'kpi-plot'; div.dataset.kpi = k; holder.appendChild(div);
      const traces = rows.map((r) => ({type: 'scatter', mode: 'markers', name: pol[r.policy].label, x: [r.value],
        y: [pol[r.policy].label], text: [r.text], hovertemplate: '%{y}: %{text}<extra></extra>',
        error_x: {type: 'data', symmetric: false, array: [r.high - r.value], arrayminus: [r.value - r.low],
                  color: pol[r.policy].colour, thickness: 2.5, width: 6},
        marker: {size: 13, color: r.clear || !D.intervals.diffs ? pol[r.policy].colour : '#fff',
                 line: {color: pol[r.policy].colour, width: 2.5}}}));
      const info = kpi[k], base = rows.length && rows[0].baseline_text ? ' · baseline average ' + rows[0].baseline_text : '';
      const unit = info.unit === '%' && D.intervals.diffs ? 'percentage points' : info.unit;
      Plotly.react(div, traces, {title: {text: '<b>' + info.title + '</b> (' + info.better + ')' + base, x: 0, font: {size: 15}},
        showlegend: false, margin: {l: 190, r: 20, t: 40, b: 45}, height: 110 + 38 * Math.max(rows.length, 1),
        xaxis: {title: {text: (D.intervals.diffs ? 'Difference from baseline' : 'Average') + ' (' + unit + ')'},
                zeroline: D.intervals.diffs, zerolinewidth: 2, zerolinecolor: '#222'},
        yaxis: {autorange: 'reversed', automargin: true}}, cfg);
      rows.forEach((r) => {
        const tr = document.createElement('tr'); tr.dataset.kpi = k; tr.dataset.policy = r.policy;
        const verdict = D.intervals.diffs ? r.verdict : '';
        tr.innerHTML = '<th scope="row">' + info.title + '</th><td>' + info.unit + '</td><td>' + info.better +
          '</td><td>' + pol[r.policy].label + '</td><td class="num">' + r.text + '</td><td class="' +
          verdict + '">' + verdict + '</td>';
        body.appendChild(tr);
      });
    });
    $('#compare-status').textContent = ps.length + ' polic' + (ps.length === 1 ? 'y' : 'ies') + ' × ' + ks.length +
      ' result' + (ks.length === 1 ? '' : 's') + ' shown';
  }

  function overTime() {
    if (!D.timeseries || !$('#ts-plot')) return;
    const m = $('#metric').value, rep = $('#show-reps').checked ? +$('#rep').value : null, traces = [];
    chosen('policy').forEach((p, k) => {
      const s = D.timeseries.series[m][p]; if (!s) return;
      const c = pol[p].colour, x = D.timeseries.months;
      if (k === 0 || $('#all-bands').checked) traces.push({x: x, y: s.high, mode: 'lines', line: {width: 0}, hoverinfo: 'skip', showlegend: false,
                   name: pol[p].label + ' (band top)'});
      if (k === 0 || $('#all-bands').checked) traces.push({x: x, y: s.low, mode: 'lines', fill: 'tonexty',
        fillcolor: rgba(c, 0.15), line: {width: 0}, name: pol[p].label + ' (90% band)', hoverinfo: 'skip'});
      traces.push({x: x, y: s.median, mode: 'lines', line: {color: c, width: k === 0 ? 4 : 2.5, dash: dash(p)},
                   name: pol[p].label + ' (median)'});
      if (rep !== null && s.reps[rep]) traces.push({x: x, y: s.reps[rep], mode: 'lines', name: pol[p].label +
        ' (replication ' + rep + ')', line: {color: c, width: 1.5, dash: 'dot'}});
    });
    const label = D.timeseries.metrics.find((e) => e.name === m).label;
    Plotly.react('ts-plot', traces, {title: {text: '<b>' + label + '</b> by month', x: 0},
      xaxis: {title: {text: 'Months since launch'}, dtick: 12}, yaxis: {title: {text: label}, rangemode: 'tozero'},
      legend: {orientation: 'h', y: -0.2}, margin: {t: 40}}, cfg);
    $('#ts-status').textContent = traces.filter((t) => t.name && t.name.endsWith('(median)')).length +
      ' policies · ' + label + (rep !== null ? ' · replication ' + rep : '');
  }

  function survival() {
    if (!D.survival || !$('#survival-plot')) return;
    const b = $('#band').value, curves = D.survival.curves[b], traces = [];
    chosen('policy').forEach((p, k) => {
      const c = curves[p]; if (!c) return; const col = pol[p].colour;
      if (k === 0) traces.push({x: c.month, y: c.high, mode: 'lines', line: {width: 0, shape: 'hv'}, hoverinfo: 'skip',
                   showlegend: false, name: pol[p].label + ' (CI top)'});
      if (k === 0) traces.push({x: c.month, y: c.low, mode: 'lines', fill: 'tonexty', fillcolor: rgba(col, 0.18),
        line: {width: 0, shape: 'hv'}, name: pol[p].label + ' (95% CI)', hoverinfo: 'skip'});
      traces.push({x: c.month, y: c.survival, mode: 'lines', name: pol[p].label,
                   line: {color: col, width: k === 0 ? 4 : 2.5, shape: 'hv', dash: dash(p)}});
    });
    const band = D.survival.bands.find((e) => e.name === b);
    Plotly.react('survival-plot', traces, {title: {text: '<b>' + band.label + '</b> organisations still in the market (n=' +
      band.n + ' per policy)', x: 0}, xaxis: {title: {text: 'Months in the market'}, range: [0, D.survival.horizon], dtick: 12},
      yaxis: {title: {text: 'Still in the market'}, tickformat: '.0%'}, legend: {orientation: 'h', y: -0.2},
      margin: {t: 40}}, cfg);
  }

  let selected = null;
  function brushed() {
    const S = D.sweep, dims = $('#parcoords').data[0].dimensions;
    selected = S.params.concat(S.kpis).map((d) => d.values).reduce((keep, values, j) => {
      const r = dims[j].constraintrange; if (!r || !r.length) return keep;
      const ranges = Array.isArray(r[0]) ? r : [r];
      return keep.map((k, i) => k && values[i] !== null && ranges.some((q) => values[i] >= q[0] && values[i] <= q[1]));
    }, S.kpis[0].values.map(() => true));
    const n = selected.filter(Boolean).length;
    $('#brush-status').textContent = n + ' of ' + S.count + ' combinations selected';
    scatter();
  }

  function scatter() {
    const S = D.sweep; if (!S) return;
    const p = S.params.find((e) => e.name === $('#scatter-param').value), k = S.kpis.find((e) => e.name === $('#scatter-kpi').value);
    const keep = selected || p.values.map(() => true), line = S.lines[p.name + '|' + k.name];
    const pick = (want) => ({x: p.values.filter((_, i) => keep[i] === want), y: k.values.filter((_, i) => keep[i] === want)});
    const traces = [Object.assign(pick(false), {mode: 'markers', name: 'Not selected', marker: {color: '#bbbbbb', size: 7}}),
                    Object.assign(pick(true), {mode: 'markers', name: 'Selected', marker: {color: '#0072B2', size: 8}})];
    if (line && line.x.length) traces.push({x: line.x, y: line.y, mode: 'lines', name: 'Median of ten groups', line: {color: '#222', width: 3}});
    const xaxis = {title: {text: p.label}, type: p.log ? 'log' : 'linear'};
    if (p.levels) Object.assign(xaxis, {tickvals: p.levels.map((_, i) => i), ticktext: p.levels});
    Plotly.react('scatter-plot', traces, {title: {text: '<b>' + k.label + '</b> (' + k.better + ') against ' + p.label, x: 0},
      xaxis: xaxis, yaxis: {title: {text: k.label + ' (' + k.unit + ')'}}, legend: {orientation: 'h', y: -0.2}, margin: {t: 40}}, cfg);
  }

  function sweep() {
    const S = D.sweep; if (!S || !$('#parcoords')) return;
    const dims = S.params.concat(S.kpis).map((d) => Object.assign({label: d.label, values: d.values},
      d.levels ? {tickvals: d.levels.map((_, i) => i), ticktext: d.levels.map((v) => v.replace(/_/g, ' '))} : {}));
    Plotly.newPlot('parcoords', [{type: 'parcoords', dimensions: dims, labelangle: -15,
      line: {color: S.kpis[0].values, colorscale: 'Viridis', showscale: true, colorbar: {title: {text: S.kpis[0].label}}}}],
      {margin: {l: 80, r: 80, t: 80, b: 30}}, cfg);
    $('#parcoords').on('plotly_restyle', brushed);
    brushed();
  }

  function show(tab) {
    $$('nav button').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.tab === tab)));
    $$('main > section').forEach((s) => { s.hidden = s.id !== tab; });
    $$('#' + tab + ' .js-plotly-plot').forEach((g) => Plotly.Plots.resize(g));
  }

  $$('input[name="policy"]').forEach((e) => e.addEventListener('change', () => { compare(); overTime(); survival(); }));
  $$('input[name="kpi"]').forEach((e) => e.addEventListener('change', compare));
  ['#metric', '#rep', '#show-reps', '#all-bands'].forEach((s) => $(s) && $(s).addEventListener('change', overTime));
  $('#band') && $('#band').addEventListener('change', survival);
  ['#scatter-param', '#scatter-kpi'].forEach((s) => $(s) && $(s).addEventListener('change', scatter));
  $$('nav button').forEach((b) => b.addEventListener('click', () => show(b.dataset.tab)));
  compare(); overTime(); survival(); sweep();
  show($$('nav button')[0].dataset.tab);
  document.body.dataset.ready = 'yes';
})();
"""


def _checkboxes(name: str, items: list[tuple[str, str, bool, str]]) -> str:
    """Checkboxes of one name: (value, label, checked, swatch colour)."""
    out = []
    for value, label, checked, colour in items:
        swatch = f'<span class="swatch" style="background:{colour}"></span>' if colour else ""
        out.append(f'<label>{swatch}<input type="checkbox" name="{name}" value="{escape(value)}"'
                   f'{" checked" if checked else ""}> {escape(label)}</label>')
    return "".join(out)


def _options(id_: str, items: list[tuple[str, str]]) -> str:
    opts = "".join(f'<option value="{escape(v)}">{escape(label)}</option>' for v, label in items)
    return f'<select id="{id_}">{opts}</select>'


def _sections(p: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(id, tab label, inner HTML) of every section the folder has data for."""
    out = []
    if p["intervals"]["rows"]:
        shown = {r["kpi"] for r in p["intervals"]["rows"]}
        kpis = [(k["name"], k["title"], k["headline"], "") for k in p["kpis"] if k["name"] in shown]
        what = "Differences from the baseline" if p["intervals"]["diffs"] else "Averages"
        out.append(("compare", "Compare policies",
                    f"<fieldset id=\"kpi-picker\"><legend>Results</legend>{_checkboxes('kpi', kpis)}</fieldset>"
                    f"<p class=\"status\" id=\"compare-status\"></p><p>{what} with 95% confidence intervals; a hollow "
                    "dot: no clear difference (the interval includes 0).</p><div id=\"kpi-plots\"></div>"
                    "<table id=\"kpi-table\"><thead><tr><th>Result</th><th>Unit</th><th>Better</th><th>Policy</th>"
                    f"<th>{what.split(' from')[0]} (95% CI)</th><th>Verdict</th></tr></thead><tbody></tbody></table>"))
    if p["timeseries"]:
        t = p["timeseries"]
        reps = _options("rep", [(str(i), f"replication {i}") for i in range(t["replications"])])
        out.append(("over-time", "Over time",
                    f"<p>Metric {_options('metric', [(m['name'], m['label']) for m in t['metrics']])} "
                    f"<label><input type=\"checkbox\" id=\"show-reps\"> show one replication</label> {reps} "
                    "<label><input type=\"checkbox\" id=\"all-bands\"> a band for every policy</label></p>"
                    "<p class=\"status\" id=\"ts-status\"></p><div id=\"ts-plot\" style=\"height:520px\"></div>"
                    "<p>Lines: the median across replications; shaded: the band holding 90% of replications, "
                    "for the first policy ticked (tick 'a band for every policy' for all).</p>"))
    if p["survival"]:
        bands = _options("band", [(b["name"], b["label"]) for b in p["survival"]["bands"]])
        out.append(("survival", "Survival",
                    f"<p>Income band {bands}</p><div id=\"survival-plot\" style=\"height:520px\"></div>"
                    "<p>Share of organisations still in the market a given number of months after entering it "
                    "(Kaplan–Meier), with the 95% confidence interval of the first policy ticked shaded; those "
                    "still trading at the end are counted up to the end ('censored').</p>"))
    if p["sweep"]:
        s = p["sweep"]
        out.append(("sweep", "Sweep",
                    "<p>Each line is one sampled combination of parameters (averaged over replications). Drag "
                    "along an axis to select a range; drag again elsewhere to add one, click the range to clear.</p>"
                    "<p class=\"status\" id=\"brush-status\"></p><div id=\"parcoords\" style=\"height:480px\"></div>"
                    f"<p>Scatter of {_options('scatter-kpi', [(k['name'], k['label']) for k in s['kpis']])} against "
                    f"{_options('scatter-param', [(d['name'], d['label']) for d in s['params']])}</p>"
                    "<div id=\"scatter-plot\" style=\"height:480px\"></div>"))
    glossary = "".join(f"<dt>{escape(t)}</dt><dd>{escape(g)}</dd>" for t, g in GLOSSARY)
    out.append(("glossary", "Glossary", f"<dl>{glossary}</dl>"))
    return out


def render_page(payload: dict[str, Any], plotly_js: str) -> str:
    """The whole page: header, policy picker, tabs, sections, embedded data, plotly.js and the script."""
    sections = _sections(payload)
    tabs = "".join(f'<button type="button" data-tab="{sid}">{escape(label)}</button>' for sid, label, _ in sections)
    body = "".join(f'<section id="{sid}">{html}</section>' for sid, _, html in sections)
    policies = _checkboxes("policy", [(q["name"], q["label"], True, q["colour"]) for q in payload["policies"]])
    picker = (f'<fieldset id="policy-picker"><legend>Policies</legend>{policies}</fieldset>'
              if payload["kind"] != "sweep" else "")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(payload['title'])}</title>\n<style>{CSS}</style>\n"
            f"<script>{plotly_js}</script>\n</head>\n<body>\n"
            f"<header><h1>{escape(payload['title'])}</h1><p class=\"meta\">{escape(payload['caption'])}</p>"
            f"{picker}<nav>{tabs}</nav></header>\n<main>{body}</main>\n"
            f"<script type=\"application/json\" id=\"explorer-data\">{payload_json(payload)}</script>\n"
            f"<script>{SCRIPT}</script>\n</body>\n</html>\n")


def payload_json(payload: dict[str, Any]) -> str:
    """JSON that is safe inside a <script> element."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
