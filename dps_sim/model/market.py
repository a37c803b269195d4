"""The market of one replication: the state every room reads and changes.

A :class:`Market` holds the scenario, the random streams, the organisations (NumPy arrays),
the stores of needs, contracts and parties, the payment book, the audit log and the running
counters. The rooms (organisations, admission, tendering, award, contracts, payments,
finance, shocks) are modules of plain functions over it; the engine calls them in the
documented monthly order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..scenario.schema import Scenario
from . import budget as council_budget
from .audit import EventLog
from .population import Providers, build_population, settle_finances
from .schedule import ScheduledShock, renewal_probability, resolve_shocks
from .stores import Columns, new_contracts, new_needs, new_parties
from .streams import STREAMS, spawn_streams, stream_key

FLOW_NAMES = ("other_income", "spending", "delivery_cost", "bid_costs", "bond_premiums", "bond_fees", "bond_liability", "collateral_locked",
              "collateral_released", "fees", "contract_receipts", "consortium_transfers", "overdraft_interest",
              "late_payment_interest")
"""Per-organisation cash flows (£, signed), kept so that every pound can be traced."""

COUNTERS = (
    "lots", "lots_closed", "bids", "bids_small", "unopposed_lots", "failed_competitions", "awards", "awarded_value",
    "awarded_value_small", "notices", "terminations", "handbacks", "contract_failures", "insolvencies",
    "insolvencies_small", "closures", "entries", "applications", "admissions", "rejections",
    "assess_gap_small_sum", "assess_gap_small_n", "first_round_winners", "first_round_local_winners",
    "bond_calls", "lots_with_bids", "relets_expiry", "relets_incumbent_bid", "relets_retained", "switches",
    "users_lost_switching", "unfunded_lots", "unfunded_value", "awarded_value_consortium", "bids_vcse_bonded",
    "negotiated_awards", "interim_covers")

OPEN_ENDED = 2**30
"""End month of an ongoing service: the horizon ends the observation, not the service."""


@dataclass
class PaymentBook:
    """Commissioner payments scheduled to arrive, by month and organisation, in whole pence.

    Month-major (month, organisation) so that one month's arrivals are one contiguous row;
    ``late`` holds the same pence weighted by how far into the month each payment arrives
    (payments are dated to the day); ``transfers`` are consortium leads passing members their
    shares (None without consortia). ``earned_pence`` is the value of the work delivered;
    ``abated_pence`` results shares not earned; ``written_off_pence`` results shares forfeited
    by contracts that failed mid-quarter.
    """

    sched: np.ndarray
    late: np.ndarray
    transfers: np.ndarray | None
    transfers_late: np.ndarray | None
    earned_pence: int = 0
    invoiced_pence: int = 0
    paid_pence: int = 0
    abated_pence: int = 0
    written_off_pence: int = 0
    fees: float = 0.0
    bond_calls: float = 0.0
    bond_received_pence: int = 0        # called bonds paid to the council (collateral forfeited plus the rest)
    bond_collateral_pence: int = 0      # of which collateral the providers forfeited
    bond_liability_pence: int = 0       # of which the uncollateralised part charged to the providers


@dataclass
class TenderBook:
    """What tendering remembers between rounds: re-lets queued by month, lots called so far, exclusions."""

    lot_key: int
    bids_round: np.ndarray
    excluded_until: np.ndarray          # month from which each organisation may bid again (PCR 2015 reg 57(8)(g))
    queue: dict[int, list[int]] = field(default_factory=dict)
    n_lots: int = 0
    first_round_lots: set[int] = field(default_factory=set)
    first_round_winners: set[int] = field(default_factory=set)
    covers: list[tuple[int, int]] = field(default_factory=list)   # (failed contract, re-let's start) awaiting cover


@dataclass
class Market:
    """Everything one replication knows, shared by the rooms."""

    s: Scenario
    root: np.random.SeedSequence
    rng: dict[str, np.random.Generator]
    P: Providers
    needs: Columns
    contracts: Columns
    parties: Columns
    log: EventLog
    book: PaymentBook
    tender: TenderBook
    shocks: list[ScheduledShock]
    entered: np.ndarray                 # organisations that have arrived by each month
    flows: dict[str, np.ndarray]
    counters: dict[str, float]
    cash_start: np.ndarray
    arrived_late: np.ndarray            # £ of this month's arrivals × share of the month gone when they arrive
    month_cost: np.ndarray              # £ of delivery costs this month (spread over the month)
    renewal_p: float
    keys: dict[str, int]                # 64-bit key of each named stream, for keyed draws
    budget: council_budget.Book         # the council's commitments against its budget envelope
    cost_factor: float = 1.0            # cost inflation so far
    lot_factor: float = 1.0             # funding cuts to new lots so far

    @property
    def H(self) -> int:
        return self.s.horizon_months

    @classmethod
    def build(cls, scenario: Scenario, root: np.random.SeedSequence, events: str = "awards") -> "Market":
        """Draw the organisations and shocks of one replication and set up empty stores."""
        rng = spawn_streams(root)
        P = build_population(scenario, rng["population"], rng["entry"])
        H = scenario.horizon_months
        shocks = resolve_shocks(scenario, rng["shocks"])
        n, cols = P.n, H + 36
        cons = scenario.support.consortia
        book = PaymentBook(sched=np.zeros((cols, n), np.int64), late=np.zeros((cols, n)),
                           transfers=np.zeros((cols, n), np.int64) if cons else None,
                           transfers_late=np.zeros((cols, n)) if cons else None)
        settle_finances(P, scenario, stream_key(root, "population"))
        return cls(
            s=scenario, root=root, rng=rng, P=P, needs=new_needs(), contracts=new_contracts(), parties=new_parties(),
            log=EventLog(events), book=book, tender=TenderBook(lot_key=stream_key(root, "lots"),
                                                               bids_round=np.zeros(n, np.int32),
                                                               excluded_until=np.zeros(n, np.int32)),
            shocks=shocks, entered=np.searchsorted(P.entry_month, np.arange(H + 1), side="right"),
            flows={k: np.zeros(n) for k in FLOW_NAMES}, counters={k: 0.0 for k in COUNTERS},
            cash_start=P.cash.copy(), arrived_late=np.zeros(n), month_cost=np.zeros(n), renewal_p=renewal_probability(shocks),
            keys={name: stream_key(root, name) for name in STREAMS},
            budget=council_budget.Book(council_budget.envelope(scenario.budget.annual, scenario.budget.year_factors, H), H),
        )

    def floor(self, idx: np.ndarray | slice | int) -> np.ndarray:
        """Minus its credit line (months of spending at entry): cash it may use without stretching creditors."""
        return -self.s.finance.overdraft_months * self.P.scale[idx]

    def bid_floor(self, idx: np.ndarray | slice | int) -> np.ndarray:
        """The lowest cash an organisation will go to for a bid: its own risk appetite below the credit line.

        An organisation that expects to win may pay for a bid with bills it pays late
        (``bid_risk`` months of spending below its credit line; a prudent one, negative, keeps
        cash in hand): so bid costs and lost bids can tip it over.
        """
        return self.floor(idx) - self.P.bid_risk[idx] * self.P.scale[idx]
