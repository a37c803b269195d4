"""Equal-spend comparisons (docs/model.md, submodel 21; issue 13: "the DPS policy compared against
it at equal spend"): a policy with ``budget.match_spend_of`` runs with its envelope scaled until
its mean spend over the replications equals the named policy's, under the same seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from dps_sim import metrics
from dps_sim.cli import main
from dps_sim.experiment import compare, equal_spend
from dps_sim.experiment.equal_spend import RTOL, SpendMatchError, match_budgets, match_one
from dps_sim.experiment.seeds import replication_seed
from dps_sim.model import simulate
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
    # what ran is what the record says: the folder's resolved scenario gives the scaled envelope
    text = (matched.out / "scenario.resolved.yaml").read_text()
    assert text.startswith(f"# equal spend: policy former_model ran with budget.annual {record['budget_annual']:.2f}")
    assert "match_spend_of: baseline" in text
    assert matched.manifest["equal_spend_replications"] == 3 * (1 + record["evaluations"])


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
    assert match.factor == pytest.approx(0.8, abs=2 * RTOL)
    assert scaled.budget.annual == pytest.approx(80_000, rel=2 * RTOL)
    assert match.spend == pytest.approx(240_000, rel=1e-3)


def test_spend_that_stops_growing_with_the_budget_is_matched_where_it_still_binds():
    # the budget binds only up to £150k a year (no more lots to let): target £360k is reached at 1.2
    scaled, match = match_one(_budgeted(), "grants", "baseline", 360_000.0,
                              FakeRunner(lambda a: 3 * min(a, 150_000.0)))
    assert match.factor == pytest.approx(1.2, abs=2 * RTOL)


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
     "  b:\n    budget: {match_spend_of: a}\n", "policies.b.budget.match_spend_of", 7,
     "matches another policy's spend"),
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


def test_validate_says_a_search_comes_first(capsys):
    assert main(["validate", str(KENT_FORMER)]) == 0
    out = capsys.readouterr().out
    assert "equal spend: before the runs, the budget of former_model is searched for" in out
    assert "former_model_same_envelope is searched" not in out


def test_the_engine_ignores_the_match_itself():
    """Matching is a choice of comparison: the same envelope with and without the key runs the same."""
    sc = load_scenario(KENT_FORMER)
    matching, plain = resolve_policy(sc, "former_model"), resolve_policy(sc, "former_model_same_envelope")
    assert matching.budget.match_spend_of == "baseline" and plain.budget.match_spend_of is None
    a, b = (metrics.kpis(simulate(s, replication_seed(3, 0))) for s in (matching, plain))  # a fresh seed each
    assert a.keys() == b.keys() and all(a[k] == b[k] or (np.isnan(a[k]) and np.isnan(b[k])) for k in a)


def test_a_resumed_comparison_takes_the_recorded_factor_without_searching():
    class NoRuns:
        def spend(self, scenario):
            raise AssertionError("searched again")

    sc = load_scenario(KENT_FORMER)
    resolved = {p: resolve_policy(sc, p) for p in ("baseline", "former_model")}
    record = {"matches": "baseline", "budget_factor": 0.9123456789012345, "budget_annual": 1368518.52,
              "mean_spend": 1.0, "target_mean_spend": 1.0, "spend_ratio": 1.0, "evaluations": 5}
    scaled, found = match_budgets(sc, resolved, NoRuns(), known={"former_model": record})
    assert scaled["former_model"].budget.annual == 1_500_000 * 0.9123456789012345   # exactly: same numbers
    assert found[0].factor == record["budget_factor"] and scaled["baseline"] is resolved["baseline"]


def test_a_search_that_fails_is_bad_input_and_leaves_no_folder(tmp_path, capsys, monkeypatch):
    def cannot(*args, **kwargs):
        raise SpendMatchError("policy 'former_model' cannot be made to spend what 'baseline' spends")

    monkeypatch.setattr(equal_spend, "match_one", cannot)
    out = tmp_path / "new"
    code = main(["compare", str(KENT_FORMER), "--reps", "2", "--workers", "1", "--out", str(out), "--quiet",
                 "--no-report", "--policies", "former_model"])
    err = capsys.readouterr().err
    assert code == 2 and "at key 'policies.former_model.budget.match_spend_of'" in err and "line" in err, err
    assert not out.exists()


def test_compare_brings_the_policy_that_is_matched(tmp_path):
    data = load_scenario(KENT_FORMER).model_dump(mode="python")
    grants = data["policies"]["former_model_same_envelope"]
    data["policies"] = {"grants": grants, "grants_at_dps_spend": {**grants, "budget": {"match_spend_of": "grants"}},
                        "other": {"payment": {"terms": "monthly_arrears"}}}
    res = compare(Scenario.model_validate(data), reps=2, seed=1, workers=1, policies=["grants_at_dps_spend"])
    assert res.policies == ["baseline", "grants", "grants_at_dps_spend"]
    assert res.manifest["equal_spend"]["grants_at_dps_spend"]["budget_factor"] == pytest.approx(1, abs=RTOL)


def test_a_sweep_cannot_use_a_matching_policy(tmp_path):
    (tmp_path / "sweep.yaml").write_text(
        f"scenario: {KENT_FORMER}\npolicy: former_model\nmethod: grid\nreplications: 1\n"
        "parameters:\n  behaviour.lot_interest: {levels: [0.2, 0.3]}\n")
    with pytest.raises(ScenarioError) as exc:
        load_sweep(tmp_path / "sweep.yaml")
    assert any(p.path == "policy" and "match_spend_of" in p.message for p in exc.value.problems)
    (tmp_path / "futures.yaml").write_text(
        f"scenario: {KENT_FORMER}\npolicies: [former_model_same_envelope, former_model]\nmethod: grid\n"
        "replications: 1\nparameters:\n  behaviour.lot_interest: {levels: [0.2, 0.3]}\n")
    with pytest.raises(ScenarioError) as exc:
        load_sweep(tmp_path / "futures.yaml")
    assert [p.path for p in exc.value.problems if "match_spend_of" in p.message] == ["policies.1"]


def test_a_runs_fingerprint_covers_the_policy_it_matches():
    """`run --policy former_model` does not run the baseline, but the factor depends on it: a baseline
    changed where the policy's overlay hides the change must give another fingerprint (resume refuses)."""
    from dps_sim.experiment.equal_spend import spend_match_inputs
    from dps_sim.experiment.runs import fingerprint

    one = load_scenario(KENT_FORMER)
    two = load_scenario(KENT_FORMER, {"contracts.length_months": 24})   # former_model sets 12 itself
    r1, r2 = ({"former_model": resolve_policy(s, "former_model")} for s in (one, two))
    assert r1["former_model"] == r2["former_model"]
    prints = [fingerprint("run", r, 3, 1, "awards", spend_match_inputs(s, r)) for s, r in ((one, r1), (two, r2))]
    assert prints[0] != prints[1]
    plain = {"former_model_same_envelope": resolve_policy(one, "former_model_same_envelope")}
    assert spend_match_inputs(one, plain) == {}   # nothing more without a match


def test_bad_input_in_the_search_leaves_earlier_results_under_force(tmp_path, capsys, monkeypatch):
    out = tmp_path / "cmp"
    assert main(["compare", str(KENT_FORMER), "--reps", "1", "--workers", "1", "--out", str(out), "--quiet",
                 "--no-report", "--policies", "former_model_same_envelope"]) == 0
    before = (out / "runs.csv").read_bytes()

    def cannot(*args, **kwargs):
        raise SpendMatchError("policy 'former_model' cannot be made to spend what 'baseline' spends")

    monkeypatch.setattr(equal_spend, "match_one", cannot)
    code = main(["compare", str(KENT_FORMER), "--reps", "1", "--workers", "1", "--out", str(out), "--quiet",
                 "--no-report", "--force"])
    assert code == 2 and "policies.former_model.budget.match_spend_of" in capsys.readouterr().err
    assert (out / "runs.csv").read_bytes() == before   # the search came before anything was replaced

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(equal_spend, "match_one", stop)
    new = tmp_path / "new"
    assert main(["compare", str(KENT_FORMER), "--reps", "1", "--workers", "1", "--out", str(new), "--quiet",
                 "--no-report"]) == 1
    assert "interrupted before anything was written" in capsys.readouterr().err and not new.exists()
