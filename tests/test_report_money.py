"""Honest money in the report (issue 13): payments made beside what is still owed and the value delivered,
no policy read as a saving because payment moved past the end or less service was delivered, and the
scenario's caveats and the model's known limitations in report.html and report.pdf."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dps_sim.report import build_report
from dps_sim.report.caveats import MODEL_LIMITATIONS, caveat_paragraphs, header_comments, scenario_caveats
from dps_sim.report.content import compose, findings
from dps_sim.report.data import ResultsFolder, kpi_summary
from dps_sim.report.money import money_sentence
from dps_sim.report.text import is_clear

ROOT = Path(__file__).resolve().parents[1]
KENT = ROOT / "scenarios" / "kent_youth_dps.yaml"


@pytest.fixture(scope="module")
def kent(tmp_path_factory: pytest.TempPathFactory) -> ResultsFolder:
    """A Kent compare with few replications (its report is built by the test that needs it)."""
    from dps_sim.experiment import compare

    out = tmp_path_factory.mktemp("money") / "kent"
    compare(KENT, reps=6, workers=1, out=out)
    return ResultsFolder.open(out)


@pytest.fixture(scope="module")
def kent_unnegotiated(tmp_path_factory: pytest.TempPathFactory) -> ResultsFolder:
    """The same compare with failed re-runs left unserved (``negotiate_failed`` off): there the 80-page
    policy's failed competitions leave services unserved, so it clearly pays less for less service. With
    negotiation on, the council lets most of those lots by single tender and pays no less."""
    from dps_sim.experiment import compare
    from dps_sim.scenario import load_scenario, with_overrides

    sc = with_overrides(load_scenario(KENT), {"procurement.competitions.negotiate_failed": False})
    out = tmp_path_factory.mktemp("money") / "kent_unnegotiated"
    compare(sc, reps=6, workers=1, out=out)
    return ResultsFolder.open(out)


def _rows(data: ResultsFolder, policy: str) -> dict[str, dict]:
    s = kpi_summary(data)
    return {str(r["kpi"]): r for r in s[s["policy"] == policy].to_dict("records")}


def _sentence(data: ResultsFolder, policy: str) -> str:
    label = policy.replace("_", " ").lower()
    hits = [f for f in findings(data, kpi_summary(data), True) if f.lower().startswith(label)]
    assert len(hits) == 1
    return hits[0]


def _lower(row: dict) -> bool:
    return is_clear(row) and row["diff"] < 0


def _higher(row: dict) -> bool:
    return is_clear(row) and row["diff"] > 0


def test_arrears_lower_spend_reads_as_payment_delayed_not_a_saving(kent: ResultsFolder) -> None:
    rows = _rows(kent, "pay_monthly_in_arrears")
    # what makes the test meaningful: paying in arrears pays clearly less within the period and owes clearly more
    assert _lower(rows["commissioner_spend"]) and _higher(rows["outstanding_payments"])
    text = _sentence(kent, "pay_monthly_in_arrears")
    assert "payments made over 5 years lower by" in text and "still owed to providers at the end higher by" in text
    assert "payment delayed past the end of the period, not a saving" in text
    if not _lower(rows["spend_and_owed"]):
        assert "Counting what is still owed at the end, the council pays no less" in text


def test_80_pages_lower_spend_reads_as_less_service_not_a_saving(kent_unnegotiated: ResultsFolder) -> None:
    kent = kent_unnegotiated
    rows = _rows(kent, "tender_documents_80_pages")
    assert _lower(rows["commissioner_spend"]) and _lower(rows["value_delivered"])
    assert _higher(rows["service_gap_days"]) and _lower(rows["service_users_reached"])
    text = _sentence(kent, "tender_documents_80_pages")
    money = text[text.index("Money under"):]
    assert "The lower spending buys less service (" in money and "): it is not a saving." in money
    assert "more lot-days without a needed service" in money and "fewer user-years of service reached" in money


def test_no_kent_policy_reads_as_a_saving_from_delay_or_less_service(kent: ResultsFolder) -> None:
    for policy in kent.policies[1:]:
        rows, text = _rows(kent, policy), _sentence(kent, policy)
        assert "Money under" in text
        cheaper = _lower(rows["commissioner_spend"]) or _lower(rows["spend_and_owed"])
        delayed = _lower(rows["commissioner_spend"]) and _higher(rows["outstanding_payments"])
        less = (_lower(rows["value_delivered"]) or _lower(rows["service_users_reached"])
                or _higher(rows["service_gap_days"]))
        if cheaper and (delayed or less):
            assert "not a saving" in text or "Less service was delivered too" in text, policy
        if "pays less with no clear loss" in text:  # the one reading as a saving: only when nothing got worse
            assert cheaper and not delayed and not less
        assert "saving" not in text.replace("not a saving", ""), policy


def _row(kpi: str, diff: float, lo: float, hi: float) -> dict:
    return {"kpi": kpi, "diff": diff, "diff_ci_low": lo, "diff_ci_high": hi}


def test_money_sentence_cases() -> None:
    same = lambda k: _row(k, 1.0, -5.0, 7.0)  # noqa: E731
    delayed = {"commissioner_spend": _row("commissioner_spend", -200e3, -250e3, -150e3),
               "outstanding_payments": _row("outstanding_payments", 200e3, 190e3, 210e3),
               "spend_and_owed": same("spend_and_owed"), "value_delivered": same("value_delivered")}
    text = money_sentence("Pay later", delayed, 60)
    assert "the council pays no less: the lower spending is payment delayed" in text and "buys less" not in text
    partly = {**delayed, "spend_and_owed": _row("spend_and_owed", -50e3, -60e3, -40e3)}
    assert "Part of the lower spending is payment delayed" in money_sentence("Pay later", partly, 60)
    saving = {"commissioner_spend": _row("commissioner_spend", -100e3, -120e3, -80e3),
              "outstanding_payments": _row("outstanding_payments", 0.0, 0.0, 0.0),
              "value_delivered": same("value_delivered"), "service_gap_days": same("service_gap_days")}
    text = money_sentence("Cheaper", saving, 60)
    assert "pays less with no clear loss of the service delivered" in text and "still owed" not in text
    fewer = {**saving, "service_users_reached": _row("service_users_reached", -300.0, -400.0, -200.0)}
    text = money_sentence("Cheaper", fewer, 60)
    assert "buys less service (300 fewer user-years of service reached over 5 years): it is not a saving" in text
    assert money_sentence("No money", {"bids_per_lot": same("bids_per_lot")}) is None


def test_results_table_puts_what_is_owed_and_delivered_beside_payments(kent: ResultsFolder) -> None:
    content = compose(kent, [])
    labels = [row[0] for row in content.tables[0].rows]
    i = labels.index("Payments made (not what is still owed)")
    assert labels[i:i + 3] == ["Payments made (not what is still owed)", "Still owed to providers at the end",
                               "Paid plus still owed at the end"]
    assert "Value of the service delivered (paid or owed)" in labels
    assert "Value of service per user-year reached" in labels
    units = {row[0]: row[1] for row in content.tables[0].rows}
    assert units["Value of service per user-year reached"] == "£ per user-year"


def test_caveats_come_from_the_scenario_header() -> None:
    comments = header_comments("# Title\n#\n# Facts: F1\n#\n# Assumptions (not in the seeds):\n#   - one\n"
                               "#     wrapped\n#   - Caution: two\nname: x\n# not the header\n")
    assert caveat_paragraphs(comments) == ["Assumptions (not in the seeds):", "one wrapped", "Caution: two"]
    assert caveat_paragraphs(header_comments("# Facts only\nname: x\n")) == []


def test_a_changed_scenario_file_is_said_to_be_changed(kent: ResultsFolder, tmp_path: Path) -> None:
    assert scenario_caveats(kent)[0].startswith("Assumptions (not in the seeds; sweep them): 12 districts")
    copy = tmp_path / "kent.yaml"
    copy.write_text(KENT.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    changed = ResultsFolder(kent.folder, {**kent.manifest, "scenario_file": str(copy)})
    assert "has changed since these results were produced" in scenario_caveats(changed)[0]
    missing = ResultsFolder(kent.folder, {**kent.manifest, "scenario_file": str(tmp_path / "gone.yaml")})
    assert scenario_caveats(missing) == []


def test_limitations_summarise_the_model_documentation() -> None:
    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    section = text[text.index("# Known limitations"):]
    section = section[:section.index("**Fixed in")] if "**Fixed in" in section else section
    for title, _ in MODEL_LIMITATIONS:
        assert re.search(r"\*\*" + re.escape(title), section), title


def test_caveats_limitations_and_money_reach_html_and_pdf(kent: ResultsFolder) -> None:
    from pypdf import PdfReader

    html = build_report(kent.folder, workers=1).read_text(encoding="utf-8")
    pdf = " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(kent.folder / "report.pdf").pages)
    for text in (html, pdf):
        assert "Caveats of this scenario (from its file)" in text and "Known limitations of the model" in text
        assert "12 districts" in text and "counts user-years of service" in text
        assert "Still owed to providers at the end" in text and "not a saving" in text
