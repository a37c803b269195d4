"""The scenario schema: every input of a run, validated and frozen.

Each field carries a default, a unit (``json_schema_extra={"unit": ...}``) and a
description, so ``dps-sim schema`` gives editors completion and the docs are generated
from the same place. Defaults start from the calibration table of DESIGN.md; a default
that is an assumption says so in its description.

Money is in pounds sterling (£), time in months unless the name says days.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .fields import (BAND_INCOME_BOUNDS, MAX_DAYS, MAX_MONEY, MAX_MONTH, SIZE_BANDS, SMALL_BANDS, BandShares,
                     BandValues, Frozen, LogNormal, Month, Share, SizeMix, _f)
from .names import check_policy_name
from .rules import rule_breaches
from .size import MAX_BYTES_PER_REPLICATION, Size, estimate, human_bytes
from .shocks import (CostInflation, DemandSurge, FundingCut, FundingUncertainty, GrantLoss, PaymentDelay, Shock)

__all__ = [
    "BAND_INCOME_BOUNDS", "SIZE_BANDS", "SMALL_BANDS", "Admission", "BandShares", "BandValues", "Behaviour", "Budget",
    "Competitions", "Contracts", "CostInflation", "DemandSurge", "Finance", "Frozen", "FundingCut",
    "FundingUncertainty", "GrantLoss", "LogNormal", "Market", "Monitoring", "Payment", "PaymentDelay",
    "PerformanceBond", "Procurement", "Scenario", "Shock", "SizeMix", "Support", "Weights",
]

MAX_POLICIES = 100
"""Most policies one scenario may compare."""
MAX_SHOCKS = 100
"""Most shocks one scenario may schedule."""


class Market(Frozen):
    """The organisations able to serve, and how they arrive."""

    districts: int = _f(12, "districts", "number of districts lots are let in", ge=1, le=500)
    providers: int = _f(300, "organisations", "organisations able to serve at the start", ge=1, le=200_000)
    entry_per_year: float = _f(12.0, "organisations/year", "new organisations arriving (Poisson rate)", ge=0, le=50_000)
    size_mix: SizeMix = Field(default_factory=SizeMix, description="share of organisations by income band (NCVO 2011/12)")
    private_share: Share = _f(0.1, "share", "share of organisations that are private companies rather than VCSE")
    mean_income: BandValues = Field(
        default_factory=lambda: BandValues(micro=2_800, small=35_000, medium=308_000, large=2_770_000, major=35_000_000),
        description="mean annual income from other sources by band, £ (NCVO 2011/12)",
        json_schema_extra={"unit": "£/year"},
    )
    income_sigma: float = _f(0.5, "log £", "spread of income within a band (lognormal sigma, clipped to the band); assumption", ge=0, le=2)
    income_volatility: float = _f(0.10, "share", "month-to-month standard deviation of other income, as a share of its mean; assumption", ge=0, le=1)
    reserves_months: LogNormal = Field(
        default_factory=lambda: LogNormal(median=3.0, sigma=1.3),
        description="cash reserves at the start in months of spending; median 3 and sigma 1.3 put a fifth under one month (Mohan & Clifford 2020)",
        json_schema_extra={"unit": "months"},
    )
    county_wide_share: BandShares = Field(
        default_factory=lambda: BandShares(micro=0.0, small=0.05, medium=0.3, large=0.8, major=1.0),
        description="probability an organisation serves every district rather than its home district only; assumption",
        json_schema_extra={"unit": "share"},
    )
    quality: LogNormal = Field(
        default_factory=lambda: LogNormal(median=3.2, sigma=0.2),
        description="true delivery quality on the 0-5 panel scale (clipped to 1-5); assumption",
        json_schema_extra={"unit": "0-5 score"},
    )
    bid_skill: BandShares = Field(
        default_factory=lambda: BandShares(micro=0.25, small=0.35, medium=0.5, large=0.65, major=0.75),
        description="mean bid-writing skill (0-1, Beta distributed, independent of quality) by band; assumption",
        json_schema_extra={"unit": "0-1"},
    )
    bid_skill_sd: float = _f(0.15, "0-1", "spread of bid-writing skill within a band (Beta distribution); 0: everyone at the band mean; assumption", ge=0, le=0.45)
    cost_per_user: LogNormal = Field(
        default_factory=lambda: LogNormal(median=400.0, sigma=0.3),
        description="provider's cost of serving one service user for a year, £; assumption",
        json_schema_extra={"unit": "£/user/year"},
    )
    capacity_multiple: float = _f(1.5, "× income", "annual contract value a provider can deliver, as a multiple of its other income; assumption", gt=0, le=1000)
    entrant_reserves_factor: float = _f(1.17, "× reserves", "new organisations' reserves relative to the usual ones: young charities hold about 3.5 months against a median of 3 (Mohan & Clifford 2020)", ge=0, le=100)
    income_shock_sd: BandValues = Field(
        default_factory=lambda: BandValues(micro=0.35, small=0.35, medium=0.29, large=0.29, major=0.29),
        description="yearly standard deviation of persistent changes in other income (funders won and lost) by band; larger organisations have more funders; calibrated so that organisations without council work leave at the Charity Commission's register-removal rates by size; assumption",
        json_schema_extra={"unit": "log share/year"},
    )
    client_turnover: Share = _f(0.5, "share/year", "share of a service's users each year who are new to it (young people join and leave youth projects); turns user-years into people reached; assumption")
    income_reversion_years: float = _f(3.0, "years", "time over which persistent income changes fade as organisations replace lost funders (half-life); assumption", gt=0, le=100)


class Admission(Frozen):
    """How organisations join the DPS (or framework)."""

    evaluation_working_days: int = _f(10, "working days", "time to decide an application (PCR 2015 reg 34: 10, or 15 if justified)", ge=0, le=120)
    min_turnover_multiple: float = _f(2.0, "× annual lot value", "turnover a bidder must have, as a multiple of the lot's annual value (PCR 2015 reg 58 caps it at 2)", ge=0, le=100)
    turnover_test_from: float = _f(0.0, "£/year", "lots below this annual value carry no turnover test (PCR 2015 reg 58(8): a minimum turnover may be set, it need not be), so micro organisations can bid for small lots; 0: every lot is tested; grants are never tested (not public contracts)", ge=0, le=MAX_MONEY)
    useful_lot_quantile: Share = _f(0.05, "quantile", "an organisation applies for admission only if its capacity covers half a lot at this quantile of the lot values (a small lot it could take), not half the median lot")
    reapply_after_days: int = _f(30, "days", "a rejected applicant may reapply after this many days", ge=0, le=MAX_DAYS)
    pass_score: float = _f(2.0, "0-5 score", "minimum assessed score of a selection questionnaire; assumption", ge=0, le=5)
    apply_probability: float = _f(0.6, "share", "chance an organisation applies to join in a given year; assumption", ge=0, le=1)
    questionnaire_pages: int = _f(10, "pages", "length of the selection questionnaire (bid cost of applying)", ge=0, le=1000)
    reopen_months: tuple[Month, ...] = _f((), "months", "framework only: months at which admission re-opens (0-600)", max_length=100)


class Competitions(Frozen):
    """Mini-competitions (call-offs) run among admitted providers."""

    every_months: int = _f(1, "months", "months between competition rounds", ge=1, le=120)
    lots_per_round: int = _f(4, "lots", "lots called off in each round", ge=0, le=1000)
    first_round_month: int = _f(1, "month", "month of the first competition round (the launch), after the initial admission window", ge=0, le=MAX_MONTH)
    first_round_lots: int | None = _f(None, "lots", "lots in the first round (the launch), 0-1000; null: lots_per_round", ge=0, le=1000)
    lot_value: LogNormal = Field(
        default_factory=lambda: LogNormal(median=60_000, sigma=0.5),
        description="annual value of a lot, £ (lognormal)",
        json_schema_extra={"unit": "£/year"},
    )
    cost_per_user_target: float = _f(400.0, "£/user/year", "commissioner's reference cost per user: target reach = lot value / this", gt=0, le=MAX_MONEY)
    tender_days: int = _f(30, "days", "tender window from call-off to award", ge=0, le=MAX_DAYS)
    document_pages: int = _f(10, "pages", "length of the tender documents a bidder must answer", ge=1, le=1000)
    weights: "Weights" = Field(default_factory=lambda: Weights(), description="award criteria weights")
    price_formula: Literal["lowest_over_bid", "linear"] = _f(
        "lowest_over_bid", "", "price score: lowest ÷ bid × weight (Crown Commercial Service), or linear: weight × (1 − (bid − lowest)/lowest), floored at 0")
    max_bids_per_round: int = _f(2, "bids", "most lots one organisation bids for in one round (staff time); assumption", ge=1, le=1000)
    rerun_failed: bool = _f(True, "", "a lot with no valid bid is re-run at the next round once, then negotiated (negotiate_failed) or left unserved")
    negotiate_failed: bool = _f(True, "", "a lot whose competition failed and will not be re-run is negotiated with the one organisation whose offer is best (negotiate_by) among those able to take it on the lot's terms, paying no bid cost (a single tender: PCR 2015 reg 32(2)(a), Procurement Act 2023 s. 43); false: it is left unserved (the rule before). That councils do so is an assumption (swept in competition_assumptions.yaml)")
    negotiate_by: Literal["award_criteria", "quality"] = _f(
        "award_criteria", "", "how the council chooses whom to award a negotiated lot (a failed re-run, an interim cover) among the organisations able to take it: award_criteria: their offers ranked by the lot's own award criteria (weights and price formula), as in a competition; quality: the panel's score of the proposal alone (the rule before 3 December 2026). Grants always use quality (a negotiated grant is not a lottery). An assumption, consistent with PCR 2015 (every award to the most economically advantageous tender, reg 67(1)) but not required by it (reg 32(2)(a) allows negotiating with one organisation) nor by PCR 2006 Part B or the light-touch regime; swept in competition_assumptions.yaml")
    retender_on_expiry: bool = _f(False, "", "an ongoing service: a contract that ends is re-let to start the day it ends (otherwise the need ends with the contract)")
    incumbent_relet: bool = _f(True, "", "the incumbent of an expiring contract always considers its own re-let (no lot-interest draw) and its expiring contract does not count against its capacity for it (DESIGN.md; issue 12); false: it is treated like any other candidate, the rule before issue 12, kept for comparison")


class Weights(Frozen):
    """Award criteria weights; they must sum to 1."""

    quality: Share = _f(0.40, "share of score", "weight of the quality score (panel 0-5 ÷ 5)")
    reach: Share = _f(0.30, "share of score", "weight of the reach score (bid reach ÷ highest reach)")
    price: Share = _f(0.30, "share of score", "weight of the price score (lowest price ÷ bid price)")

    @model_validator(mode="after")
    def _sum_to_one(self) -> "Weights":
        total = self.quality + self.reach + self.price
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"weights must sum to 1 (quality + reach + price = {total:.4f})")
        return self


Competitions.model_rebuild()


class Procurement(Frozen):
    """The route by which the council buys, and its rules."""

    route: Literal["dps", "framework", "open_tender", "grant"] = _f("dps", "", "dps: admission open all the time; framework: admission at the start (and re-openings); open_tender: every lot open to all; grant: allocated without competition, paid up front")
    admission: Admission = Field(default_factory=Admission)
    competitions: Competitions = Field(default_factory=Competitions)
    winner_fee_rate: Share = _f(0.0, "share of contract value", "fee charged to winners (allowed only under rules: pa2023)")
    open_tender_extra_pages: int = _f(20, "pages", "open_tender only: selection questions answered with each bid", ge=0, le=1000)
    grant_form_pages: int = _f(4, "pages", "grant only: length of the application form", ge=0, le=1000)
    grant_known_only: bool = _f(True, "", "grant only: grants go to organisations the council knows, those in the market at the start (the former model: seed 003 item 8 ¶3)")
    grant_rollover: bool = _f(True, "", "grant only: a grant is renewed to the same holder at its end while it is still in the market, without competition (the former model)")
    grant_monitoring: Literal["light", "full"] = _f("light", "", "grant only: light: reviews serve no improvement notices (seed 003: grants 'tended to have a lack of appropriate monitoring', item 8 ¶3; 'organisations are just left to get on with it', item 7 ¶10); full: monitored like contracts")
    exclusion_months: int = _f(36, "months", "a provider whose contract was terminated for poor performance may not bid for any of the commissioner's lots for this long after the termination (PCR 2015 reg 57(8)(g), 57(11): up to three years); 0: no exclusion", ge=0, le=MAX_MONTH)


class Payment(Frozen):
    """When and how the commissioner pays."""

    terms: Literal["advance", "monthly_arrears", "quarterly_arrears", "payment_by_results"] = _f("advance", "", "advance: paid at the start of the month it covers; arrears: invoiced at the end of the month or quarter and paid after period_days; payment_by_results: results_share paid quarterly on delivered reach, the rest monthly in arrears")
    period_days: int = _f(30, "days", "days from invoice to payment (PCR 2015 reg 113: 30)", ge=0, le=365)
    late_days_mean: float = _f(0.0, "days", "mean days paid after the end of the payment period (exponential); FPB 2011/12 found councils took 17.5 days on average to pay in all, the slowest 65 days, so about 0 for a typical council and 35 for the slowest on 30-day terms", ge=0, le=MAX_DAYS)
    results_share: Share = _f(0.2, "share", "payment_by_results only: share of value paid on results")


class PerformanceBond(Frozen):
    """Security a provider must hold on large contracts."""

    threshold: float | None = _f(200_000.0, "£/year", "annual contract value at or above which a bond is required (seed 000); null: never", ge=0, le=MAX_MONEY)
    fraction: Share = _f(0.10, "share of annual value", "bond amount as a share of annual contract value (UK surety practice)")
    premium_rate: Share = _f(0.02, "share of bond/year", "yearly premium as a share of the bond; assumption (0.75-4%): sweep it")
    collateral_share: Share = _f(1.0, "share of bond", "share of the bond the provider must lock as cash collateral; assumption")
    arrangement_fee: float = _f(2_500.0, "£ per bond", "legal and broker costs of arranging a bond, paid at award (seed 000 l.19: 'considerable legal and financial costs'); the size is an assumption: sweep 0-10,000", ge=0, le=MAX_MONEY)


class Monitoring(Frozen):
    """Contract management."""

    review_months: int = _f(3, "months", "months between performance reviews", ge=1, le=MAX_MONTH)
    notices_before_termination: int = _f(2, "notices", "improvement notices after which the contract is terminated", ge=1, le=100)
    min_reach_ratio: Share = _f(0.85, "share", "delivered ÷ promised reach below which a review issues a notice; assumption")
    min_quality: float = _f(2.5, "0-5 score", "delivered quality below which a review issues a notice; assumption", ge=0, le=5)


class Contracts(Frozen):
    """Terms of the contracts awarded."""

    length_months: int = _f(36, "months", "initial contract length (6 months to 7 years in the seeds)", ge=1, le=240)
    extensions_months: tuple[Annotated[int, Field(ge=1, le=240)], ...] = _f((), "months", "optional extensions of 1-240 months each, e.g. [12, 12] for 1+1+1", max_length=20)
    extension_probability: Share = _f(1.0, "share", "chance each extension is funded and taken up when performance is satisfactory")
    taper_per_year: Share = _f(0.0, "share/year", "value falls by this share each contract year")
    payment: Payment = Field(default_factory=Payment)
    performance_bond: PerformanceBond = Field(default_factory=PerformanceBond)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    recommission_months: int = _f(3, "months", "time to re-commission a failed or terminated contract", ge=0, le=MAX_MONTH)
    interim_cover: bool = _f(True, "", "while a failed contract's service is re-commissioned, another organisation covers it: an interim contract negotiated with the one whose offer is best among those able (negotiate_by) (seed 003 item 7 ¶12, F30: \"there should never be a break in service delivery as there is always an opportunity to use another organisation\"); false: the service has a gap until the re-let starts (the rule before). An assumption as a rule of the engine; swept in competition_assumptions.yaml")


class Budget(Frozen):
    """The commissioner's budget envelope for the services it lets."""

    annual: float | None = _f(None, "£/year", "annual budget for the contracts it lets; lots are let only while the contracts already signed and the lot fit within it; null: every lot is funded", ge=0, le=MAX_MONEY)
    year_factors: tuple[Annotated[float, Field(ge=0, le=10)], ...] = _f((), "× annual", "the budget of each year as a multiple of `annual` (the council's medium-term plan, e.g. [1, 1, 0.8] for a 20% cut from year 3); the last factor holds for later years; empty: 1 every year", max_length=60)
    match_spend_of: str | None = _f(None, "policy", "an equal-spend comparison: run this policy with its envelope (annual, and so every year) multiplied by the factor at which its mean commissioner_spend over the replications equals the named policy's under the same seeds; found before the run (docs/model.md, submodel 21), shown in manifest.json and the report; only in a policy's overlay, with annual set; null: the envelope as written", max_length=64)


