"""Malformed scenario files and bad options: exit code 2 and a message naming file, key and line.

DESIGN.md, Interface: "Exit codes: 0 success; 2 bad input (unreadable or invalid file, bad
option) with a message that names the file, the key path and the line"; "Existing output is
never overwritten silently."

Each case is a small edit of the tiny valid scenario (``conftest.TINY_SCENARIO``). Most run
in-process through ``dps_sim.cli.main`` (fast); those marked ``validate``/``run`` go through
the real command line in a subprocess, as a user would run it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from dps_sim.cli import main

EXIT_BAD_INPUT = 2


# --------------------------------------------------------------------------- helpers


def edit(text: str, old: str, new: str) -> str:
    """Replace one exact, unique piece of the tiny scenario (fails loudly if the base changes)."""
    assert text.count(old) == 1, f"{old!r} must occur exactly once in the base scenario"
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line of ``text`` containing ``needle``."""
    for n, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not found")


@dataclass
class Built:
    """What a case wrote: the file to pass, and the file and line the message must name."""

    arg: Path
    named: Path
    line: int | None


@dataclass
class Case:
    id: str
    build: Callable[[str, Path], Built]
    path: str | None  # key path the message must name (None: a whole-file problem)
    via: str = "inproc"  # inproc | validate | run
    also: tuple[str, ...] = ()  # further text the message must contain
    marker: bool = False  # the file would create tmp/MARKER if Python tags were executed
    near: bool = False  # a YAML syntax error: the key is the one nearest the problem


def text_case(new_text: Callable[[str], str], needle: str | None, name: str = "scenario.yaml") -> Callable[[str, Path], Built]:
    """A case that writes one file; ``needle`` finds the line the message must name."""

    def build(base: str, tmp: Path) -> Built:
        text = new_text(base)
        path = tmp / name
        path.write_text(text, encoding="utf-8")
        return Built(path, path, line_of(text, needle) if needle is not None else None)

    return build


def replace(old: str, new: str, needle: str | None = None) -> Callable[[str, Path], Built]:
    """A case made by one edit; by default the message must name the line of the new text."""
    first_line = new.strip("\n").splitlines()[0] if new.strip() else None
    return text_case(lambda base: edit(base, old, new), needle if needle is not None else first_line)


def append(extra: str, needle: str) -> Callable[[str, Path], Built]:
    return text_case(lambda base: base + extra, needle)


def fixed(text: str, line: int | None) -> Callable[[str, Path], Built]:
    def build(base: str, tmp: Path) -> Built:
        path = tmp / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        return Built(path, path, line)

    return build


def missing_file(base: str, tmp: Path) -> Built:
    path = tmp / "no_such_scenario.yaml"
    return Built(path, path, None)


def not_utf8(base: str, tmp: Path) -> Built:
    path = tmp / "scenario.yaml"
    path.write_bytes(base.encode() + b"market_note: caf\xe9\n")
    return Built(path, path, base.count("\n") + 1)


def python_apply(base: str, tmp: Path) -> Built:
    marker = tmp / "MARKER"
    text = edit(base, "name: Tiny test DPS", f'name: !!python/object/apply:os.system ["echo hacked > {marker}"]')
    path = tmp / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return Built(path, path, line_of(text, "name: !!python"))


def python_name(base: str, tmp: Path) -> Built:
    marker = tmp / "MARKER"
    text = edit(base, "description: Small", f"hook: !!python/name:os.system\nnote: echo hacked > {marker}\ndescription: Small")
    path = tmp / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return Built(path, path, line_of(text, "hook: !!python"))


def extends_missing(base: str, tmp: Path) -> Built:
    text = "# child\nextends: parents/no_such_parent.yaml\nname: Child\n"
    path = tmp / "child.yaml"
    path.write_text(text, encoding="utf-8")
    return Built(path, path, 2)


def extends_cycle(base: str, tmp: Path) -> Built:
    (tmp / "a.yaml").write_text("name: A\nextends: b.yaml\n", encoding="utf-8")
    (tmp / "b.yaml").write_text("name: B\nhorizon_months: 12\n\nextends: a.yaml\n", encoding="utf-8")
    return Built(tmp / "a.yaml", tmp / "b.yaml", 4)


