"""The council's budget: lots are let only within the envelope, and every pound committed is tracked.

The commissioner holds an annual budget (``budget.annual``, changed year by year by
``budget.year_factors``: its medium-term financial plan, known in advance). Commitments are
kept month by month: a contract commits its monthly value (with any taper) for every month
it runs. At a call-off a lot is let only if, in every month of the contract it offers, what
is already committed plus the lot's budget fits the month's share of that year's envelope;
lots are considered in a fixed order (re-lets of existing services first, then new needs,
each by need number), so listing them in another order changes nothing. The lot's budget is
earmarked until the tender closes, then the contract's price is committed instead. A
contract that fails, or is cut, releases what it no longer needs; an extension is taken
only if it can be funded. Money owed on live contracts is never cut: a lower envelope in a
later year means fewer lots let, not fewer payments.

Without an envelope (``annual: null``) every lot is funded and nothing here changes a run.
"""

from __future__ import annotations

import numpy as np


SPARE_YEARS = 30
"""Years of commitments kept beyond the horizon (contracts and extensions run past it)."""


def taper_factor(contract_month: np.ndarray, taper_per_year: float) -> np.ndarray:
    """Share of the first year's value paid in a contract month when value tapers each year."""
    year = np.asarray(contract_month) // 12
    return (1.0 - taper_per_year) ** year


def envelope(annual: float | None, year_factors: tuple[float, ...], months: int) -> np.ndarray | None:
    """The budget of each month (£): a twelfth of its year's envelope; None without a budget."""
    if annual is None:
        return None
    years = np.arange(months) // 12
    factors = np.asarray(year_factors if year_factors else (1.0,), dtype=float)
    return annual * factors[np.minimum(years, len(factors) - 1)] / 12.0


def schedule(start: int, length: int, annual_value: float, taper: float, first_contract_month: int = 0
             ) -> tuple[np.ndarray, np.ndarray]:
    """The months a contract runs from ``start`` for ``length`` months and its value in each (£)."""
    months = start + np.arange(max(length, 0))
    cm = first_contract_month + np.arange(max(length, 0))
    return months, annual_value / 12.0 * taper_factor(cm, taper)


class Book:
    """Commitments by month against the envelope (one per replication)."""

    def __init__(self, env: np.ndarray | None, horizon: int):
        self.env = None if env is None else np.concatenate([env, np.full(SPARE_YEARS * 12, env[-1])])
        self.used = np.zeros(horizon + SPARE_YEARS * 12)
        self.horizon = horizon

    @property
    def active(self) -> bool:
        return self.env is not None

    def fits(self, months: np.ndarray, amounts: np.ndarray) -> bool:
        """Whether these monthly amounts fit on top of what is committed (always, without a budget)."""
        if self.env is None or len(months) == 0:
            return True
        m = np.minimum(months, len(self.used) - 1)
        return bool((self.used[m] + amounts <= self.env[m] * (1 + 1e-12) + 1e-6).all())

    def commit(self, months: np.ndarray, amounts: np.ndarray) -> None:
        np.add.at(self.used, np.minimum(months, len(self.used) - 1), amounts)

    def release(self, months: np.ndarray, amounts: np.ndarray) -> None:
        np.add.at(self.used, np.minimum(months, len(self.used) - 1), -amounts)

    def total(self) -> float:
        """The envelope over the horizon (£; NaN without a budget)."""
        return float(self.env[: self.horizon].sum()) if self.env is not None else float("nan")


def fund_lots(book: Book, needs: list[int], starts: np.ndarray, lengths: np.ndarray, values: np.ndarray,
              relet: np.ndarray, taper: float) -> np.ndarray:
    """Which of a round's lots can be let within the budget; earmarks the budget of those that can.

    Order-free: re-lets first, then new needs, each by need number, whatever the listing.
    """
    ok = np.ones(len(needs), bool)
    if not book.active:
        return ok
    order = np.lexsort((np.asarray(needs), ~np.asarray(relet, bool)))
    for i in order.tolist():
        months, amounts = schedule(int(starts[i]), int(lengths[i]), float(values[i]), taper)
        if book.fits(months, amounts):
            book.commit(months, amounts)
        else:
            ok[i] = False
    return ok