class Behaviour(Frozen):
    """How organisations decide and learn (assumptions: sweep them)."""

    lot_appeal_sd: float = _f(0.5, "sd", "spread of lot appeal: a keyed draw per lot (district, service fit) that shifts every organisation's interest in it together, so some lots draw many bids and others one; lot_interest stays the average chance; 0: every lot equally appealing; assumption: sweep it", ge=0, le=10)
    switch_reach_loss: Share = _f(0.25, "share of reach", "a new provider taking over a service from a different provider delivers this share less reach in its first switch_months (seed 003 F31: the service \"can lose momentum and more importantly service users\"); the size is an assumption: sweep it")
    switch_months: int = _f(3, "months", "mobilisation months over which a new provider loses switch_reach_loss of its reach; monitoring expects the lower reach; assumption: sweep it", ge=0, le=MAX_MONTH)
    lot_interest: Share = _f(0.30, "share", "average chance that a lot fits an eligible organisation's service, plans and timing, so that it considers bidding; set, with lot_appeal_sd 0.5, from TED 2012-18 (DESIGN.md calibration hints: about 3 bids per tender, a quarter single-bid): 0.30 gives the default market about 3.1 bids per lot and 23% single-bid lots (docs/calibration.md section 2d; 0.22 when first set, 0.18 before issue 12); a calibrated assumption: sweep it")
    rivals: Literal["lot", "fixed"] = _f("lot", "", "how a provider gauges its competition when estimating its chance of winning: lot: expected_bidders, or fewer where fewer organisations are able and interested in that lot, so a lot few can bid for looks more winnable and draws bids from crowded ones (entry rises as expected rivals fall: Samuelson 1985; Levin and Smith 1994); fixed: expected_bidders on every lot (the rule before 3 December 2026)")
    expected_bidders: float = _f(3.0, "bidders", "competition a provider expects on a lot that many can bid for (TED 2012-18: about 3 bids per tender)", gt=0, le=1000)
    contract_value_share: Share = _f(0.15, "share", "share of a contract's total value a provider counts as gain when deciding to bid; assumption")
    margin_mean: float = _f(0.0, "share", "mean price mark-up over delivery cost (negative: below full cost; NPC 2022: two-thirds not paid full cost)", ge=-0.5, le=1)
    margin_sd: float = _f(0.08, "share", "spread of the mark-up", ge=0, le=1)
    appetite_sd: float = _f(0.5, "log share", "spread between organisations in how much a given expected gain tempts them to bid; 0: none; assumption", ge=0, le=10)
    ambition_sd: float = _f(0.1, "share", "spread of promised reach relative to target (ambition) between bids; assumption", ge=0, le=10)
    delivery_sd: float = _f(0.05, "share", "spread of a contract's persistent delivered ÷ promised reach; assumption", ge=0, le=10)
    delivery_monthly_sd: float = _f(0.08, "share", "month-to-month noise in delivered reach; assumption", ge=0, le=10)
    quality_monthly_sd: float = _f(0.3, "0-5 score", "month-to-month noise in delivered quality; assumption", ge=0, le=5)
    bid_hours_fixed: float = _f(8.0, "hours", "hours to prepare any bid; assumption", ge=0, le=10_000)
    bid_hours_per_page: float = _f(3.0, "hours/page", "hours per page of tender documents for an average writer; calibrated so an 80-page bid costs about £5,800 (CEBR)", ge=0, le=1000)
    hour_cost: float = _f(25.0, "£/hour", "cost of an hour of staff time", ge=0, le=10_000)
    skill_weight: Share = _f(0.5, "share", "weight of bid-writing skill (vs true quality) in the assessed quality score")
    evaluator_noise: float = _f(0.4, "0-5 score", "standard deviation of panel noise on quality scores", ge=0, le=5)
    learn_per_bid: Share = _f(0.02, "share of gap", "skill gained per bid, as a share of the gap to 1 (seed 003 ¶14)")
    learn_per_win: Share = _f(0.06, "share of gap", "extra skill gained per win (seed 003 ¶14: winners learn and win again)")
    bid_risk_sd: float = _f(0.5, "months of spending", "spread between organisations in how far below their credit line they will let cash go to pay for a bid, expecting to win (mean 0: half will bid on stretched creditors); assumption", ge=0, le=MAX_MONTH)
    handback_loss: Share = _f(0.15, "share of contract value", "a provider hands a contract back at a review when its monthly loss on it exceeds this share of the contract's value (ADASS 2018: 145 contracts handed back); assumption")