def extends_bad_parent(base: str, tmp: Path) -> Built:
    """The bad value is in the parent file: the message names the parent and its line."""
    parent = edit(base, "  private_share: 0.1", "  private_share: -0.2")
    (tmp / "parent.yaml").write_text(parent, encoding="utf-8")
    sub = tmp / "variants"
    sub.mkdir()
    (sub / "child.yaml").write_text("extends: ../parent.yaml\nname: Child\n", encoding="utf-8")
    return Built(sub / "child.yaml", tmp / "parent.yaml", line_of(parent, "private_share: -0.2"))


def extends_child_replaces_list(base: str, tmp: Path) -> Built:
    """The child's list replaces the parent's: the message names the child's line, not the parent's."""
    (tmp / "parent.yaml").write_text(base, encoding="utf-8")
    text = "extends: parent.yaml\nname: Child\nshocks:\n  - {month: 3, fraction: 0.2}\n"
    (tmp / "child.yaml").write_text(text, encoding="utf-8")
    return Built(tmp / "child.yaml", tmp / "child.yaml", 4)


def a_folder(base: str, tmp: Path) -> Built:
    folder = tmp / "folder.yaml"
    folder.mkdir()
    return Built(folder, folder, None)


CASES = [
    # wrong types and unknown keys
    Case("string_for_int", replace("  providers: 40", "  providers: forty"), "market.providers", also=("forty",)),
    Case("float_for_int", replace("seed: 11", "seed: 11.5"), "seed"),
    Case("yaml11_yes_for_int", replace("seed: 11", "seed: yes"), "seed"),
    Case("unknown_top_level_key", replace("horizon_months: 12", "horizon_months: 12\nhorizon_mnths: 24", "horizon_mnths"),
         "horizon_mnths", also=("unknown key",)),
    Case("unknown_nested_key", replace("    period_days: 30", "    period_dayz: 30"), "contracts.payment.period_dayz",
         via="run", also=("unknown key",)),
    Case("section_is_a_number", replace("  performance_bond:\n    threshold: 200000\n", "  performance_bond: 5\n",
                                        "performance_bond: 5"), "contracts.performance_bond"),
    # values out of range
    Case("negative_lot_value_median", replace("{median: 40000, sigma: 0.5}", "{median: -40000, sigma: 0.5}", "median: -40000"),
         "procurement.competitions.lot_value.median"),
    Case("negative_bond_threshold", replace("    threshold: 200000", "    threshold: -1"),
         "contracts.performance_bond.threshold"),
    Case("weights_do_not_sum_to_1", replace("      quality: 0.4", "      quality: 0.5", "    weights:"),
         "procurement.competitions.weights", also=("sum to 1",)),
    Case("size_mix_does_not_sum_to_1", replace("micro: 0.5,", "micro: 0.3,", "size_mix:"), "market.size_mix",
         also=("sum to 1",)),
    Case("private_share_above_1", replace("  private_share: 0.1", "  private_share: 1.5"), "market.private_share"),
    Case("horizon_0_months", replace("horizon_months: 12", "horizon_months: 0"), "horizon_months"),
    Case("bad_enum_terms_weekly", replace("    terms: advance", "    terms: weekly"), "contracts.payment.terms",
         also=("weekly", "monthly_arrears")),
    Case("bad_enum_route_tender", replace("  route: dps", "  route: tender"), "procurement.route", also=("tender",)),
    Case("bad_list_item", replace("  length_months: 12", "  length_months: 12\n  extensions_months: [12, twelve]",
                                  "extensions_months"), "contracts.extensions_months.1"),
    # missing, empty, unreadable
    Case("missing_name", replace("name: Tiny test DPS\n", "", "description:"), "name", also=("missing",)),
    Case("missing_file", missing_file, None, via="validate", also=("not found",)),
    Case("empty_file", fixed("", None), None, also=("empty",)),
    Case("only_comments", fixed("# nothing here yet\n", None), None, also=("empty",)),
    Case("a_folder", a_folder, None),
    Case("not_utf8", not_utf8, None, also=("UTF-8",)),
    Case("top_level_list", fixed("- name: Tiny\n- seed: 3\n", 1), None, also=("mapping",)),
    # YAML syntax
    Case("yaml_bad_indentation", replace("  providers: 40", "   providers: 40"), "market.districts", near=True),
    Case("yaml_unclosed_bracket", replace("{median: 40000, sigma: 0.5}", "{median: 40000, sigma: 0.5", "    weights:"),
         "procurement.competitions.lot_value.sigma", via="validate", near=True, also=("starts on line",)),
    Case("yaml_tab_indentation", replace("  providers: 40", "\tproviders: 40"), "market.districts", near=True),
    Case("duplicate_key", replace("horizon_months: 12", "horizon_months: 12\nhorizon_months: 24", "horizon_months: 24"),
         "horizon_months", also=("twice",)),
    Case("recursive_alias", fixed("name: Loop\nloop: &a [1, *a]\n", 2), None, also=("alias",)),
    # unsafe tags: never executed
    Case("python_object_apply", python_apply, "name", via="validate", marker=True, also=("never loaded",)),
    Case("python_name", python_name, "hook", via="run", marker=True, also=("never loaded",)),
    # shocks
    Case("shock_unknown_type", replace("fraction: 0.1}\n", "fraction: 0.1}\n  - {type: meteor_strike, month: 3}\n",
                                       "meteor_strike"), "shocks.1.type",
         also=("meteor_strike", "funding_cut")),
    Case("shock_bad_field", replace("fraction: 0.1}", "fraction: 2.0}", "type: funding_cut"), "shocks.0.fraction"),
    # policies
    Case("policy_overlay_unknown_key",
         append("  typo:\n    contracts:\n      payment: {termz: monthly_arrears}\n", "termz"),
         "policies.typo.contracts.payment.termz", also=("typo",)),
    Case("policy_overlay_bad_value", append("  weekly:\n    contracts: {payment: {terms: weekly}}\n", "terms: weekly"),
         "policies.weekly.contracts.payment.terms"),
    Case("baseline_policy_not_empty", replace("  baseline: {}", "  baseline: {seed: 3}"), "policies.baseline"),
    Case("policies_not_a_mapping",
         replace("  baseline: {}\n  pay_monthly_in_arrears:\n    contracts: {payment: {terms: monthly_arrears}}\n",
                 "  - arrears\n", "policies:"), "policies"),
    # extends
    Case("extends_missing_file", extends_missing, "extends", also=("no_such_parent.yaml",)),
    Case("extends_cycle", extends_cycle, "extends", also=("cycle",)),
    Case("extends_parent_invalid", extends_bad_parent, "market.private_share"),
    Case("extends_child_shock_without_type", extends_child_replaces_list, "shocks.0.type", also=("'type' is missing",)),
    # rule sets (PCR 2015 reg 34: tender at least 10 days, admission within 15 working days, no supplier fees)
    Case("tender_days_5_under_pcr2015", replace("    tender_days: 30", "    tender_days: 5"),
         "procurement.competitions.tender_days", via="run", also=("pcr2015",)),
    Case("winner_fee_under_pcr2015", replace("  route: dps", "  route: dps\n  winner_fee_rate: 0.02", "winner_fee_rate"),
         "procurement.winner_fee_rate", also=("pcr2015",)),
    Case("evaluation_days_20_under_pcr2015",
         replace("    evaluation_working_days: 10", "    evaluation_working_days: 20"),
         "procurement.admission.evaluation_working_days", also=("pcr2015",)),
    Case("policy_breaks_rule_set", append("  short_tender:\n    procurement: {competitions: {tender_days: 3}}\n",
                                          "{tender_days: 3}"),
         "policies.short_tender.procurement.competitions.tender_days", also=("pcr2015",)),
]


