"""Plain-English text from the numbers: labels, formatted values, one sentence per result.

The sentence for a paired difference says "more"/"fewer" (counts) or "higher"/"lower"
(amounts) only when its 95% interval excludes zero, and "no clear difference" otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..metrics import KPI_DESCRIPTIONS
from .style import humanise

HEADLINE_KPIS: tuple[str, ...] = (
    "insolvencies_small", "providers_active_end", "share_of_value_small", "service_users_reached",
    "contract_failures", "service_gap_days", "cost_per_user", "bids_per_lot",
)
"""The KPIs of the policy-comparison chart and of the sentences, in order."""


@dataclass(frozen=True)
class Phrase:
    """How to talk about one KPI: a noun phrase, count or amount, and its unit."""

    noun: str
    kind: str = "count"          # count: "4 more X"; amount: "X higher by 4"
    unit: str = ""               # '£', 'share' (shown in %), or a unit word for amounts
    over_horizon: bool = True    # a total over the simulated period, not a state at the end
    short: str = ""              # chart panel title


PHRASES: dict[str, Phrase] = {
    "providers_active_end": Phrase("organisations still in the market at the end", over_horizon=False,
                                   short="Organisations in the market at the end"),
    "providers_admitted_end": Phrase("organisations admitted to the DPS at the end", over_horizon=False,
                                     short="Organisations admitted at the end"),
    "small_providers_active_end": Phrase("micro and small organisations in the market at the end",
                                         over_horizon=False, short="Small organisations in the market at the end"),
    "insolvencies": Phrase("insolvencies", short="Insolvencies"),
    "insolvencies_small": Phrase("small-provider insolvencies", short="Small-provider insolvencies"),
    "contract_failures": Phrase("contracts ended early", short="Contracts ended early"),
    "service_users_reached": Phrase("user-years of service reached", short="Service users reached (user-years)"),
    "cost_per_user": Phrase("value of service delivered per user-year reached", "amount", "£", over_horizon=False,
                            short="Value of service per user-year reached"),
    "service_gap_days": Phrase("lot-days without a needed service", short="Service gap"),
    "mean_delivered_quality": Phrase("mean delivered quality", "amount", "points on the 0–5 scale", over_horizon=False,
                                     short="Mean delivered quality"),
    "bids_per_lot": Phrase("bids per lot", over_horizon=False, short="Bids per lot"),
    "unopposed_lots": Phrase("lots with a single bid", short="Lots with a single bid"),
    "failed_competitions": Phrase("competitions with no valid bid", short="Competitions with no valid bid"),
    "sector_bid_cost": Phrase("cost to the sector of bids and applications", "amount", "£",
                              short="Sector's cost of bidding"),
    "share_of_value_small": Phrase("share of awarded value won by micro and small organisations", "amount", "share",
                                   over_horizon=False, short="Share of value to small organisations"),
    "hhi": Phrase("concentration of awarded value (Herfindahl index)", "amount", "", over_horizon=False,
                  short="Concentration of value (HHI)"),
    "commissioner_spend": Phrase("payments made", "amount", "£", short="Payments made (not what is still owed)"),
    "outstanding_payments": Phrase("still owed to providers at the end", "amount", "£", over_horizon=False,
                                   short="Still owed to providers at the end"),
    "spend_and_owed": Phrase("paid plus still owed", "amount", "£", short="Paid plus still owed at the end"),
    "value_delivered": Phrase("value of the service delivered", "amount", "£",
                              short="Value of the service delivered (paid or owed)"),
}


def phrase(kpi: str) -> Phrase:
    """The phrase of a KPI (falls back to its description as an amount)."""
    if kpi in PHRASES:
        return PHRASES[kpi]
    desc, unit = KPI_DESCRIPTIONS.get(kpi, (humanise(kpi), ""))
    return Phrase(desc[:1].lower() + desc[1:], "amount", unit, over_horizon=False, short=desc)


def kpi_title(kpi: str) -> str:
    """Short title of a KPI for a chart panel."""
    p = phrase(kpi)
    return p.short or humanise(kpi)


def kpi_unit(kpi: str) -> str:
    """Axis unit of a KPI, from metrics.KPI_DESCRIPTIONS ('share' is shown as %)."""
    unit = KPI_DESCRIPTIONS.get(kpi, ("", ""))[1]
    return "%" if unit == "share" else unit


def kpi_description(kpi: str) -> str:
    """The KPI's description from metrics.KPI_DESCRIPTIONS."""
    return KPI_DESCRIPTIONS.get(kpi, (humanise(kpi), ""))[0]


def kpi_scale(kpi: str) -> float:
    """Factor from stored value to displayed value (shares are shown in %)."""
    return 100.0 if KPI_DESCRIPTIONS.get(kpi, ("", ""))[1] == "share" else 1.0


