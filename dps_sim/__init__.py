"""dps_sim: a simulator of a Dynamic Purchasing System for commissioning from charities.

The public API mirrors the command line::

    import dps_sim
    scenario = dps_sim.load_scenario("scenarios/kent_youth_dps.yaml")
    results = dps_sim.compare(scenario, reps=50, seed=1)
    results.summary          # pandas DataFrame, one row per (policy, KPI)

In a script, call ``compare`` and ``sweep`` (and ``run`` with ``workers`` > 1) under
``if __name__ == "__main__":``: their worker processes re-run the script's top level, and dps_sim
stops with a clear error if the guard is missing. Importing the package has no side effects and
imports no plotting or cluster code; ``dir(dps_sim)`` lists the API without importing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "KPI_NAMES", "Results", "Scenario", "ScenarioError", "__version__", "compare", "load_scenario",
    "resolve_policy", "run", "simulate", "sweep",
]

if TYPE_CHECKING:  # pragma: no cover
    from .experiment import Results, compare, run
    from .experiment.sweep import sweep
    from .metrics import KPI_NAMES
    from .model import simulate
    from .scenario import Scenario, ScenarioError, load_scenario, resolve_policy

_LAZY = {
    "Results": ("dps_sim.experiment", "Results"),
    "compare": ("dps_sim.experiment", "compare"),
    "run": ("dps_sim.experiment", "run"),
    "sweep": ("dps_sim.experiment.sweep", "sweep"),
    "KPI_NAMES": ("dps_sim.metrics", "KPI_NAMES"),
    "simulate": ("dps_sim.model", "simulate"),
    "Scenario": ("dps_sim.scenario", "Scenario"),
    "ScenarioError": ("dps_sim.scenario", "ScenarioError"),
    "load_scenario": ("dps_sim.scenario", "load_scenario"),
    "resolve_policy": ("dps_sim.scenario", "resolve_policy"),
}


def __getattr__(name: str) -> Any:
    """Import the public API on first use, so `import dps_sim` stays light."""
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'dps_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API (and the module's dunder names), for dir() and tab completion; nothing is imported."""
    return sorted(set(__all__) | {n for n in globals() if n.startswith("__")})