def check_message(err: str, built: Built, case: Case) -> None:
    """The message names the file, the key path and the line; no traceback."""
    assert "Traceback" not in err
    assert str(built.named) in err, err
    if case.path is not None:
        assert f"{'near' if case.near else 'at'} key '{case.path}'" in err, err
    if built.line is not None:
        assert re.search(rf"\bline {built.line}\b", err), f"expected line {built.line}: {err}"
    for text in case.also:
        assert text in err, err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_scenario_exits_2_naming_file_key_and_line(case: Case, tmp_path: Path, tiny_scenario_text: str,
                                                       run_cli, capsys) -> None:
    """DESIGN.md Interface: bad input exits 2 with a message naming the file, the key path and the line."""
    built = case.build(tiny_scenario_text, tmp_path)
    out_dir = tmp_path / "out"
    if case.via == "inproc":
        code = main(["validate", str(built.arg)])
        err = capsys.readouterr().err
    elif case.via == "validate":
        code, _, err = run_cli("validate", built.arg, cwd=tmp_path)
    else:
        code, _, err = run_cli("run", built.arg, "--reps", "1", "--out", out_dir, "--no-report", "--quiet", cwd=tmp_path)
    assert code == EXIT_BAD_INPUT, err
    check_message(err, built, case)
    assert not out_dir.exists(), "a run with a bad scenario must not create its output folder"
    if case.marker:
        assert not (tmp_path / "MARKER").exists(), "a Python tag in YAML was executed"


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 24
    assert sum(c.via != "inproc" for c in CASES) >= 6
    assert len({c.id for c in CASES}) == len(CASES)