def period(months: int) -> str:
    """'5 years' for 60 months, '39 months' otherwise."""
    if months <= 0:
        return "the simulated period"
    if months % 12 == 0:
        years = months // 12
        return f"{years} year{'s' if years != 1 else ''}"
    return f"{months} months"


def decimals_for(*values: float) -> int:
    """Decimals that show the numbers to about two significant figures of the largest."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    top = max(finite, default=0.0)
    if top >= 100 or top == 0:
        return 0
    if top >= 1:
        return 1
    if top >= 0.1:
        return 2
    return 3


def interval_decimals(centre: float, lo: float, hi: float) -> int:
    """Decimals for a value and its 95% interval: as :func:`decimals_for`, and more (up to 3) while a
    bound that is not zero would show as 0, which would read as an interval touching zero."""
    d = decimals_for(centre, lo, hi)
    while d < 3 and any(v is not None and math.isfinite(v) and v != 0 and round(v, d) == 0 for v in (lo, hi)):
        d += 1
    return d


def fmt_number(x: float, decimals: int, signed: bool = False) -> str:
    """A number with thousands separators; '−' (minus sign) for negatives."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if round(x, decimals) == 0:
        return f"{0:.{decimals}f}"
    text = f"{x:+,.{decimals}f}" if signed else f"{x:,.{decimals}f}"
    return text.replace("-", "−")


def fmt_value(x: float, kpi: str, decimals: int | None = None, signed: bool = False, top: float | None = None) -> str:
    """A KPI value with its unit: '£1,234', '23.4%', '12.0'."""
    unit = KPI_DESCRIPTIONS.get(kpi, ("", ""))[1]
    scale = 100.0 if unit == "share" else 1.0
    if x is None or not math.isfinite(x):
        return "n/a"
    v = x * scale
    d = decimals if decimals is not None else decimals_for(v)
    if unit.startswith("£"):
        return _money(v, d, signed, None if top is None else top * scale)
    text = fmt_number(v, d, signed)
    if unit == "share":
        return f"{text}{' pp' if signed else '%'}"
    return text


def _money(v: float, decimals: int, signed: bool, top: float | None = None) -> str:
    """'£303', '£55.5k', '£950k', '£1.12m' (with a sign when asked): one style everywhere, three
    significant figures from £10,000 up. ``top``, the largest magnitude of a value and its interval, sets
    the style of all three, so an interval never mixes '£8,045' with '£17.3k'."""
    sign = ("+" if v > 0 else "−" if v < 0 else "") if signed else ("−" if v < 0 else "")
    a = abs(v)
    t = max(a, abs(top)) if top is not None and math.isfinite(top) else a
    if round(t, -3) >= 1e6:
        body = f"{a / 1e6:,.2f}m"
    elif round(t, -2) >= 1e5:
        body = f"{a / 1e3:,.0f}k"
    elif round(t, -1) >= 1e4:
        body = f"{a / 1e3:,.1f}k"
    else:
        body = fmt_number(a, decimals)
    if body.strip("0.,m k") == "":
        sign = ""
    return f"{sign}£{body}"


def money(value: float, signed: bool = False) -> str:
    """A sum of money in the report's one style: '£14.3', '£5,800', '£55.5k', '£1.21m'."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return _money(value, decimals_for(value), signed)


def fmt_interval(lo: float, hi: float, kpi: str, decimals: int | None = None, signed: bool = False,
                 top: float | None = None) -> str:
    """'3.0 to 4.9' in the KPI's unit."""
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "n/a"
    top = max(abs(lo), abs(hi), abs(top) if top is not None and math.isfinite(top) else 0.0)
    return f"{fmt_value(lo, kpi, decimals, signed, top)} to {fmt_value(hi, kpi, decimals, signed, top)}"


def spans_zero(lo: float, hi: float) -> bool:
    """Whether a 95% interval includes zero (or is missing)."""
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return True
    return lo <= 0.0 <= hi


def _magnitude(x: float, kpi: str, d: int, p: Phrase, with_unit: bool = True, top: float | None = None) -> str:
    """Unsigned value with its unit, for 'higher by …' clauses."""
    v = fmt_value(abs(x), kpi, d, top=top)
    if p.unit == "share":
        return v.replace("%", " percentage points" if with_unit else "")
    if with_unit and p.unit and not p.unit.startswith("£") and p.kind == "amount":
        return f"{v} {p.unit}"
    return v


