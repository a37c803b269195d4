"""Reading scenario files: safe YAML with line numbers, ``extends``, policy overlays.

Flow: a bounded, checked read and safe YAML (:mod:`.yamlfile`) → plain data plus a map from
dotted key path to (file, line) → ``extends`` merged →
validated frozen :class:`~dps_sim.scenario.schema.Scenario`. Every policy overlay is
validated at load time too, so ``dps-sim validate`` catches a bad policy before a run.

Booleans follow YAML 1.2: only ``true``/``false`` are booleans, so ``seed: yes`` is an
error rather than a seed of 1, and ``name: no`` is the text "no" (boolean fields still
accept yes/no/on/off through the schema).
"""

from __future__ import annotations

import os
import re
import weakref
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml
from pydantic import ValidationError

from .errors import Problem, ScenarioError
from .keys import section_type_message, unknown_key_message
from .merge import deep_merge, set_dotted
from .overrides import apply_overrides, blame, describe
from .names import check_policy_name, closest, excerpt
from .schema import Budget, Scenario

from .yamlfile import Where, check_kind, check_suffix, read_yaml

BASELINE = "baseline"
SCENARIO_KEYS: tuple[str, ...] = (*Scenario.model_fields, "extends")
"""The top-level keys of a scenario file."""


def _load_with_extends(path: Path, chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], Where]:
    """Read a file and, recursively, the file it ``extends``; the child's keys win.

    Files are named as the user wrote them (a parent relative to its child's folder);
    ``chain`` holds the resolved paths already being read, to catch cycles.
    """
    path = Path(path)
    real = path.resolve()
    data, where = read_yaml(path)
    check_kind(data, str(path), SCENARIO_KEYS, "scenario")
    if "extends" not in data:
        return data, where
    parent = data.pop("extends")
    line = where.get("extends", (str(path), None))[1]
    if parent is None:
        return data, where
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError.single(path, "expected the file name of another scenario", "extends", line)
    parent_path = path.parent / parent
    check_suffix(parent_path, str(path), "extends", line)
    tidy = Path(os.path.normpath(parent_path))  # 'sub/../base.yaml' → 'base.yaml', unless symlinks differ
    if tidy.resolve() == parent_path.resolve():
        parent_path = tidy
    if parent_path.resolve() in chain + (real,):
        names = " -> ".join(p.name for p in chain + (real, parent_path.resolve()))
        raise ScenarioError.single(path, f"'extends' makes a cycle: {names}", "extends", line)
    if not parent_path.is_file():
        what = "is not a regular file" if parent_path.exists() else "not found"
        raise ScenarioError.single(path, f"extended file {excerpt(parent)} {what} (looked for "
                                         f"{excerpt(str(parent_path), 120)})", "extends", line)
    base, base_where = _load_with_extends(parent_path, chain + (real,))
    # a value the child replaces outright (a list, a scalar) hides the parent's lines below it
    merged_where = {k: v for k, v in base_where.items() if not _replaced(k, data)}
    merged_where.update(where)
    merged = deep_merge(base, data)
    _drop_policies(merged, merged_where, base, data)
    return merged, merged_where


def _drop_policies(merged: dict[str, Any], where: Where, base: Mapping[str, Any], child: Mapping[str, Any]) -> None:
    """A child's ``name: null`` under ``policies`` drops the policy it inherits under that name."""
    inherited, own = base.get("policies"), child.get("policies")
    if not (isinstance(own, Mapping) and isinstance(inherited, Mapping) and isinstance(merged.get("policies"), dict)):
        return
    for name, overlay in own.items():
        if overlay is None and name in inherited and name != BASELINE:
            del merged["policies"][name]
            key = f"policies.{name}"
            for k in [k for k in where if k == key or k.startswith(key + ".")]:
                del where[k]


def _replaced(dotted: str, data: Mapping[str, Any]) -> bool:
    """Whether ``data`` sets a non-mapping value at a proper prefix of ``dotted``."""
    node: Any = data
    parts = dotted.split(".") if dotted else []
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
        if not isinstance(node, Mapping):
            return True
    return False


# --------------------------------------------------------------------------- validation


