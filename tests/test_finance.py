"""Finance rules against hand-computed ledgers.

One provider, one lot, every source of randomness switched off: the award, the price and
the cash path month by month follow from the rules, so each expected figure below is
computed by hand from the scenario's numbers, not copied from a run.
"""

from __future__ import annotations

import numpy as np
import pytest

from dps_sim import metrics
from dps_sim.model import finance as fin
from dps_sim.model import simulate
from dps_sim.scenario import Scenario

MD = 365.25 / 12

INCOME = 120_000.0          # £/year other income (medium band)
V = 60_000.0                # £/year lot value
UNIT_COST = 400.0           # £/user/year
MARGIN = 0.0                # full-cost providers price at full cost plus max(margin, 0); overheads are 0 here
AMBITION = 1.05             # skill 0.5 -> 1.05 + 0.15 * (0.5 - 0.5)
APPLICATION_COST = (8 + 3 * 10) * (1.5 - 0.5) * 25   # hours x (1.5 - skill) x £/hour = £950
BID_COST = APPLICATION_COST                          # 10 pages too: £950
# reach: capacity (£/year, 1.5 x income) and the budget both cap the price; ambition caps the users promised
REACH = min(min(INCOME * 1.5, V) / (UNIT_COST * (1 + MARGIN)), V / UNIT_COST * AMBITION)
PRICE = REACH * UNIT_COST * (1 + MARGIN)             # = V: the budget binds
MONTHLY_COST = REACH * UNIT_COST / 12                # delivery cost per month
MONTHLY_VALUE = PRICE / 12
START, END = 2, 14                                   # award closes in month 1, contract starts month 2, 12 months


def one_provider(terms: str = "advance", reserves: float = 2.0, threshold: float | None = None, **extra) -> Scenario:
    """A degenerate market: one medium organisation, one lot, no randomness."""
    data = {
        "name": "one provider",
        "seed": 1,
        "horizon_months": 18,
        "market": {
            "districts": 1, "providers": 1, "entry_per_year": 0,
            "size_mix": {"micro": 0, "small": 0, "medium": 1, "large": 0, "major": 0},
            "private_share": 0.0,
            "mean_income": {"micro": 2800, "small": 35000, "medium": INCOME, "large": 2.77e6, "major": 3.5e7},
            "income_sigma": 0, "income_volatility": 0,
            "income_shock_sd": {"micro": 0, "small": 0, "medium": 0, "large": 0, "major": 0},
            "reserves_months": {"median": reserves, "sigma": 0},
            "county_wide_share": {"micro": 1, "small": 1, "medium": 1, "large": 1, "major": 1},
            "quality": {"median": 3.2, "sigma": 0},
            "bid_skill": {"micro": 0.5, "small": 0.5, "medium": 0.5, "large": 0.5, "major": 0.5},
            "bid_skill_sd": 0,
            "cost_per_user": {"median": UNIT_COST, "sigma": 0},
        },
        "procurement": {
            "admission": {"pass_score": 0, "apply_probability": 1, "questionnaire_pages": 10},
            "competitions": {"first_round_month": 1, "first_round_lots": 1, "lots_per_round": 0,
                             "lot_value": {"median": V, "sigma": 0}, "cost_per_user_target": UNIT_COST,
                             "tender_days": 30, "document_pages": 10},
        },
        "contracts": {"length_months": 12, "payment": {"terms": terms, "period_days": 30, "late_days_mean": 0,
                                                       "results_share": 0.2},
                      "performance_bond": {"threshold": threshold, "fraction": 0.1, "premium_rate": 0.02}},
        "behaviour": {"lot_interest": 1, "appetite_sd": 0, "ambition_sd": 0, "delivery_sd": 0,
                      "delivery_monthly_sd": 0, "quality_monthly_sd": 0, "evaluator_noise": 0, "margin_mean": 0,
                      "margin_sd": 0, "bid_risk_sd": 0},
        "finance": {"full_cost_share": 1.0, "overhead_rate": 0.0},
    }
    for dotted, value in extra.items():
        node = data
        keys = dotted.split("__")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return Scenario.model_validate(data)


