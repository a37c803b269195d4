"""Input errors that name the file, the key path and the line.

A commissioner editing YAML needs to see *where* the file is wrong, in plain words, not a
traceback. Every problem found while reading a scenario or sweep file becomes a
:class:`Problem`; a :class:`ScenarioError` carries one or more of them. The CLI prints
``str(error)`` and exits with code 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .names import excerpt


MAX_SHOWN = 20
"""Most problems a message lists (a file can hold thousands; the first ones say where to start)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    path: str | None
    line: int | None
    message: str
    near: bool = False
    """True when ``path`` is only the key nearest the problem (a YAML syntax error)."""

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        path = self.path if self.path is None or (self.path.isprintable() and len(self.path) <= 120) \
            else excerpt(self.path, 120).strip("'")
        key = f" {'near' if self.near else 'at'} key '{path}'" if path else ""
        return f"{where}{key}: {self.message}"


class ScenarioError(ValueError):
    """A scenario or sweep file cannot be used; ``problems`` says why and where."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return f"error in {self.problems[0]}"
        shown = self.problems[:MAX_SHOWN]
        lines = [f"{len(self.problems)} errors" + (f" (the first {MAX_SHOWN}):" if len(shown) < len(self.problems)
                                                   else ":")] + [f"  - {p}" for p in shown]
        if len(shown) < len(self.problems):
            lines.append(f"  ... and {len(self.problems) - len(shown)} more")
        return "\n".join(lines)

    @classmethod
    def single(cls, file: str | Path, message: str, path: str | None = None, line: int | None = None) -> "ScenarioError":
        return cls(Problem(str(file), path, line, message))
