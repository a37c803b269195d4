"""Layout rules of dps_sim/report: no import circles between its modules and none over about 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPORT = Path(__file__).resolve().parents[1] / "dps_sim" / "report"
MAX_LINES = 400


def module_name(path: Path) -> str:
    """'charts.base' for dps_sim/report/charts/base.py, 'charts' for charts/__init__.py."""
    parts = list(path.relative_to(REPORT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def report_imports(path: Path) -> set[str]:
    """Modules of dps_sim.report that a file imports (anywhere in it, lazy imports included)."""
    package = module_name(path).split(".") if path.name == "__init__.py" else module_name(path).split(".")[:-1]
    package = [p for p in package if p]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            if node.level - 1 > len(package):
                continue  # beyond dps_sim.report (e.g. ..experiment)
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names = [f"{target}.{a.name}" if target else a.name for a in node.names]
            found |= {n for n in [target, *names] if n}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dps_sim.report."):
            found.add(node.module.removeprefix("dps_sim.report."))
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in REPORT.rglob("*.py")}
    return {name: {m for m in report_imports(path) if m in files and m != name} for name, path in files.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for n in sorted(edges):
        if n not in state and (cycle := visit(n)):
            return cycle
    return None


def test_cycle_finder_finds_a_planted_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_report_package_has_no_import_circles() -> None:
    edges = graph()
    assert "content" in edges and "sweep_content" in edges["content"]  # the graph sees lazy imports
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


@pytest.mark.parametrize("path", sorted(REPORT.rglob("*.py")), ids=lambda p: module_name(p) or "__init__")
def test_report_modules_stay_small(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES
