"""Rule sets change what happens where the law differs (docs/model.md, submodel 4, "Rule sets").

Each test cites the provision: PCR 2015 reg 34 and reg 2 (10 working days, not counting
weekends and bank holidays), reg 57(8)(g) and 57(11) (exclusion after a termination, three
years; none under PCR 2006 Part B), Procurement Act 2023 s. 39 (fees to suppliers), and the
NHS Provider Selection Regime 2023 direct award process C (a satisfactory incumbent).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from dps_sim import metrics
from dps_sim.model import procurement as proc
from dps_sim.model import simulate
from dps_sim.model.audit import KIND
from dps_sim.model.calendar import working_days_later
from dps_sim.model.stores import END_TERMINATED
from dps_sim.scenario import Scenario, load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _market(**extra) -> dict:
    data = {"name": "rules", "horizon_months": 48, "seed": 4,
            "market": {"providers": 150, "districts": 3, "entry_per_year": 12},
            "procurement": {"competitions": {"lots_per_round": 2, "retender_on_expiry": True,
                                             "lot_value": {"median": 60000, "sigma": 0.5}}},
            "contracts": {"length_months": 12},
            "behaviour": {"lot_interest": 0.5}}
    data.update(extra)
    return data


def test_ten_working_days_skip_christmas_and_new_year():
    """PCR 2015 reg 34(3), reg 2: a request on Saturday 21 December 2013 is decided on Thursday 9 January 2014.

    Counting starts on Monday 23 December: 24 Dec, 27 Dec, 30 Dec, 31 Dec, 2, 3, 6, 7, 8, 9 Jan
    are the ten working days (25, 26 December and 1 January are bank holidays).
    """
    start = dt.date(2013, 12, 16)
    got = working_days_later(start, np.array([5.0, 5.5]), 10, 365)
    expected = (dt.date(2014, 1, 9) - start).days
    np.testing.assert_allclose(got, [expected, expected + 0.5])
    plain = working_days_later(dt.date(2014, 3, 3), np.array([0.0]), 10, 365)   # a March fortnight
    assert plain[0] == 14


def test_admission_decisions_in_a_run_fall_ten_working_days_after_the_request():
    sc = Scenario.model_validate(_market(start_date="2013-12-01"))
    out = simulate(sc, np.random.SeedSequence(2), "all")
    ev = out.events
    apps = ev["kind"] == KIND["application"]
    decided = (ev["kind"] == KIND["admission"]) | (ev["kind"] == KIND["rejection"])
    first = {}
    for who, day in zip(ev["provider"][apps], ev["day"][apps]):
        first.setdefault(int(who), []).append(float(day))
    checked = 0
    for who, day in zip(ev["provider"][decided], ev["day"][decided]):
        submitted = [d for d in first[int(who)] if d < day]
        assert working_days_later(sc.start_date, np.array([max(submitted)]), 10, 4 * 365)[0] == pytest.approx(day)
        checked += 1
    assert checked > 20


def test_a_fee_is_charged_under_the_procurement_act_and_refused_under_pcr2015():
    """PA 2023 s. 39 allows a fee on suppliers awarded contracts; PCR 2015 reg 34 allows none."""
    fee = {"route": "dps", "winner_fee_rate": 0.01,
           "competitions": {"lots_per_round": 2, "retender_on_expiry": True, "lot_value": {"median": 60000, "sigma": 0.5}}}
    out = simulate(Scenario.model_validate(_market(rules="pa2023", procurement=fee)), np.random.SeedSequence(2), "none")
    assert out.ledger["fees"] > 0
    with pytest.raises(Exception, match="fees to suppliers are not allowed under pcr2015"):
        Scenario.model_validate(_market(rules="pcr2015", procurement=fee))


@pytest.mark.parametrize("rules, months", [("pcr2015", 36), ("pa2023", 36), ("pcr2006", 0), ("psr2023", 36)])
def test_exclusion_after_a_termination_is_what_the_regime_allows(rules, months):
    """PCR 2015 reg 57(8)(g), 57(11): up to three years; PCR 2006 Part B services had no such ground."""
    sc = Scenario.model_validate(_market(rules=rules))
    assert proc.exclusion_months(sc) == months


def _rewins_within(out, months: int) -> int:
    """Contracts led by an organisation within ``months`` of one of its contracts being terminated."""
    C = out.contracts
    n = 0
    for c in np.flatnonzero(C["end_cause"] == END_TERMINATED):
        after = (C["awarded"] >= C["ended_month"][c]) & (C["awarded"] < C["ended_month"][c] + months)
        n += int((after & (C["lead"] == C["lead"][c])).sum())
    return n


def test_terminated_providers_win_again_at_once_only_under_pcr2006():
    """With no exclusion ground (PCR 2006 Part B) a terminated lead may win again before three years are out."""
    harsh = {"contracts": {"length_months": 12, "monitoring": {"notices_before_termination": 1, "min_quality": 3.3}}}
    rewins = {}
    for rules in ("pcr2015", "pcr2006"):
        out = simulate(Scenario.model_validate(_market(rules=rules, **harsh)), np.random.SeedSequence(6), "none")
        assert out.counters["terminations"] > 5
        rewins[rules] = _rewins_within(out, 36)
        assert metrics.rewins_while_excluded(out) == 0     # never while excluded, under either
    assert rewins["pcr2015"] == 0
    assert rewins["pcr2006"] > 0


def test_the_provider_selection_regime_reawards_satisfactory_incumbents():
    """PSR 2023 direct award process C: at its end a satisfactory contract goes to its holder again, uncompeted."""
    runs = {rules: simulate(Scenario.model_validate(_market(rules=rules)), np.random.SeedSequence(3), "all")
            for rules in ("pcr2015", "psr2023")}
    extended = {r: int((o.events["kind"] == KIND["extension"]).sum()) for r, o in runs.items()}
    assert extended["pcr2015"] == 0 and extended["psr2023"] > 10
    # fewer services go back out to competition
    assert runs["psr2023"].counters["lots"] < runs["pcr2015"].counters["lots"]


def test_kent_runs_under_the_regime_of_2013():
    sc = load_scenario(SCENARIOS / "kent_youth_dps.yaml")
    assert sc.rules == "pcr2006" and sc.start_date == dt.date(2013, 1, 1)
