"""Reading scenario files: safe YAML with line numbers, ``extends``, policy overlays.

Flow: text → YAML nodes (PyYAML ``SafeLoader``; no Python tags are ever constructed) →
plain data plus a map from dotted key path to (file, line) → ``extends`` merged →
validated frozen :class:`~dps_sim.scenario.schema.Scenario`. Every policy overlay is
validated at load time too, so ``dps-sim validate`` catches a bad policy before a run.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import ValidationError

from .errors import Problem, ScenarioError
from .schema import Scenario

Where = dict[str, tuple[str, int]]
"""Dotted key path → (file, 1-based line) where that key is written."""

BASELINE = "baseline"


# --------------------------------------------------------------------------- YAML


def read_yaml(path: str | Path) -> tuple[dict[str, Any], Where]:
    """Parse a YAML mapping safely; return the data and where each key is written."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError.single(file, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError.single(file, f"cannot read file: {exc}") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError.single(file, "file is empty: expected a mapping of keys such as 'name:'")
        where: Where = {}
        _walk(node, "", file, where)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or str(exc)
        if "python" in str(exc):
            what = f"{what}. Python tags (!!python/...) are never loaded: write plain values"
        raise ScenarioError.single(file, f"YAML cannot be read: {what}", line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError.single(file, f"YAML cannot be read: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ScenarioError.single(file, f"expected a mapping of keys at the top level, got {type(data).__name__}", line=1)
    return data, where


def _walk(node: yaml.Node, prefix: str, file: str, where: Where) -> None:
    """Record the line of every key and list item below ``node``; reject duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            path = f"{prefix}.{key}" if prefix else key
            if key in seen:
                raise ScenarioError.single(file, f"key '{key}' appears twice", path=path, line=key_node.start_mark.line + 1)
            seen.add(key)
            where[path] = (file, key_node.start_mark.line + 1)
            _walk(value_node, path, file, where)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = f"{prefix}.{i}"
            where[path] = (file, item.start_mark.line + 1)
            _walk(item, path, file, where)


# --------------------------------------------------------------------------- merging


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Overlay ``overlay`` onto ``base``: mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """Return a copy of ``data`` with the value at a dotted key path replaced."""
    keys = dotted.split(".")
    overlay: dict[str, Any] = {keys[-1]: value}
    for key in reversed(keys[:-1]):
        overlay = {key: overlay}
    return deep_merge(data, overlay)


def _load_with_extends(path: Path, chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], Where]:
    """Read a file and, recursively, the file it ``extends``; the child's keys win."""
    path = path.resolve() if path.exists() else path
    if path in chain:
        names = " -> ".join(p.name for p in chain + (path,))
        raise ScenarioError.single(chain[-1], f"'extends' makes a cycle: {names}", path="extends")
    data, where = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data, where
    if not isinstance(parent, str):
        raise ScenarioError.single(path, "expected the file name of another scenario", "extends", where.get("extends", ("", None))[1])
    parent_path = (path.parent / parent)
    if not parent_path.exists():
        raise ScenarioError.single(path, f"extended file '{parent}' not found (looked in {parent_path.parent})", "extends", where["extends"][1])
    base, base_where = _load_with_extends(parent_path, chain + (path,))
    merged_where = {**base_where, **where}
    return deep_merge(base, data), merged_where


# --------------------------------------------------------------------------- validation


def problems_from(exc: ValidationError, file: str, where: Where, prefix: str = "") -> list[Problem]:
    """Turn pydantic's errors into problems naming key path and line."""
    problems = []
    for err in exc.errors():
        ctx = err.get("ctx") or {}
        loc = [str(p) for p in err["loc"] if not _is_union_tag(p)]
        path = ctx.get("path") or ".".join(loc)
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; `dps-sim schema` lists every key)"
        elif err["type"] == "missing":
            message = "required key is missing"
        elif "input" in err and err["type"] not in ("rules",) and not isinstance(err["input"], (dict, list)):
            message = f"{message} (got {err['input']!r})"
        line = _line_for(path, where, prefix)
        problems.append(Problem(line[0] if line else file, path, line[1] if line else None, message))
    return problems


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and part in {
        "payment_delay", "funding_cut", "cost_inflation", "grant_loss", "demand_surge", "funding_uncertainty",
    }


def _line_for(path: str, where: Where, prefix: str) -> tuple[str, int] | None:
    """The line of the longest written prefix of ``path`` (overlay first, then base)."""
    parts = path.split(".") if path else []
    for n in range(len(parts), 0, -1):
        for pre in ((prefix, "") if prefix else ("",)):
            key = pre + ".".join(parts[:n])
            if key in where:
                return where[key]
    return None


def validate_data(data: dict[str, Any], file: str, where: Where, prefix: str = "") -> Scenario:
    """Validate plain data into a frozen Scenario, or raise a ScenarioError with lines."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, file, where, prefix)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge and validate a scenario file, including every policy overlay.

    Raises :class:`ScenarioError` (naming file, key path and line) if anything is wrong.
    """
    path = Path(path)
    data, where = _load_with_extends(path)
    file = str(path)
    policies = data.get("policies") or {BASELINE: {}}
    if not isinstance(policies, dict):
        raise ScenarioError.single(file, "expected a mapping of policy name to overrides", "policies", where.get("policies", (file, None))[1])
    policies = {BASELINE: {}, **policies}
    if policies.get(BASELINE):
        raise ScenarioError.single(file, "the baseline policy is the scenario itself: put its settings in the scenario, not in an overlay",
                                   f"policies.{BASELINE}", where.get(f"policies.{BASELINE}", (file, None))[1])
    data = {**data, "policies": policies}
    scenario = validate_data(data, file, where)
    problems: list[Problem] = []
    for name, overlay in policies.items():
        if name == BASELINE:
            continue
        if overlay is None:
            overlay = {}
        if "policies" in overlay:
            line = where.get(f"policies.{name}.policies", (file, None))[1]
            problems.append(Problem(file, f"policies.{name}.policies", line, "a policy cannot define policies"))
            continue
        try:
            validate_data(deep_merge(data, overlay), file, where, prefix=f"policies.{name}.")
        except ScenarioError as exc:
            for p in exc.problems:
                problems.append(Problem(p.file, f"policies.{name}.{p.path}" if p.path else f"policies.{name}", p.line,
                                        f"{p.message} (in policy '{name}')"))
    if problems:
        raise ScenarioError(problems)
    return scenario


def resolve_policy(scenario: Scenario, policy: str | None = None) -> Scenario:
    """The scenario with a named policy's overlay applied (``None`` or 'baseline': itself)."""
    if policy is None or policy == BASELINE:
        return scenario
    if policy not in scenario.policies:
        known = ", ".join(sorted(scenario.policies))
        raise ScenarioError.single(scenario.name, f"unknown policy '{policy}'; this scenario has: {known}", path="policies")
    data = scenario.model_dump(mode="python")
    merged = deep_merge(data, scenario.policies[policy] or {})
    return validate_data(merged, scenario.name, {})


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """The scenario with values set at dotted key paths (used by sweeps)."""
    data = scenario.model_dump(mode="python")
    for dotted, value in overrides.items():
        data = set_dotted(data, dotted, value)
    return validate_data(data, scenario.name, {})


def policy_names(scenario: Scenario) -> list[str]:
    """Policy names with the baseline first, in file order."""
    return [BASELINE] + [n for n in scenario.policies if n != BASELINE]


def dump_resolved(scenario: Scenario) -> str:
    """YAML of exactly what ran, every default filled in."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
