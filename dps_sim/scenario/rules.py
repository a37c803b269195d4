"""Named timing rule sets: PCR 2015, the Procurement Act 2023 and a light-touch regime.

A rule set fixes the limits the law puts on a procurement: how long the council may take
to decide an application, the shortest tender window, whether suppliers can be charged a
fee. A scenario that breaks its rule set is invalid (the error names the key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic_core import PydanticCustomError

if TYPE_CHECKING:
    from .schema import Scenario


@dataclass(frozen=True)
class RuleSet:
    """Legal limits of one procurement regime."""

    name: str
    max_evaluation_working_days: int | None
    min_tender_days: int
    fees_allowed: bool
    max_turnover_multiple: float | None
    source: str


RULE_SETS: dict[str, RuleSet] = {
    "pcr2015": RuleSet(
        "pcr2015", 15, 10, False, 2.0,
        "Public Contracts Regulations 2015 reg 34: requests to participate evaluated within 10 working days "
        "(15 if justified); call-off time limit at least 10 days; no fees charged to suppliers; "
        "reg 58: minimum yearly turnover at most twice the contract value.",
    ),
    "pa2023": RuleSet(
        "pa2023", None, 10, True, None,
        "Procurement Act 2023 ss. 34-39 (dynamic markets): admission within a reasonable period; "
        "fees may be charged to suppliers awarded contracts; competitive tendering period taken as 10 days.",
    ),
    "light_touch": RuleSet(
        "light_touch", None, 0, False, None,
        "Light-touch regime for social and other specific services: no statutory minimum periods.",
    ),
}


def check_rules(scenario: "Scenario") -> None:
    """Raise a validation error naming the key if the scenario breaks its rule set."""
    rules = RULE_SETS[scenario.rules]
    proc = scenario.procurement
    if rules.max_evaluation_working_days is not None and proc.admission.evaluation_working_days > rules.max_evaluation_working_days:
        raise PydanticCustomError(
            "rules",
            "{value} exceeds the {rules} maximum of {limit} working days",
            {"path": "procurement.admission.evaluation_working_days", "value": proc.admission.evaluation_working_days, "rules": rules.name, "limit": rules.max_evaluation_working_days},
        )
    if proc.competitions.tender_days < rules.min_tender_days:
        raise PydanticCustomError(
            "rules",
            "{value} is shorter than the {rules} minimum of {limit} days",
            {"path": "procurement.competitions.tender_days", "value": proc.competitions.tender_days, "rules": rules.name, "limit": rules.min_tender_days},
        )
    multiple = proc.admission.min_turnover_multiple
    if rules.max_turnover_multiple is not None and multiple > rules.max_turnover_multiple:
        raise PydanticCustomError(
            "rules",
            "a turnover requirement of {value} times the contract value exceeds the {rules} cap of {limit} (reg 58)",
            {"path": "procurement.admission.min_turnover_multiple", "value": multiple, "rules": rules.name,
             "limit": rules.max_turnover_multiple},
        )
    if proc.winner_fee_rate > 0 and not rules.fees_allowed:
        raise PydanticCustomError(
            "rules",
            "fees to suppliers are not allowed under {rules} (only pa2023)",
            {"path": "procurement.winner_fee_rate", "rules": rules.name},
        )
