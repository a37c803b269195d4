"""The column stores of needs, contracts and parties (state only; the rules are in the rooms).

Three column stores (struct-of-arrays that grow by doubling):

* ``needs`` — a service the council wants delivered in a district from a start month to an
  end month; while no live contract serves it, the days count as a service gap;
* ``contracts`` — one awarded contract: value, length, payment terms, bond, promised reach,
  its monitoring record and how it ended;
* ``parties`` — who delivers each contract and their share (one row; or a consortium lead
  and its members).
"""

from __future__ import annotations

import numpy as np

# contract status
PENDING, LIVE, COMPLETED, FAILED = 0, 1, 2, 3
# how a contract ended early
END_NONE, END_INSOLVENCY, END_TERMINATED, END_HANDBACK = 0, 1, 2, 3
END_CAUSES = ("", "insolvency", "terminated", "handed_back")


class Columns:
    """A growable struct of arrays: ``store.add(**row)`` returns the new row's index."""

    def __init__(self, spec: dict[str, tuple[type, object]], capacity: int = 64):
        self._spec = spec
        self.n = 0
        for name, (dtype, _fill) in spec.items():
            setattr(self, name, np.empty(capacity, dtype))

    def _grow(self, extra: int) -> None:
        size = len(getattr(self, next(iter(self._spec))))
        need = self.n + extra
        if need <= size:
            return
        while size < need:
            size *= 2
        for name in self._spec:
            old = getattr(self, name)
            new = np.empty(size, old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def add(self, **row) -> int:
        """Append one row (missing columns take their default fill) and return its index."""
        unknown = row.keys() - self._spec.keys()
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        self._grow(1)
        i = self.n
        cols = self.__dict__
        for name, (_dtype, fill) in self._spec.items():
            cols[name][i] = row.get(name, fill)
        self.n += 1
        return i

    def add_many(self, count: int, **cols) -> np.ndarray:
        """Append ``count`` rows at once (columns given as arrays or scalars; missing ones take their fill)."""
        unknown = cols.keys() - self._spec.keys()
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        self._grow(count)
        s = slice(self.n, self.n + count)
        d = self.__dict__
        for name, (_dtype, fill) in self._spec.items():
            d[name][s] = cols.get(name, fill)
        self.n += count
        return np.arange(s.start, s.stop)

    def view(self, name: str) -> np.ndarray:
        """The filled part of a column (a view: writes go through)."""
        return getattr(self, name)[: self.n]

    def table(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name)[: self.n].copy() for name in self._spec}


def new_needs() -> Columns:
    return Columns({
        "district": (np.int16, 0),
        "value": (np.float64, 0.0),     # £/year the council budgets for it
        "reach": (np.float64, 0.0),     # target users/year
        "start": (np.int32, 0),         # first month it should be served
        "end": (np.int32, 0),           # month it stops being needed (exclusive)
        "contract": (np.int32, -1),     # live contract serving it, -1 if none
        "attempts": (np.int16, 0),      # competitions run for it
        "failures": (np.int16, 0),      # consecutive competitions with no award
        "gap_days": (np.float64, 0.0),  # days it went unserved
        "last_lead": (np.int32, -1),    # lead of the last contract awarded for it, -1 if none
    })


def new_contracts() -> Columns:
    return Columns({
        "need": (np.int32, -1),
        "lot": (np.int32, -1),
        "lead": (np.int32, -1),
        "consortium": (np.bool_, False),
        "annual_value": (np.float64, 0.0),   # £/year in the first contract year, after cuts
        "original_value": (np.float64, 0.0),
        "start": (np.int32, 0),
        "end": (np.int32, 0),                # exclusive; extended by extensions
        "extensions_used": (np.int16, 0),
        "terms": (np.int8, 0),
        "reach": (np.float64, 0.0),          # promised users/year
        "unit_cost": (np.float64, 0.0),      # delivery cost £/user/year (share-weighted)
        "quality": (np.float64, 0.0),        # true quality of whoever delivers (share-weighted)
        "assessed": (np.float64, 0.0),       # panel quality score at award
        "delivery": (np.float64, 1.0),       # persistent delivered ÷ promised reach
        "bond": (np.float64, 0.0),
        "collateral": (np.float64, 0.0),
        "status": (np.int8, PENDING),
        "end_cause": (np.int8, END_NONE),
        "ended_month": (np.int32, -1),
        "notices": (np.int16, 0),
        "q_delivered": (np.float64, 0.0),    # this review period: users delivered
        "q_promised": (np.float64, 0.0),     # this review period: users promised
        "q_quality": (np.float64, 0.0),      # this review period: sum of monthly quality
        "q_months": (np.int16, 0),
        "acc_invoice": (np.int64, 0),        # pence accrued towards a quarterly invoice
        "acc_results": (np.int64, 0),        # pence accrued towards a results payment
        "acc_results_promised": (np.float64, 0.0),
        "acc_results_delivered": (np.float64, 0.0),
        "users": (np.float64, 0.0),          # users reached so far
        "quality_months": (np.float64, 0.0), # sum of monthly delivered quality
        "months_delivered": (np.int32, 0),
        "invoiced": (np.float64, 0.0),       # £ invoiced so far
        "fee": (np.float64, 0.0),
        "awarded": (np.int32, -1),           # month of the award
        "switched": (np.bool_, False),       # taken over from a different provider (switching cost)
        "interim": (np.bool_, False),        # covers a failed contract's service while it is re-let (F30)
    })


def new_parties() -> Columns:
    return Columns({
        "contract": (np.int32, -1),
        "provider": (np.int32, -1),
        "share": (np.float64, 0.0),          # share of the work
        "pay_share": (np.float64, 0.0),      # share of the payment (a consortium: consortia.members_quote, or pay_shares under 'shared')
        "active": (np.bool_, True),
    })
