"""explore.html: its figure data agrees with the static charts, it is self-contained, and in a real
browser (Playwright driving Debian's Chromium) picking policies, results, metrics and a brush changes
what the page shows."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer

from dps_sim.report import charts as C
from dps_sim.report.data import ResultsFolder
from dps_sim.report.explorer import build_explorer, explorer_payload
from dps_sim.report.style import house_style

pytest.importorskip("plotly")

THREE_POLICIES = """
  pay_quarterly_in_arrears:
    contracts: {payment: {terms: quarterly_arrears}}
"""


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory: pytest.TempPathFactory, tiny_scenario_text: str) -> Path:
    """A real compare of the tiny scenario with three policies and 3 replications, and its explorer."""
    from dps_sim.experiment import compare

    folder = tmp_path_factory.mktemp("explore")
    scenario = folder / "tiny.yaml"
    scenario.write_text(tiny_scenario_text + THREE_POLICIES, encoding="utf-8")
    out = folder / "compare"
    compare(scenario, reps=3, seed=5, workers=1, out=out)
    build_explorer(out)
    return out


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_report import make_sweep

    folder = make_sweep(tmp_path_factory.mktemp("explore-sweep") / "sweep", points=40)
    build_explorer(folder)
    return folder


# -- one figure data, two backends ---------------------------------------------------------------
def test_explorer_numbers_are_the_static_charts_numbers(compare_dir: Path) -> None:
    data = ResultsFolder.open(compare_dir)
    payload = explorer_payload(data)
    with house_style():
        kpi_chart = C.kpi_comparison(data)
        over_time = C.providers_over_time(data)
    # the headline chart: each panel's dots are the explorer's values, in policy order
    for ax in [a for a in kpi_chart.fig.axes if a.get_visible()]:
        title = ax.get_title(loc="left").split("\n")[0]
        kpi = next(k["name"] for k in payload["kpis"] if k["title"] == title)
        rows = [r for r in payload["intervals"]["rows"] if r["kpi"] == kpi]
        dots = [float(c.lines[0].get_xdata()[0]) for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert dots == pytest.approx([r["value"] for r in rows], rel=1e-4, abs=1e-9), kpi
    # organisations over time: the static chart's median lines are the explorer's medians
    ax = over_time.fig.axes[0]
    for line in [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]:
        policy = next(p["name"] for p in payload["policies"] if p["label"] == line.get_label())
        median = payload["timeseries"]["series"]["providers_active"][policy]["median"]
        assert np.asarray(line.get_ydata(), float) == pytest.approx(median, rel=1e-4)


def test_explorer_is_one_self_contained_file(compare_dir: Path) -> None:
    html = (compare_dir / "explore.html").read_text(encoding="utf-8")
    assert not re.search(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=""", html, re.IGNORECASE)
    assert "@import" not in html and "plotly.js v" in html.lower() or "plotly" in html[:200_000].lower()
    assert 'id="explorer-data"' in html and "Pay quarterly in arrears" in html


# -- in a browser --------------------------------------------------------------------------------
def chromium() -> str:
    path = next((p for name in ("chromium", "chromium-browser") if (p := shutil.which(name))), None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("no chromium on PATH")
    return path


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def open_page(browser, folder: Path):
    """explore.html in a fresh page, with network requests refused (the page must need none)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(re.compile(r"^(?!file:|data:|blob:).*"), lambda route: (errors.append(route.request.url), route.abort()))
    page.goto((folder / "explore.html").resolve().as_uri())
    page.wait_for_selector("body[data-ready=yes]")
    return page, errors


@pytest.mark.browser
def test_compare_page_follows_policies_and_kpis(browser, compare_dir: Path) -> None:
    page, errors = open_page(browser, compare_dir)
    status = page.locator("#compare-status")
    assert status.text_content() == "2 policies × 8 results shown"
    assert page.locator(".kpi-plot").count() == 8 and page.locator("#kpi-table tbody tr").count() == 16
    # a result that is not shown at first: its panel and rows appear, with the report's wording
    page.check('input[name="kpi"][value="insolvencies"]')
    assert status.text_content() == "2 policies × 9 results shown"
    panel = page.locator('.kpi-plot[data-kpi="insolvencies"]')
    assert "Insolvencies" in panel.locator(".gtitle").text_content()
    assert "lower is better" in panel.locator(".gtitle").text_content()
    rows = page.locator('#kpi-table tbody tr[data-kpi="insolvencies"]')
    assert rows.count() == 2 and "95% CI" in rows.first.text_content()
    # dropping a policy removes its rows and its dot from every panel
    page.uncheck('input[name="policy"][value="pay_quarterly_in_arrears"]')
    assert status.text_content() == "1 policy × 9 results shown"
    assert page.locator('#kpi-table tbody tr[data-policy="pay_quarterly_in_arrears"]').count() == 0
    assert panel.evaluate("g => g.data.map(t => t.name)") == ["Pay monthly in arrears"]
    assert errors == []


@pytest.mark.browser
def test_time_series_and_survival_follow_the_choices(browser, compare_dir: Path) -> None:
    page, errors = open_page(browser, compare_dir)
    page.click('nav button[data-tab="over-time"]')
    page.select_option("#metric", "bids")
    plot = page.locator("#ts-plot")
    assert "Bids" in plot.locator(".gtitle").text_content()
    medians = plot.evaluate("g => g.data.filter(t => t.name.endsWith('(median)')).length")
    assert medians == 3  # one per policy, the baseline included
    page.check("#show-reps")
    page.select_option("#rep", "2")
    assert "replication 2" in page.locator("#ts-status").text_content()
    assert plot.evaluate("g => g.data.filter(t => t.name.includes('(replication 2)')).length") == 3
    page.uncheck('input[name="policy"][value="baseline"]')
    assert plot.evaluate("g => g.data.filter(t => t.name.endsWith('(median)')).length") == 2
    page.click('nav button[data-tab="survival"]')
    band = page.locator("#band option").first.get_attribute("value")
    page.select_option("#band", band)
    assert page.locator("#survival").is_visible() and not page.locator("#over-time").is_visible()
    assert page.locator("#survival-plot").evaluate("g => g.data.filter(t => t.line.width > 0).length") == 2
    assert errors == []


@pytest.mark.browser
def test_sweep_brush_selects_points(browser, sweep_dir: Path) -> None:
    page, errors = open_page(browser, sweep_dir)
    status = page.locator("#brush-status")
    assert status.text_content() == "40 of 40 combinations selected"
    axis = page.locator("#parcoords .axis-brush").first
    box = axis.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    page.wait_for_function("!document.querySelector('#brush-status').textContent.startsWith('40 of')")
    picked = int(status.text_content().split(" of ")[0])
    # the count the page shows is the number of points inside the range the brush set on the first axis
    low, high = page.evaluate("() => document.querySelector('#parcoords').data[0].dimensions[0].constraintrange")
    values = page.evaluate("() => JSON.parse(document.getElementById('explorer-data').textContent).sweep.params[0].values")
    assert 0 < picked < 40 and picked == sum(low <= v <= high for v in values)
    scatter = page.locator("#scatter-plot")
    assert scatter.evaluate("g => g.data.find(t => t.name === 'Selected').x.length") == picked
    assert errors == []
