"""The provider population: organisations in UK voluntary-sector income bands.

All provider state lives in NumPy arrays (one element per organisation, including those
that will only arrive later), so the monthly cash step advances every provider at once.
Initial organisations and entrants are drawn from the ``population`` stream in a fixed
order and entry months from the ``entry`` stream, so every policy meets the same market.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
import numpy as np
from scipy.special import ndtr, ndtri

from ..scenario.schema import BAND_INCOME_BOUNDS, SIZE_BANDS, SMALL_BANDS, Scenario
from .funding import stationary_sd
from .streams import keyed_normals, keyed_uniforms

FUTURE, ACTIVE, EXITED = 0, 1, 2
"""Provider status codes."""

EXIT_NONE, EXIT_INSOLVENT, EXIT_CLOSED = 0, 1, 2
EXIT_CAUSES = ("", "insolvent", "closed")

SMALL_BAND_CODES = tuple(SIZE_BANDS.index(b) for b in SMALL_BANDS)


@dataclass
class Providers:
    """Every organisation's attributes and state, one array element each."""

    band: np.ndarray            # int8 index into SIZE_BANDS
    private: np.ndarray         # bool: private company rather than VCSE
    county_wide: np.ndarray     # bool: serves every district
    district: np.ndarray        # int16 home district
    income: np.ndarray          # £/year from other sources (grants, donations, trading)
    quality: np.ndarray         # true delivery quality, 0-5
    skill: np.ndarray           # bid-writing skill, 0-1 (changes with learning)
    skill_initial: np.ndarray
    trained: np.ndarray         # bool: has had bid-writing training (its submissions show its true quality more closely)
    consortium_member: np.ndarray  # bool: ever a party to a consortium contract (lead or member)
    cost_per_user: np.ndarray   # £ per user per year
    capacity: np.ndarray        # £/year of contract work it can deliver
    full_cost: np.ndarray       # bool: prices cover full cost
    reserves_initial: np.ndarray  # months of spending held at entry
    entry_month: np.ndarray     # int32, 0 for organisations present at the start
    cash: np.ndarray            # £ free cash
    collateral: np.ndarray      # £ locked as bond collateral
    status: np.ndarray          # int8 FUTURE / ACTIVE / EXITED
    admitted: np.ndarray        # bool: on the DPS / framework
    admitted_month: np.ndarray  # int32, -1 if never
    applying: np.ndarray        # bool: an application is being evaluated
    next_apply_day: np.ndarray  # float: earliest day it may (re)apply
    exit_month: np.ndarray      # int32, -1 while in the market
    exit_cause: np.ndarray      # int8 EXIT_*
    committed: np.ndarray       # £/year of live contract work
    income_factor: np.ndarray   # multiplier on other income (grant loss shocks)
    bids: np.ndarray            # int32 bids made
    wins: np.ndarray            # int32 contracts won
    value_won: np.ndarray       # £ total value of contracts won (its share)
    bid_cost_paid: np.ndarray   # £ spent on bids and applications
    receipts_pence: np.ndarray  # int64: commissioner payments received (incl. as consortium lead)
    scale: np.ndarray           # £/month spending at entry (other income / 12): the unit of credit lines and reserves
    spending: np.ndarray        # £/month spending the trustees currently plan (adapts to income over months)
    expected_income: np.ndarray  # £/month other income the trustees expect (an average of recent months)
    income_shift: np.ndarray    # log change of other income since entry (funders won and lost)
    arrears_months: np.ndarray  # int16: months in a row it has been stretching creditors beyond its credit line
    owed_creditors: np.ndarray  # £ owed to creditors beyond the credit line last month (average over the month)
    bid_risk: np.ndarray        # months of spending below its credit line it will go to pay for a bid
    in_hand: np.ndarray         # £ it can count on when deciding: the month's average cash, less what it spent since

    @property
    def n(self) -> int:
        return len(self.band)

    def is_small(self) -> np.ndarray:
        return np.isin(self.band, SMALL_BAND_CODES)

    def columns(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _beta(rng: np.random.Generator, mean: np.ndarray, sd: float) -> np.ndarray:
    """Beta draws with the given means and standard deviation (sd 0: the means themselves)."""
    mean = np.clip(mean, 0.02, 0.98)
    concentration = np.maximum(mean * (1 - mean) / max(sd, 1e-9) ** 2 - 1.0, 0.5)
    draws = rng.beta(mean * concentration, (1 - mean) * concentration)
    return draws if sd > 0 else mean.astype(float)


def _lognormal_median(rng: np.random.Generator, median: float, sigma: float, size: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(size))


def draw_organisations(scenario: Scenario, rng: np.random.Generator, count: int, entrants: bool = False) -> dict[str, np.ndarray]:
    """Attributes of ``count`` organisations drawn from the scenario's market.

    Income within a band is lognormal with the band's mean and clipped to the band's
    bounds; bid-writing skill is drawn independently of delivery quality (seed 003 ¶14:
    "good at youth work but poor at writing bids").
    """
    m = scenario.market
    mix = np.array(m.size_mix.as_tuple())
    band = rng.choice(len(SIZE_BANDS), size=count, p=mix / mix.sum()).astype(np.int8)
    means = np.array(m.mean_income.as_tuple())[band]
    sigma = m.income_sigma
    income = means * np.exp(sigma * rng.standard_normal(count) - sigma**2 / 2)
    lo = np.array([BAND_INCOME_BOUNDS[b][0] for b in SIZE_BANDS])[band]
    hi = np.array([BAND_INCOME_BOUNDS[b][1] for b in SIZE_BANDS])[band]
    income = np.clip(income, lo, hi)
    private = rng.random(count) < m.private_share
    county_wide = rng.random(count) < np.array(m.county_wide_share.as_tuple())[band]
    district = rng.integers(0, m.districts, size=count).astype(np.int16)
    quality = np.clip(_lognormal_median(rng, m.quality.median, m.quality.sigma, count), 1.0, 5.0)
    skill = _beta(rng, np.array(m.bid_skill.as_tuple())[band], m.bid_skill_sd)
    cost = _lognormal_median(rng, m.cost_per_user.median, m.cost_per_user.sigma, count)
    capacity = m.capacity_multiple * income
    full_cost = rng.random(count) < scenario.finance.full_cost_share
    reserves = _lognormal_median(rng, m.reserves_months.median, m.reserves_months.sigma, count)
    if entrants:
        reserves = reserves * m.entrant_reserves_factor
    return dict(band=band, private=private, county_wide=county_wide, district=district, income=income,
                quality=quality, skill=skill, cost_per_user=cost, capacity=capacity, full_cost=full_cost,
                reserves_initial=reserves)


def entry_months(scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Arrival month of each entrant over the horizon (Poisson arrivals each month)."""
    rate = scenario.market.entry_per_year / 12.0
    counts = rng.poisson(rate, size=scenario.horizon_months)
    months = np.repeat(np.arange(scenario.horizon_months), counts)
    return months[months > 0].astype(np.int32)


def build_population(scenario: Scenario, pop_rng: np.random.Generator, entry_rng: np.random.Generator) -> Providers:
    """Initial organisations followed by every entrant of the horizon."""
    arrivals = entry_months(scenario, entry_rng)
    first = draw_organisations(scenario, pop_rng, scenario.market.providers)
    later = draw_organisations(scenario, pop_rng, len(arrivals), entrants=True)
    attrs = {k: np.concatenate([first[k], later[k]]) for k in first}
    n = len(attrs["band"])
    entry = np.concatenate([np.zeros(scenario.market.providers, np.int32), arrivals])
    trained = trained_organisations(attrs["band"], scenario.support.bid_training)
    status = np.where(entry == 0, ACTIVE, FUTURE).astype(np.int8)
    return Providers(
        **attrs,
        skill_initial=attrs["skill"].copy(),
        trained=trained,
        consortium_member=np.zeros(n, bool),
        entry_month=entry,
        cash=attrs["reserves_initial"] * attrs["income"] / 12.0,
        collateral=np.zeros(n),
        status=status,
        admitted=np.zeros(n, bool),
        admitted_month=np.full(n, -1, np.int32),
        applying=np.zeros(n, bool),
        next_apply_day=np.zeros(n),
        exit_month=np.full(n, -1, np.int32),
        exit_cause=np.zeros(n, np.int8),
        committed=np.zeros(n),
        income_factor=np.ones(n),
        bids=np.zeros(n, np.int32),
        wins=np.zeros(n, np.int32),
        value_won=np.zeros(n),
        bid_cost_paid=np.zeros(n),
        receipts_pence=np.zeros(n, np.int64),
        scale=attrs["income"] / 12.0,
        spending=attrs["income"] / 12.0,
        expected_income=attrs["income"] / 12.0,
        income_shift=np.zeros(n),
        arrears_months=np.zeros(n, np.int16),
        owed_creditors=np.zeros(n),
        bid_risk=np.zeros(n),
        in_hand=np.zeros(n),
    )


def trained_organisations(band: np.ndarray, training: bool) -> np.ndarray:
    """Who bid-writing training reaches: micro and small organisations, entrants too (seed 003 ¶8, ¶11)."""
    return np.isin(band, SMALL_BAND_CODES) & bool(training)


def settle_finances(P: Providers, scenario: Scenario, key: int) -> None:
    """Where each organisation stands at entry: its risk appetite for bids, and its funding cycle.

    Organisations present at the start are established: their persistent income change is
    drawn from its long-run spread (keeping those already below the point where trustees
    would wind up out of the market); entrants start at the income they were founded on.
    Spending starts at income and cash at its reserves in months of it. Keyed by organisation
    slot, so every policy meets the same organisations.
    """
    n, s = P.n, scenario
    idx = np.arange(n)
    P.bid_risk[:] = s.behaviour.bid_risk_sd * keyed_normals(key, idx, (0,))[0]
    sd = stationary_sd(np.array(s.market.income_shock_sd.as_tuple())[P.band], s.market.income_reversion_years)
    low = ndtr((np.log(s.finance.viable_share) + 0.05) / np.maximum(sd, 1e-12))
    u = keyed_uniforms(key, idx, (1,))[0]
    shift = ndtri(low + (1.0 - low) * u) * sd
    P.income_shift[:] = np.where(P.entry_month == 0, np.nan_to_num(shift), 0.0)
    P.expected_income[:] = P.spending[:] = P.scale * np.exp(P.income_shift)
    P.cash[:] = P.reserves_initial * P.spending
    P.in_hand[:] = P.cash
