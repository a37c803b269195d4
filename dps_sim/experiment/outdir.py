"""Output folders own exactly the files they wrote: ``--force`` and ``--resume`` touch nothing else.

Every results folder's ``manifest.json`` is written first, before any other file, with the
command, a fingerprint of what decides its numbers, ``"status": "running"`` and ``files``: the
paths (relative, POSIX) this command writes. It is rewritten at the end (``"finished"``) listing
the files that exist. Parts under ``.parts/`` are the tool's by their fixed names.

- a new or empty folder is used as it is;
- a folder holding anything else is refused, unless
  - ``force``: the files its manifest lists and the tool's parts are removed, nothing else; it is
    refused if a file this command would write is there but not listed (a user's own file);
  - ``resume``: the manifest (or an interrupted run's) must be the same command with the same
    fingerprint, and no file this command would write may be a user's own.

A path is never built from an input string: the listed names come from the code, and a
manifest's ``files`` entry is used only if it is one of them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .errors import OutputExistsError

CHART_NAMES: tuple[str, ...] = ("kpi_comparison", "providers_over_time", "survival", "share_value_small",
                                "bids_per_lot", "service_gap", "reserves_end", "sensitivity", "sweep_scatter",
                                "robustness_differences", "discovery")
"""Chart stems the report may write (``dps_sim.report.build.CHART_NAMES``; a test keeps the two equal)."""
REPORT_FILES: tuple[str, ...] = ("report.html", "report.pdf", *(f"charts/{n}.{e}" for n in CHART_NAMES
                                                                for e in ("png", "svg")))
"""Files ``dps-sim report`` writes or replaces in a results folder."""
EXPLORER_FILES: tuple[str, ...] = ("explore.html",)
"""The file ``dps-sim explore`` writes or replaces in a results folder."""
COMMON_FILES: tuple[str, ...] = ("manifest.json", "scenario.resolved.yaml")
COMMAND_FILES: dict[str, tuple[str, ...]] = {
    "run": COMMON_FILES + ("runs.csv", "timeseries.parquet", "events.parquet", "providers.parquet"),
    "compare": COMMON_FILES + ("runs.csv", "summary.csv", "timeseries.parquet", "events.parquet",
                               "providers.parquet"),
    "sweep": COMMON_FILES + ("points.parquet", "sensitivity.csv", "sensitivity.md", "differences.parquet",
                             "robustness.csv", "discovery.csv", "discovery_trajectory.csv"),
}
"""The files each command writes (besides the report's)."""
KNOWN_FILES: frozenset[str] = frozenset(REPORT_FILES + EXPLORER_FILES).union(*COMMAND_FILES.values())
PART_KINDS: tuple[str, ...] = ("runs", "timeseries", "providers", "events", "points")
_PART = r"(?:[A-Za-z0-9][A-Za-z0-9_-]{0,63}__r\d{6}|p\d{8}(?:i\d{3})?r\d{6})\.parquet"
PART_NAME = re.compile(_PART)
"""The names of the tool's parts: ``<policy>__r<replication>.parquet`` (run, compare) or
``p<point>r<replication>.parquet`` (sweep), ``p<point>i<policy>r<replication>.parquet`` (a sweep of
policies across futures); any other file under ``.parts/`` is left alone."""
TEMP_NAME = re.compile(rf"\.{_PART}\.[A-Za-z0-9_]+\.tmp")
"""What :func:`dps_sim.experiment.store.atomic_write_bytes` leaves of a part when killed mid-write."""
MANIFEST_LIMIT = 64 << 20


@dataclass
class Prepared:
    """A folder ready for a command: whether it resumes, and the earlier manifest if any."""

    path: Path
    resuming: bool = False
    finished_before: bool = False
    previous: dict[str, Any] = field(default_factory=dict)


def files_for(command: str) -> tuple[str, ...]:
    """Every file a command may write, the report's and the explorer's included."""
    return COMMAND_FILES[command] + REPORT_FILES + EXPLORER_FILES


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None if there is none or it cannot be read as a JSON object."""
    path = folder / "manifest.json"
    try:
        if not path.is_file() or path.stat().st_size > MANIFEST_LIMIT:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def owned(manifest: dict[str, Any] | None, folder: Path) -> set[str]:
    """The files in ``folder`` a manifest says the tool wrote (only names the tool can write count), less
    those changed since: a file whose content no longer has the SHA-256 the manifest recorded is a
    user's (edited, or replaced by one of theirs)."""
    files = (manifest or {}).get("files")
    names = {f for f in files if isinstance(f, str) and f in KNOWN_FILES} if isinstance(files, list) else set()
    sums = (manifest or {}).get("sha256")
    if not isinstance(sums, dict):
        return names
    return {f for f in names if not isinstance(sums.get(f), str) or digest(folder / f) in (None, sums[f])}


def digest(path: Path) -> str | None:
    """The SHA-256 of a file's content (None if it is not a file)."""
    if not path.is_file():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digests(folder: Path, names: Iterable[str]) -> dict[str, str]:
    """The SHA-256 of each listed file that exists (the manifest, rewritten each time, aside)."""
    return {n: d for n in names if n != "manifest.json" and (d := digest(folder / n)) is not None}


def _check_parents(out: Path) -> None:
    """Refuse an output path below a file (``existing_file/sub``) or that is itself a file."""
    for parent in [out, *out.parents]:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                what = "is" if parent == out else f"is inside {parent}, which is"
                raise OutputExistsError(f"output folder {out} {what} a file, not a folder; choose another --out")
            return


def _is_empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


def _foreign(folder: Path, command: str, mine: set[str]) -> list[str]:
    """Files this command would write that are there but that the tool did not write."""
    return sorted(f for f in files_for(command) if (folder / f).exists() and f not in mine)


def _refuse_foreign(folder: Path, foreign: list[str]) -> None:
    if foreign:
        shown = ", ".join(foreign[:6]) + (f" and {len(foreign) - 6} more" if len(foreign) > 6 else "")
        raise OutputExistsError(
            f"{folder} holds files dps-sim did not write that this command would replace: {shown}; "
            "move them away, or choose another --out")


def prepare(out: str | Path, command: str, fingerprint: str, force: bool = False, resume: bool = False,
            same: Any = None, dry: bool = False) -> Prepared:
    """Check and create the output folder of ``command`` (see the module docstring for the rules).

    ``same(previous_manifest) -> bool`` may replace the fingerprint comparison on resume (a sweep
    re-analysing other KPIs is the same sweep). ``dry``: every check, but nothing created or removed
    (for work that must come before the folder, such as an equal-spend search).
    """
    out = Path(out)
    _check_parents(out)
    if _is_empty(out):
        if not dry:
            out.mkdir(parents=True, exist_ok=True)
        return Prepared(out)
    manifest = read_manifest(out)
    mine = owned(manifest, out)
    if resume:
        if manifest is None:
            raise OutputExistsError(f"{out} holds no dps-sim manifest: there is nothing of a {command} to resume "
                                    "there; choose another --out")
        if manifest.get("command") != command:
            raise OutputExistsError(f"{out} holds the results of a {manifest.get('command')!s:.20}, not a {command}: "
                                    "--resume continues the same command; choose another --out")
        matches = same(manifest) if same is not None else manifest.get("fingerprint") == fingerprint
        if not matches:
            raise OutputExistsError(f"{out} holds a different {command} (scenario, options or model code changed); "
                                    "choose another --out, or pass --force to start again")
        _refuse_foreign(out, _foreign(out, command, mine))
        return Prepared(out, resuming=True, finished_before=manifest.get("status") == "finished", previous=manifest)
    if not force:
        raise OutputExistsError(
            f"output folder {out} already holds results; choose another --out, or pass --force to replace them")
    _refuse_foreign(out, _foreign(out, command, mine))
    if not dry:
        remove_owned(out, mine)
    return Prepared(out, previous=manifest or {})


def remove_owned(folder: Path, files: Iterable[str]) -> None:
    """Remove the listed files the tool wrote, and its parts; nothing else (an emptied charts/ goes too)."""
    for name in sorted(files):
        if name in KNOWN_FILES:
            (folder / name).unlink(missing_ok=True)
    remove_parts(folder / ".parts")
    _rmdir_if_empty(folder / "charts")


def remove_parts(root: Path) -> None:
    """Remove the tool's parts and temporary files under ``root`` (``.parts/``), then the emptied folders."""
    if not root.is_dir():
        return
    for kind in PART_KINDS:
        folder = root / kind
        if folder.is_dir():
            for f in folder.iterdir():
                if f.is_file() and (PART_NAME.fullmatch(f.name) or TEMP_NAME.fullmatch(f.name)):
                    f.unlink()
            _rmdir_if_empty(folder)
    _rmdir_if_empty(root)


def clean_temp(root: Path) -> None:
    """Remove the temporary files a killed run left among its parts."""
    for kind in PART_KINDS:
        folder = root / kind
        if folder.is_dir():
            for f in folder.iterdir():
                if f.is_file() and TEMP_NAME.fullmatch(f.name):
                    f.unlink()


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def existing(folder: Path, names: Iterable[str]) -> list[str]:
    """Those of ``names`` that exist in ``folder``, in order."""
    return [n for n in names if (folder / n).exists()]


def check_report_target(folder: Path, files: tuple[str, ...] = REPORT_FILES) -> None:
    """Before (re)drawing a report (or the explorer's ``files``): refuse if one of them there is a user's own."""
    manifest = read_manifest(folder)
    mine = owned(manifest, folder)
    _refuse_foreign(folder, sorted(f for f in files if (folder / f).exists() and f not in mine))
