"""Charts, HTML and PDF report drawn from saved results folders (dps_sim.report)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.patches import PathPatch
from PIL import Image
from pypdf import PdfReader

from dps_sim.report import CHART_NAMES, build_report
from dps_sim.report import charts as C
from dps_sim.report.data import ResultsFolder
from dps_sim.report.content import RenderedChart, compose
from dps_sim.report.html import render_html
from dps_sim.report.pdf import write_pdf
from dps_sim.report.style import house_style, png_bytes
from dps_sim.report.survival import durations, kaplan_meier
from dps_sim.report.text import difference_clause, policy_sentence

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "kent_youth_dps.yaml"
RUN_CHART_NAMES = ("kpi_comparison", "providers_over_time", "survival", "share_value_small", "bids_per_lot",
                   "service_gap", "reserves_end")
SWEEP_PARAMS = {"contracts.payment.late_days_mean": (0.0, 90.0),
                "contracts.performance_bond.threshold": (50_000.0, 1_000_000.0),
                "procurement.competitions.weights.quality": (0.2, 0.7)}
SWEEP_KPIS = ["insolvencies_small", "share_of_value_small", "service_users_reached"]


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def compare_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real `compare` folder: 5 policies, 3 replications, with its report built."""
    from dps_sim.experiment import compare

    out = tmp_path_factory.mktemp("report") / "compare"
    compare(SCENARIO, reps=3, seed=1, workers=1, out=out)
    build_report(out)
    return out


@pytest.fixture(scope="session")
def compare_data(compare_dir: Path) -> ResultsFolder:
    return ResultsFolder.open(compare_dir)


@pytest.fixture(scope="session")
def compare_charts(compare_data: ResultsFolder) -> dict[str, C.Chart]:
    """Every run/compare chart of the compare folder, drawn once (not saved)."""
    return {chart.name: chart for chart in (draw(fn, compare_data) for fn in C.RUN_CHARTS)}


