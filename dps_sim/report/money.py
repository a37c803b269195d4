"""Honest money in the report: what was paid beside what is still owed at the end and the value of the
service delivered, so that no policy reads as a saving because payments moved past the end of the
simulated period or because less service was delivered (issue 13).

``commissioner_spend`` is cash paid within the period. A policy that pays later (in arrears) pays less
within it and owes more at the end (``outstanding_payments``); a policy that lets fewer contracts, or
lets them later, pays less because it buys less (``value_delivered`` lower, fewer user-years reached,
more lot-days without a service). :func:`money_sentence` says which, from the paired differences.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .text import difference_clause, is_clear, join_and, mean_clause, period

MONEY_KPIS: tuple[str, ...] = ("commissioner_spend", "outstanding_payments", "spend_and_owed", "value_delivered",
                               "cost_per_user")
"""The money results, in the order the tables and sentences give them."""

SERVICE_KPIS: tuple[str, ...] = ("value_delivered", "service_users_reached", "service_gap_days")
"""Results that say whether less service was delivered (lower value or reach, or more lot-days of gap)."""

LESS_SERVICE_WHEN: dict[str, str] = {"value_delivered": "lower", "service_users_reached": "lower",
                                     "service_gap_days": "higher"}

Row = Mapping[str, Any]


def _clear_way(row: Row | None) -> str:
    """'higher', 'lower' or '' (no clear difference, or no row)."""
    if row is None or not is_clear(row):
        return ""
    return "higher" if float(row["diff"]) > 0 else "lower"


def money_sentence(policy_label: str, rows: Mapping[str, Row], horizon_months: int = 0) -> str | None:
    """What a policy does to the council's money, against the baseline, and whether a lower spend is a
    saving. ``rows``: summary rows (kpi, diff, diff_ci_low, diff_ci_high) by KPI; None without spend.

    'Money under pay monthly in arrears: payments made over 5 years lower by £229k (…); still owed to
    providers at the end higher by £202k (…); paid plus still owed over 5 years lower by £27.0k (…).
    Most of the lower spending is payment delayed past the end of the period, not a saving.'
    """
    spend = rows.get("commissioner_spend")
    if spend is None:
        return None
    nothing_owed = _always_zero(rows.get("outstanding_payments"))
    shown = [k for k in MONEY_KPIS[:4] if k in rows
             and not (nothing_owed and k in ("outstanding_payments", "spend_and_owed"))]
    clauses = [difference_clause(rows[k], horizon_months) for k in shown]
    text = f"Money under {policy_label.lower()}: " + "; ".join(clauses) + "."
    spent, owed, total = (_clear_way(rows.get(k)) for k in ("commissioner_spend", "outstanding_payments",
                                                             "spend_and_owed"))
    less = [_brief(difference_clause(rows[k], horizon_months)) for k in SERVICE_KPIS
            if _clear_way(rows.get(k)) == LESS_SERVICE_WHEN[k]]
    verdicts = []
    if spent == "lower" and owed == "higher":
        if total == "lower":
            verdicts.append("Part of the lower spending is payment delayed past the end of the period (more is "
                            "still owed to providers), not a saving.")
        else:
            verdicts.append("Counting what is still owed at the end, the council pays no less: the lower spending "
                            "is payment delayed past the end of the period, not a saving.")
    cheaper = spent == "lower" or total == "lower"
    if cheaper and less and verdicts and total != "lower":
        verdicts.append(f"Less service was delivered too ({join_and(less)}).")
    elif cheaper and less:
        verdicts.append(f"The lower spending buys less service ({join_and(less)}): it is not a saving.")
    elif cheaper and not verdicts:
        verdicts.append("The council pays less with no clear loss of the service delivered (value, user-years "
                        "reached, lot-days of gap).")
    elif spent == "higher" and less:
        verdicts.append(f"The council pays more and gets less service ({join_and(less)}).")
    if nothing_owed:
        verdicts.append("Nothing is owed to providers at the end under either policy.")
    return " ".join([text, *verdicts])


def _always_zero(row: Row | None) -> bool:
    """Whether a paired difference is zero in every replication (for money owed: none under either policy)."""
    return row is not None and all(float(row.get(k, 1.0)) == 0.0 for k in ("diff", "diff_ci_low", "diff_ci_high"))


def _brief(clause: str) -> str:
    """A difference clause without its interval (already given in the sentence before)."""
    return re.sub(r" \((95% CI|too few)[^()]*\)$", "", clause)


def money_summary(rows: Mapping[str, Row], horizon_months: int = 0) -> str | None:
    """For a single policy: paid, still owed and the value delivered over the period, with intervals."""
    if "commissioner_spend" not in rows:
        return None
    parts = [mean_clause(rows[k]) for k in MONEY_KPIS if k in rows]
    return (f"Money over {period(horizon_months)}: " + "; ".join(parts) + ". Payments made count only cash paid "
            "within the period; what is still owed at the end is due after it.")