def hand_ledger(terms: str, reserves: float = 2.0, months: int = 18) -> np.ndarray:
    """Cash at the end of each month, from the payment rules written out by hand.

    Other income is steady (£10,000 a month); each month the trustees re-plan spending by the
    rule of :func:`finance.planned_spending` (reserves target 3 months, 4 months to adjust,
    12 to rebuild) from the month's average cash: end cash, less the part of the month's
    payment not yet in on an average day (arrears arrive on day 30 of the month, advance on
    day 0), less half the month's spread flows. Cash stays positive, so no interest is due.
    """
    cash = np.zeros(months)
    base = INCOME / 12
    c, spend = reserves * base, base
    delivery = 0.75 + 0.07 * 3.2                      # delivered / promised reach (quality 3.2)
    late = 0.0 if terms == "advance" else 30 / MD    # share of the month gone when the payment arrives
    for m in range(months):
        live = START <= m < END
        cost = MONTHLY_COST if live else 0.0
        got = 0.0
        if terms == "advance" and live:
            got = MONTHLY_VALUE                       # paid on the first day of the month it covers
        if terms == "monthly_arrears" and START < m <= END:
            got = MONTHLY_VALUE                       # invoiced at month end, paid 30 days later: next month
        if terms == "quarterly_arrears" and m in (START + 3, START + 6, START + 9, START + 12):
            got = 3 * MONTHLY_VALUE                   # quarter invoiced at its end, paid the month after
        if terms == "payment_by_results":
            if START < m <= END:
                got += 0.8 * MONTHLY_VALUE            # 80% monthly in arrears
            if m in (START + 3, START + 6, START + 9, START + 12):
                got += 0.2 * 3 * MONTHLY_VALUE * delivery  # 20% on results, quarterly in arrears
        c += got - cost + base - spend                # payments, delivery, other income less planned spending
        average = c - got * late - (base - spend - cost) / 2
        assert average > 0
        spend = fin.planned_spending(spend, base, average, 3.0, 4.0, 12.0)
        if m == 0:
            c -= APPLICATION_COST
        if m == 1:
            c -= BID_COST
        cash[m] = c
    return cash


def test_price_is_the_budget_and_reach_fits_it():
    """Bid rule: reach up to capacity and ambition, priced at cost plus margin, never above the budget."""
    out = simulate(one_provider(), np.random.SeedSequence(1))
    c = out.contracts
    assert len(c["lead"]) == 1
    assert c["annual_value"][0] == pytest.approx(V)
    assert c["reach"][0] == pytest.approx(REACH)
    assert (c["start"][0], c["end"][0]) == (START, END)


@pytest.mark.parametrize("terms", ["advance", "monthly_arrears", "quarterly_arrears", "payment_by_results"])
def test_cash_path_matches_hand_ledger(terms):
    """The month-by-month cash of the provider equals the hand-computed ledger for each payment term."""
    out = simulate(one_provider(terms), np.random.SeedSequence(1))
    expected = hand_ledger(terms)
    np.testing.assert_allclose(out.timeseries["cash_total"], expected, atol=0.01)
    # everything invoiced was paid, and arrived in the provider's ledger
    assert out.ledger["paid_pence"] == out.ledger["provider_receipts_pence"] == out.ledger["invoiced_pence"]


def test_arrears_need_working_capital_advance_does_not():
    """Paid in advance the month's payment is in hand; in arrears the provider carries a month of cost."""
    adv = hand_ledger("advance")
    arr = hand_ledger("monthly_arrears")
    assert arr[START] - adv[START] == pytest.approx(-MONTHLY_VALUE)   # same spending plan, a month's payment not yet in


