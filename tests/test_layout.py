"""The package layout keeps data flowing one way (DESIGN.md "Layout").

* the model imports nothing from experiment, report or the CLI;
* no import circles between dps_sim's modules, counting every import: module-level, lazy
  (inside a function) and ``if TYPE_CHECKING:`` ones alike;
* the engine only wires SimPy events to the rooms: it stays short.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dps_sim"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """dps_sim modules imported anywhere in a file (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("dps_sim")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("dps_sim"):
                continue
            out.add(mod)
            for a in node.names:  # "from . import finance" imports a module
                if (PACKAGE.parent / (mod.replace(".", "/") + f"/{a.name}.py")).exists():
                    out.add(f"{mod}.{a.name}")
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    return {m: {d for d in _imports(p) if d in files and d != m} for m, p in files.items()}


def test_the_model_imports_no_experiment_report_or_cli_code():
    bad = {m: sorted(d for d in deps if d.startswith(("dps_sim.experiment", "dps_sim.report", "dps_sim.cli")))
           for m, deps in _graph().items() if m.startswith("dps_sim.model")}
    assert {m: d for m, d in bad.items() if d} == {}


def test_no_import_circles():
    graph = _graph()
    # a package's __init__ re-exporting its modules is not a circle of concepts
    graph = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()}
    seen: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        seen[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if seen.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in seen:
                visit(d, stack)
        stack.pop()
        seen[m] = 2

    for m in sorted(graph):
        if m not in seen:
            visit(m, [])
    assert cycles == []


def test_the_engine_only_wires_events_to_the_rooms():
    lines = (PACKAGE / "model" / "engine.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
