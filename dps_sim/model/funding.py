"""Other income: grants, donations and trading, and the funders an organisation wins and loses.

An organisation's other income moves persistently (a funder lost, a new grant won) and fades
back as lost funders are replaced: the log change since entry follows an Ornstein-Uhlenbeck
process with a yearly spread by income band and a half-life (``market.income_shock_sd``,
``market.income_reversion_years``), on top of month-to-month noise. Trustees judge what they
can spend from an average of recent months.
"""

from __future__ import annotations

import numpy as np


def income_shift_step(shift: np.ndarray, z: np.ndarray, sd_year: np.ndarray, half_life_years: float) -> np.ndarray:
    """Persistent change in other income (log): funders lost and won, fading as they are replaced.

    An Ornstein-Uhlenbeck step of one month: the change decays with the given half-life and a
    fresh shock of ``sd_year / sqrt(12)`` is added.
    """
    phi = 2.0 ** (-1.0 / (12.0 * half_life_years))
    return shift * phi + np.asarray(sd_year) / np.sqrt(12.0) * z


def stationary_sd(sd_year: np.ndarray, half_life_years: float) -> np.ndarray:
    """Long-run spread of the persistent income change (where an established organisation may be)."""
    phi = 2.0 ** (-1.0 / (12.0 * half_life_years))
    return np.asarray(sd_year) / np.sqrt(12.0) / np.sqrt(1.0 - phi**2)


def expected_income_step(expected: np.ndarray, income: np.ndarray, memory_months: float) -> np.ndarray:
    """Trustees' view of monthly income: an exponential average over about ``memory_months``."""
    return expected + (income - expected) / memory_months


