"""Rules of a charity's finances (docs/model.md, "Cash, credit and insolvency"), each with its source.

Plain functions checked against hand-computed numbers, and two hand-made markets: a grant-loss
shock that must not touch organisations entering after it, and a contract failing mid-quarter
whose work is still paid in a final account.
"""

from __future__ import annotations

import numpy as np
import pytest

from dps_sim.model import finance as fin
from dps_sim.model import simulate
from dps_sim.model.funding import expected_income_step, income_shift_step, stationary_sd
from dps_sim.model.payments import book_arrival
from dps_sim.scenario import Scenario

MD = fin.MONTH_DAYS


def test_average_cash_moves_a_day_at_a_time():
    """Payments dated to the day: £3,044 a day late moves the month's average cash by about £100, not £3,044."""
    sched, late = np.zeros((3, 1), np.int64), np.zeros((3, 1))
    book_arrival(sched, late, np.array([MD + 10.0]), np.array([0]), np.array([304_400]))
    on_time = fin.average_cash(np.array([0.0]), late[1] / 100, np.array([0.0]))
    sched2, late2 = np.zeros((3, 1), np.int64), np.zeros((3, 1))
    book_arrival(sched2, late2, np.array([MD + 11.0]), np.array([0]), np.array([304_400]))
    a_day_late = fin.average_cash(np.array([0.0]), late2[1] / 100, np.array([0.0]))
    assert sched[1, 0] == sched2[1, 0] == 304_400          # the same month either way
    assert on_time[0] - a_day_late[0] == pytest.approx(3044 / MD, rel=1e-9)


def test_average_cash_spreads_the_month_evenly():
    """Spending spread over the month: ending at £0 after £1,000 of net outflow, the average day held £500."""
    assert fin.average_cash(np.array([0.0]), np.array([0.0]), np.array([-1000.0]))[0] == pytest.approx(500.0)


def test_credit_line_first_then_creditors():
    """Average cash of −£1,500 with a £1,000 overdraft: £1,000 drawn, £500 owed to creditors."""
    used, owed = fin.credit_use(np.array([-1500.0, 200.0]), np.array([1000.0, 1000.0]))
    np.testing.assert_allclose(used, [1000.0, 0.0])
    np.testing.assert_allclose(owed, [500.0, 0.0])
    od, late = fin.finance_costs(used, owed, 0.07, 0.085)
    np.testing.assert_allclose(od, [1000 * 0.07 / 12, 0.0])
    np.testing.assert_allclose(late, [500 * 0.085 / 12, 0.0])   # Late Payment Act: 8% over a 0.5% Bank Rate


def test_insolvency_is_sustained_or_beyond_what_creditors_will_wait_for():
    """Insolvency Act 1986 s.123: three months in a row in arrears, or owing more than a month of spending at once."""
    scale = np.array([10_000.0] * 3)
    got = fin.insolvent(np.array([2, 3, 0]), np.array([5_000.0, 5_000.0, 10_001.0]), scale, 3, 1.0)
    np.testing.assert_array_equal(got, [False, True, True])
    assert not fin.in_arrears(np.array([749.0]), 750.0)[0]      # below the £750 petition minimum
    assert fin.in_arrears(np.array([750.0]), 750.0)[0]


def test_trustees_cut_then_rebase():
    """Income halves for good: spending falls over months to the new income, and reserves are rebuilt."""
    spend, expected, cash = 1000.0, 1000.0, 3000.0
    path = []
    for _ in range(60):
        income = 500.0
        cash += income - spend
        expected = expected_income_step(expected, income, 6.0)
        spend = float(fin.planned_spending(np.array(spend), np.array(expected), np.array(cash), 3.0, 4.0, 12.0))
        path.append((spend, cash))
    assert path[2][0] > 700                     # not cut at once: notice periods
    assert path[-1][0] == pytest.approx(500.0, rel=0.05)   # rebased to the new income
    assert path[-1][1] == pytest.approx(3 * path[-1][0], rel=0.15)   # reserves back near 3 months of spending


def test_income_changes_fade_with_their_half_life():
    """Ornstein-Uhlenbeck: with no new shocks a change halves over its half-life; the long-run spread is finite."""
    shift = np.array([1.0])
    for _ in range(36):
        shift = income_shift_step(shift, np.zeros(1), np.array([0.3]), 3.0)
    assert shift[0] == pytest.approx(0.5)
    rng = np.random.default_rng(1)
    x = np.zeros(20_000)
    for _ in range(600):
        x = income_shift_step(x, rng.standard_normal(x.size), np.full(x.size, 0.3), 3.0)
    assert x.std() == pytest.approx(stationary_sd(np.array(0.3), 3.0), rel=0.05)


def _market(**extra) -> Scenario:
    data = {"name": "hand-made", "horizon_months": 36, "seed": 4,
            "market": {"providers": 200, "districts": 2, "entry_per_year": 40},
            "procurement": {"competitions": {"lots_per_round": 1}}}
    data.update(extra)
    return Scenario.model_validate(data)


def test_grant_loss_changes_nobody_who_enters_after_it():
    """A grant-loss shock at month 12 hits a share of organisations in the market then, never later entrants."""
    shock = [{"type": "grant_loss", "month": 12, "share_of_providers": 1.0, "fraction": 0.5}]
    out = simulate(_market(shocks=shock), np.random.SeedSequence(3), "none")
    P = out.providers
    later = P.entry_month > 12
    there = (P.entry_month <= 12) & ((P.exit_month < 0) | (P.exit_month >= 12))
    assert later.sum() > 10 and there.sum() > 100
    np.testing.assert_array_equal(P.income_factor[later], 1.0)
    np.testing.assert_allclose(P.income_factor[there], 0.5)
    quiet = simulate(_market(), np.random.SeedSequence(3), "none")
    np.testing.assert_array_equal(quiet.providers.entry_month, P.entry_month)   # the same entrants either way


def test_quarterly_work_is_paid_when_the_contract_fails():
    """A provider failing mid-quarter: its delivered work is invoiced in a final account, nothing is lost."""
    data = dict(contracts={"payment": {"terms": "quarterly_arrears"}},
                market={"providers": 200, "districts": 2, "entry_per_year": 10, "reserves_months": {"median": 0.2, "sigma": 1.0}},
                finance={"creditor_months": 1})
    out = simulate(_market(**data), np.random.SeedSequence(8), "none")
    led = out.ledger
    failed = out.contracts["end_cause"] > 0
    assert failed.any()
    assert led["earned_pence"] == led["invoiced_pence"] + led["accrued_pence"] + led["abated_pence"] + led["written_off_pence"]
    assert led["written_off_pence"] == 0 and led["abated_pence"] == 0   # nothing forfeited without results payments
