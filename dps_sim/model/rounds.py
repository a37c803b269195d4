"""A round of competitions as tables: its lots, their bids, and the consortia among them.

Built by :mod:`.tendering` at the call-off, read by :mod:`.award` at the close; one element
per lot and one per bid, so that a whole round is handled by array operations.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass
class Lots:
    """The lots of one round, one element each, in call-off order (new lots, then re-lets)."""

    lot: np.ndarray        # lot number in the run
    need: np.ndarray       # the service need it lets
    key: np.ndarray        # uint64 key of its keyed noise (need and attempt)
    value: np.ndarray      # £/year
    reach: np.ndarray      # target users/year
    district: np.ndarray
    length: np.ndarray     # contract months offered
    start: np.ndarray      # month the contract would start (its budget is earmarked from then)
    incumbent: np.ndarray  # expiry re-let: lead of the expiring contract, else -1
    expiring: np.ndarray   # expiry re-let: the expiring contract, else -1
    freed: np.ndarray      # £/year of the incumbent's capacity the expiring contract frees

    def __len__(self) -> int:
        return len(self.lot)


@dataclass
class Round:
    """A round's lots, its bids and the consortia among them, decided together."""

    lots: Lots
    bids: Bids
    teams: list[Team]


@dataclass
class Bids:
    """A round's bids, one element each, grouped by lot. ``who`` < 0 is consortium ``-1 - who``."""

    at: np.ndarray          # index of the lot in the round's Lots
    who: np.ndarray
    price: np.ndarray       # £/year
    reach: np.ndarray       # users/year promised
    panel: np.ndarray       # assessed quality, 0-5
    valid: np.ndarray
    quality: np.ndarray     # true quality of whoever would deliver
    unit_cost: np.ndarray   # £/user/year
    delivery_z: np.ndarray  # keyed noise of delivery, used if it wins
    lottery_z: np.ndarray   # keyed noise of the grant lottery

    def take(self, sel: np.ndarray) -> Bids:
        """The bids at positions ``sel``, in that order."""
        return Bids(**{f.name: getattr(self, f.name)[sel] for f in fields(self)})


@dataclass
class Team:
    """A consortium bid's members (lead first) and their shares of the work."""

    team: np.ndarray
    shares: np.ndarray                # shares of the work, by stated capability
    pay: np.ndarray | None = None     # shares of the payment: each party's own cost plus the shared margin
    stated: np.ndarray | None = None  # £/year of work each party said it can take on