def make_sweep(folder: Path, method: str = "sobol", points: int = 40, reps: int = 2,
               sensitivity: bool = True, kpis: list[str] | None = None) -> Path:
    """A synthetic sweep folder: points.parquet, sensitivity.csv and a manifest with "sweep"."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for point in range(points):
        values = {k: rng.uniform(lo, hi) for k, (lo, hi) in SWEEP_PARAMS.items()}
        terms = str(rng.choice(["advance", "monthly_arrears", "quarterly_arrears"]))
        for r in range(reps):
            rows.append({"point": point, "replication": r, **values, "contracts.payment.terms": terms,
                         "insolvencies_small": values["contracts.payment.late_days_mean"] / 10 + rng.normal(),
                         "share_of_value_small": 0.2 + 0.2 * values["procurement.competitions.weights.quality"],
                         "service_users_reached": 20_000 - values["contracts.performance_bond.threshold"] / 1000,
                         "error": ""})
    rows[-1]["error"] = "ValueError: a failed run"  # failed rows are left out
    pd.DataFrame(rows).to_parquet(folder / "points.parquet")
    params = [*SWEEP_PARAMS, "contracts.payment.terms"]
    if sensitivity:
        sens = []
        for kpi in kpis or SWEEP_KPIS:
            for p in params:
                v = float(rng.uniform(0, 0.6))
                row = {"kpi": kpi, "parameter": p, "method": method}
                if method == "sobol":
                    row.update(S1=0.8 * v, S1_conf=0.05, ST=v, ST_conf=0.07)
                elif method == "morris":
                    row.update(mu_star=10 * v, mu_star_conf=1.0, sigma=3 * v)
                else:
                    row.update(rho=float(rng.uniform(-1, 1)))
                sens.append(row)
        pd.DataFrame(sens).to_csv(folder / "sensitivity.csv", index=False)
    manifest = {"command": "sweep", "seed": 7, "scenario_name": "Kent youth services DPS",
                "sweep": {"method": method, "samples": points, "replications": reps, "seed": 7, "policy": "baseline",
                          "parameters": {p: {"low": 0, "high": 1} for p in SWEEP_PARAMS} |
                                        {"contracts.payment.terms": {"levels": ["advance", "monthly_arrears"]}},
                          "kpis": kpis or SWEEP_KPIS}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


# -- helpers -----------------------------------------------------------------------------------
def assert_same_picture(a: bytes, b: bytes, name: str) -> None:
    """Two PNGs of one chart are the same picture: same size, and where any pixel differs it is by
    anti-aliasing only (at most 4 levels of 255, in at most 0.5% of pixels). A fresh helper process
    and a long-running one (a test session) can differ so in a line's edge pixels, though every number
    drawn is the same; the tables stay byte-identical (tests/test_workers.py)."""
    import io

    from PIL import Image

    if a == b:
        return
    x = np.asarray(Image.open(io.BytesIO(a)).convert("RGBA"), dtype=int)
    y = np.asarray(Image.open(io.BytesIO(b)).convert("RGBA"), dtype=int)
    assert x.shape == y.shape, f"{name}: {x.shape} against {y.shape}"
    diff = np.abs(x - y).max(axis=-1)
    assert diff.max() <= 4 and (diff > 0).mean() <= 0.005, (
        f"{name}: {(diff > 0).sum()} pixels differ, by up to {diff.max()}")


def assert_same_charts(a: dict[str, bytes], b: dict[str, bytes]) -> None:
    """The same charts, in the same order, each the same picture."""
    assert list(a) == list(b)
    for name in a:
        assert_same_picture(a[name], b[name], name)


def visible_axes(chart: C.Chart) -> list:
    return [ax for ax in chart.fig.axes if ax.get_visible()]


def labelled_lines(ax) -> list:
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def figure_text(chart: C.Chart) -> str:
    return " ".join(t.get_text() for t in chart.fig.findobj(lambda a: hasattr(a, "get_text")))


def draw(fn, data: ResultsFolder) -> C.Chart:
    with house_style():
        chart = fn(data)
    assert chart is not None, fn.__name__
    return chart


def assert_house_style(chart: C.Chart, data: ResultsFolder) -> None:
    """Title, caption with scenario/replications/seed, and a label (with units) on every shown numeric axis."""
    assert chart.fig._suptitle is not None and chart.fig._suptitle.get_text() == chart.title
    text = figure_text(chart)
    assert data.scenario_name in text and f"{data.replications} replication" in text and f"seed {data.seed}" in text
    assert chart.caption
    for ax in visible_axes(chart):
        if ax.xaxis.get_tick_params()["labelbottom"]:
            assert ax.get_xlabel(), (chart.name, ax.get_title())
        categorical = any(t.get_text() and not re.match(r"^[−\-+£\d.,%km ]+$", t.get_text())
                          for t in ax.get_yticklabels())
        if ax.yaxis.get_tick_params()["labelleft"] and not categorical:
            assert ax.get_ylabel(), (chart.name, ax.get_title())


def pdf_text(path: Path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages]


# -- the sentence ------------------------------------------------------------------------------
def test_sentence_more_fewer_and_no_clear_difference() -> None:
    more = {"kpi": "insolvencies_small", "diff": 4.0, "diff_ci_low": 3.0, "diff_ci_high": 4.9}
    assert difference_clause(more, 60) == "4.0 more small-provider insolvencies over 5 years (95% CI 3.0 to 4.9)"
    fewer = {"kpi": "insolvencies_small", "diff": -4.0, "diff_ci_low": -4.9, "diff_ci_high": -3.0}
    assert difference_clause(fewer, 60).startswith("4.0 fewer small-provider insolvencies")
    spans = {"kpi": "insolvencies_small", "diff": 0.5, "diff_ci_low": -1.0, "diff_ci_high": 2.0}
    text = difference_clause(spans, 60)
    assert text.startswith("no clear difference in small-provider insolvencies")
    assert "more" not in text and "fewer" not in text
    amount = {"kpi": "cost_per_user", "diff": -10.0, "diff_ci_low": -13.5, "diff_ci_high": -6.5}
    assert difference_clause(amount) == ("value of service delivered per user-year reached lower by £10.0 "
                                         "(95% CI £6.5 to £13.5)")
    share = {"kpi": "share_of_value_small", "diff": 0.101, "diff_ci_low": 0.082, "diff_ci_high": 0.12}
    assert "higher by 10.1 percentage points" in difference_clause(share)


def test_policy_sentence_names_clear_results_first() -> None:
    rows = [{"kpi": "bids_per_lot", "diff": 0.3, "diff_ci_low": -0.2, "diff_ci_high": 0.8},
            {"kpi": "insolvencies_small", "diff": 4.0, "diff_ci_low": 3.0, "diff_ci_high": 4.9}]
    text = policy_sentence("pay_monthly_in_arrears", rows, 60)
    assert text == ("Pay monthly in arrears instead of the baseline: 4.0 more small-provider insolvencies over "
                    "5 years (95% CI 3.0 to 4.9). No clear difference in bids per lot.")
    assert policy_sentence("x", rows[:1]).endswith("no clear difference in bids per lot.")


def test_sentence_units_and_edge_cases() -> None:
    quality = {"kpi": "mean_delivered_quality", "diff": 0.12, "diff_ci_low": 0.05, "diff_ci_high": 0.19}
    assert difference_clause(quality) == ("mean delivered quality higher by 0.12 points on the 0–5 scale "
                                          "(95% CI 0.05 to 0.19 points on the 0–5 scale)")
    spend = {"kpi": "commissioner_spend", "diff": -1_210_000.0, "diff_ci_low": -1_450_000.0, "diff_ci_high": -969_000.0}
    assert difference_clause(spend, 60) == "payments made over 5 years lower by £1.21m (95% CI £0.97m to £1.45m)"
    mixed = {"kpi": "sector_bid_cost", "diff": 8045.0, "diff_ci_low": -1167.0, "diff_ci_high": 17_300.0}
    assert difference_clause(mixed) == ("no clear difference in cost to the sector of bids and applications "
                                        "(+£8.0k, 95% CI −£1.2k to +£17.3k)")  # one money style per interval
    share = {"kpi": "share_of_value_small", "diff": -0.004, "diff_ci_low": -0.011, "diff_ci_high": 0.003}
    assert difference_clause(share) == ("no clear difference in share of awarded value won by micro and small "
                                        "organisations (−0.4 pp, 95% CI −1.1 pp to +0.3 pp)")
    same = {"kpi": "insolvencies_small", "diff": 0.0, "diff_ci_low": 0.0, "diff_ci_high": 0.0}
    assert difference_clause(same, 60) == ("no difference in small-provider insolvencies over 5 years "
                                           "(the same in every replication)")
    one_rep = {"kpi": "contract_failures", "diff": 2.0, "diff_ci_low": float("nan"), "diff_ci_high": float("nan")}
    assert difference_clause(one_rep, 39) == ("2.0 more contracts ended early over 39 months "
                                              "(too few replications for an interval)")
    near = {"kpi": "providers_active_end", "diff": 1.2, "diff_ci_low": 0.038, "diff_ci_high": 2.362}
    assert difference_clause(near) == ("1.20 more organisations still in the market at the end "
                                       "(95% CI 0.04 to 2.36)")  # a clear interval never shows a bound of 0
    edge = {"kpi": "insolvencies_small", "diff": 1.0, "diff_ci_low": 0.0, "diff_ci_high": 2.0}
    assert difference_clause(edge).startswith("no clear difference")  # an interval touching zero includes it
    unclear = [same, share]
    assert policy_sentence("pay_in_advance", unclear, 60) == (
        "Pay in advance instead of the baseline: no clear difference in small-provider insolvencies or share of "
        "awarded value won by micro and small organisations.")


def test_kaplan_meier_matches_hand_calculation() -> None:
    curve = kaplan_meier(np.array([1, 2, 2, 3, 4]), np.array([True, True, False, True, False]))
    at = dict(zip(curve["month"], curve["survival"]))
    assert curve["survival"].iloc[0] == 1.0
    assert at[1] == pytest.approx(0.8) and at[2] == pytest.approx(0.6) and at[3] == pytest.approx(0.3)
    assert (curve["low"] <= curve["survival"] + 1e-12).all() and (curve["high"] >= curve["survival"] - 1e-12).all()
    prov = pd.DataFrame({"entry_month": [0, 10, 5], "exit_month": [12, -1, 5], "in_market_end": [False, True, False]})
    d = durations(prov, 60)
    assert d["duration"].tolist() == [12, 50, 0] and d["exited"].tolist() == [True, False, True]


def test_report_names_the_income_bands_as_the_scenario_does() -> None:
    from dps_sim.report.figdata import SIZE_BANDS as REPORT_BANDS
    from dps_sim.scenario.fields import SIZE_BANDS

    assert REPORT_BANDS == SIZE_BANDS


def test_drawing_a_report_imports_neither_the_model_nor_scipy_nor_pydantic() -> None:
    code = ("import sys, dps_sim.report.build, dps_sim.report.draw; "
            "print(sorted(m for m in ('scipy', 'pydantic', 'dps_sim.model', 'dps_sim.scenario') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


def test_kaplan_meier_agrees_with_scipy() -> None:
    """The numpy estimate gives scipy.stats.ecdf's curve and Greenwood interval, ties and censoring included."""
    from scipy import stats

    rng = np.random.default_rng(7)
    for n in (1, 5, 60, 400):
        duration = rng.integers(0, 30, n).astype(float)
        exited = rng.random(n) < 0.6
        curve = kaplan_meier(duration, exited)
        sf = stats.ecdf(stats.CensoredData.right_censored(duration, ~exited)).sf
        with np.errstate(all="ignore"):
            ci = sf.confidence_interval(0.95)
        low = pd.Series(ci.low.probabilities).ffill().fillna(sf.probabilities[0])
        high = pd.Series(ci.high.probabilities).ffill().fillna(sf.probabilities[0])
        assert np.allclose(curve["month"].iloc[1:], sf.quantiles)
        assert np.allclose(curve["survival"].iloc[1:], sf.probabilities)
        assert np.allclose(curve["low"].iloc[1:], low) and np.allclose(curve["high"].iloc[1:], high)