class Finance(Frozen):
    """A charity's or social enterprise's finances: credit, creditors, reserves policy, spending, insolvency."""

    overdraft_months: float = _f(0.0, "months of spending", "overdraft or credit line, in months of the organisation's spending at entry; most small charities have none; assumption", ge=0, le=MAX_MONTH)
    overdraft_rate: float = _f(0.07, "share/year", "interest on the overdraft used (Bank Rate 0.5% in 2009-16 plus a small-business margin); assumption", ge=0, le=1)
    late_payment_rate: float = _f(0.085, "share/year", "interest owed on bills paid late (Late Payment of Commercial Debts (Interest) Act 1998: 8% over Bank Rate)", ge=0, le=1)
    creditor_months: float = _f(3, "months", "months in a row an organisation can stretch its creditors before it is insolvent (a fraction rounds up) (Insolvency Act 1986 s.123: unable to pay debts as they fall due); assumption", ge=1, le=MAX_MONTH)
    petition_minimum: float = _f(750.0, "£", "smallest debt for which a creditor can petition to wind an organisation up (Insolvency Act 1986 s.123(1)(a): £750); smaller arrears do not count towards insolvency", ge=0, le=MAX_MONEY)
    creditor_limit_months: float = _f(1.0, "months of spending", "most it can owe creditors beyond its credit line, in months of its current spending, before they act at once (wages and rent cannot wait); assumption", ge=0, le=MAX_MONTH)
    reserves_policy_months: float = _f(3.0, "months of spending", "reserves the trustees aim to hold (Charity Commission CC19: trustees set a reserves policy; 3-6 months is common practice); assumption", ge=0, le=MAX_MONTH)
    adjust_months: float = _f(4.0, "months", "time trustees take to bring spending to a new level (notice periods, cutting services); assumption", ge=1, le=MAX_MONTH)
    rebuild_months: float = _f(12.0, "months", "period over which trustees plan to close a gap to the reserves target; assumption", ge=1, le=MAX_MONTH)
    income_memory_months: float = _f(6.0, "months", "how many months of income trustees weigh when judging what they can spend (exponential average); assumption", ge=1, le=MAX_MONTH)
    viable_share: Share = _f(0.5, "share", "trustees wind up an organisation with no contract work whose expected other income has fallen below this share of what it was at entry; assumption")
    overhead_rate: float = _f(0.15, "share of direct cost", "overheads (management, premises, finance) each £ of direct delivery cost brings; full-cost prices recover them, the rest do not (ACEVO/NPC full cost recovery); assumption", ge=0, le=5)
    full_cost_share: Share = _f(0.33, "share", "share of providers whose prices cover full cost, overheads included (NPC 2022: two-thirds of VCSE contract holders are not paid full cost)")