# --------------------------------------------------------------------------- policies and options


def test_unknown_policy_on_run(tiny_scenario_file: Path, tmp_path: Path, capsys) -> None:
    """`run --policy nope` exits 2 naming the policy, the file and the policies key; nothing is written."""
    out = tmp_path / "out"
    code = main(["run", str(tiny_scenario_file), "--policy", "nope", "--reps", "1", "--out", str(out), "--quiet",
                 "--no-report"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT, err
    assert "'nope'" in err and "pay_monthly_in_arrears" in err
    assert str(tiny_scenario_file) in err and "'policies'" in err
    assert re.search(rf"\bline {line_of(tiny_scenario_file.read_text(), 'policies:')}\b", err), err
    assert not out.exists()


def test_bad_option_in_a_subprocess(tiny_scenario_file: Path, tmp_path: Path, run_cli) -> None:
    """A bad option is bad input: exit 2 with argparse's usage message, no traceback."""
    code, _, err = run_cli("run", tiny_scenario_file, "--reps", "0", "--out", tmp_path / "out")
    assert code == EXIT_BAD_INPUT
    assert "--reps" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, option", [
    (["run", "{f}", "--reps", "0"], "--reps"),
    (["run", "{f}", "--reps", "abc"], "--reps"),
    (["run", "{f}", "--seed", "-1"], "--seed"),
    (["compare", "{f}", "--workers", "0"], "--workers"),
    (["run", "{f}", "--events", "some"], "--events"),
    (["run"], "scenario"),
    (["simulate", "{f}"], "simulate"),
])
def test_bad_options_exit_2(argv: list[str], option: str, tiny_scenario_file: Path, capsys) -> None:
    """argparse rejects bad options with exit code 2 (DESIGN.md: bad option is bad input)."""
    with pytest.raises(SystemExit) as exc:
        main([a.replace("{f}", str(tiny_scenario_file)) for a in argv])
    assert exc.value.code == EXIT_BAD_INPUT
    assert option in capsys.readouterr().err


# --------------------------------------------------------------------------- existing output


def test_existing_output_is_never_overwritten_silently(tiny_scenario_file: Path, tmp_path: Path, capsys) -> None:
    """A non-empty --out folder: exit 2 and files untouched; --force replaces only what dps-sim wrote there:
    a user's own file named like an output (runs.csv) is refused, not replaced."""
    out = tmp_path / "out"
    out.mkdir()
    old_runs = "policy,replication\nkeep,me\n"
    (out / "runs.csv").write_text(old_runs)
    (out / "notes.txt").write_text("my notes")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    argv = ["run", str(tiny_scenario_file), "--reps", "1", "--out", str(out), "--no-report", "--quiet"]

    code = main(argv)
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT, err
    assert str(out) in err and "--force" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    code = main(argv + ["--force"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT, err
    assert "did not write" in err and "runs.csv" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    (out / "runs.csv").unlink()
    assert main(argv + ["--force"]) == 0, capsys.readouterr().err
    first = (out / "runs.csv").read_bytes()
    assert main(argv + ["--force", "--seed", "99"]) == 0, capsys.readouterr().err
    assert (out / "runs.csv").read_bytes() != first, "--force replaces the tool's own results"
    assert (out / "notes.txt").read_text() == "my notes", "--force replaces results, not the user's other files"
