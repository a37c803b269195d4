"""KPIs and tidy columns from one finished replication.

Only NumPy here: workers compute these next to the simulation and send back small arrays;
the parent process builds the pandas tables. KPI names are the contract of DESIGN.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .model.engine import RunOutput
# The model is imported inside the functions that read a run's output: the report and the explorer need
# only the names and descriptions below, and importing the engine (and scipy with it) cost them half a second.

KPI_NAMES: tuple[str, ...] = (
    "providers_active_end", "providers_admitted_end", "small_providers_active_end", "insolvencies",
    "insolvencies_small", "contract_failures", "service_users_reached", "cost_per_user", "service_gap_days",
    "mean_delivered_quality", "bids_per_lot", "unopposed_lots", "failed_competitions", "sector_bid_cost",
    "share_of_value_small", "hhi", "commissioner_spend",
)
"""The KPIs every runs.csv and summary.csv carries (DESIGN.md)."""

EXTRA_KPIS: tuple[str, ...] = (
    "contracts_awarded", "lots_called", "bids_small_per_lot", "notices", "terminations", "handbacks", "closures",
    "entries", "admissions", "bond_calls", "bond_calls_value", "assessment_gap_small", "first_round_winners",
    "first_round_local_share", "outstanding_payments", "winner_fees", "providers_admitted_small_end",
    "distinct_users_reached", "value_delivered", "unfunded_lots", "budget_unspent",
    "incumbent_retention", "incumbent_rebid_share", "single_bid_share", "no_bid_share", "rewins_while_excluded",
    "switches", "users_lost_switching", "consortium_share_of_value", "bids_vcse_bonded", "bond_received",
    "spend_and_owed", "negotiated_awards", "interim_covers",
)
"""Further KPIs (names may grow; the ones above stay)."""

KPI_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "providers_active_end": ("Organisations still in the market at the end", "organisations"),
    "providers_admitted_end": ("Organisations admitted to the DPS at the end", "organisations"),
    "small_providers_active_end": ("Micro and small organisations in the market at the end", "organisations"),
    "insolvencies": ("Organisations that became insolvent", "organisations"),
    "insolvencies_small": ("Micro and small organisations that became insolvent", "organisations"),
    "contract_failures": ("Contracts ended early (insolvency, termination, hand-back)", "contracts"),
    "service_users_reached": ("Service user-years delivered (a user served for a year counts once a year)", "user-years"),
    "distinct_users_reached": ("People reached (individual service users over the run)", "people"),
    "value_delivered": ("Value of the service delivered within the period, at contract prices (paid, owed or accrued)",
                        "£"),
    "unfunded_lots": ("Lots the budget could not fund", "lots"),
    "budget_unspent": ("Budget over the run not spent on service delivered", "£"),
    "cost_per_user": ("Value of the service delivered per user-year reached (paid or still owed)", "£ per user-year"),
    "service_gap_days": ("Days a needed service went undelivered", "lot-days"),
    "mean_delivered_quality": ("Mean delivered quality", "0-5 score"),
    "bids_per_lot": ("Bids per lot", "bids"),
    "unopposed_lots": ("Lots with a single bid", "lots"),
    "failed_competitions": ("Competitions with no valid bid", "lots"),
    "sector_bid_cost": ("Cost to the sector of bids and applications", "£"),
    "share_of_value_small": ("Share of awarded value won by micro and small organisations", "share"),
    "hhi": ("Concentration of awarded value (Herfindahl index, 0-1)", "index"),
    "commissioner_spend": ("Commissioner payments made within the period (not what is still owed)", "£"),
    "outstanding_payments": ("Owed to providers at the end: invoiced but unpaid, or delivered but not yet invoiced",
                             "£"),
    "spend_and_owed": ("Payments made plus what is still owed at the end", "£"),
    "assessment_gap_small": ("True minus assessed quality of small organisations' bids", "0-5 score"),
    "bids_small_per_lot": ("Bids per lot from micro and small organisations", "bids"),
    "incumbent_retention": ("Share of expiry re-lets won by the incumbent", "share"),
    "incumbent_rebid_share": ("Share of expiry re-lets the incumbent bid for", "share"),
    "single_bid_share": ("Share of lots with at least one bid that drew exactly one", "share"),
    "no_bid_share": ("Share of lots that drew no bid", "share"),
    "rewins_while_excluded": ("Contracts awarded to a provider within its exclusion after a termination", "contracts"),
    "negotiated_awards": ("Contracts negotiated with one organisation after a re-run competition failed", "contracts"),
    "interim_covers": ("Interim contracts covering a failed contract's service while it is re-let", "contracts"),
    "switches": ("Contracts taken over from a different provider", "contracts"),
    "users_lost_switching": ("Service users lost in the mobilisation months after a change of provider", "users"),
    "consortium_share_of_value": ("Share of awarded value won by consortia", "share"),
    "bids_vcse_bonded": ("Bids by VCSE organisations and consortia for lots that need a bond", "bids"),
    "bond_received": ("Called bonds paid to the council (forfeited collateral plus the provider's liability)", "£"),
}


def rewins_while_excluded(out: RunOutput) -> int:
    """Contracts awarded, in the month of award, to a party (lead or member) of a contract terminated less than
    ``procurement.exclusion_months`` before (within what the rule set allows): recomputed from the contract
    tables, so it checks the rule."""
    from .model.procurement import exclusion_months
    from .model.stores import END_TERMINATED

    C, Pt = out.contracts, out.parties
    months = exclusion_months(out.scenario)
    term = np.flatnonzero(C["end_cause"] == END_TERMINATED)
    if months <= 0 or len(term) == 0:
        return 0
    n = 0
    for c in term:
        after = (C["awarded"] >= C["ended_month"][c]) & (C["awarded"] < C["ended_month"][c] + months)
        n += int(np.isin(np.flatnonzero(after), Pt["contract"][Pt["provider"] == C["lead"][c]]).sum())
    return n


def kpis(out: RunOutput) -> dict[str, float]:
    """The KPIs of one replication."""
    from .model.population import ACTIVE

    P, c, C, N, led = out.providers, out.counters, out.contracts, out.needs, out.ledger
    active = P.status == ACTIVE
    small = P.band <= 1
    spend = led["paid_pence"] / 100.0  # cash paid within the horizon
    owed = led["earned_pence"] / 100.0  # value of the service delivered within the horizon, invoiced or not yet
    # paid + outstanding + accrued = earned - abated - written off (tests/test_invariants.py), so spend_and_owed
    # is at most value_delivered: what the council has paid or still owes for the service of the period
    users = float(C["users"].sum())
    months = float(C["months_delivered"].sum())
    lots = c["lots"]
    closed = c["lots_closed"]  # competitions that closed before the horizon (their bids are counted)
    won = P.value_won
    shares = won / won.sum() if won.sum() > 0 else np.zeros_like(won)
    winners = c["first_round_winners"]
    k = dict(
        providers_active_end=float(active.sum()),
        providers_admitted_end=float((active & P.admitted).sum()),
        small_providers_active_end=float((active & small).sum()),
        insolvencies=c["insolvencies"],
        insolvencies_small=c["insolvencies_small"],
        contract_failures=c["contract_failures"],
        service_users_reached=users,
        cost_per_user=owed / users if users > 0 else float("nan"),
        service_gap_days=float(N["gap_days"].sum()),
        mean_delivered_quality=float(C["quality_months"].sum() / months) if months > 0 else float("nan"),
        bids_per_lot=c["bids"] / closed if closed else float("nan"),
        unopposed_lots=c["unopposed_lots"],
        failed_competitions=c["failed_competitions"],
        sector_bid_cost=float(P.bid_cost_paid.sum()),
        share_of_value_small=c["awarded_value_small"] / c["awarded_value"] if c["awarded_value"] > 0 else float("nan"),
        hhi=float((shares**2).sum()),
        commissioner_spend=spend,
        contracts_awarded=c["awards"],
        lots_called=lots,
        bids_small_per_lot=c["bids_small"] / closed if closed else float("nan"),
        notices=c["notices"],
        terminations=c["terminations"],
        handbacks=c["handbacks"],
        closures=c["closures"],
        entries=c["entries"],
        admissions=c["admissions"],
        bond_calls=c["bond_calls"],
        bond_calls_value=led["bond_calls"],
        assessment_gap_small=c["assess_gap_small_sum"] / c["assess_gap_small_n"] if c["assess_gap_small_n"] else float("nan"),
        first_round_winners=winners,
        first_round_local_share=c["first_round_local_winners"] / winners if winners else float("nan"),
        outstanding_payments=(led["outstanding_pence"] + led["accrued_pence"]) / 100.0,
        spend_and_owed=(led["paid_pence"] + led["outstanding_pence"] + led["accrued_pence"]) / 100.0,
        winner_fees=led["fees"],
        consortium_share_of_value=c["awarded_value_consortium"] / c["awarded_value"] if c["awarded_value"] > 0 else float("nan"),
        bids_vcse_bonded=c["bids_vcse_bonded"],
        bond_received=led["bond_received_pence"] / 100.0,
        providers_admitted_small_end=float((active & P.admitted & small).sum()),
        distinct_users_reached=distinct_users(C, out.scenario.market.client_turnover),
        value_delivered=owed,  # the numerator of cost_per_user
        unfunded_lots=c["unfunded_lots"],
        budget_unspent=led["budget"] - owed,
        incumbent_retention=c["relets_retained"] / c["relets_expiry"] if c["relets_expiry"] else float("nan"),
        incumbent_rebid_share=c["relets_incumbent_bid"] / c["relets_expiry"] if c["relets_expiry"] else float("nan"),
        single_bid_share=c["unopposed_lots"] / c["lots_with_bids"] if c["lots_with_bids"] else float("nan"),
        no_bid_share=1.0 - c["lots_with_bids"] / closed if closed else float("nan"),
        rewins_while_excluded=rewins_while_excluded(out),
        switches=c["switches"],
        negotiated_awards=c["negotiated_awards"],
        interim_covers=c["interim_covers"],
        users_lost_switching=c["users_lost_switching"],
    )
    return {name: float(v) for name, v in k.items()}


def distinct_users(C: dict[str, np.ndarray], turnover: float) -> float:
    """People reached over the run, from user-years and a yearly turnover of the client population.

    Each service (need) reaches its first year's users (the first contract's promised reach
    times its delivery rate, or fewer if it ran under a year); after that, a share
    ``turnover`` of each year's users is new. A re-let keeps the service's users.
    """
    need, users = C["need"], C["users"]
    if len(need) == 0:
        return 0.0
    order = np.lexsort((C["start"], need))
    first = np.ones(len(order), bool)
    first[1:] = need[order][1:] != need[order][:-1]
    total = np.bincount(np.searchsorted(np.unique(need), need), weights=users)
    year_one = (C["reach"] * C["delivery"])[order][first]
    return float((np.minimum(total, year_one) + turnover * np.maximum(total - year_one, 0.0)).sum())


def provider_columns(out: RunOutput) -> dict[str, np.ndarray]:
    """One row per organisation: attributes, entry and exit month, exit cause, what it won."""
    from .model.population import ACTIVE, EXIT_CAUSES
    from .scenario.schema import SIZE_BANDS

    P = out.providers
    return {
        "provider": np.arange(P.n, dtype=np.int32),
        "size_band": np.array(SIZE_BANDS)[P.band],
        "private": P.private,
        "county_wide": P.county_wide,
        "home_district": P.district,
        "income": P.income,
        "quality": P.quality,
        "bid_skill_start": P.skill_initial,
        "bid_skill_end": P.skill,
        "cost_per_user": P.cost_per_user,
        "capacity": P.capacity,
        "reserves_months_start": P.reserves_initial,
        "cash_end": P.cash,
        "reserve_months_end": P.cash / np.maximum(P.spending, 1.0),
        "entry_month": P.entry_month,
        "exit_month": P.exit_month,
        "exit_cause": np.array(EXIT_CAUSES)[P.exit_cause],
        "in_market_end": P.status == ACTIVE,
        "admitted_month": P.admitted_month,
        "bids": P.bids,
        "wins": P.wins,
        "value_won": P.value_won,
        "bid_cost_paid": P.bid_cost_paid,
        "consortium_member": P.consortium_member,
        "trained": P.trained,
        "contract_receipts": P.receipts_pence / 100.0,
    }


def event_columns(out: RunOutput) -> dict[str, np.ndarray]:
    """The audit trail with event kinds named."""
    from .model.audit import EVENT_KINDS

    ev = dict(out.events)
    ev["event"] = np.array(EVENT_KINDS)[ev.pop("kind")] if len(ev["kind"]) else np.array([], dtype=str)
    ev["month"] = np.floor(ev["day"] / (365.25 / 12) + 1e-9).astype(np.int32)
    return ev