def test_bids_per_lot_counts_lots_when_their_bids_arrive() -> None:
    # two replications; lots are called in months 2 and 5 and close (awarded or failed) a month later, so
    # counting lots when called would put them in the wrong quarter (and lose month 5's past the end)
    ts = pd.DataFrame({"replication": [0] * 6 + [1] * 6, "month": list(range(6)) * 2,
                       "lots": [0, 0, 4, 0, 0, 3] * 2, "bids": [0, 0, 0, 12, 0, 0, 0, 0, 0, 8, 0, 0],
                       "awards": [0, 0, 0, 4, 0, 0, 0, 0, 0, 3, 0, 0],
                       "failed_competitions": [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]})
    band = C.periodic_bids_per_lot(ts, 3)
    assert band.index.tolist() == [0, 1] and np.isnan(band.loc[0, "pooled"])  # no competition closed in quarter 0
    assert band.loc[1, "pooled"] == pytest.approx(20 / 8)  # all bids ÷ all lots, pooled over replications
    assert band.loc[1, "low"] == pytest.approx(2.0 + 0.05) and band.loc[1, "high"] == pytest.approx(2.95)  # 12/4, 8/4
    assert C.period_months(ts) == 3 and C.period_months(ts.assign(awards=0, failed_competitions=0)) == 12


