"""The parts of a report that every kind of folder shares: the content records (rendered charts,
tables, the whole report), the scenario in plain words, the provenance and number formatting.

content (runs and comparisons) and sweep_content (sweeps) both build on this module, so neither
imports the other's dependencies back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .data import ResultsFolder
from .text import lookup, period

ROUTES = {"dps": "a Dynamic Purchasing System (open to new providers throughout)",
          "framework": "a closed framework (providers admitted only at the start)",
          "open_tender": "open tenders for each lot", "grant": "grants without competition"}
TERMS = {"advance": "paid monthly in advance", "monthly_arrears": "paid monthly in arrears",
         "quarterly_arrears": "paid quarterly in arrears", "payment_by_results": "paid partly by results"}


@dataclass
class RenderedChart:
    """A chart as saved: its name, title, plain-English caption and PNG bytes (and, when drawn in this
    process, the same image as RGB pixels, so the PDF need not decode the PNG again)."""

    name: str
    title: str
    caption: str
    png: bytes
    pixels: Any = field(default=None, repr=False, compare=False)


@dataclass
class Table:
    """A results table: title, column headings, rows of formatted cells and a note."""

    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass
class ReportContent:
    """Everything the report says, in order."""

    title: str
    subtitle: str
    question: str
    scenario: list[str]
    policies_heading: str
    policies: list[tuple[str, list[str]]]
    findings: list[str]
    charts: list[RenderedChart]
    tables: list[Table]
    notes: list[str] = field(default_factory=list)
    provenance: list[tuple[str, str]] = field(default_factory=list)
    glossary: list[tuple[str, str]] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    """What the scenario file says about its own assumptions and cautions."""
    limitations: list[str] = field(default_factory=list)
    """The model's known limitations, summarised."""


def scenario_paragraphs(data: ResultsFolder) -> list[str]:
    """The scenario in plain words: its description and its main settings."""
    out = [data.description] if data.description else []
    facts = scenario_facts(data.scenario, data.horizon_months)
    if facts:
        out.append("In the model: " + "; ".join(facts) + ".")
    return out


def scenario_facts(sc: Mapping[str, Any], horizon: int) -> list[str]:
    """Plain statements of the main settings of a resolved scenario (those present)."""
    get = lambda *path: lookup(sc, path)
    facts = []
    if horizon:
        facts.append(f"simulated over {period(horizon)}")
    if get("market", "providers") is not None:
        text = f"{number(get('market', 'providers'))} organisations able to serve at the start"
        if get("market", "entry_per_year"):
            text += f" and about {number(get('market', 'entry_per_year'))} new ones a year"
        districts = get("market", "districts")
        if districts:
            text += ", in one district" if float(districts) == 1 else f", across {number(districts)} districts"
        facts.append(text)
    route = get("procurement", "route")
    if route:
        facts.append(f"services bought through {ROUTES.get(str(route), str(route).replace('_', ' '))}")
    value = get("procurement", "competitions", "lot_value", "median")
    if value:
        facts.append(f"lots worth about £{number(value)} a year")
    w = get("procurement", "competitions", "weights")
    if isinstance(w, Mapping) and w:
        facts.append("bids scored " + ", ".join(f"{number(100 * float(v))}% {k}" for k, v in w.items()))
    pages = get("procurement", "competitions", "document_pages")
    if pages:
        facts.append(f"{number(pages)}-page tender documents")
    length, terms = get("contracts", "length_months"), get("contracts", "payment", "terms")
    if length or terms:
        facts.append(" ".join(x for x in (f"contracts of {number(length)} months" if length else "contracts",
                                          TERMS.get(str(terms), str(terms).replace("_", " ")) if terms else "") if x))
    threshold = get("contracts", "performance_bond", "threshold")
    if threshold:
        facts.append(f"a performance bond on contracts worth £{number(threshold)} or more")
    shocks = get("shocks")
    if isinstance(shocks, list) and shocks:
        kinds = ", ".join(str(s.get("type", "shock")).replace("_", " ") for s in shocks if isinstance(s, Mapping))
        facts.append(f"{len(shocks)} scheduled shock{'s' if len(shocks) != 1 else ''} ({kinds})")
    return facts


def provenance(data: ResultsFolder) -> list[tuple[str, str]]:
    """Where the numbers come from: version, command, seed, dates, folder."""
    m = data.manifest
    git = m.get("git") if isinstance(m.get("git"), dict) else {}
    sets = m.get("overrides") if isinstance(m.get("overrides"), dict) else {}
    items = [("Results folder", str(data.folder.resolve().name)), ("Scenario file", str(m.get("scenario_file") or "")),
             ("Changed with --set", "; ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}"
                                               for k, v in sets.items())),
             ("Command", str(m.get("command") or "")), ("Seed", str(data.seed)),
             ("Replications", str(data.replications)), ("dps_sim version", str(m.get("dps_sim_version") or "")),
             ("Git commit", str(git.get("commit") or "")[:12]), ("Started", str(m.get("started") or "")),
             ("Finished", str(m.get("finished") or ""))]
    return [(k, v) for k, v in items if v]


# -- small helpers ---------------------------------------------------------------------------
def number(value: Any) -> str:
    """12 -> '12', 40000.0 -> '40,000', 0.5 -> '0.5'."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}".rstrip("0").rstrip(".")