def difference_clause(row: Mapping[str, Any], horizon_months: int = 0) -> str:
    """One KPI's paired difference in plain English.

    ``row`` has kpi, diff, diff_ci_low, diff_ci_high (a summary.csv row). Examples:
    '4.0 more small-provider insolvencies over 5 years (95% CI 3.0 to 4.9)';
    'no clear difference in bids per lot (+0.3, 95% CI −0.2 to +0.8)'.
    """
    kpi = str(row["kpi"])
    diff, lo, hi = (float(row.get(k, math.nan)) for k in ("diff", "diff_ci_low", "diff_ci_high"))
    p = phrase(kpi)
    scale = kpi_scale(kpi)
    d = interval_decimals(diff * scale, lo * scale, hi * scale)
    top = max((abs(v) for v in (diff, lo, hi) if math.isfinite(v)), default=0.0)
    when = f" over {period(horizon_months)}" if p.over_horizon and horizon_months > 0 else ""
    if not math.isfinite(diff):
        return f"no estimate for {p.noun} (no valid replications)"
    if diff == 0 and lo == 0 and hi == 0:
        return f"no difference in {p.noun}{when} (the same in every replication)"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        ci = "too few replications for an interval"
        clear = diff != 0
    else:
        ci = None
        clear = not spans_zero(lo, hi)
    if not clear:
        interval = ci or f"95% CI {fmt_interval(lo, hi, kpi, d, signed=True, top=top)}"
        return f"no clear difference in {p.noun}{when} ({fmt_value(diff, kpi, d, signed=True, top=top)}, {interval})"
    up = diff > 0
    if ci is None:
        a, b = sorted((abs(lo), abs(hi)))
        interval = f"95% CI {_magnitude(a, kpi, d, p, False, top)} to {_magnitude(b, kpi, d, p, top=top)}"
    else:
        interval = ci
    if p.kind == "count":
        return f"{fmt_value(abs(diff), kpi, d, top=top)} {'more' if up else 'fewer'} {p.noun}{when} ({interval})"
    return f"{p.noun}{when} {'higher' if up else 'lower'} by {_magnitude(diff, kpi, d, p, top=top)} ({interval})"


def is_clear(row: Mapping[str, Any]) -> bool:
    """Whether a paired difference is clear: its 95% interval excludes zero (or, without an
    interval, it is non-zero)."""
    diff, lo, hi = (float(row.get(k, math.nan)) for k in ("diff", "diff_ci_low", "diff_ci_high"))
    if not math.isfinite(diff):
        return False
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return diff != 0
    return not spans_zero(lo, hi)


def policy_sentence(policy: str, rows: list[Mapping[str, Any]], horizon_months: int = 0) -> str:
    """A short paragraph per policy: each clear difference with its interval, then the rest named.

    'Pay monthly in arrears instead of the baseline: 4.0 more small-provider insolvencies over
    5 years (95% CI 3.0 to 4.9). No clear difference in bids per lot or service users reached.'
    """
    clear = [difference_clause(r, horizon_months) for r in rows if is_clear(r)]
    unclear = [phrase(str(r["kpi"])).noun for r in rows if not is_clear(r)]
    head = f"{humanise(policy)} instead of the baseline: "
    if clear:
        text = head + "; ".join(clear) + "."
        if unclear:
            text += f" No clear difference in {_join(unclear)}."
        return text
    return head + (f"no clear difference in {_join(unclear)}." if unclear else "no results.")


def _join(items: list[str], word: str = "or") -> str:
    """'a', 'a or b', 'a, b or c' (or with 'and')."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} {items[-1]}"


def join_and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return _join(items, "and") if items else ""


def mean_clause(row: Mapping[str, Any]) -> str:
    """'Small-provider insolvencies: 1.5 (95% CI 0.6 to 2.4)' for a single-policy run."""
    kpi = str(row["kpi"])
    mean, lo, hi = (float(row.get(k, math.nan)) for k in ("mean", "ci_low", "ci_high"))
    scale = kpi_scale(kpi)
    d = interval_decimals(mean * scale, lo * scale, hi * scale)
    top = max((abs(v) for v in (mean, lo, hi) if math.isfinite(v)), default=0.0)
    return (f"{kpi_title(kpi).lower()} {fmt_value(mean, kpi, d, top=top)} "
            f"(95% CI {fmt_interval(lo, hi, kpi, d, top=top)})")


def overlay_changes(overlay: Mapping[str, Any], baseline: Mapping[str, Any]) -> list[str]:
    """A policy's overlay as plain changes: 'contracts › payment › terms: monthly arrears (baseline: advance)'."""
    out = []
    for path, value in _flatten(overlay):
        before = lookup(baseline, path, _MISSING)
        text = f"{' › '.join(p.replace('_', ' ') for p in path)}: {_plain(value)}"
        if before is not _MISSING:
            text += f" (baseline: {_plain(before)})"
        out.append(text)
    return out


_MISSING = object()


def _flatten(mapping: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    items: list[tuple[tuple[str, ...], Any]] = []
    for key, value in mapping.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            items += _flatten(value, path)
        else:
            items.append((path, value))
    return items


def lookup(mapping: Mapping[str, Any], path: tuple[str, ...], missing: Any = None) -> Any:
    """The value at a key path of nested mappings, or ``missing``."""
    node: Any = mapping
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return missing
        node = node[key]
    return node


def _plain(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float)):
        return f"{value:,}"
    if isinstance(value, str):
        return value.replace("_", " ")
    return str(value)