# -- compare folders ---------------------------------------------------------------------------
def test_compare_writes_every_chart(compare_dir: Path) -> None:
    for name in RUN_CHART_NAMES:
        png, svg = compare_dir / "charts" / f"{name}.png", compare_dir / "charts" / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000, name
        assert b"<svg" in svg.read_bytes()[:2000] and svg.stat().st_size > 10_000, name


def test_compare_chart_series(compare_data: ResultsFolder, compare_charts: dict[str, C.Chart]) -> None:
    policies = compare_data.policies
    assert policies[0] == "baseline" and len(policies) == 5
    bands = compare_data.providers["size_band"].nunique()

    chart = compare_charts["kpi_comparison"]
    axes = visible_axes(chart)
    assert len(axes) == 8
    for ax in axes:
        assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == len(policies) - 1
        assert "Difference from baseline (" in ax.get_xlabel()

    chart = compare_charts["providers_over_time"]
    assert len(visible_axes(chart)) == 1 + bands
    assert all(len(labelled_lines(ax)) == len(policies) for ax in visible_axes(chart))

    chart = compare_charts["survival"]
    left = compare_data.providers[~compare_data.providers["in_market_end"]]["size_band"].nunique()
    assert len(visible_axes(chart)) == left < bands  # a band nobody left (here: major) has no empty panel
    assert "no panel" in chart.caption and "censored" in chart.caption and "Kaplan–Meier" not in chart.title
    assert all(len(labelled_lines(ax)) == len(policies) for ax in visible_axes(chart))

    for name in ("share_value_small", "service_gap"):
        chart = compare_charts[name]
        bars, lines = visible_axes(chart)
        assert sum(isinstance(c, BarContainer) for c in bars.containers) == len(policies)
        assert len(labelled_lines(lines)) == len(policies)

    chart = compare_charts["bids_per_lot"]
    assert len(visible_axes(chart)) == len(policies) - 1
    assert all(len(labelled_lines(ax)) == 2 for ax in visible_axes(chart))

    chart = compare_charts["reserves_end"]
    (ax,) = visible_axes(chart)
    everyone = compare_data.providers  # those who left count too, with their reserves when they left
    assert sum(isinstance(p, PathPatch) for p in ax.patches) == everyone.groupby(["policy", "size_band"]).ngroups
    assert ax.get_yscale() in ("log", "symlog") and "One month of spending" in figure_text(chart)
    assert "when they left" in chart.caption and "Across all policies and bands" in chart.caption

    for ax in visible_axes(compare_charts["kpi_comparison"]):  # which way is better, on every panel
        assert "is better" in ax.get_title(loc="left") or "neither is better" in ax.get_title(loc="left")