class Support(Frozen):
    """Support a commissioner can switch on."""

    bid_training: bool = _f(False, "", "bid-writing training for micro and small providers (seed 003 ¶8, ¶11)")
    training_clarity: Share = _f(0.5, "share", "share by which training cuts the weight of writing skill and the evaluator's noise in a trained organisation's written score, so it shows its true quality more closely (seed 003 ¶14); assumption: sweep 0.2-0.8")
    paperwork_reduction: Share = _f(0.0, "share", "share of tender pages cut")
    peppercorn_rent: bool = _f(False, "", "contract holders lease council buildings at a peppercorn rent (seed 003 ¶10)")
    peppercorn_saving: Share = _f(0.1, "share of spending", "spending saved by a peppercorn lease; assumption")
    upfront_below: float | None = _f(None, "£/year", "contracts below this annual value are paid in advance whatever the terms; null: off", ge=0, le=MAX_MONEY)
    bond_waiver: bool = _f(False, "", "performance bonds waived for VCSE providers (seed 000: a Member agreed the bond should be waived)")
    consortia: bool = _f(False, "", "small providers may bid as consortium members behind a lead provider (seed 000: 5 core and 23 associate members)")
    consortium_members: int = _f(4, "organisations", "most members behind one lead", ge=1, le=50)
    consortium_core_members: int = _f(1, "organisations", "core members of a consortium, the lead included: the others are medium or larger VCSE organisations (seed 000 F63: five core members); 1: the lead alone, every other member micro or small", ge=1, le=50)
    member_capability: Share = _f(0.5, "share of own income", "most new work a consortium member states it can take on, as a share of its own yearly income (the work is shared by these statements); assumption: sweep 0.25-1")
    consortium_pass_on_days: int = _f(15, "days", "delay before the lead passes payment on to members", ge=0, le=MAX_DAYS)
    consortium_risk: Literal["lead", "shared"] = _f("lead", "", "who bears a consortium price below the cost of its work: the lead, each member being paid at least what its work costs it (seed 003 F42: 'Risk is not transferred. It remains with the umbrella organisation'), or every party alike, each paid its own cost times the same price ratio (shared, the rule before 4 December 2026); swept in bond_consortium_assumptions.yaml")