def problems_from(exc: ValidationError, file: str, where: Where, prefix: str = "") -> list[Problem]:
    """Turn pydantic's errors into problems naming key path and line."""
    problems = []
    scenario = exc.title == Scenario.__name__  # hints from the scenario schema (sweep files have their own)
    for err in exc.errors():
        ctx = err.get("ctx") or {}
        loc = [str(p) for p in err["loc"] if not _is_union_tag(p)]
        path = ctx.get("path") or ".".join(loc)
        message = err["msg"].removeprefix("Value error, ")
        kind = err["type"]
        hint = section_type_message(Scenario, err["loc"], err.get("input")) if kind == "model_type" and scenario else None
        if kind == "extra_forbidden":
            message = unknown_key_message(Scenario if scenario else None, err["loc"])
        elif hint:
            message = hint
        elif kind == "missing":
            message = "required key is missing"
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            path = f"{path}.type" if path else "type"
            expected = ctx.get("expected_tags", "")
            near = closest(str(ctx.get("tag")), re.findall(r"'([^']+)'", str(expected)))
            message = (f"unknown type {ctx.get('tag')!r}{f' (did you mean {near!r}?)' if near else ''}; expected one "
                       f"of {expected}" if kind == "union_tag_invalid" else f"'type' is missing; expected one of {expected}")
        elif "input" in err and kind != "rules" and not hint and not isinstance(err["input"], (dict, list, tuple)):
            message = f"{message} (got {excerpt(err['input'])})"
        line = _line_for(path, where, prefix)
        if kind == "rules" and not _written(path, where, prefix):
            line = _line_for("rules", where, prefix) or line  # the value broken is a default: blame the rule set
        problems.append(Problem(line[0] if line else file, path, line[1] if line else None, message))
    return problems


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and part in {
        "payment_delay", "funding_cut", "cost_inflation", "grant_loss", "demand_surge", "funding_uncertainty",
    }


def _written(path: str, where: Where, prefix: str) -> bool:
    return path in where or (bool(prefix) and prefix + path in where)


def _line_for(path: str, where: Where, prefix: str) -> tuple[str, int] | None:
    """The line of the longest written prefix of ``path`` (overlay first, then base).

    Falls back to the policy's own line (inside an overlay), then to the top-level mapping.
    """
    parts = path.split(".") if path else []
    for n in range(len(parts), -1, -1):
        for pre in ((prefix, "") if prefix else ("",)):
            key = (pre + ".".join(parts[:n])).rstrip(".")
            if key in where:
                return where[key]
    return None


def validate_data(data: dict[str, Any], file: str, where: Where, prefix: str = "") -> Scenario:
    """Validate plain data into a frozen Scenario, or raise a ScenarioError with lines."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, file, where, prefix)) from None
    except RecursionError:
        raise ScenarioError.single(file, "values are nested too deeply") from None


def _in_policy(name: str, exc: ScenarioError) -> list[Problem]:
    """Problems of a resolved policy, renamed to the overlay's key path."""
    return [Problem(p.file, f"policies.{name}.{p.path}" if p.path else f"policies.{name}", p.line,
                    f"{p.message} (in policy '{name}')") for p in exc.problems]


# Where each loaded scenario came from (file, lines, --set overrides), so that resolve_policy can name the
# file and line and a run can record the overrides. Keyed by id() (a Scenario holding a dict is not
# hashable); entries leave with their scenario.
_SOURCES: dict[int, tuple[weakref.ref, str, Where, dict[str, Any]]] = {}


def _remember(scenario: Scenario, file: str, where: Where, overrides: Mapping[str, Any] | None = None) -> None:
    key = id(scenario)
    _SOURCES[key] = (weakref.ref(scenario, lambda _ref, key=key: _SOURCES.pop(key, None)), file, where,
                     dict(overrides or {}))


def _entry(scenario: Scenario) -> tuple[Any, str, Where, dict[str, Any]] | None:
    entry = _SOURCES.get(id(scenario))
    return entry if entry is not None and entry[0]() is scenario else None


def _source(scenario: Scenario) -> tuple[str, Where]:
    entry = _entry(scenario)
    return (entry[1], entry[2]) if entry is not None else (scenario.name, {})


def source_file(scenario: Scenario) -> str | None:
    """The file a scenario was loaded from, as the caller named it; None if it was built in code."""
    entry = _entry(scenario)
    return entry[1] if entry is not None else None


def key_location(scenario: Scenario, dotted: str) -> tuple[str, int | None]:
    """(file, line) where a dotted key of a loaded scenario is written, or its nearest written parent."""
    file, where = _source(scenario)
    found = _line_for(dotted, where, "")
    return (found[0], found[1]) if found else (file, None)


