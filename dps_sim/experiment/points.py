"""Sweep points as workers see them: one base scenario plus small overrides per point.

Kept apart from ``sweep.py`` so that a worker unpickling its payload imports only the
scenario code, not pandas, pyarrow or SALib (the sweep's planning and analysis side).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterator

from ..scenario import Scenario, ScenarioError
from ..scenario.loading import with_overrides


class InvalidPoint(ValueError):
    """A sweep point whose values make no valid scenario (recorded as that point's error)."""


class CodeMismatch(RuntimeError):
    """A worker runs different model code from the process that planned the sweep."""


class PointScenarios(Mapping):
    """The scenario of each sweep point by point id, built on first use: what workers get as the
    payload's ``scenarios``, so they receive one base scenario and small dicts of overrides rather than
    thousands of scenarios. Runs of one point arrive together, so only the last scenario is kept.
    In a policies x futures sweep a key is 'point:i' and the point's overrides apply to the base
    of policy i (``bases``, by the index as text).

    ``code`` is the hash of the code the planning process runs; a worker whose own code differs
    (the files changed after the planning process imported them, or a Dask worker has another
    version installed) refuses to run, rather than mix results of two versions in one table."""

    def __init__(self, base: Scenario, overrides: dict[str, dict[str, Any]], code: str,
                 bases: dict[str, Scenario] | None = None):
        self.base = base
        self.bases = bases or {}  # policies x futures: the base of policy i for keys 'point:i'

        self.overrides = overrides
        self.code = code
        self._last: tuple[str, Scenario] | None = None

    def __getitem__(self, key: str) -> Scenario:
        if self.code != LOADED_CODE:
            raise CodeMismatch(CODE_MISMATCH)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        try:
            base = self.bases[key.partition(":")[2]] if ":" in key else self.base
            scenario = with_overrides(base, self.overrides[key])
        except ScenarioError as exc:
            raise InvalidPoint("; ".join(f"{p.path}: {p.message}" if p.path else p.message
                                         for p in exc.problems)) from None
        self._last = (key, scenario)
        return scenario

    def __iter__(self) -> Iterator[str]:
        return iter(self.overrides)

    def __len__(self) -> int:
        return len(self.overrides)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_last": None}


def code_hash() -> str:
    """Hash of the code that decides a run's numbers (model, KPIs, scenario schema, sweep points, seeds),
    as the files are now."""
    root = Path(__file__).resolve().parent.parent
    files = sorted([*root.glob("model/*.py"), *root.glob("scenario/*.py"), root / "metrics.py",
                    *(root / "experiment" / f for f in ("points.py", "sampling.py", "seeds.py", "tasks.py")),
                    *root.glob("experiment/sweep*.py")])
    h = hashlib.sha256()
    for f in files:
        if f.exists():
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


LOADED_CODE = code_hash()
"""The hash of the code this process runs: taken when this module is imported, with the model it imports."""
CODE_MISMATCH = ("a worker runs different dps_sim code from this process (files under dps_sim/ changed after this "
                 "process imported them, or the Dask workers have another version): results of the two would mix, "
                 "so the sweep stops; start it again in a new process")
