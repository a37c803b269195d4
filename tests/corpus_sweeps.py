"""Malformed sweep files, made by mutating the shipped sweep (see :mod:`corpus`).

Each sweep file is written to ``sweeps/`` beside a copy of the Kent scenario it names, so the
shipped ``scenario: ../kent_youth_dps.yaml`` still finds it; the mutation alone makes it bad.
"""

from __future__ import annotations

from typing import Any

import yaml

from corpus import INF, NAN, ROOT, Bad, dump, prefix_line, setp, yaml_error_line

SWEEP = ROOT / "scenarios" / "sweeps" / "payment_bond_quality.yaml"
KENT = ROOT / "scenarios" / "kent_youth_dps.yaml"
LATE = "contracts.payment.late_days_mean"


def _case(label: str, data: dict, named: str | None, **kw: Any) -> Bad:
    text = dump(data)
    name = f"sweeps/{label}.yaml"
    line = prefix_line(text, named) if named else None
    return Bad(f"sweep:{label}", {"kent_youth_dps.yaml": KENT.read_bytes(), name: text}, name, named, line,
               kind="sweep", **kw)


def _set(data: dict, path: str, value: Any) -> dict:
    """``setp``, except that a parameter's name (a dotted key path itself) is one key."""
    if path.startswith("parameters."):
        return {**data, "parameters": {**data["parameters"], path.removeprefix("parameters."): value}}
    return setp(data, path, value)


