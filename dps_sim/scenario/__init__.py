"""Scenario files: schema, loading, errors and rule sets."""

from .errors import Problem, ScenarioError
from .loading import (BASELINE, deep_merge, dump_resolved, load_scenario, policy_names, read_yaml, resolve_policy,
                      set_dotted, validate_data, with_overrides)
from .rules import RULE_SETS, RuleSet
from .schema import SIZE_BANDS, SMALL_BANDS, Scenario

__all__ = [
    "BASELINE", "Problem", "RULE_SETS", "RuleSet", "SIZE_BANDS", "SMALL_BANDS", "Scenario", "ScenarioError",
    "deep_merge", "dump_resolved", "load_scenario", "policy_names", "read_yaml", "resolve_policy", "set_dotted",
    "validate_data", "with_overrides",
]