class Scenario(Frozen):
    """A whole scenario: market, procurement route, contract terms, shocks and support.

    ``policies`` are overlays deep-merged onto everything else; ``baseline`` is the
    scenario itself. A Scenario is frozen: policies are applied by the loader, which
    validates each resolved policy into a Scenario of its own.
    """

    name: str = Field(min_length=1, max_length=200, description="short title shown on charts and in the report (at most 200 characters)")
    description: str = _f("", "", "what this scenario represents, in plain words", max_length=20_000)
    seed: int = _f(0, "", "root seed of the run (numpy SeedSequence entropy)", ge=0, le=2**64 - 1)
    horizon_months: int = _f(60, "months", "simulated period", ge=1, le=600)
    rules: Literal["pcr2006", "pcr2015", "pa2023", "light_touch", "psr2023"] = _f("pcr2015", "", "procurement regime: pcr2006 (PCR 2006 Part B services, before February 2015), pcr2015, pa2023 (Procurement Act 2023 dynamic markets), light_touch, psr2023 (NHS Provider Selection Regime, health services); see docs/model.md, Rule sets")
    start_date: date = _f(date(2015, 4, 1), "date", "calendar date of day 0 of the run: working days skip England's weekends and bank holidays from it")
    market: Market = Field(default_factory=Market)
    procurement: Procurement = Field(default_factory=Procurement)
    contracts: Contracts = Field(default_factory=Contracts)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    finance: Finance = Field(default_factory=Finance)
    budget: Budget = Field(default_factory=Budget)
    shocks: tuple[Shock, ...] = Field(default=(), max_length=MAX_SHOCKS, description="scheduled or random shocks (at most 100)")
    support: Support = Field(default_factory=Support)
    policies: dict[str, dict] = Field(default_factory=lambda: {"baseline": {}}, description="named overlays deep-merged onto the scenario; 'baseline' is the scenario itself")

    @field_validator("policies")
    @classmethod
    def _policy_names(cls, v: dict[str, dict]) -> dict[str, dict]:
        if len(v) > MAX_POLICIES:
            raise ValueError(f"at most {MAX_POLICIES} policies, got {len(v)}")
        for name, overlay in v.items():
            why = check_policy_name(name)
            if why:
                raise ValueError(why)
            if not isinstance(overlay, dict):
                raise ValueError(f"policy '{name}' must be a mapping of overrides, got {type(overlay).__name__}")
        return v

    @model_validator(mode="after")
    def _check_rules(self) -> "Scenario":
        """A scenario must keep to the legal limits of its rule set (PCR 2015, PA 2023, light touch)."""
        p = self.procurement
        breaches = rule_breaches(self.rules, p.admission.evaluation_working_days, p.competitions.tender_days,
                                 p.admission.min_turnover_multiple, p.winner_fee_rate)
        if breaches:
            path, template, values = breaches[0]
            raise PydanticCustomError("rules", template, {"path": path, **values})
        return self

    def size(self) -> Size:
        """How big one replication is: organisations, months, lots per round, memory (rough)."""
        c = self.procurement.competitions
        return estimate(self.market.providers, self.market.entry_per_year, self.horizon_months, c.lots_per_round,
                        c.first_round_lots)

    @model_validator(mode="after")
    def _bounded_size(self) -> "Scenario":
        """One replication must fit in memory: refuse a scenario estimated above 4 GB."""
        size = self.size()
        if size.bytes > MAX_BYTES_PER_REPLICATION:
            raise PydanticCustomError(
                "size", "one replication would need about {need} of memory ({what}); at most {limit}: fewer "
                "providers, a lower entry_per_year, fewer lots per round or a shorter horizon",
                {"path": "market.providers", "need": human_bytes(size.bytes), "limit": human_bytes(MAX_BYTES_PER_REPLICATION),
                 "what": f"{size.organisations:,} organisations over {size.months} months"})
        return self
