"""Mini-competition scoring rules and bid cost (dps_sim.model.award and dps_sim.model.tendering).

Every test cites the rule it checks (DESIGN.md "Mini-competitions" and the calibration table).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dps_sim.model.award import price_scores, quality_scores, reach_scores, total_scores, winner
from dps_sim.model.bids import bid_cost
from dps_sim.scenario.schema import Behaviour, Weights

W_40_30_30 = Weights(quality=0.40, reach=0.30, price=0.30)


# --------------------------------------------------------------------------- single criteria


def test_price_score_crown_commercial_service_worked_example() -> None:
    """Crown Commercial Service worked example: price score = lowest ÷ bid × weight, so bids of
    £10k, £15k and £30k score 1, 0.667 and 0.333 of the weight."""
    assert price_scores(np.array([10_000, 15_000, 30_000]), 1.0) == pytest.approx([1.0, 2 / 3, 1 / 3], abs=1e-12)
    assert np.round(price_scores([10_000, 15_000, 30_000], 1.0), 3).tolist() == [1.0, 0.667, 0.333]
    # with the Kent weight of 30%: 0.30, 0.20, 0.10
    assert price_scores([10_000, 15_000, 30_000], 0.30) == pytest.approx([0.30, 0.20, 0.10], abs=1e-12)


def test_price_score_does_not_depend_on_bid_order() -> None:
    """Price score = lowest ÷ bid × weight: the lowest bid is found wherever it stands."""
    assert price_scores([30_000, 10_000, 15_000], 0.3) == pytest.approx([0.1, 0.3, 0.2], abs=1e-12)


def test_linear_price_formula() -> None:
    """Linear price formula (Competitions.price_formula = 'linear'):
    weight × (1 − (bid − lowest) ÷ lowest), floored at 0.
    £10k: 1 − 0 = 1; £15k: 1 − 5/10 = 0.5; £30k: 1 − 20/10 = −1 → 0; £12.5k: 1 − 2.5/10 = 0.75."""
    got = price_scores([10_000, 15_000, 30_000, 12_500], 0.30, formula="linear")
    assert got == pytest.approx([0.30, 0.15, 0.0, 0.225], abs=1e-12)


def test_unknown_price_formula_is_an_error() -> None:
    """Only the two documented price formulas exist."""
    with pytest.raises(ValueError, match="formula"):
        price_scores([1.0, 2.0], 0.3, formula="cheapest_wins")


def test_reach_score_is_reach_over_max_times_weight() -> None:
    """Reach score = bid reach ÷ highest reach × weight (Kent: young people reached, 30%).
    50/200 × 0.3 = 0.075; 100/200 × 0.3 = 0.15; 200/200 × 0.3 = 0.3."""
    assert reach_scores([50, 100, 200], 0.30) == pytest.approx([0.075, 0.15, 0.30], abs=1e-12)


def test_quality_score_is_panel_over_5_times_weight() -> None:
    """Quality score = panel score on the 0-5 scale ÷ 5 × weight (0 non-compliant, 3 satisfactory,
    5 excellent). With weight 0.4: 0 → 0, 3 → 0.24, 4.5 → 0.36, 5 → 0.4."""
    assert quality_scores([0, 3, 4.5, 5], 0.40) == pytest.approx([0.0, 0.24, 0.36, 0.40], abs=1e-12)


# --------------------------------------------------------------------------- award


def test_hand_computed_award_40_30_30() -> None:
    """Kent youth DPS weights quality 40 / reach 30 / price 30; highest total wins.

    bid  price    reach  panel
    A    £50,000  100    4.0
    B    £40,000   80    3.0
    C    £45,000  120    3.5

    price (lowest £40,000): A 40/50 × 0.3 = 0.24;  B 40/40 × 0.3 = 0.30;  C 40/45 × 0.3 = 4/15
    reach (highest 120):    A 100/120 × 0.3 = 0.25; B 80/120 × 0.3 = 0.20; C 120/120 × 0.3 = 0.30
    quality (÷ 5 × 0.4):    A 4.0/5 × 0.4 = 0.32;   B 3.0/5 × 0.4 = 0.24;  C 3.5/5 × 0.4 = 0.28
    totals:                 A 0.81;                  B 0.74;                C 0.58 + 4/15 = 12.7/15 = 0.84666…
    C wins (index 2), although A has the best quality and B the lowest price.
    """
    total, quality = total_scores(np.array([50_000, 40_000, 45_000]), np.array([100, 80, 120]),
                                  np.array([4.0, 3.0, 3.5]), W_40_30_30)
    assert total == pytest.approx([0.81, 0.74, 12.7 / 15], abs=1e-9)
    assert quality == pytest.approx([0.32, 0.24, 0.28], abs=1e-9)
    assert winner(total, quality) == 2


def test_price_60_quality_40_split_changes_the_winner() -> None:
    """The seeds also use a 60 price / 40 quality split (no reach). Same bids as above:
    A 0.6 × 40/50 + 0.32 = 0.80; B 0.6 + 0.24 = 0.84; C 0.6 × 40/45 + 0.28 = 0.81333…: B wins."""
    total, quality = total_scores(np.array([50_000, 40_000, 45_000]), np.array([100, 80, 120]),
                                  np.array([4.0, 3.0, 3.5]), Weights(quality=0.4, reach=0.0, price=0.6))
    assert total == pytest.approx([0.80, 0.84, 0.28 + 0.6 * 40 / 45], abs=1e-9)
    assert winner(total, quality) == 1


def test_tie_goes_to_quality() -> None:
    """Ties go to quality. X: £10k, reach 100, panel 2.5 → 0.30 + 0.30 + 0.20 = 0.80;
    Y: £20k, reach 100, panel 4.375 → 0.15 + 0.30 + 0.35 = 0.80. Equal totals: Y (higher quality) wins,
    although it is second."""
    total, quality = total_scores(np.array([10_000, 20_000]), np.array([100, 100]), np.array([2.5, 4.375]),
                                  W_40_30_30)
    assert total[0] == pytest.approx(0.80, abs=1e-12) and total[1] == pytest.approx(0.80, abs=1e-12)
    assert quality == pytest.approx([0.20, 0.35], abs=1e-12)
    assert winner(total, quality) == 1
    assert winner(np.array([0.8, 0.8, 0.7]), np.array([0.2, 0.35, 0.4])) == 1


def test_full_tie_goes_to_the_first_bid() -> None:
    """Highest total wins, ties to the higher quality score, then to the earlier bid."""
    total, quality = total_scores(np.array([20_000, 20_000, 20_000]), np.array([90, 90, 90]), np.array([3, 3, 3]),
                                  W_40_30_30)
    assert winner(total, quality) == 0
    assert winner(np.array([0.6, 0.7, 0.7]), np.array([0.3, 0.3, 0.3])) == 1


def test_single_bid_scores_full_price_and_reach() -> None:
    """A lone bid is both the lowest price and the highest reach: price and reach weights in full."""
    total, quality = total_scores(np.array([33_000]), np.array([40]), np.array([3.0]), W_40_30_30)
    assert total == pytest.approx([0.3 + 0.3 + 0.24], abs=1e-12)
    assert winner(total, quality) == 0


# --------------------------------------------------------------------------- bid cost


def test_bid_cost_hand_computed() -> None:
    """Bid cost = (bid_hours_fixed + bid_hours_per_page × pages) × (1.5 − skill) × hour_cost.
    Defaults 8 h + 3 h/page, £25/h. 10 pages, skill 0.5: 38 h × 1.0 × £25 = £950;
    skill 0.2: 38 × 1.3 × 25 = £1,235; skill 1.0: 38 × 0.5 × 25 = £475;
    80 pages, skill 0.5: (8 + 240) × 25 = £6,200 (CEBR: about £5,800 a bid)."""
    b = Behaviour()
    assert (b.bid_hours_fixed, b.bid_hours_per_page, b.hour_cost) == (8.0, 3.0, 25.0)
    assert bid_cost(10, np.array([0.5, 0.2, 1.0]), b) == pytest.approx([950.0, 1235.0, 475.0], abs=1e-9)
    assert bid_cost(80, np.array([0.5]), b) == pytest.approx([6200.0], abs=1e-9)
    custom = Behaviour(bid_hours_fixed=4, bid_hours_per_page=2, hour_cost=30)
    # (4 + 2 × 25) × (1.5 − 0.75) × 30 = 54 × 0.75 × 30 = 1215
    assert bid_cost(25, np.array([0.75]), custom) == pytest.approx([1215.0], abs=1e-9)


def test_bid_cost_falls_with_skill_and_rises_with_pages() -> None:
    """Bid cost scales with pages and falls with skill (DESIGN.md: 10 pages versus 80)."""
    b = Behaviour()
    skills = np.linspace(0.0, 1.0, 11)
    by_skill = bid_cost(10, skills, b)
    assert np.all(np.diff(by_skill) < 0)
    by_pages = np.array([bid_cost(p, np.array([0.4]), b)[0] for p in (1, 10, 40, 80)])
    assert np.all(np.diff(by_pages) > 0)


@given(pages=st.floats(0, 200), extra=st.floats(0.5, 100), skill=st.floats(0, 1), better=st.floats(0.01, 1))
def test_bid_cost_monotone_property(pages: float, extra: float, skill: float, better: float) -> None:
    """For any pages and skill: more pages cost more, more skill costs less (strictly, when hours > 0)."""
    b = Behaviour()
    low, high = skill, min(skill + better, 1.0)
    base = bid_cost(pages, np.array([low]), b)[0]
    assert bid_cost(pages + extra, np.array([low]), b)[0] > base
    if high > low:
        assert bid_cost(pages, np.array([high]), b)[0] < base


# --------------------------------------------------------------------------- properties


@st.composite
def bid_sets(draw):
    n = draw(st.integers(1, 8))
    prices = draw(st.lists(st.floats(1_000, 2_000_000), min_size=n, max_size=n))
    reach = draw(st.lists(st.floats(1, 10_000), min_size=n, max_size=n))
    panel = draw(st.lists(st.floats(0, 5), min_size=n, max_size=n))
    raw = draw(st.tuples(*[st.integers(0, 100)] * 3).filter(lambda t: sum(t) > 0))
    q, r, p = (x / sum(raw) for x in raw)
    weights = Weights(quality=q, reach=r, price=1.0 - q - r if 1.0 - q - r >= 0 else 0.0)
    formula = draw(st.sampled_from(["lowest_over_bid", "linear"]))
    return np.array(prices), np.array(reach), np.array(panel), weights, formula


@settings(max_examples=200, deadline=None)
@given(bid_sets())
def test_scoring_properties(bids) -> None:
    """For any valid bid set with weights summing to 1: every total lies in [0, 1]; the winner has the
    highest total (to 9 decimals, as winner() compares them); the cheapest bid gets the full price weight
    (lowest ÷ lowest = 1, and 1 − 0 = 1 for the linear formula); the winner's quality is the best
    among bids tied with it."""
    prices, reach, panel, weights, formula = bids
    total, quality = total_scores(prices, reach, panel, weights, formula)
    assert np.all(total >= -1e-12) and np.all(total <= 1 + 1e-12)
    w = winner(total, quality)
    assert total[w] >= total.max() - 1e-9
    tied = np.round(total, 9) == np.round(total[w], 9)  # winner() compares totals to 9 decimals
    assert quality[w] >= quality[tied].max() - 1e-12
    cheapest = prices == prices.min()
    assert np.all(price_scores(prices, weights.price, formula)[cheapest] == weights.price)
