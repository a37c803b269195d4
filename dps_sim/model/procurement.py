"""Procurement routes and admission: who may bid, and when they may join.

Routes (DESIGN.md, seed 003 ¶9):

* ``dps`` — admission open for the whole period; requests decided within a set number of
  working days; a rejected applicant may reapply;
* ``framework`` — admission only at the start (and at optional re-openings);
* ``open_tender`` — no admission stage: every lot is open to all, and each bid carries the
  selection questions as extra pages;
* ``grant`` — no competition: the lot is allocated to one eligible applicant, paid in advance.
"""

from __future__ import annotations

import numpy as np

from ..scenario.rules import RULE_SETS, RuleSet
from ..scenario.schema import Procurement, Scenario

ROUTES_WITH_ADMISSION = ("dps", "framework")


def has_admission(route: str) -> bool:
    """Whether providers must be admitted before they can bid."""
    return route in ROUTES_WITH_ADMISSION


def rule_set(scenario: Scenario) -> RuleSet:
    """What the scenario's procurement regime permits and requires (scenario/rules.py)."""
    return RULE_SETS[scenario.rules]


def exclusion_months(scenario: Scenario) -> int:
    """Months a terminated provider is excluded: the scenario's choice, within what its regime allows."""
    return min(scenario.procurement.exclusion_months, rule_set(scenario).max_exclusion_months)


def renews_to_holder(scenario: Scenario, notices: int) -> bool:
    """Whether a contract ending now goes to its holder again without competition.

    The former model's grants are renewed while the holder lasts; under the NHS provider
    selection regime (direct award process C) a satisfactory incumbent, one with no open
    improvement notice, may be awarded its contract again.
    """
    if rolls_over(scenario.procurement):
        return True
    return rule_set(scenario).direct_award_incumbent and notices == 0


def known_only(procurement: Procurement) -> bool:
    """Whether only organisations known to the council (in the market at the start) may apply (the former grants)."""
    return procurement.route == "grant" and procurement.grant_known_only


def rolls_over(procurement: Procurement) -> bool:
    """Whether a grant is renewed to its holder at its end without competition (the former model)."""
    return procurement.route == "grant" and procurement.grant_rollover


def lightly_monitored(procurement: Procurement) -> bool:
    """Whether reviews serve no improvement notices (grants under the former model's light monitoring)."""
    return procurement.route == "grant" and procurement.grant_monitoring == "light"


def admission_open(procurement: Procurement, month: int) -> bool:
    """Whether applications are accepted in a month: always on a DPS, at (re)openings on a framework."""
    if procurement.route == "dps":
        return True
    if procurement.route == "framework":
        return month == 0 or month in procurement.admission.reopen_months
    return False


def admitted_on_assessment(score: np.ndarray, pass_score: float) -> np.ndarray:
    """An application passes when its assessed selection score reaches the pass mark."""
    return np.asarray(score) >= pass_score


def meets_turnover(turnover: np.ndarray, lot_value: float, multiple: float, exempt_below: float = 0.0) -> np.ndarray:
    """Selection: yearly turnover at least ``multiple`` × the lot's annual value (PCR 2015 reg 58 caps the multiple at 2).

    Lots below ``exempt_below`` carry no turnover test (reg 58(8) makes a minimum turnover
    something an authority *may* set; it need not for small lots), nor does a grant (not a
    public contract, so outside reg 58): micro organisations can take small lots and grants.
    """
    lot_value = np.asarray(lot_value, dtype=float)
    return (np.asarray(turnover) >= multiple * lot_value) | (lot_value < exempt_below)


def turnover_exempt_below(procurement: Procurement) -> float:
    """Lot value below which no turnover test applies: every lot under a grant, else ``turnover_test_from``."""
    return np.inf if procurement.route == "grant" else procurement.admission.turnover_test_from


def tender_pages(procurement: Procurement, paperwork_reduction: float) -> float:
    """Pages a bidder must answer for one lot, after any paperwork reduction."""
    c = procurement.competitions
    pages = float(c.document_pages)
    if procurement.route == "open_tender":
        pages += procurement.open_tender_extra_pages
    elif procurement.route == "grant":
        pages = float(procurement.grant_form_pages)
    return pages * (1.0 - paperwork_reduction)