def test_arrears_stretch_creditors_month_after_month_until_insolvency():
    """Thin reserves under arrears: delivery costs are carried by paying bills late, at interest, until creditors act.

    With 0.3 months of reserves (£3,000), after £950 + £950 of bids each £5,000 month of
    delivery is paid for by the council at the end of the next month (30 days after the
    month-end invoice): the provider's average cash stays below zero and it owes its creditors
    (Late Payment Act interest at 8.5% a year) while the trustees cut spending. Debts of
    £750 or more (the petition minimum) for three months in a row (months 3, 4, 5) are
    insolvency (Insolvency Act 1986 s.123); creditors who wait six months see it recover.
    """
    reserves = 0.3
    assert reserves * INCOME / 12 - APPLICATION_COST - BID_COST - MONTHLY_COST < 0
    out = simulate(one_provider("monthly_arrears", reserves=reserves), np.random.SeedSequence(1))
    assert out.providers.exit_month[0] == START + 3
    assert out.counters["insolvencies"] == 1
    assert out.counters["contract_failures"] == 1
    assert out.flows["late_payment_interest"][0] < 0
    assert out.flows["overdraft_interest"][0] == 0
    patient = simulate(one_provider("monthly_arrears", reserves=reserves, finance__creditor_months=6),
                       np.random.SeedSequence(1))
    assert patient.counters["insolvencies"] == 0
    assert patient.providers.cash[0] > 0
    ok = simulate(one_provider("advance", reserves=reserves), np.random.SeedSequence(1))
    assert ok.counters["insolvencies"] == 0
    assert ok.flows["late_payment_interest"][0] == 0


def test_overdraft_carries_the_gap_at_overdraft_interest():
    """An overdraft of one month of spending (£10,000) carries the gap: overdraft interest, no late bills."""
    out = simulate(one_provider("monthly_arrears", reserves=0.3, finance__overdraft_months=1.0),
                   np.random.SeedSequence(1))
    assert out.counters["insolvencies"] == 0
    assert out.flows["overdraft_interest"][0] < 0
    assert out.flows["late_payment_interest"][0] == 0


def test_bond_premium_and_collateral():
    """A bond of 10% of annual value locks £6,000 of cash and costs 2% a year (£120, paid a year in advance)."""
    bond = 0.1 * V
    premium = 0.02 * bond / 12
    out = simulate(one_provider("advance", threshold=50_000), np.random.SeedSequence(1))
    assert out.contracts["bond"][0] == pytest.approx(bond)
    assert out.flows["collateral_locked"][0] == pytest.approx(-bond)
    assert out.flows["collateral_released"][0] == pytest.approx(bond)     # released when the contract completes
    assert out.flows["bond_premiums"][0] == pytest.approx(-premium * (END - START))
    assert out.flows["bond_fees"][0] == pytest.approx(-2_500.0)             # arrangement fee, paid at award
    assert out.timeseries["collateral_total"][START] == pytest.approx(bond)
    assert out.timeseries["collateral_total"][END] == pytest.approx(0.0)


def test_bond_called_when_the_provider_fails():
    """Insolvency with a bond: the bond is called (the council recovers it) and the collateral is lost.

    Creditors act after one month here: in the first month of delivery the average day still
    has cash (costs are spread over the month); in the second, with the first payment arriving
    only at its end, the provider cannot pay its bills and is insolvent.
    """
    bond = 0.1 * V
    reserves = (APPLICATION_COST + BID_COST + bond + 2_500.0 + 0.5 * MONTHLY_COST) / (INCOME / 12)
    out = simulate(one_provider("monthly_arrears", reserves=reserves, threshold=50_000, finance__creditor_months=1,
                                contracts__performance_bond__arrangement_fee=2_500.0),
                   np.random.SeedSequence(1))
    assert out.providers.exit_month[0] == START + 1
    assert out.ledger["bond_calls"] == pytest.approx(bond)
    # the council is paid the bond, all of it from the forfeited collateral (collateral_share 1)
    assert out.ledger["bond_received_pence"] == round(bond * 100)
    assert out.ledger["bond_collateral_pence"] == round(bond * 100) and out.ledger["bond_liability_pence"] == 0


