"""The audit trail, collected column-wise.

Each event is a row of a few numeric columns held in growing NumPy arrays, never a Python
object per event, so that 10,000 providers bidding every month do not drown a run. The
level of detail is an option: ``all`` (every bid, score and payment), ``awards`` (all but
bids, scores and payments) or ``none``.
"""

from __future__ import annotations

import numpy as np

EVENT_KINDS: tuple[str, ...] = (
    "entry", "application", "admission", "rejection", "call_off", "bid", "score", "award",
    "failed_competition", "contract_start", "payment", "shock", "notice", "termination",
    "handback", "insolvency", "closure", "contract_failure", "contract_end", "extension",
    "bond_call", "winner_fee", "unfunded", "extension_unfunded", "negotiated_award",
    "interim_cover",
)
KIND = {name: i for i, name in enumerate(EVENT_KINDS)}

DETAILED_KINDS = frozenset({KIND["bid"], KIND["score"], KIND["payment"]})
"""Kinds recorded only at level ``all``."""

LEVELS = ("all", "awards", "none")


class EventLog:
    """Append-only columns: day, kind, provider, lot, contract, amount (£), value (score or detail)."""

    _COLUMNS = (("day", np.float64), ("kind", np.int8), ("provider", np.int32), ("lot", np.int32),
                ("contract", np.int32), ("amount", np.float64), ("value", np.float64))

    def __init__(self, level: str = "awards", capacity: int = 1024):
        if level not in LEVELS:
            raise ValueError(f"events level must be one of {LEVELS}, got {level!r}")
        self.level = level
        self._n = 0
        self._cols = {name: np.empty(capacity, dtype) for name, dtype in self._COLUMNS}

    def wants(self, kind: str) -> bool:
        """Whether events of this kind are recorded at the chosen level."""
        if self.level == "none":
            return False
        return self.level == "all" or KIND[kind] not in DETAILED_KINDS

    def _grow(self, extra: int) -> None:
        need = self._n + extra
        size = len(self._cols["day"])
        if need <= size:
            return
        while size < need:
            size *= 2
        for name, col in self._cols.items():
            new = np.empty(size, col.dtype)
            new[: self._n] = col[: self._n]
            self._cols[name] = new

    def add(self, kind: str, day: float, provider: int = -1, lot: int = -1, contract: int = -1,
            amount: float = 0.0, value: float = 0.0) -> None:
        """Record one event (if its kind is wanted)."""
        if not self.wants(kind):
            return
        self._grow(1)
        i = self._n
        c = self._cols
        c["day"][i] = day
        c["kind"][i] = KIND[kind]
        c["provider"][i] = provider
        c["lot"][i] = lot
        c["contract"][i] = contract
        c["amount"][i] = amount
        c["value"][i] = value
        self._n += 1

    def add_many(self, kind: str, day, provider=-1, lot=-1, contract=-1, amount=0.0, value=0.0) -> None:
        """Record a batch of events of one kind; scalars broadcast to the longest column."""
        if not self.wants(kind):
            return
        values = (day, provider, lot, contract, amount, value)
        k = max((len(v) for v in values if isinstance(v, np.ndarray) and v.ndim > 0), default=1)
        if k == 0:
            return
        self._grow(k)
        s = slice(self._n, self._n + k)
        c = self._cols
        for name, v in zip(("day", "provider", "lot", "contract", "amount", "value"), values):
            c[name][s] = v
        c["kind"][s] = KIND[kind]
        self._n += k

    def __len__(self) -> int:
        return self._n

    def columns(self) -> dict[str, np.ndarray]:
        """The recorded events as arrays (copies trimmed to length)."""
        return {name: col[: self._n].copy() for name, col in self._cols.items()}
