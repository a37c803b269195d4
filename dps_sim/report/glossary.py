"""Plain words for the reader: which direction is better for each KPI, and a glossary of the terms
the charts and tables use (printed in report.html, report.pdf and explore.html; docs/glossary.md
holds the same list)."""

from __future__ import annotations

BETTER: dict[str, str] = {
    "providers_active_end": "higher", "providers_admitted_end": "higher", "small_providers_active_end": "higher",
    "insolvencies": "lower", "insolvencies_small": "lower", "contract_failures": "lower",
    "service_users_reached": "higher", "distinct_users_reached": "higher", "cost_per_user": "lower",
    "service_gap_days": "lower", "mean_delivered_quality": "higher", "bids_per_lot": "higher",
    "bids_small_per_lot": "higher", "unopposed_lots": "lower", "single_bid_share": "lower",
    "failed_competitions": "lower", "sector_bid_cost": "lower", "share_of_value_small": "higher", "hhi": "lower",
    "rewins_while_excluded": "lower", "outstanding_payments": "lower",
}
"""Which direction is better for a KPI, from the commissioner's stated aims (a healthy, varied local market,
services delivered, value for money). KPIs not listed (spend, incumbent retention, consortium share) have no
better direction: more spend may buy more service."""


def better(kpi: str) -> str:
    """'higher', 'lower' or '' (neither is better in itself)."""
    return BETTER.get(kpi, "")


def better_text(kpi: str) -> str:
    """'lower is better', 'higher is better' or 'neither is better in itself'."""
    way = better(kpi)
    return f"{way} is better" if way else "neither is better in itself"


def better_arrow(kpi: str) -> str:
    """'↓ better', '↑ better' or '' for a compact table cell or panel title."""
    return {"higher": "↑ better", "lower": "↓ better"}.get(better(kpi), "")


def verdict(kpi: str, diff: float, clear: bool) -> str:
    """'better', 'worse' or 'no clear difference' for a paired difference (or 'clear difference' when
    neither direction is better)."""
    if not clear:
        return "no clear difference"
    way = better(kpi)
    if not way or diff == 0:
        return "clear difference"
    return "better" if (diff > 0) == (way == "higher") else "worse"


GLOSSARY: tuple[tuple[str, str], ...] = (
    ("Baseline", "The scenario as described, without any of the alternative policies; every other policy is "
                 "compared with it."),
    ("Replication", "One simulated run of the whole period. Each replication meets its own random market and "
                    "shocks; results are averaged over replications."),
    ("Paired difference", "A policy's result minus the baseline's in the same replication (the same "
                          "organisations and shocks), averaged over replications."),
    ("95% confidence interval (CI)", "The range the true average is likely to lie in, given the randomness of "
                                     "the simulation. More replications give narrower intervals."),
    ("No clear difference", "The 95% interval of a difference includes zero: the policy may make no difference."),
    ("90% band", "The range that holds 90% of the replications' own values (from the 5th to the 95th "
                 "percentile); it shows how much results vary from one run to another."),
    ("Median", "The middle value across replications: half are above it, half below."),
    ("Lot", "One service contract put out to mini-competition (for example youth work in one district)."),
    ("Lot-days (service gap)", "Days a commissioned service had no provider, added up over lots: two lots "
                               "without a provider for 10 days make 20 lot-days."),
    ('User-years (service users reached)', 'Service delivered to one user for a year: a contract promising 100 users a year that delivers for six months reaches 50 user-years. Not a count of distinct people.'),
    ("People reached", "Individual service users over the period: each service's first year's users, then each "
                       "year the share of its users who are new to it (an assumed turnover). A young person served "
                       "for three years counts once here and three times in user-years."),
    ("Equal spend", "A policy run with its budget scaled, before the run, until it spends on average what the "
                    "policy it is compared with spends over the same replications: the comparison is then for the "
                    "same money."),
    ('Payments made', 'Cash the council paid providers within the simulated period. A policy that pays later pays less within the period without costing less: see what is still owed.'),
    ('Still owed at the end', 'What the council owes providers when the period ends: invoices not yet paid, and service delivered but not yet invoiced (for example a quarter in arrears).'),
    ('Value of the service delivered', 'The contract value of the months of service providers delivered within the period, whether paid or still owed. Paid plus still owed is this value less any results payments not earned or forfeited.'),
    ('Value of service per user-year reached', 'The value of the service delivered divided by the user-years reached (the result named cost_per_user). Paying later does not lower it, and delivering fewer user-years for the same contracts raises it.'),
    ("Income band", "Organisations by yearly income: micro under £10k, small £10k–£100k, medium £100k–£1m, "
                    "large £1m–£10m, major over £10m. 'Small organisations' means micro and small."),
    ("Survival curve (Kaplan–Meier)", "The share of organisations still in the market a given number of months "
                                      "after they entered it. Organisations still trading at the end are "
                                      "counted up to the end ('censored'): they did not leave, we only stop "
                                      "watching."),
    ("Concentration (Herfindahl index, HHI)", "How concentrated the value of contracts is: the sum of each "
                                              "provider's squared share of the value awarded. Near 0: spread "
                                              "over many providers; 1: one provider won everything."),
    ("Reserves in months of spending", "Cash an organisation holds divided by what it spends in a month: "
                                       "how long it could keep going with no income."),
    ("Percentage points (pp)", "The difference between two percentages: 30% to 25% is 5 percentage points "
                               "lower."),
    ("Common random numbers", "Every policy meets the same organisations, lots and shocks in replication r, so "
                              "differences come from the policy and not from luck."),
)
"""Terms used in the report and explorer, with a plain gloss."""
