"""docs/findings.md holds a table for every shipped scenario with policies to compare, and each table
compares the policies the scenario has now (a policy added, renamed or dropped makes it stale)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from dps_sim import load_scenario

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
import findings  # noqa: E402  (docs/findings.py, the script that writes the tables)

TEXT = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
BLOCKS = dict(re.findall(r"<!-- findings:(\w+) -->\n(.*?)\n<!-- /findings -->", TEXT, re.S))


def test_every_shipped_scenario_with_policies_has_its_findings() -> None:
    shipped = {p.stem for p in (ROOT / "scenarios").glob("*.yaml") if len(load_scenario(p).policies) > 1}
    assert shipped - {"kent_futures"} == set(findings.SCENARIOS) == set(BLOCKS)


@pytest.mark.parametrize("stem", findings.SCENARIOS)
def test_each_table_compares_the_scenarios_policies(stem: str) -> None:
    header = next(line for line in BLOCKS[stem].splitlines() if line.startswith("| KPI |"))
    compared = re.findall(r"\| (\w+) − baseline", header)
    assert compared == [p for p in load_scenario(ROOT / "scenarios" / f"{stem}.yaml").policies if p != "baseline"]
    assert re.search(r"\d+ replications, seed \d+, commit `[0-9a-f]{7,}\+?`", BLOCKS[stem])


def test_a_block_is_replaced_and_the_words_around_it_kept() -> None:
    text = "words before\n\n<!-- findings:a -->\nold\n<!-- /findings -->\n\nwords after\n"
    new = findings.replace_block(text, "a", "new table")
    assert new == text.replace("old", "new table")
    assert findings.replace_block(new, "b", "t").endswith("<!-- findings:b -->\nt\n<!-- /findings -->\n")