def overrides_of(scenario: Scenario) -> dict[str, Any]:
    """The ``--set`` overrides a scenario was loaded with (dotted key → value; empty if none)."""
    entry = _entry(scenario)
    return dict(entry[3]) if entry is not None else {}


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, merge and validate a scenario file, including every policy overlay.

    ``overrides`` (dotted key → value, as ``--set`` gives them) are set on the scenario before its
    policies. Raises :class:`ScenarioError` (naming file, key path and line, or the ``--set``) if
    anything is wrong.
    """
    path = Path(path)
    data, where = _load_with_extends(path)
    file = str(path)
    if overrides:
        data, where = apply_overrides(data, where, overrides)

    def at(key: str) -> tuple[str, int | None]:
        """(file, line) where a key is written (a parent file's, if it comes from there)."""
        return where.get(key, (file, None))

    policies = data.get("policies")
    if policies is None:
        policies = {}
    if not isinstance(policies, dict):
        f, line = at("policies")
        raise ScenarioError.single(f, "expected a mapping of policy name to overrides", "policies", line)
    bad_names = [Problem(*_name_at(at, name), why) for name in policies if (why := check_policy_name(name))]
    if bad_names:
        raise ScenarioError(bad_names)
    # `name:` (null) is an overlay that changes nothing; an inherited policy set to null was dropped on merging
    policies = {name: {} if overlay is None else overlay for name, overlay in policies.items()}
    policies = {BASELINE: {}, **policies}
    if policies[BASELINE]:
        f, line = at(f"policies.{BASELINE}")
        raise ScenarioError.single(f, "the baseline policy is the scenario itself: put its settings in the scenario, "
                                      "not in an overlay", f"policies.{BASELINE}", line)
    data = {**data, "policies": policies}
    try:
        scenario = _validate_all(data, file, where, policies, at)
    except ScenarioError as exc:
        raise (blame(exc, overrides) if overrides else exc) from None
    _remember(scenario, file, where, overrides)
    return scenario


def _validate_all(data: dict[str, Any], file: str, where: Where, policies: dict[str, Any],
                  at: Callable[[str], tuple[str, int | None]]) -> Scenario:
    """The scenario validated, and each policy overlay merged onto it validated too."""
    scenario = validate_data(data, file, where)
    problems: list[Problem] = []
    budgets: dict[str, Budget] = {BASELINE: scenario.budget}
    for name, overlay in policies.items():
        if name == BASELINE:
            continue
        if "policies" in overlay:
            f, line = at(f"policies.{name}.policies")
            problems.append(Problem(f, f"policies.{name}.policies", line, "a policy cannot define policies"))
            continue
        try:
            budgets[name] = validate_data(deep_merge(data, overlay), file, where, prefix=f"policies.{name}.").budget
        except ScenarioError as exc:
            problems.extend(_in_policy(name, exc))
    problems.extend(_spend_matches(budgets, list(policies), at))
    if problems:
        raise ScenarioError(problems)
    return scenario


def _spend_matches(budgets: dict[str, Budget], names: list[str],
                   at: Callable[[str], tuple[str, int | None]]) -> list[Problem]:
    """``budget.match_spend_of`` names another policy that does not match in turn, and the matching
    policy has an envelope to scale (docs/model.md, submodel 21). ``budgets``: those of the policies that
    validated (a policy with errors of its own is reported for them, not again here)."""
    if budgets[BASELINE].match_spend_of is not None:  # every policy inherits it: one problem, the baseline's
        f, line = at("budget.match_spend_of")
        return [Problem(f, "budget.match_spend_of", line, "the baseline is what other policies match: set "
                        "match_spend_of in the overlay of the policy whose budget is to be scaled")]
    problems = []
    for name, budget in budgets.items():
        target = budget.match_spend_of
        if target is None:
            continue
        key = f"policies.{name}.budget.match_spend_of"
        f, line = at(key)
        if target not in names:
            why = (f"unknown policy {excerpt(target)}" + (f" (did you mean '{close}'?)" if (close := closest(
                target, names)) else "") + f"; this scenario has: {', '.join(names)}")
        elif target == name:
            why = "a policy cannot match its own spend: name the policy it is compared with, e.g. baseline"
        elif target not in budgets:
            continue
        elif budgets[target].match_spend_of is not None:
            why = f"policy '{target}' matches another policy's spend itself: match a policy whose budget is as written"
        elif budget.annual is None:
            why = ("matching spend scales the budget envelope, and this policy has none: set budget.annual "
                   "(in the scenario or this overlay)")
        else:
            continue
        problems.append(Problem(f, key, line, why))
    return problems


def _name_at(at, name: object) -> tuple[str, str, int | None]:
    """(file, 'policies', line) of a policy name; a name YAML reads as null or a boolean is written
    otherwise than Python prints it, so its line is that of 'policies'."""
    file, line = at(f"policies.{name}")
    if line is None:
        file, line = at("policies")
    return file, "policies", line


def resolve_policy(scenario: Scenario, policy: str | None = None) -> Scenario:
    """The scenario with a named policy's overlay applied (``None`` or 'baseline': itself)."""
    if policy is None or policy == BASELINE:
        return scenario
    file, where = _source(scenario)
    if policy not in scenario.policies:
        names = policy_names(scenario)
        line = _line_for("policies", where, "")
        raise ScenarioError.single(line[0] if line else file, f"unknown policy {excerpt(policy)}"
                                   + (f" (did you mean '{close}'?)" if (close := closest(policy, names)) else "")
                                   + f"; this scenario has: {', '.join(names)}",
                                   path="policies", line=line[1] if line else None)
    data = scenario.model_dump(mode="python")
    merged = deep_merge(data, scenario.policies[policy] or {})
    try:
        return validate_data(merged, file, where, prefix=f"policies.{policy}.")
    except ScenarioError as exc:
        raise ScenarioError(_in_policy(policy, exc)) from None


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
    """YAML of exactly what ran, every default filled in (headed by the ``--set`` overrides, if any)."""
    head = "".join(f"# --set {item}\n" for item in describe(overrides_of(scenario)))
    return head + yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
