"""Named rule sets: PCR 2006 Part B, PCR 2015, the Procurement Act 2023, light touch, the NHS provider selection regime.

A rule set fixes what the law permits and requires of a procurement: how long the council
may take to decide an application, the shortest tender window, whether suppliers can be
charged a fee, the cap on a turnover requirement, how long a provider can be excluded after
a termination, whether a satisfactory incumbent can be given its contract again without
competition. A scenario that breaks its rule set is invalid (the error names the key); the
engine honours the rest (docs/model.md, submodel 4, "Rule sets").

This module is plain data and checks on plain numbers: it imports nothing from the schema,
which calls :func:`rule_breaches` from its validator.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleSet:
    """What one procurement regime permits and requires, as the engine honours it.

    ``max_evaluation_working_days``: longest time to decide a request to join (None: no
    statutory limit); ``min_tender_days``: shortest tender window; ``fees_allowed``: fees may
    be charged to suppliers; ``max_turnover_multiple``: cap on the turnover a bidder can be
    asked for; ``max_exclusion_months``: longest exclusion for poor performance on a prior
    contract (0: no such ground); ``direct_award_incumbent``: a satisfactory incumbent's
    contract may be awarded to it again without competition at its end.
    """

    name: str
    max_evaluation_working_days: int | None
    min_tender_days: int
    fees_allowed: bool
    max_turnover_multiple: float | None
    max_exclusion_months: int
    direct_award_incumbent: bool
    source: str


RULE_SETS: dict[str, RuleSet] = {
    "pcr2006": RuleSet(
        "pcr2006", None, 0, False, None, 0, False,
        "Public Contracts Regulations 2006, Part B services (which included social and youth services): "
        "reg 5(2) applies only the rules on technical specifications (reg 9) and award notices (reg 31), so "
        "no DPS time limits, no minimum tender period, no turnover cap and no exclusion ground for past "
        "performance; a DPS (reg 19) charged no fees. The regime of Kent's 2013 youth DPS.",
    ),
    "pcr2015": RuleSet(
        "pcr2015", 15, 10, False, 2.0, 36, False,
        "Public Contracts Regulations 2015 reg 34: requests to participate evaluated within 10 working days "
        "(15 if justified), working days excluding weekends and bank holidays; call-off time limit at least "
        "10 days; no fees charged to suppliers; reg 57(8)(g), 57(11): exclusion for significant deficiencies "
        "in a prior contract that led to its termination, for up to three years; reg 58: minimum yearly "
        "turnover at most twice the contract value.",
    ),
    "pa2023": RuleSet(
        "pa2023", None, 10, True, None, 36, False,
        "Procurement Act 2023 ss. 34-39 (dynamic markets): admission within a reasonable period, conditions "
        "of membership fixed; fees may be charged to suppliers awarded contracts (s. 39); s. 57 and Sch. 7: "
        "discretionary exclusion for poor performance, considered for three years; competitive tendering "
        "period taken as 10 days (our reading).",
    ),
    "light_touch": RuleSet(
        "light_touch", None, 0, False, None, 36, False,
        "Light-touch regime for social and other specific services (PCR 2015 regs 74-76): no statutory "
        "minimum periods or DPS time limits; the exclusion grounds of reg 57 taken to apply (our reading: "
        "for up to three years).",
    ),
    "psr2023": RuleSet(
        "psr2023", None, 0, False, None, 36, True,
        "NHS Health Care Services (Provider Selection Regime) Regulations 2023: for health services, direct "
        "award process C lets a relevant authority award a new contract to an existing provider that is "
        "satisfying the contract and is likely to continue to (reg 9); no competitive minimum periods; "
        "exclusions as under the procurement rules (our reading: three years).",
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
