"""Checking a sweep file: its structure (:class:`~.sweep_spec.SweepFile`), then its names and
values against the base scenario, each problem naming the file, key path and line."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Callable, Literal, get_origin

from pydantic import BaseModel, ValidationError

from .. import metrics
from ..scenario import BASELINE, Problem, Scenario, ScenarioError, load_scenario, read_yaml, resolve_policy
from ..scenario.keys import strip_annotation
from ..scenario.loading import Where, _line_for, policy_names, problems_from, with_overrides
from ..scenario.names import excerpt
from ..scenario.yamlfile import check_kind, check_suffix
from .sampling import Parameter, point_count
from .sweep_plan import concrete_overrides, did_you_mean, lookup, point_overrides
from .sweep_spec import ALL_KPIS, MAX_RUNS, NOT_PARAMETERS, SWEEP_KEYS, ParameterSpec, SweepFile, SweepSpec


def load_sweep(path: str | Path, overrides: dict[str, Any] | None = None) -> SweepSpec:
    """Read and validate a sweep file; raise :class:`ScenarioError` naming file, key path and line.
    ``overrides`` (``--set``) are set on its base scenario before the policy."""
    path = Path(path)
    data, where = read_yaml(path)
    check_kind(data, str(path), SWEEP_KEYS, "sweep")
    return parse_sweep(data, str(path), where, path.parent, overrides)


def parse_sweep(data: dict[str, Any], file: str = "<sweep>", where: Where | None = None,
                base_dir: str | Path = ".", overrides: dict[str, Any] | None = None) -> SweepSpec:
    """Validate sweep data (as read from YAML): its structure by :class:`SweepFile`, then its names and
    values against the base scenario (with ``overrides`` set on it)."""
    where = where or {}
    try:
        raw = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([_with_hint(p) for p in problems_from(exc, file, where)]) from None
    problems: list[Problem] = []

    def add(path: str, message: str) -> None:
        line = _line_for(path, where, "")
        problems.append(Problem(line[0] if line else file, path, line[1] if line else None, message))

    scenario_file = Path(base_dir) / raw.scenario
    at = _line_for("scenario", where, "") or (file, None)
    check_suffix(scenario_file, at[0], "scenario", at[1])
    if not scenario_file.is_file():
        add("scenario", f"scenario file {excerpt(raw.scenario)} not found (looked in "
                        f"{excerpt(str(scenario_file.parent), 120)})")
        raise ScenarioError(problems)
    scenario = load_scenario(scenario_file, overrides)  # its own errors name its own file and lines (or the --set)
    policy = raw.policy or BASELINE
    if policy not in policy_names(scenario):
        add("policy", f"unknown policy {excerpt(policy)}; the scenario has: {', '.join(policy_names(scenario))}")
        raise ScenarioError(problems)
    base = resolve_policy(scenario, policy)
    if base.budget.match_spend_of is not None:
        add("policy", f"policy {excerpt(policy)} matches another policy's spend (budget.match_spend_of), which needs "
                      "a search at every point: sweep budget.annual instead, or compare it with dps-sim compare")
    dump = base.model_dump(mode="python")
    parameters = {}
    for key in set(overrides or {}) & set(raw.parameters):
        add(f"parameters.{key}", f"'{key}' is swept by this file, so --set {key}=... would have no effect")
    for name, spec in raw.parameters.items():
        par = _parameter(add, name, spec, base, dump)
        if par is not None:
            parameters[name] = par

    samples = raw.samples
    if samples is None and raw.method == "grid" and all(p.levels is not None for p in parameters.values()):
        samples = 1
    if samples is None:
        add("samples", "required key is missing: " + SWEEP_KEYS["samples"])
    elif raw.method == "sobol" and (samples < 2 or samples & (samples - 1)):
        add("samples", f"sobol needs a power of two (e.g. 64, 128, 256), got {samples}")
    elif raw.method in ("morris", "lhs") and samples < (2 if raw.method == "morris" else 3):
        add("samples", f"{raw.method} needs at least {2 if raw.method == 'morris' else 3} samples, got {samples}")
    elif raw.method == "grid" and samples < 2 and any(p.levels is None for p in parameters.values()):
        add("samples", "grid needs at least 2 values per range")
    elif not any(pr.path == "samples" for pr in problems):
        runs = run_bound(raw.method, list(parameters.values()), samples, len(raw.parameters)) * raw.replications
        if runs > MAX_RUNS:
            add("samples", f"this sweep would make about {runs:,} runs; at most {MAX_RUNS:,}: lower samples, "
                           "replications or the number of parameters")

    for i, k in enumerate(raw.kpis):
        if k not in ALL_KPIS:
            add(f"kpis.{i}", f"unknown KPI {k!r}{did_you_mean(k, ALL_KPIS, metrics.KPI_NAMES, 'known KPIs')}")
        elif k in raw.kpis[:i]:
            add(f"kpis.{i}", f"KPI {k!r} is listed twice")
    policies = _policies(add, raw, data, scenario, list(parameters))
    for k in raw.satisficing:
        if k not in ALL_KPIS:
            add(f"satisficing.{k}", f"unknown KPI {k!r}{did_you_mean(k, ALL_KPIS, metrics.KPI_NAMES, 'known KPIs')}")
        elif not policies:
            add(f"satisficing.{k}", "satisficing thresholds need policies: (a policies x futures sweep)")
    if problems:
        raise ScenarioError(problems)
    assert samples is not None
    return SweepSpec(file=Path(file) if file != "<sweep>" else None, scenario_file=scenario_file, scenario=scenario,
                     policy=policy, method=raw.method, samples=samples, replications=raw.replications,
                     seed=raw.seed if raw.seed is not None else int(scenario.seed), parameters=parameters,
                     kpis=tuple(raw.kpis), common_random_numbers=raw.common_random_numbers,
                     description=raw.description, policies=policies, satisficing=dict(raw.satisficing))


def _policies(add: Callable[[str, str], None], raw: SweepFile, data: dict[str, Any], scenario: Scenario,
              swept: list[str]) -> tuple[str, ...]:
    """The policies of a policies x futures sweep, baseline first (it is added if not listed); none
    may set a swept parameter (the sweep's value would replace the policy's)."""
    if raw.policies is None:
        return ()
    names = policy_names(scenario)
    if "policy" in data and (raw.policy or BASELINE) != BASELINE:
        add("policy", "give policy: or policies:, not both (a policies sweep compares each with the baseline)")
        return ()
    listed = names if raw.policies == "all" else list(raw.policies)
    for i, name in enumerate(listed):
        if name not in names:
            add(f"policies.{i}", f"unknown policy {name!r}{did_you_mean(name, names, names, 'the scenario has')}")
        elif name in listed[:i]:
            add(f"policies.{i}", f"policy {name!r} is listed twice")
    chosen = [BASELINE] + [n for n in dict.fromkeys(listed) if n != BASELINE and n in names]
    if len(chosen) < 2:
        add("policies", "a policies sweep needs at least one policy besides the baseline")
    base = scenario.model_dump(mode="json")
    for name in chosen[1:]:
        resolved = resolve_policy(scenario, name)
        if resolved.budget.match_spend_of is not None:
            add(f"policies.{listed.index(name)}" if name in listed else "policies",
                f"policy {name!r} matches another policy's spend (budget.match_spend_of), which needs a search at "
                "every point: leave it out of the sweep, or compare it with dps-sim compare")
            continue
        overlay = resolved.model_dump(mode="json")
        for dotted in swept:
            if lookup(base, dotted) != lookup(overlay, dotted):
                add(f"parameters.{dotted}", f"policy {name!r} sets '{dotted}': sweeping it would undo the policy; "
                                            "sweep another parameter or leave the policy out")
    return tuple(chosen)


def _with_hint(problem: Problem) -> Problem:
    """An unknown key in a sweep file, with the nearest key it may mean (scenario keys are not involved)."""
    if not problem.path or not problem.message.startswith("unknown key"):
        return problem
    parent, _, key = problem.path.rpartition(".")
    keys = ParameterSpec.model_fields if parent.startswith("parameters.") else SWEEP_KEYS
    what = "a parameter takes" if parent else "sweep files take"
    return dataclasses.replace(problem, message="unknown key" + did_you_mean(key, keys, keys, what))


def _parameter(add: Callable[[str, str], None], name: str, spec: ParameterSpec, base: Scenario,
               dump: dict[str, Any]) -> Parameter | None:
    """Check a parameter against the base scenario: its path, its kind, and that its ends or levels are valid."""
    key = f"parameters.{name}"
    head = name.split(".")[0]
    if head in NOT_PARAMETERS:
        add(key, NOT_PARAMETERS[head])
        return None
    found, current = lookup(dump, name)
    if not found:
        add(key, current)
        return None
    if isinstance(current, (dict, list, tuple)):
        sub = ", ".join(map(str, current)) if isinstance(current, dict) else f"0..{len(current) - 1}"
        add(key, f"'{name}' is a section, not a value: name one of its entries ({sub})")
        return None
    kind = _field_kind(name, current)
    bad = []

    def check(path: str, value: Any) -> None:
        """A parameter's end or level must give a valid scenario (with constrained groups rescaled)."""
        try:
            with_overrides(base, concrete_overrides(point_overrides({name: value}, dump), dump))
        except ScenarioError as exc:
            msg = "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in exc.problems)
            bad.append(path)
            add(path, f"value {value!r} gives an invalid scenario: {msg}")

    if spec.levels is not None:
        levels = [int(v) if kind == "int" and isinstance(v, float) and v.is_integer() else v for v in spec.levels]
        seen: list[str] = []
        for i, level in enumerate(levels):
            ident = json.dumps(level, sort_keys=True, default=str)
            if ident in seen:
                bad.append(i)
                add(f"{key}.levels.{i}", f"level {ident} is listed twice")
            seen.append(ident)
            check(f"{key}.levels.{i}", level)
        return None if bad else Parameter(name, levels=tuple(levels), integer=kind == "int")
    if kind not in ("int", "float"):
        add(key, f"'{name}' is not a number ({current!r}): list its values with levels: [...]")
        return None
    low, high = spec.low, spec.high
    assert low is not None and high is not None
    if kind == "int":
        for k, v in (("low", low), ("high", high)):
            if not float(v).is_integer():
                bad.append(k)
                add(f"{key}.{k}", f"'{name}' takes whole numbers, got {v!r}")
        if bad:
            return None
        low, high = int(low), int(high)
    check(f"{key}.low", low)
    check(f"{key}.high", high)
    return None if bad else Parameter(name, low=low, high=high, log=spec.log, integer=kind == "int")


def _field_kind(dotted: str, current: Any) -> str:
    """'int', 'float' or 'other': from the schema annotation, else from the base value."""
    ann: Any = Scenario
    for part in dotted.split("."):
        if isinstance(ann, type) and issubclass(ann, BaseModel) and part in ann.model_fields:
            ann = strip_annotation(ann.model_fields[part].annotation)
        else:
            ann = None
            break
    if ann in (int, float):
        return ann.__name__
    if ann in (bool, str) or get_origin(ann) is Literal or isinstance(current, bool):
        return "other"
    return {int: "int", float: "float"}.get(type(current), "other")


def run_bound(method: str, parameters: list[Parameter], samples: int, n_params: int) -> int:
    """Points a design will have (an upper bound for grids), computed without building anything."""
    if method != "grid":
        return point_count(method, n_params, samples)
    sizes = [len(p.levels) if p.levels is not None
             else min(samples, int(p.high - p.low) + 1) if p.integer else samples for p in parameters]
    return math.prod(sizes)
