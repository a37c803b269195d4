"""Shocks a scenario may schedule or draw at random: payment delays, funding cuts, cost
inflation, grant loss, demand surges, and uncertain external funding behind extensions."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from .fields import MAX_DAYS, MAX_MONTH, Frozen, Share, _f


class _ShockBase(Frozen):
    probability_per_year: Share | None = _f(None, "1/year", "random shock: chance it starts in any year instead of at a fixed month")


class PaymentDelay(_ShockBase):
    """Commissioner pays late for a while."""

    type: Literal["payment_delay"]
    start_month: int = _f(0, "month", "first month of the delay", ge=0, le=MAX_MONTH)
    months: int = _f(6, "months", "how long it lasts", ge=1, le=MAX_MONTH)
    extra_days: float = _f(60.0, "days", "extra days added to every payment", ge=0, le=MAX_DAYS)


class FundingCut(_ShockBase):
    """The commissioner's budget falls: live contracts and future lots lose value."""

    type: Literal["funding_cut"]
    month: int = _f(0, "month", "month the cut applies", ge=0, le=MAX_MONTH)
    fraction: Share = _f(0.2, "share", "share of value cut")
    applies_to: Literal["all", "lots", "contracts"] = _f("all", "", "cut future lots, live contracts, or both")
    scope_reduction: Share = _f(0.5, "share of the cut", "live contracts: share of the cut matched by a cut in the reach the provider must deliver (renegotiated scope); the rest is absorbed by the provider; assumption")


class CostInflation(_ShockBase):
    """Costs rise (e.g. a wage rise) while contract prices stay fixed."""

    type: Literal["cost_inflation"]
    month: int = _f(0, "month", "month the rise applies", ge=0, le=MAX_MONTH)
    fraction: float = _f(0.05, "share", "rise in providers' costs", ge=0, le=2)


class GrantLoss(_ShockBase):
    """A share of providers lose part of their other income."""

    type: Literal["grant_loss"]
    month: int = _f(0, "month", "month of the loss", ge=0, le=MAX_MONTH)
    share_of_providers: Share = _f(0.2, "share", "share of providers affected")
    fraction: Share = _f(0.3, "share", "share of their other income lost")


class DemandSurge(_ShockBase):
    """More service users need the service: lots and targets grow."""

    type: Literal["demand_surge"]
    month: int = _f(0, "month", "month the surge starts", ge=0, le=MAX_MONTH)
    months: int = _f(6, "months", "how long it lasts", ge=1, le=MAX_MONTH)
    fraction: float = _f(0.3, "share", "rise in lot value and target reach", ge=0, le=5)


class FundingUncertainty(Frozen):
    """External funding behind extensions may not be renewed (Bromley DV/VAWG)."""

    type: Literal["funding_uncertainty"]
    renewal_probability: Share = _f(0.7, "share", "chance each year's external funding is renewed; if not, the contract ends at the next extension point")


Shock = Annotated[
    Union[PaymentDelay, FundingCut, CostInflation, GrantLoss, DemandSurge, FundingUncertainty],
    Field(discriminator="type"),
]