def sweep_cases() -> list[Bad]:
    """Bad sizes, numbers, names, methods and files in a sweep."""
    base = yaml.safe_load(SWEEP.read_text(encoding="utf-8"))
    p = f"parameters.{LATE}"
    four = {"market.districts": {"levels": list(range(1, 501))}, "market.providers": {"levels": list(range(1, 1001))},
            "procurement.competitions.lots_per_round": {"levels": list(range(0, 1000))},
            "contracts.monitoring.review_months": {"levels": list(range(1, 121))}}  # 6e10 runs
    mutations: list[tuple[str, str, Any, str | None]] = [
        ("samples_2_30", "samples", 2**30, "samples"), ("samples_2_20_sobol", "samples", 2**20, "samples"),
        ("samples_negative", "samples", -1, "samples"), ("samples_text", "samples", "many", "samples"),
        ("samples_inf", "samples", INF, "samples"), ("samples_float", "samples", 12.5, "samples"),
        ("samples_not_power_of_2", "samples", 100, "samples"), ("samples_bool", "samples", True, "samples"),
        ("replications_0", "replications", 0, "replications"),
        ("replications_1e9", "replications", 10**9, "replications"),
        ("replications_nan", "replications", NAN, "replications"),
        ("method_bogus", "method", "monte_carlo", "method"), ("method_number", "method", 3, "method"),
        ("parameters_empty", "parameters", {}, "parameters"), ("parameters_list", "parameters", [LATE], "parameters"),
        ("parameter_unknown", "parameters.market.providerz", {"low": 1, "high": 2}, "parameters.market.providerz"),
        ("parameter_low_above_high", p, {"low": 90, "high": 0}, f"{p}.high"),
        ("parameter_low_inf", p, {"low": -INF, "high": 10}, f"{p}.low"),
        ("parameter_high_nan", p, {"low": 0, "high": NAN}, f"{p}.high"),
        ("parameter_high_1e308", p, {"low": 0, "high": 1e308}, f"{p}.high"),
        ("parameter_log_low_0", p, {"low": 0, "high": 10, "log": True}, f"{p}.low"),
        ("parameter_negative_lateness", p, {"low": -30, "high": 10}, f"{p}.low"),
        ("parameter_one_level", p, {"levels": [5]}, f"{p}.levels"),
        ("parameter_10k_levels", p, {"levels": list(range(10_000))}, f"{p}.levels"),
        ("parameter_levels_inf", p, {"levels": [0, INF]}, f"{p}.levels.1"),
        ("parameter_both", p, {"low": 0, "high": 1, "levels": [0, 1]}, p),
        ("parameter_unknown_key", p, {"low": 0, "high": 1, "step": 2}, f"{p}.step"),
        ("parameter_section", "parameters.market", {"low": 0, "high": 1}, "parameters.market"),
        ("parameter_policies", "parameters.policies", {"levels": ["a", "b"]}, "parameters.policies"),
        ("parameter_seed", "parameters.seed", {"low": 0, "high": 9}, "parameters.seed"),
        ("parameter_text_field", "parameters.name", {"low": 0, "high": 1}, "parameters.name"),
        ("parameters_150", "parameters", {f"behaviour.p{i}": {"low": 0, "high": 1} for i in range(150)}, "parameters"),
        ("grid_6e10_runs", "parameters", four, "samples"),
        ("parameters_100_unknown", "parameters", {f"market.nope{i}": {"low": 0, "high": 1} for i in range(100)},
         "parameters.market.nope0"),
        ("unknown_key", "sampels", 256, "sampels"),
        ("kpi_unknown", "kpis", ["insolvencies_smal"], "kpis.0"), ("kpi_twice", "kpis", ["hhi", "hhi"], "kpis.1"),
        ("kpis_empty", "kpis", [], "kpis"), ("kpis_mapping", "kpis", {"hhi": 1}, "kpis"),
        ("scenario_missing", "scenario", "../no_such.yaml", "scenario"),
        ("scenario_etc_shadow", "scenario", "/etc/shadow", "scenario"),
        ("scenario_traversal", "scenario", "../../../../../../../../etc/passwd", "scenario"),
        ("scenario_dev_zero", "scenario", "/dev/zero", "scenario"), ("scenario_folder", "scenario", "..", "scenario"),
        ("scenario_number", "scenario", 5, "scenario"), ("scenario_empty", "scenario", "", "scenario"),
        ("policy_unknown", "policy", "no_such_policy", "policy"),
        ("policy_traversal", "policy", "../../EVIL", "policy"), ("policy_nul", "policy", "a\x00b", "policy"),
        ("seed_negative", "seed", -1, "seed"), ("seed_2_70", "seed", 2**70, "seed"), ("seed_text", "seed", "x", "seed"),
        ("crn_yes", "common_random_numbers", "yes", "common_random_numbers"),
        ("description_30k", "description", "d" * 30_000, "description"),
    ]
    grid = {**base, "method": "grid"}
    cases = [_case(label, _set(grid if label.startswith("grid") else base, path, value), named, hidden=("root:",))
             for label, path, value, named in mutations]
    text = SWEEP.read_bytes()
    for label, edit in [("nul", lambda t: t.replace(b"method: sobol", b"method: so\x00bol")),
                        ("esc", lambda t: t.replace(b"samples: 256", b"samples: 256\x1b[2J")),
                        ("bad_indent", lambda t: t.replace(b"\nseed: 1", b"\n   seed: 1")),
                        ("tab", lambda t: t.replace(b"  - cost_per_user", b"\t- cost_per_user")),
                        ("unclosed", lambda t: t.replace(b"{low: 0, high: 90}", b"{low: 0, high: 90")),
                        ("duplicate", lambda t: t.replace(b"seed: 1\n", b"seed: 1\nseed: 2\n"))]:
        broken = edit(text)
        assert broken != text, label
        name = f"sweeps/text_{label}.yaml"
        line = yaml_error_line(broken)
        if label == "duplicate":  # the second of the two
            line = [n for n, ln in enumerate(broken.splitlines(), 1) if ln.startswith(b"seed:")][1]
        cases.append(Bad(f"sweep:text_{label}", {"kent_youth_dps.yaml": KENT.read_bytes(), name: broken}, name,
                         "seed" if label == "duplicate" else None, line, kind="sweep"))
    return cases