def test_compare_charts_follow_house_style(compare_data: ResultsFolder, compare_charts: dict[str, C.Chart]) -> None:
    assert list(compare_charts) == list(RUN_CHART_NAMES)
    for chart in compare_charts.values():
        assert_house_style(chart, compare_data)


def test_compare_html_is_self_contained(compare_dir: Path) -> None:
    html = (compare_dir / "report.html").read_text(encoding="utf-8")
    for name in RUN_CHART_NAMES:
        assert re.search(rf'<figure id="chart-{name}"><img src="data:image/png;base64,[A-Za-z0-9+/=]{{1000,}}"',
                         html), name
    assert html.count("<img ") == len(RUN_CHART_NAMES)
    assert not re.search(r"""\b(?:src|href)\s*=\s*(?!["']?(?:data:|#))""", html, re.IGNORECASE)
    assert "http://" not in html and "https://" not in html and "<link" not in html and "@import" not in html
    assert "Kent youth services DPS" in html and "Pay monthly in arrears" in html
    assert "instead of the baseline" in html and "95% CI" in html
    assert "payment › terms: monthly arrears (baseline: advance)" in html
    for name in RUN_CHART_NAMES:  # each title once: in the image (and its alt text), not again beside it
        title = re.search(rf'<figure id="chart-{name}"><img src="[^"]*" alt="([^"]*)"', html).group(1)
        assert html.count(title) == 1, title
    assert "<h2>Glossary</h2>" in html and "Lot-days" in html and "Herfindahl" in html
    assert html.count("The simulated period ends at its horizon") == 1   # in the notes, not again in the limitations
    table = html[html.index("<h2>Results with 95% confidence intervals"):]
    assert "Pay monthly in arrears: difference (95% CI)" in table and "<br>(" in table
    assert re.search(r'<td class="num (better|worse)">[+−]', table)  # the verdict is marked
    assert '<td class="">£ per user-year</td>' in table or '<td class="">£</td>' in table  # units are not numbers


def test_compare_pdf_pages_and_text(compare_dir: Path, compare_data: ResultsFolder) -> None:
    pages = pdf_text(compare_dir / "report.pdf")
    content = compose(compare_data, [RenderedChart(n, "", "", b"") for n in RUN_CHART_NAMES])
    first_chart = next(i for i, t in enumerate(pages) if t.startswith("Each dot is the average difference"))
    assert 1 <= first_chart <= 3  # title, question, scenario, policies and findings take 1-3 pages
    back = next(i for i, t in enumerate(pages) if t.startswith("Glossary"))
    tables = pages[first_chart + len(RUN_CHART_NAMES):back]  # then the tables (one or more pages each), the glossary
    assert tables[0].startswith("Results with 95% confidence intervals") and len(tables) >= len(content.tables)
    assert "How each policy changes the headline" not in pages[first_chart]  # the title is in the image only
    assert len(pages) - back <= 2 and "Where these numbers come from" in " ".join(pages[back:])  # at the end
    text = " ".join(pages)
    assert "Kent youth services DPS: comparing 5 commissioning policies" in pages[0]
    assert "The question" in pages[0] and "The scenario" in pages[0]
    for sentence in content.findings:
        assert " ".join(sentence.split()[:6]) in text
    for table in content.tables:
        assert table.title in text
    assert "instead of the baseline" in text and "95% CI" in text
    assert "No clear difference" in text or "no clear difference" in text


