"""docs/outputs.md names every column the results tables have, and docs/glossary.md every glossary term."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from dps_sim.report.glossary import GLOSSARY

DOCS = Path(__file__).resolve().parents[1] / "docs"


def documented(section: str) -> set[str]:
    """Column names in backticks in the first cell of the table rows of a section of docs/outputs.md
    ('`providers_active_micro` … `providers_active_major`' names the five bands)."""
    text = (DOCS / "outputs.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in body.splitlines():
        if row.startswith("| `"):
            cell = row.split("|")[1]
            names |= set(re.findall(r"`([a-z_0-9.]+)`", cell))
            if "…" in cell:
                names |= {f"providers_active_{b}" for b in ("micro", "small", "medium", "large", "major")}
    return names


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory: pytest.TempPathFactory, tiny_scenario_text: str) -> Path:
    from dps_sim.experiment import compare

    folder = tmp_path_factory.mktemp("docs")
    (folder / "tiny.yaml").write_text(tiny_scenario_text, encoding="utf-8")
    compare(folder / "tiny.yaml", reps=2, seed=2, workers=1, events="all", out=folder / "out")
    return folder / "out"


@pytest.mark.parametrize("name,section", [("runs.csv", "runs.csv"), ("summary.csv", "summary.csv"),
                                          ("timeseries.parquet", "timeseries.parquet"),
                                          ("providers.parquet", "providers.parquet"),
                                          ("events.parquet", "events.parquet")])
def test_every_column_is_documented(compare_dir: Path, name: str, section: str) -> None:
    path = compare_dir / name
    columns = pd.read_csv(path).columns if name.endswith(".csv") else pd.read_parquet(path).columns
    missing = set(columns) - documented(section)
    assert not missing, f"{name}: columns not described in docs/outputs.md: {sorted(missing)}"


def test_glossary_page_lists_every_term() -> None:
    text = (DOCS / "glossary.md").read_text(encoding="utf-8")
    for term, _ in GLOSSARY:
        assert f"**{term}**" in text, term
