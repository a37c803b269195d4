"""No import circles within dps_sim/scenario and dps_sim/experiment (DESIGN.md Layout: "no import circles").

Static: every ``import`` and ``from ... import`` anywhere in a module (also inside functions and
``if TYPE_CHECKING:``) counts as an edge; ``from . import store`` is an edge to the module ``store``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dps_sim"


def module_graph(subpackage: str) -> dict[str, set[str]]:
    """Module name → modules of the same subpackage it imports."""
    files = {(f"dps_sim.{subpackage}" if f.stem == "__init__" else f"dps_sim.{subpackage}.{f.stem}"): f
             for f in (PACKAGE / subpackage).glob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for name, file in files.items():
        here = name if file.stem == "__init__" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = here.split(".")[:len(here.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in graph]
                targets = subs or [target]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in graph and t != name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, or None."""
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt]
            if not state.get(nxt):
                found = visit(nxt, path + [node])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if not state.get(start):
            found = visit(start, [])
            if found:
                return found
    return None


@pytest.mark.parametrize("subpackage", ["scenario", "experiment"])
def test_no_import_cycles(subpackage: str) -> None:
    cycle = find_cycle(module_graph(subpackage))
    assert cycle is None, " -> ".join(cycle or [])


def test_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) is not None
    assert find_cycle({"a": {"b"}, "b": set()}) is None
