"""How big one replication of a scenario is, known before it runs: organisations, months, lots
and roughly how much memory it needs.

The memory figure is a rough upper estimate fitted to measured peaks (peak resident memory
of ``simulate`` above the loaded interpreter, events "all"): about 5 MB, plus 400 bytes per
organisation, 9 bytes per organisation-month of state, and 30 bytes per organisation per
lot called in a round (the lots × candidates table of a round). Measured on the Kent
scenario: 310 organisations over 60 months, 4 MB; 3,240 over 240 months, 12 MB; 200,012
over 12 months, 78 MB; 51,000 over 600 months, 258 MB. A scenario whose estimate exceeds
:data:`MAX_BYTES_PER_REPLICATION` is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES_PER_REPLICATION = 4_000_000_000
"""Largest estimated memory of one replication (4 GB)."""


@dataclass(frozen=True)
class Size:
    """The size of one replication."""

    organisations: int
    months: int
    largest_round: int
    bytes: int

    def describe(self) -> str:
        return (f"up to {self.organisations:,} organisations over {self.months} months, rounds of up to "
                f"{self.largest_round} lots, about {human_bytes(self.bytes)} of memory per replication")


def estimate(providers: int, entry_per_year: float, horizon_months: int, lots_per_round: int,
             first_round_lots: int | None) -> Size:
    """The size of one replication from the numbers that drive it."""
    organisations = int(providers + entry_per_year * horizon_months / 12 * 1.2 + 10)  # Poisson entry: margin
    largest = max(lots_per_round, first_round_lots or 0)
    total = 5_000_000 + 400 * organisations + 9 * organisations * horizon_months + 30 * organisations * largest
    return Size(organisations, horizon_months, largest, int(total))


def human_bytes(n: float) -> str:
    """'12 MB', '3.1 GB'."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit in ("bytes", "kB", "MB") or n >= 10 else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
