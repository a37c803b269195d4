"""What the reader must keep in mind: the scenario file's own caveats and the model's known limitations,
printed in report.html and report.pdf (issue 13).

The caveats are the scenario file's header comments from its assumptions (or caution, caveat, limitation)
paragraph on. scenario.resolved.yaml keeps no comments, so they are read from the scenario file the
manifest names, and said to come from a changed file when its SHA-256 no longer matches the manifest's.
The limitations are a summary of docs/model.md "Known limitations", kept here so that an installed package
has them; tests/test_report_money.py checks that each still names a limitation of that section.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .data import ResultsFolder

CAVEAT_START = re.compile(r"^(assumptions?|cautions?|caveats?|limitations?|warning)\b", re.IGNORECASE)
"""A header comment paragraph that starts the scenario's caveats."""

MODEL_LIMITATIONS: tuple[tuple[str, str], ...] = (
    ("Users reached", "'Service users reached' counts user-years of service (promised annual reach × months "
                      "delivered ÷ 12), not distinct people; people reached is estimated from a stated turnover "
                      "of the client population."),
    ("Not modelled", "The council's own costs (staff time to run competitions and monitor contracts) are not "
                     "counted; social value scoring, competitive dialogue, taking work in-house and lot "
                     "aggregation are not modelled."),
    ("The former model is our reading of two sentences", "The grants of the former model (their sizes, holders "
                                                         "and light monitoring) are assumptions, and a "
                                                         "DPS-versus-grants difference rests on them."),
    ("The budget is planned, not shocked", "Year-by-year budget changes are known when lots are let; an "
                                           "unplanned cut is a separate funding-cut shock."),
    ("Monthly steps of cash", "Cash is stepped once a month; insolvency is tested once a month on the month's "
                              "average cash, so the lowest point within a month is not seen."),
    ("Bidders do not anticipate each other within a round", "Organisations choose lots by their own expected "
                                                            "gain and do not expect a crowded lot to be harder "
                                                            "to win."),
    ("Lot appeal is one normal draw", "How attractive a lot is to bidders is one random draw (an assumption), "
                                      "which also leaves some lots with no bid at all, a share no source gives."),
    ("Micro organisations and small lots", "At the default turnover test a micro organisation can bid alone "
                                           "only for very small lots, so it takes part mainly through "
                                           "consortia and grants."),
    ("Other income is one stream", "Funders won and lost are one random process per organisation, not grants "
                                   "with end dates that trustees foresee."),
    ("Fixed expectations", "Organisations do not learn their chances of winning from wins and losses, and "
                           "margins do not respond to competition."),
    ("Failed or terminated contracts", "A failed or terminated contract does not affect the provider's "
                                       "reputation or later scores."),
    ("How a council handles failures is assumed", "A lot whose re-run competition also fails is negotiated "
                                                  "with one organisation, and a failed service is covered by "
                                                  "another until it is re-let: the law allows both, but how "
                                                  "often councils do so is an assumption, and it moves people "
                                                  "reached where competitions often fail."),
)
"""(the limitation's bold title in docs/model.md, a one-sentence summary for a committee)."""

PERIOD_NOTE = ("The simulated period ends at its horizon: payments due after it are counted as still owed, not "
               "as paid, and a policy that pays later pays less within the period without costing less.")


def limitations(period_note: bool = True) -> list[str]:
    """The model's known limitations, in plain words, with where to read more; ``period_note`` False where the
    report's notes on reading the numbers already say how the horizon counts payments (not said twice)."""
    return [f"{title}: {text}" for title, text in MODEL_LIMITATIONS] + ([PERIOD_NOTE] if period_note else []) + [
        "The full list, with the reasons, is in docs/model.md, 'Known limitations'."]


def header_comments(text: str) -> list[str]:
    """The comment lines at the top of a YAML file, without their '#' (blank comment lines kept as '')."""
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            if stripped:
                break
            continue
        out.append(stripped.lstrip("#").strip())
    return out


def caveat_paragraphs(comments: list[str]) -> list[str]:
    """From the first assumptions/caution/caveat paragraph on: each '- ' item or blank-separated paragraph
    as one line of text."""
    items: list[str] = []
    started = False
    for line in comments:
        body = line[2:].strip() if line.startswith("- ") else line
        if not started:
            if not CAVEAT_START.match(body):
                continue
            started = True
        if not line:
            items.append("")
        elif line.startswith("- ") or not items or items[-1] == "":
            items.append(body)
        else:
            items[-1] = f"{items[-1]} {body}"
    return [i for i in items if i]


def scenario_file(data: ResultsFolder) -> Path | None:
    """The scenario file the manifest names, looked for as given, beside the results and in this checkout."""
    name = data.manifest.get("scenario_file")
    if not name:
        return None
    path = Path(str(name))
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, data.folder.parent / path,
                                                     Path(__file__).resolve().parents[2] / path]
    return next((p for p in candidates if p.is_file()), None)


def scenario_caveats(data: ResultsFolder) -> list[str]:
    """The caveats the scenario file states about itself (empty when it has none or cannot be found)."""
    path = scenario_file(data)
    if path is None:
        return []
    try:
        raw = path.read_bytes()
        items = caveat_paragraphs(header_comments(raw.decode("utf-8")))
    except (OSError, UnicodeDecodeError):
        return []
    expected = data.manifest.get("scenario_sha256")
    if items and expected and hashlib.sha256(raw).hexdigest() != expected:
        items.insert(0, f"The scenario file ({path.name}) has changed since these results were produced; its "
                        "notes as they read now:")
    return items
