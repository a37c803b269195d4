"""JSON Schemas of scenario and sweep files, printed by ``dps-sim schema [--sweep]``.

Both come from the pydantic models the loader validates with, so they cannot drift from them.
The scenario schema adds what the loader does around the model: ``extends`` (a file that extends
another is a partial scenario: every key optional, at every depth, because the parent fills the
rest), and ``policies`` as overlays checked key by key (a partial scenario without ``policies``;
``null`` drops an inherited policy; ``baseline`` must be empty). Rules that span several keys
(weights summing to 1, the legal limits of a rule set) are checked by ``dps-sim validate`` only.
"""

from __future__ import annotations

import copy
from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
PARTIAL = "{}__partial"
"""Name of the partial copy of a definition (every key optional) in ``$defs``."""


def _partial(node: Any, names: set[str]) -> Any:
    """A copy of a schema node whose references to object definitions point to their partial copies.

    Lists of items (shocks, extensions) are not partial: a list given replaces the inherited one whole.
    """
    if isinstance(node, list):
        return [_partial(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("items", "prefixItems", "discriminator"):
            out[key] = copy.deepcopy(value)
        elif key == "$ref" and isinstance(value, str) and value.rpartition("/")[2] in names:
            out[key] = "#/$defs/" + PARTIAL.format(value.rpartition("/")[2])
        else:
            out[key] = _partial(value, names)
    return out


BOOLEAN_WORDS = "^([Yy]([Ee][Ss])?|[Nn][Oo]?|[Oo][Nn]|[Oo][Ff][Ff]|[Tt]([Rr][Uu][Ee])?|[Ff]([Aa][Ll][Ss][Ee])?|0|1)$"
"""The words pydantic reads as a boolean (yes/no, on/off, y/n, t/f, 1/0, any case): YAML 1.2 leaves them text."""


def _lax_booleans(node: Any) -> Any:
    """Boolean fields as the loader takes them: true/false, 0/1, or one of :data:`BOOLEAN_WORDS`."""
    if isinstance(node, list):
        return [_lax_booleans(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _lax_booleans(v) for k, v in node.items()}
    if out.get("type") == "boolean":
        del out["type"]
        out["anyOf"] = [{"type": "boolean"}, {"enum": [0, 1]}, {"type": "string", "pattern": BOOLEAN_WORDS}]
    return out


def _without_required(schema: dict[str, Any], names: set[str]) -> dict[str, Any]:
    out = _partial(schema, names)
    out.pop("required", None)
    return out


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files: a whole scenario, or one that ``extends`` another."""
    from .scenario import Scenario
    from .scenario.names import MAX_NAME
    from .scenario.schema import MAX_POLICIES

    model = _lax_booleans(Scenario.model_json_schema())
    defs: dict[str, Any] = model.pop("$defs")
    names = {n for n, d in defs.items() if d.get("type") == "object"}
    for name in sorted(names):
        defs[PARTIAL.format(name)] = _without_required(defs[name], names)
    top = {k: v for k, v in model.items() if k not in ("title", "description")}
    policies_doc = top["properties"]["policies"]["description"]
    overlay = _without_required(top, names)
    overlay["properties"].pop("policies")
    overlay["description"] = "a policy: keys of the scenario to change, deep-merged onto it (any depth; no policies)"
    defs["PolicyOverlay"] = overlay
    policies = {
        "type": "object", "description": policies_doc + "; `name: null` drops a policy inherited through extends",
        "maxProperties": MAX_POLICIES,
        "propertyNames": {"pattern": f"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_NAME - 1}}}$"},
        "properties": {"baseline": {"anyOf": [{"type": "object", "maxProperties": 0}, {"type": "null"}],
                                    "description": "the scenario itself: always empty"}},
        "additionalProperties": {"anyOf": [{"$ref": "#/$defs/PolicyOverlay"}, {"type": "null"}]},
    }
    extends = {"anyOf": [{"type": "string", "minLength": 1, "pattern": r"\.(yaml|yml|YAML|YML)$"}, {"type": "null"}],
               "description": "another scenario file this one builds on, relative to this file's folder; its keys "
                              "and policies are inherited, this file's keys win"}
    whole = copy.deepcopy(top)
    whole["properties"].update(policies=policies, extends={"type": "null"})
    defs["WholeScenario"] = whole
    schema = _without_required(top, names)  # every key optional at any depth: what a file that extends may hold
    schema["properties"].update(policies=policies, extends=extends)
    return {
        "$schema": DRAFT, "title": "dps_sim scenario file",
        "description": "A dps_sim scenario (YAML). A file with 'extends' may leave out any key its parent gives; "
                       "a file without it is a whole scenario (a name, and every section complete).",
        **schema,
        "if": {"required": ["extends"], "properties": {"extends": {"type": "string"}}},
        "then": True,
        "else": {"$ref": "#/$defs/WholeScenario"},
        "$defs": defs,
    }


def sweep_schema() -> dict[str, Any]:
    """The JSON Schema of sweep files (their structure; names are checked against the scenario by validate)."""
    from .experiment.sweep_spec import SweepFile

    model = SweepFile.model_json_schema()
    model["properties"]["parameters"]["propertyNames"] = {"pattern": r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$"}
    model["properties"]["scenario"]["pattern"] = r"\.(yaml|yml|YAML|YML)$"
    model["$defs"]["ParameterSpec"]["oneOf"] = [  # a range {low, high[, log]} or a list of levels, not both
        {"required": ["low", "high"], "not": {"required": ["levels"]}},
        {"required": ["levels"], "not": {"anyOf": [{"required": ["low"]}, {"required": ["high"]}]}},
    ]
    return {"$schema": DRAFT, "title": "dps_sim sweep file",
            **{k: v for k, v in model.items() if k != "title"}}
