"""Building blocks of the scenario schema: field helper, frozen base, bounded number types.

Every number in a scenario is finite (``.inf`` and ``.nan`` are refused) and bounded, so
that what a run needs (organisations, lots, months) is known before it starts. The bounds
are generous limits of what the model is built for, not calibrated values.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

SIZE_BANDS: tuple[str, ...] = ("micro", "small", "medium", "large", "major")
"""UK voluntary-sector income bands, smallest first (NCVO)."""

SMALL_BANDS: tuple[str, ...] = ("micro", "small")
"""Bands counted as "small providers" in the KPIs."""

BAND_INCOME_BOUNDS: dict[str, tuple[float, float]] = {
    "micro": (500.0, 10_000.0),
    "small": (10_000.0, 100_000.0),
    "medium": (100_000.0, 1_000_000.0),
    "large": (1_000_000.0, 10_000_000.0),
    "major": (10_000_000.0, 500_000_000.0),
}
"""Annual income range of each band in £ (NCVO bands; the micro floor and major ceiling are assumptions)."""

MAX_MONEY = 1e10
"""Largest sum of money (£) any field takes: £10bn, above any council's whole budget."""
MAX_MONTH = 600
"""Latest month any field takes (50 years, the longest horizon)."""
MAX_DAYS = 3650
"""Longest delay in days any field takes (ten years)."""


def _f(default, unit: str, description: str, **kw):
    """A field with a default, a unit and a description (shown by `dps-sim schema`)."""
    return Field(default, description=description, json_schema_extra={"unit": unit}, **kw)


class Frozen(BaseModel):
    """Base of every scenario section: unknown keys are errors, values cannot change, numbers are finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


Share = Annotated[float, Field(ge=0.0, le=1.0)]
Money = Annotated[float, Field(ge=0.0, le=MAX_MONEY)]
Month = Annotated[int, Field(ge=0, le=MAX_MONTH)]


class BandValues(Frozen):
    """One number per income band."""

    micro: float = Field(ge=0, le=MAX_MONEY)
    small: float = Field(ge=0, le=MAX_MONEY)
    medium: float = Field(ge=0, le=MAX_MONEY)
    large: float = Field(ge=0, le=MAX_MONEY)
    major: float = Field(ge=0, le=MAX_MONEY)

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(getattr(self, b) for b in SIZE_BANDS)


class BandShares(BandValues):
    """One share (0-1) per income band."""

    micro: Share
    small: Share
    medium: Share
    large: Share
    major: Share


class SizeMix(BandValues):
    """Share of organisations in each income band; must sum to 1 (±0.01)."""

    micro: Share = _f(0.511, "share", "organisations with income under £10k")
    small: Share = _f(0.328, "share", "organisations with income £10k-£100k")
    medium: Share = _f(0.132, "share", "organisations with income £100k-£1m")
    large: Share = _f(0.026, "share", "organisations with income £1m-£10m")
    major: Share = _f(0.003, "share", "organisations with income over £10m")

    @model_validator(mode="after")
    def _sums_to_one(self) -> "SizeMix":
        total = sum(self.as_tuple())
        if abs(total - 1.0) > 0.01:
            raise ValueError(f"size_mix shares must sum to 1 (they sum to {total:.3f})")
        return self


class LogNormal(Frozen):
    """A lognormal distribution given by its median and log-scale sigma."""

    median: float = Field(gt=0, le=MAX_MONEY, description="median of the distribution, in the field's unit")
    sigma: float = Field(0.5, ge=0, le=3, description="standard deviation of the natural log")