# -- run folders -------------------------------------------------------------------------------
def test_run_folder_report(tmp_path: Path) -> None:
    """A `run` folder (one policy, no summary.csv): every chart in its one-policy form, both reports.

    The charts are drawn but rendered small, to keep the test quick; saving is tested on compare."""
    from dps_sim.experiment import run

    run(SCENARIO, reps=2, seed=3, workers=1, out=tmp_path / "run")
    data = ResultsFolder.open(tmp_path / "run")
    assert data.kind == "run" and data.policies == ["baseline"] and data.summary is None
    charts = {chart.name: chart for chart in (draw(fn, data) for fn in C.RUN_CHARTS)}
    assert list(charts) == list(RUN_CHART_NAMES)
    for chart in charts.values():
        assert_house_style(chart, data)
    for ax in visible_axes(charts["kpi_comparison"]):
        assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 1
        assert ax.get_xlabel().startswith("Average (")
    bands = data.providers["size_band"].nunique()
    left = data.providers[~data.providers["in_market_end"]]["size_band"].nunique()
    assert len(visible_axes(charts["survival"])) == left  # a panel per income band someone left, one curve each
    assert all(len(labelled_lines(ax)) == 1 for ax in visible_axes(charts["survival"]))
    assert all(len(labelled_lines(ax)) == 1 for ax in visible_axes(charts["providers_over_time"]))
    (ax,) = visible_axes(charts["bids_per_lot"])
    assert len(labelled_lines(ax)) == 1
    (ax,) = visible_axes(charts["reserves_end"])
    assert sum(isinstance(p, PathPatch) for p in ax.patches) == bands

    with house_style():
        rendered = [RenderedChart(c.name, c.title, c.caption, png_bytes(c.fig, dpi=20)) for c in charts.values()]
        content = compose(data, rendered)
        html = render_html(content)
        pages = write_pdf(content, tmp_path / "run" / "report.pdf")
    assert "averages over 2 replications" in html and html.count("data:image/png;base64,") == len(RUN_CHART_NAMES)
    text = pdf_text(tmp_path / "run" / "report.pdf")
    assert len(text) == pages and "results of policy 'Baseline'" in text[0]
    assert "Results of policy 'Baseline' (average over 2 replications)" in " ".join(text)
    assert "Across all bands" in charts["reserves_end"].caption and "polic" not in charts["reserves_end"].caption
    assert len(text[1]) > 300 or text[1].startswith("Each dot")  # no page holding a few stray lines


# -- sweep folders -----------------------------------------------------------------------------
@pytest.fixture
def sweep_charts():
    """The sweep charts (another module; these tests skip until it is present)."""
    return pytest.importorskip("dps_sim.report.sweep_charts")


@pytest.mark.parametrize("method,bars", [("sobol", 2), ("morris", 1), ("lhs", 1)])
def test_sweep_charts(tmp_path: Path, method: str, bars: int, sweep_charts) -> None:
    data = ResultsFolder.open(make_sweep(tmp_path / method, method))
    assert data.kind == "sweep"
    chart = draw(sweep_charts.sensitivity, data)
    axes = visible_axes(chart)
    assert len(axes) == len(SWEEP_KPIS)
    for ax in axes:
        assert sum(isinstance(c, BarContainer) for c in ax.containers) == bars
        assert len(ax.get_yticklabels()) == len(SWEEP_PARAMS) + 1
    assert_house_style(chart, data)
    chart = draw(sweep_charts.sweep_scatter, data)
    assert len(visible_axes(chart)) == len(SWEEP_KPIS) * 3
    assert all(len(ax.collections) == 1 for ax in visible_axes(chart))


