"""Names that become parts of file paths (policy names, output folder names) must be safe slugs.

A policy name ends up in Parquet part file names, chart labels and report anchors, so it is
restricted to letters, digits, ``_`` and ``-``, starting with a letter or digit, at most
:data:`MAX_NAME` characters: no ``/``, ``..``, NUL, spaces or control characters can reach
a path. Names are checked at validation (``dps-sim validate`` exits 2), never mapped silently.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Iterable

MAX_NAME = 64
"""Longest policy name."""
SLUG = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_NAME - 1}}}")
"""A safe name: a letter or digit, then letters, digits, '_' or '-'."""


def excerpt(value: object, limit: int = 40) -> str:
    """A short printable excerpt of a value for an error message (escaped, at most ``limit`` characters)."""
    text = value if isinstance(value, str) else repr(value)
    shown = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    if len(shown) > limit:
        shown = shown[:limit - 3] + "..."
    return f"'{shown}'" if isinstance(value, str) else shown


def check_policy_name(name: object) -> str | None:
    """Why ``name`` cannot be a policy name, or None if it can."""
    if not isinstance(name, str):
        return f"a policy name must be text, got {type(name).__name__} {excerpt(name)}"
    if SLUG.fullmatch(name):
        return None
    if len(name) > MAX_NAME:
        return f"policy name {excerpt(name)} is {len(name)} characters long; at most {MAX_NAME}"
    return (f"policy name {excerpt(name)} may hold only letters, digits, '_' and '-' (starting with a letter or "
            "digit): it becomes part of file names")


def safe_stem(text: str, limit: int = 60) -> str:
    """``text`` made into a file-name part: unsafe characters become '_', at most ``limit`` long."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._-")[:limit]
    return stem or "scenario"


def closest(word: str, choices: Iterable[Any]) -> str | None:
    """The choice nearest ``word`` (a likely misspelling of it), or None."""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[Any], listed: Iterable[Any], what: str) -> str:
    """' (did you mean 'x'?)' for the closest choice, else '; WHAT: the listed ones' (for unknown keys and names)."""
    close = closest(word, choices)
    return f" (did you mean '{close}'?)" if close else f"; {what}: {', '.join(map(str, listed))}"
