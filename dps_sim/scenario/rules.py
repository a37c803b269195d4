"""Named timing rule sets: PCR 2015, the Procurement Act 2023 and a light-touch regime.

A rule set fixes the limits the law puts on a procurement: how long the council may take
to decide an application, the shortest tender window, whether suppliers can be charged a
fee. A scenario that breaks its rule set is invalid (the error names the key).

This module is plain data and checks on plain numbers: it imports nothing from the schema,
which calls :func:`rule_breaches` from its validator.
"""

from __future__ import annotations

from dataclasses import dataclass


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


Breach = tuple[str, str, dict]
"""(dotted key path, message template, template values) of one broken rule."""


def rule_breaches(rules: str, evaluation_working_days: int, tender_days: int, min_turnover_multiple: float,
                  winner_fee_rate: float) -> list[Breach]:
    """Every way the given procurement values break the named rule set (empty: none)."""
    r = RULE_SETS[rules]
    out: list[Breach] = []
    if r.max_evaluation_working_days is not None and evaluation_working_days > r.max_evaluation_working_days:
        out.append(("procurement.admission.evaluation_working_days",
                    "{value} exceeds the {rules} maximum of {limit} working days",
                    {"value": evaluation_working_days, "rules": r.name, "limit": r.max_evaluation_working_days}))
    if tender_days < r.min_tender_days:
        out.append(("procurement.competitions.tender_days", "{value} is shorter than the {rules} minimum of {limit} days",
                    {"value": tender_days, "rules": r.name, "limit": r.min_tender_days}))
    if r.max_turnover_multiple is not None and min_turnover_multiple > r.max_turnover_multiple:
        out.append(("procurement.admission.min_turnover_multiple",
                    "a turnover requirement of {value} times the contract value exceeds the {rules} cap of {limit} "
                    "(reg 58)", {"value": min_turnover_multiple, "rules": r.name, "limit": r.max_turnover_multiple}))
    if winner_fee_rate > 0 and not r.fees_allowed:
        out.append(("procurement.winner_fee_rate", "fees to suppliers are not allowed under {rules} (only pa2023)",
                    {"rules": r.name}))
    return out