def test_called_bond_charges_the_uncollateralised_part():
    """The surety pays the council the whole bond and recovers the part not covered by collateral from the
    provider (counter-indemnity): collateral + liability = bond, to the penny (finance.bond_call)."""
    assert fin.bond_call(6_000.0, 1_500.0) == (150_000, 450_000)
    assert fin.bond_call(6_000.0, 6_000.0) == (600_000, 0)
    assert sum(fin.bond_call(210_000.0, 52_500.0)) == 21_000_000


def test_bond_costs_are_priced_and_counted():
    """Fee plus premium over the contract (£2,500 + 2% × £6,000 × 3 years); the price load spreads it per year."""
    assert fin.bond_costs(np.array([6_000.0]), 0.02, 2_500.0, np.array([36]))[0] == pytest.approx(2_860.0)
    assert fin.bond_costs(np.array([0.0]), 0.02, 2_500.0, np.array([36]))[0] == 0.0
    load = fin.bond_price_load(np.array([6_000.0]), np.array([60_000.0]), 0.02, 2_500.0, np.array([36]))[0]
    assert load == pytest.approx((120.0 + 2_500.0 / 3) / 60_000.0)


def test_bond_threshold_rule():
    """Bond required at or above the threshold (£200k, seed 000), never when the threshold is null."""
    values = np.array([199_999.0, 200_000.0, 2_100_000.0])
    np.testing.assert_allclose(fin.bond_amount(values, 200_000, 0.1), [0.0, 20_000.0, 210_000.0])
    np.testing.assert_allclose(fin.bond_amount(values, None, 0.1), 0.0)
    np.testing.assert_allclose(fin.bond_amount(values, 200_000, 0.1, waived=True), 0.0)


def test_payment_days():
    """Arrears are paid period_days after the month-end invoice (PCR 2015 reg 113: 30 days); advance on day one."""
    assert fin.invoice_day(3, fin.ADVANCE) == pytest.approx(3 * MD)
    assert fin.invoice_day(3, fin.MONTHLY_ARREARS) == pytest.approx(4 * MD)
    paid = fin.payment_day(np.array([4 * MD]), fin.MONTHLY_ARREARS, 30, np.array([0.0]))
    assert fin.month_of(paid)[0] == 4
    late = fin.payment_day(np.array([4 * MD]), fin.MONTHLY_ARREARS, 30, np.array([65.0]))  # slowest council, FPB
    assert fin.month_of(late)[0] == 7


def test_taper():
    """Value tapering 10% a year: year 1 full, year 2 90%, year 3 81%."""
    np.testing.assert_allclose(fin.taper_factor(np.array([0, 11, 12, 24]), 0.1), [1.0, 1.0, 0.9, 0.81])


def test_cost_per_user_is_accrued_not_cash_paid():
    """Paying in arrears moves the last payment past the horizon; it does not make the service cheaper.

    Contract runs months 2-13 (12 months of PRICE / 12) inside a 14-month horizon: in arrears the
    last month is paid in month 14, after the horizon, so cash paid differs but cost per user does not.
    """
    kp = {}
    for terms in ("advance", "monthly_arrears"):
        out = simulate(one_provider(terms, horizon_months=14), np.random.SeedSequence(1))
        kp[terms] = metrics.kpis(out)
    assert kp["advance"]["commissioner_spend"] == pytest.approx(PRICE)
    assert kp["monthly_arrears"]["commissioner_spend"] == pytest.approx(PRICE * 11 / 12)
    assert kp["advance"]["service_users_reached"] == pytest.approx(kp["monthly_arrears"]["service_users_reached"])
    assert kp["advance"]["cost_per_user"] == pytest.approx(kp["monthly_arrears"]["cost_per_user"])
    assert kp["advance"]["cost_per_user"] == pytest.approx(PRICE / kp["advance"]["service_users_reached"])
