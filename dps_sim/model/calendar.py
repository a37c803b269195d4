"""The calendar: model days as dates, and working days that skip weekends and England's bank holidays.

The model's clock runs in days from the scenario's ``start_date``. PCR 2015 reg 34 gives a
contracting authority 10 working days (15 if justified) to decide a request to join a DPS;
"working day" excludes weekends and bank holidays in England and Wales (reg 2). The bank
holidays come from the ``holidays`` package (subdivision ENG), which keeps the substitute
days and one-off holidays (jubilees, state funerals) of each year.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
import numpy as np


@lru_cache(maxsize=32)
def bank_holidays(first_year: int, last_year: int) -> np.ndarray:
    """England's bank holidays from ``first_year`` to ``last_year`` (numpy dates)."""
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.array(sorted(days), dtype="datetime64[D]")


def working_days_later(start: dt.date, days: np.ndarray, working_days: int, horizon_days: float) -> np.ndarray:
    """Model day on which ``working_days`` working days have passed since each model day in ``days``.

    A request made on a weekend or holiday starts counting on the next working day. Fractions
    of a day are kept (the decision falls at the same time of day).
    """
    days = np.asarray(days, dtype=float)
    if working_days <= 0 or len(days) == 0:
        return days.copy()
    origin = np.datetime64(start, "D")
    years = (start.year, start.year + int(horizon_days // 365) + 2)
    whole = np.floor(days).astype(np.int64)
    dates = origin + whole.astype("timedelta64[D]")
    due = np.busday_offset(dates, working_days, roll="forward", holidays=bank_holidays(*years))
    return days + (due - dates).astype(np.int64)
