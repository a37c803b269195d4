"""A clear error, before any worker starts, when worker processes would re-run the calling script.

Worker processes are started with Python's "spawn" method (the same on every platform): each one
imports the script that started the parent as a module, running its top-level code again. A
script that calls ``dps_sim.compare(..., workers=2)`` at its top level, outside an
``if __name__ == "__main__":`` block, would therefore start workers from every worker; Python stops
that with "an attempt has been made to start a new process before the current process has finished
its bootstrapping phase" and the pool breaks. This module finds that case from the call stack and
says what to change instead.
"""

from __future__ import annotations

import ast
import os
import sys
from types import FrameType


class MainGuardMissing(RuntimeError):
    """Worker processes would re-run the top of the calling script (add the ``__main__`` guard)."""


def _rerun_by_spawn() -> str | None:
    """The file spawn's workers run again as ``__mp_main__``, or None (no file, or one spawn skips)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and getattr(spec, "name", None):
        if spec.name == "__main__" or spec.name.endswith(".__main__"):
            return None  # `python -m package`: spawn does not run a package's __main__ again
    path = getattr(main, "__file__", None)
    if not path or os.path.splitext(os.path.basename(path))[0] == "ipython":
        return None  # an interactive session or a notebook: nothing is re-run
    return path


def _guarded_lines(path: str) -> list[tuple[int, int]] | None:
    """(first, last) lines of each top-level ``if __name__ == "__main__":`` body; None if unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=path)
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return None
    spans = []
    for node in tree.body:
        if isinstance(node, ast.If) and _is_main_test(node.test) and node.body:
            spans.append((node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno))
    return spans


def _is_main_test(test: ast.expr) -> bool:
    """Any test that reads ``__name__`` (``== "__main__"``, ``in (...)``, ...): no false alarm on a variant."""
    return any(isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(test))


def _module_level_line(frame: FrameType | None, path: str) -> int | None:
    """The line of the main script's top-level code in the call stack above ``frame`` (None if absent,
    or if that code is not the file's, as under a debugger that runs the script itself)."""
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") in ("__main__", "__mp_main__"):
            same = os.path.realpath(frame.f_code.co_filename) == os.path.realpath(path)
            return frame.f_lineno if same else None
        frame = frame.f_back
    return None


def check_main_guard(what: str) -> None:
    """Raise :class:`MainGuardMissing` if ``what`` (starting worker processes) is reached from the top
    level of a script outside ``if __name__ == "__main__":``."""
    path = _rerun_by_spawn()
    if path is None:
        return
    line = _module_level_line(sys._getframe(1), path)
    if line is None:
        return
    spans = _guarded_lines(path)
    if spans is None or any(first <= line <= last for first, last in spans):
        return
    name = os.path.basename(path)
    raise MainGuardMissing(
        f"{what} starts worker processes, and each worker re-runs {name} from the top (Python's 'spawn' start "
        f"method), which would start workers again. Put the code that calls dps_sim (line {line} of {name}) "
        "under\n\n    if __name__ == \"__main__\":\n        ...\n\nor pass workers=1 to run in this process "
        "(see the README, Python API).")


def check_workers(workers: int | None, scheduler: str | None, what: str) -> None:
    """:func:`check_main_guard` when ``workers`` > 1 local processes (or a local Dask cluster) would start."""
    if scheduler == "local" or (not scheduler and (workers or 1) > 1):
        check_main_guard(f"{what}(workers={workers})")
