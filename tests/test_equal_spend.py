"""Equal-spend comparisons (docs/model.md, submodel 21; issue 13: "the DPS policy compared against
it at equal spend"): a policy with ``budget.match_spend_of`` runs with its envelope scaled until
its mean spend over the replications equals the named policy's, under the same seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from dps_sim.cli import main
from dps_sim.experiment import compare
from dps_sim.experiment.equal_spend import XTOL, SpendMatchError, match_one
from dps_sim.experiment.sweep import load_sweep
from dps_sim.report.content import compose, equal_spend_notes
from dps_sim.report.data import ResultsFolder
from dps_sim.scenario import Scenario, ScenarioError, load_scenario, resolve_policy

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
KENT_FORMER = SCENARIOS / "kent_former_model.yaml"


@pytest.fixture(scope="module")
def matched(tmp_path_factory):
    """Kent's DPS against the former model at equal spend and with the same envelope, 3 replications."""
    out = tmp_path_factory.mktemp("equal") / "cmp"
    return compare(KENT_FORMER, reps=3, seed=7, workers=1, out=out)


def _spend(res, policy: str) -> np.ndarray:
    runs = res.runs
    return runs.loc[runs.policy == policy, "commissioner_spend"].to_numpy()


def test_the_matched_policy_spends_what_the_baseline_spends(matched):
    record = matched.manifest["equal_spend"]["former_model"]
    base, same, equal = (_spend(matched, p) for p in ("baseline", "former_model_same_envelope", "former_model"))
    # with the same envelope the grants spend more than the DPS (the DPS leaves more unspent) ...
    assert abs(same.mean() / base.mean() - 1) > 0.005
    # ... scaled, they spend the same to within a tenth of a per cent, and the record says so
    assert abs(equal.mean() / base.mean() - 1) < 1e-3
    assert record["matches"] == "baseline" and record["spend_ratio"] == pytest.approx(equal.mean() / base.mean(), 1e-6)
    assert record["budget_annual"] == pytest.approx(1_500_000 * record["budget_factor"], abs=0.01)
    assert record["budget_factor"] < 1 and record["evaluations"] >= 2
    # what ran is what the record says: the resolved scenario of the folder holds the scaled envelope
    text = (matched.out / "scenario.resolved.yaml").read_text()
    assert "match_spend_of: baseline" in text


def test_the_match_is_the_same_with_two_workers(matched, tmp_path):
    again = compare(KENT_FORMER, reps=3, seed=7, workers=2, policies=["former_model"], out=tmp_path / "w2")
    assert again.manifest["equal_spend"] == matched.manifest["equal_spend"]
    assert np.array_equal(_spend(again, "former_model"), _spend(matched, "former_model"))


def test_the_report_says_what_the_budget_was_scaled_to_and_shows_people_reached(matched):
    data = ResultsFolder.open(matched.out)
    notes = equal_spend_notes(data)
    factor = matched.manifest["equal_spend"]["former_model"]["budget_factor"]
    assert len(notes) == 1 and f"multiplied by {factor:.4f}" in notes[0] and "'Former model'" in notes[0]
    content = compose(data, [])
    assert notes[0] in content.notes
    rows = [row[0] for row in content.tables[0].rows]
    at = next(i for i, r in enumerate(rows) if r.startswith("Service users reached"))
    assert rows[at + 1].startswith("People reached")   # people beside user-years (F19 counts people)


@dataclass
class FakeRunner:
    """Spend as a function of the envelope, without simulating: ``spend(annual)`` for each replication."""

    rule: object
    reps: int = 4

    def spend(self, scenario: Scenario) -> np.ndarray:
        return np.full(self.reps, self.rule(scenario.budget.annual))


def _budgeted(annual: float = 100_000.0) -> Scenario:
    return Scenario.model_validate({"name": "b", "budget": {"annual": annual, "match_spend_of": "baseline"}})


def test_spend_proportional_to_the_budget_gives_the_ratio_of_spends():
    # spend = 3 × annual (a five-year run of a budget that always binds, less what is left unspent)
    scaled, match = match_one(_budgeted(), "grants", "baseline", 240_000.0, FakeRunner(lambda a: 3 * a))
    assert match.factor == pytest.approx(0.8, abs=2 * XTOL)
    assert scaled.budget.annual == pytest.approx(80_000, rel=2 * XTOL) and match.spend == pytest.approx(240_000, rel=1e-3)


def test_spend_that_stops_growing_with_the_budget_is_matched_where_it_still_binds():
    # the budget binds only up to £150k a year (no more lots to let): target £360k is reached at 1.2
    scaled, match = match_one(_budgeted(), "grants", "baseline", 360_000.0,
                              FakeRunner(lambda a: 3 * min(a, 150_000.0)))
    assert match.factor == pytest.approx(1.2, abs=2 * XTOL)


def test_a_spend_the_budget_cannot_reach_is_an_error_that_says_why():
    with pytest.raises(SpendMatchError, match="cannot be made to spend what 'baseline' spends"):
        match_one(_budgeted(), "grants", "baseline", 900_000.0, FakeRunner(lambda a: 3 * min(a, 150_000.0)))
    with pytest.raises(SpendMatchError, match="no budget envelope"):
        match_one(Scenario.model_validate({"name": "b"}), "grants", "baseline", 1.0, FakeRunner(lambda a: 1.0))


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("body, key, line, why", [
    ("budget: {annual: 100000, match_spend_of: grants}\npolicies:\n  grants: {procurement: {route: grant}}\n",
     "budget.match_spend_of", 2, "the baseline is what other policies match"),
    ("budget: {annual: 100000}\npolicies:\n  grants:\n    budget: {match_spend_of: basline}\n",
     "policies.grants.budget.match_spend_of", 5, "did you mean 'baseline'"),
    ("budget: {annual: 100000}\npolicies:\n  grants:\n    budget: {match_spend_of: grants}\n",
     "policies.grants.budget.match_spend_of", 5, "cannot match its own spend"),
    ("budget: {annual: 100000}\npolicies:\n  a:\n    budget: {match_spend_of: baseline}\n"
     "  b:\n    budget: {match_spend_of: a}\n", "policies.b.budget.match_spend_of", 7, "matches another policy's spend"),
    ("policies:\n  grants:\n    budget: {match_spend_of: baseline}\n",
     "policies.grants.budget.match_spend_of", 4, "set budget.annual"),
])
def test_a_bad_match_names_file_key_and_line(tmp_path, capsys, body, key, line, why):
    path = _write(tmp_path, "name: m\n" + body)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    problem = exc.value.problems[0]
    assert (problem.path, problem.line) == (key, line) and why in problem.message, problem
    assert main(["validate", str(path)]) == 2
    assert f"at key '{key}'" in capsys.readouterr().err


def test_the_engine_ignores_the_match_itself():
    sc = load_scenario(KENT_FORMER)
    assert resolve_policy(sc, "former_model").budget.match_spend_of == "baseline"
    assert resolve_policy(sc, "former_model_same_envelope").budget.match_spend_of is None


def test_a_sweep_cannot_use_a_matching_policy(tmp_path):
    (tmp_path / "sweep.yaml").write_text(
        f"scenario: {KENT_FORMER}\npolicy: former_model\nmethod: grid\nreplications: 1\n"
        "parameters:\n  behaviour.lot_interest: {levels: [0.2, 0.3]}\n")
    with pytest.raises(ScenarioError) as exc:
        load_sweep(tmp_path / "sweep.yaml")
    assert any(p.path == "policy" and "match_spend_of" in p.message for p in exc.value.problems)