def test_sweep_report_overwrites_only_its_own_files(tmp_path: Path, sweep_charts) -> None:
    folder = make_sweep(tmp_path / "sweep", kpis=SWEEP_KPIS[:2])
    (folder / "charts").mkdir()
    (folder / "charts" / "survival.png").write_bytes(b"a stale chart of ours, from an earlier build")
    (folder / "charts" / "sensitivity.png").write_bytes(b"an earlier build")
    (folder / "charts" / "notes.png").write_bytes(b"not ours")
    (folder / "notes.txt").write_text("not ours")
    (folder / "report.html").write_text("an earlier build")
    (folder / "report.pdf").write_bytes(b"an earlier build")
    manifest = json.loads((folder / "manifest.json").read_text())  # the earlier build's files are the tool's
    manifest["files"] = ["report.html", "report.pdf", "charts/survival.png", "charts/sensitivity.png"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    html_path = build_report(folder)
    assert html_path == folder / "report.html"
    assert sorted(p.name for p in (folder / "charts").iterdir()) == [
        "notes.png", "sensitivity.png", "sensitivity.svg", "sweep_scatter.png", "sweep_scatter.svg"]
    assert (folder / "charts" / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    assert (folder / "notes.txt").read_text() == "not ours"
    assert (folder / "charts" / "notes.png").read_bytes() == b"not ours"
    html = html_path.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 2 and "The parameters swept" in html
    assert "the most influential parameter is" in html
    assert not list(folder.glob(".*.tmp")) and not list((folder / "charts").glob(".*.tmp"))
    pages = pdf_text(folder / "report.pdf")
    assert "sensitivity analysis" in pages[0] and len(pages) >= 1 + 2 + 1
    assert "Sensitivity of small-provider insolvencies" in " ".join(pages)


def test_sweep_without_sensitivity_draws_what_is_present(tmp_path: Path, sweep_charts) -> None:
    folder = make_sweep(tmp_path / "partial", sensitivity=False)
    data = ResultsFolder.open(folder)
    assert sweep_charts.sensitivity(data) is None
    chart = draw(sweep_charts.sweep_scatter, data)
    first_row = [ax.get_xlabel() for ax in chart.fig.axes[:3]]
    assert any("late days mean" in label for label in first_row)  # ranked by |Spearman ρ| from the points
    assert set(CHART_NAMES) >= {"sensitivity", "sweep_scatter"}


# -- the browser -------------------------------------------------------------------------------
def _chromium() -> str | None:
    return next((path for name in ("chromium", "chromium-browser", "google-chrome") if (path := shutil.which(name))),
                None)


@pytest.mark.browser
def test_report_renders_in_headless_chromium(compare_dir: Path, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI")
        pytest.skip("no chromium, chromium-browser or google-chrome on PATH (.ci/run installs chromium)")
    url = (compare_dir / "report.html").resolve().as_uri()
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,3000"]
    dom = subprocess.run([*base, "--virtual-time-budget=3000", "--dump-dom", url], capture_output=True, text=True,
                         check=False, timeout=90)
    assert dom.returncode == 0, dom.stderr[-2000:]
    n = len(RUN_CHART_NAMES)
    assert f'data-images-loaded="{n}/{n}"' in dom.stdout  # every <img> decoded with naturalWidth > 0
    widths = [Image.open(compare_dir / "charts" / f"{name}.png").width for name in RUN_CHART_NAMES]
    assert f'data-image-widths="{" ".join(map(str, widths))}"' in dom.stdout  # decoded at their true size
    for name in RUN_CHART_NAMES:
        assert f'id="chart-{name}"' in dom.stdout


# -- drawing in parallel ---------------------------------------------------------------------------
def test_split_gives_every_chart_once_in_report_order() -> None:
    from dps_sim.report.build import split_in_order

    fns = list(C.RUN_CHARTS)
    for n in (0, 1, 2, 3):
        for start, here in ((0.0, 0.0), (1.5, 0.0), (0.0, 0.7), (0.0, 9.0)):
            shares = split_in_order(fns, n, start, here)
            assert [f for s in shares for f in s] == fns  # consecutive runs of the report order, each chart once
            assert len(shares) == min(n + 1, len(fns)) and all(shares)
    first, rest = split_in_order(fns, 1, 0.0, 0.7)
    assert first[0] is C.kpi_comparison and 1 <= len(first) < len(fns) - 1  # the PDF's first chart is drawn here


def test_helper_processes_draw_the_same_charts(compare_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """Charts drawn by a helper process are byte-identical to those drawn here; a helper that fails
    leaves its charts to this process."""
    from dps_sim.report import build, draw

    data = ResultsFolder.open(compare_dir)
    alone = {c.name: c.png for c in build.render_charts(data, workers=1)}
    shared = {c.name: c.png for c in build.render_charts(data, workers=2)}
    assert list(shared) == list(RUN_CHART_NAMES)
    assert_same_charts(shared, alone)
    monkeypatch.setattr(draw, "start_helper", lambda folder, names: draw.Helper(subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.exit(3)"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
    monkeypatch.setattr(build, "start_helper", draw.start_helper)
    with pytest.warns(UserWarning, match="chart helper failed"):
        fallback = {c.name: c.png for c in build.render_charts(data, workers=2)}
    assert_same_charts(fallback, alone)


def test_pixels_kept_for_the_pdf_are_the_png(compare_data: ResultsFolder) -> None:
    """The PDF takes the pixels of a chart drawn here from the canvas instead of decoding its PNG: the same image."""
    import io

    from PIL import Image

    from dps_sim.report import draw

    for chart in draw.draw_and_save(compare_data, [C.service_gap, C.kpi_comparison]):
        decoded = np.asarray(Image.open(io.BytesIO(chart.png)).convert("RGB"))
        assert chart.pixels is not None and np.array_equal(chart.pixels, decoded)


def test_a_helper_draws_the_charts_it_is_given(compare_dir: Path) -> None:
    """The fresh `python -m dps_sim.report.draw` helper draws the named charts, in report order, with the
    captions and PNG files of this process."""
    from dps_sim.report import draw

    names = ["survival", "reserves_end"]
    here = draw.draw_and_save(ResultsFolder.open(compare_dir), [C.survival, C.reserves_end])
    helped = draw.helper_results(draw.start_helper(compare_dir, names), compare_dir)
    assert helped is not None and [c.name for c in helped] == names
    assert [c.caption for c in helped] == [c.caption for c in here]
    assert_same_charts({c.name: c.png for c in helped}, {c.name: c.png for c in here})


def test_a_helper_that_fails_or_hangs_is_reported_at_once(compare_dir: Path) -> None:
    """A helper that exits with an error, or stays silent past its timeout, is a failed helper (its charts
    are then drawn here), and a hung one is killed: a report is never held up for long."""
    from dps_sim.report import draw

    failing = draw.Helper(subprocess.Popen([sys.executable, "-c", "import sys; sys.exit('no charts today')"],
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    with pytest.warns(UserWarning, match="no charts today"):
        assert draw.helper_results(failing, compare_dir) is None
    hung = draw.Helper(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    out, err = hung.communicate(timeout=0.5)
    assert hung.returncode not in (0, None) and "timed out" in err and out == ""


def test_helper_imports_this_dps_sim_whatever_the_working_directory(compare_dir: Path, tmp_path: Path,
                                                                      monkeypatch) -> None:
    """A working directory holding another dps_sim must not change the code the helper runs."""
    import warnings

    from dps_sim.report import build, draw

    (tmp_path / "dps_sim").mkdir()
    (tmp_path / "dps_sim" / "__init__.py").write_text("raise ImportError('the wrong dps_sim')\n")
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a failed helper warns
        charts = build.render_charts(ResultsFolder.open(compare_dir), workers=2)
    assert [c.name for c in charts] == list(RUN_CHART_NAMES)


def test_report_drawn_with_helpers_is_the_report_drawn_alone(compare_dir: Path, tmp_path: Path) -> None:
    """The PDF laid out while a helper still draws (chart pages as their charts come) and the HTML are
    those of one process drawing everything in turn: the same pages, words and charts; byte for byte
    whenever the two drew byte-identical charts (as two fresh processes do; see assert_same_picture)."""
    import hashlib
    import shutil

    folders, charts = {}, {}
    for workers in (1, 2):
        folder = tmp_path / f"w{workers}" / "compare"  # one folder name: the report names its folder
        shutil.copytree(compare_dir, folder)
        build_report(folder, workers=workers)
        folders[workers] = folder
        charts[workers] = {n: (folder / "charts" / f"{n}.png").read_bytes() for n in RUN_CHART_NAMES}
    assert_same_charts(charts[1], charts[2])
    assert pdf_text(folders[1] / "report.pdf") == pdf_text(folders[2] / "report.pdf")
    no_images = [re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", (f / "report.html").read_text())
                 for f in folders.values()]
    assert no_images[0] == no_images[1]
    if charts[1] == charts[2]:
        digests = {w: [hashlib.sha256((f / n).read_bytes()).hexdigest() for n in ("report.pdf", "report.html")]
                   for w, f in folders.items()}
        assert digests[1] == digests[2]


def test_a_helper_that_writes_much_to_stderr_is_not_held_up(compare_dir: Path) -> None:
    """A helper's stderr goes to a file, not a pipe: 1 MB of warnings cannot fill a pipe and stall it."""
    import tempfile

    from dps_sim.report import draw

    errors = tempfile.TemporaryFile()
    noisy = draw.Helper(subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stderr.write('w' * (1 << 20)); print('{\"name\": \"x\", \"skipped\": true}')"],
        stdout=subprocess.PIPE, stderr=errors), errors)
    out, err = noisy.communicate(timeout=30)
    assert noisy.returncode == 0 and out == '{"name": "x", "skipped": true}' and err == ""
    real = draw.start_helper(compare_dir, [])                  # the helpers a report starts write to a file too
    assert real.errors is not None and real.communicate(timeout=60) == ("", "")


def test_a_helper_given_up_on_is_stopped_and_stray_output_is_an_error(compare_dir: Path) -> None:
    """A reader that stops early leaves no helper running; a line that is not the helper's JSON (a library
    printing to stdout) makes the helper a failed one (its charts drawn here), not a failed report."""
    from dps_sim.report import draw

    slow = draw.Helper(subprocess.Popen([sys.executable, "-c", "print('{\"name\": \"a\", \"skipped\": true}', flush=True);"
                                         "import time; time.sleep(60)"], stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    stream = draw.stream_results(slow, compare_dir)
    assert next(stream) == ("a", None)
    stream.close()                                                 # given up on after its first chart
    assert slow.proc.poll() is not None and slow.returncode is not None
    chatty = draw.Helper(subprocess.Popen([sys.executable, "-c", "print('hello'); print('{\"name\": \"a\", \"skipped\": true}')"],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    with pytest.raises(draw.HelperFailed, match="unexpected output"):
        list(draw.stream_results(chatty, compare_dir))
