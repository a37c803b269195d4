"""The output folder: parts written as results arrive, tidy tables at the end, the manifest.

Each finished replication is written at once as Parquet parts under ``<out>/.parts/`` (temp
file, then rename: a killed run leaves no half-written part), so nothing is held only in
memory until the end. At the end the parts are combined, in a fixed order, into the final
tables and removed. Existing output is never overwritten silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd

import pyarrow as pa
import pyarrow.parquet as pq

from . import outdir
from .errors import OutputExistsError  # noqa: F401  (re-exported: callers catch store.OutputExistsError)

LIBRARIES = ("numpy", "scipy", "pandas", "pyarrow", "simpy", "pydantic", "PyYAML", "matplotlib", "SALib", "dask",
             "distributed", "rich")


def default_out(command: str, name: str, root: str | Path = "results") -> Path:
    """results/<command>-<scenario>-<UTC timestamp>."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{command}-{name}-{stamp}"


def _umask_mode() -> int:
    """The mode a newly created file would get (0666 less the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def _atomic(path: Path) -> Iterator[str]:
    """A temporary file beside ``path`` to write into; it replaces ``path`` only once written whole,
    and is removed if writing fails, so a file exists whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that it either exists whole or not at all."""
    with _atomic(path) as tmp:
        Path(tmp).write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_table(path: Path, table: pa.Table) -> None:
    """Write a Parquet file atomically."""
    with _atomic(path) as tmp:
        pq.write_table(table, tmp)


def columns_table(columns: dict[str, Any], constants: dict[str, Any]) -> pa.Table:
    """A pyarrow table from equal-length columns plus constant columns put first."""
    n = len(next(iter(columns.values()))) if columns else 0
    data = {k: pa.array([v] * n) for k, v in constants.items()}
    for k, v in columns.items():
        data[k] = pa.array(np.asarray(v))
    return pa.table(data)


class Parts:
    """Parquet parts of one output folder, one file per (kind, key); only files named as parts count."""

    def __init__(self, out: Path):
        self.root = out / ".parts"

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / f"{key}.parquet"

    def write(self, kind: str, key: str, table: pa.Table) -> None:
        atomic_write_table(self.path(kind, key), table)

    def files(self, kind: str) -> list[Path]:
        """The part files of a kind, in name order."""
        folder = self.root / kind
        if not folder.is_dir():
            return []
        return sorted(f for f in folder.iterdir() if f.is_file() and outdir.PART_NAME.fullmatch(f.name))

    def keys(self, kind: str) -> set[str]:
        return {p.stem for p in self.files(kind)}

    def read(self, kind: str, schema: pa.Schema | None = None) -> pd.DataFrame:
        files = self.files(kind)
        if not files:
            return schema.empty_table().to_pandas() if schema is not None else pd.DataFrame()
        tables = [pq.read_table(f, schema=schema) for f in files]
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()

    def clean_temp(self) -> None:
        """Remove temp files a killed run may have left."""
        outdir.clean_temp(self.root)

    def remove(self) -> None:
        """Remove the parts (and only them)."""
        outdir.remove_parts(self.root)


def git_commit(start: Path | None = None) -> dict[str, Any] | None:
    """The git commit of the code that ran (and whether it had uncommitted changes), if in a repository."""
    here = start or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5)
        return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


def library_versions() -> dict[str, str]:
    out = {}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "not installed"
    return out


def file_sha256(path: str | Path | None) -> str | None:
    if path is None or not Path(path).exists():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def base_manifest(command: str, seed: int, extra: dict[str, Any]) -> dict[str, Any]:
    """Provenance of a run: version, seed, command, time, platform, libraries, git commit."""
    from .. import __version__

    return {
        "dps_sim_version": __version__,
        "command": command,
        "argv": sys.argv,
        "seed": seed,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "libraries": library_versions(),
        "git": git_commit(),
        **extra,
    }


def start_manifest(out: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write the manifest before any other file: status running, listing every file the command may write."""
    manifest = {**manifest, "status": "running", "files": list(outdir.files_for(manifest["command"]))}
    _dump_manifest(out, manifest)
    return manifest


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """The final manifest: status finished, the end time, the files the command wrote that exist and the
    SHA-256 of each (a file changed later is no longer the tool's)."""
    listed = manifest.get("files") or outdir.files_for(manifest["command"])
    manifest = {**manifest, "status": "finished",
                "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "files": outdir.existing(out, [f for f in listed if f in outdir.KNOWN_FILES] + ["manifest.json"])}
    manifest["files"] = list(dict.fromkeys(manifest["files"]))
    manifest["sha256"] = outdir.digests(out, manifest["files"])
    _dump_manifest(out, manifest)


def claim_files(out: Path, names: list[str]) -> None:
    """Add files about to be written (e.g. the report's) to the manifest's list; ``settle_files`` prunes it
    and records their SHA-256. A file already there that is not the tool's (unlisted, or changed since the
    tool wrote it) is a user's own: it is not claimed."""
    manifest = outdir.read_manifest(out)
    if manifest is not None:
        mine = outdir.owned(manifest, out)
        new = [n for n in names if n in mine or not (out / n).exists()]
        manifest["files"] = list(dict.fromkeys([*(manifest.get("files") or []), *new]))
        if isinstance(manifest.get("sha256"), dict):
            manifest["sha256"] = {f: d for f, d in manifest["sha256"].items() if f not in new}  # being rewritten
        _dump_manifest(out, manifest)


@contextmanager
def writing(out: Path, names: Iterable[str]) -> Iterator[None]:
    """Around writing tool files ``names`` into a results folder: refuse if one there is a user's own,
    list them in the manifest before, and record the SHA-256 of those written after."""
    names = list(names)
    outdir.check_report_target(out, tuple(names))
    claim_files(out, names)
    try:
        yield
    finally:
        settle_files(out)


def update_manifest(out: Path, **keys: Any) -> None:
    """Set top-level keys of a folder's manifest (e.g. the ``discovery`` record of ``dps-sim discover``)."""
    manifest = outdir.read_manifest(out)
    if manifest is not None:
        _dump_manifest(out, {**manifest, **keys})


def settle_files(out: Path) -> None:
    """Keep in the manifest's list only the files that exist, and record the SHA-256 of those just claimed."""
    manifest = outdir.read_manifest(out)
    if manifest is not None:
        listed = [f for f in manifest.get("files") or [] if isinstance(f, str) and f in outdir.KNOWN_FILES]
        manifest["files"] = outdir.existing(out, listed + ["manifest.json"])
        manifest["files"] = list(dict.fromkeys(manifest["files"]))
        sums = manifest.get("sha256")
        if isinstance(sums, dict):
            kept = {f: d for f, d in sums.items() if f in manifest["files"]}
            manifest["sha256"] = {**kept, **outdir.digests(out, [f for f in manifest["files"] if f not in kept])}
        _dump_manifest(out, manifest)


def _dump_manifest(out: Path, manifest: dict[str, Any]) -> None:
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, default=_json_default))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (set, tuple)):
        return list(obj)
    return str(obj)


def write_csv(path: Path, df: pd.DataFrame) -> None:
    atomic_write_text(path, df.to_csv(index=False))


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    atomic_write_table(path, pa.Table.from_pandas(df, preserve_index=False))


def order_frame(df: pd.DataFrame, key: str, order: Iterable[str], then: list[str]) -> pd.DataFrame:
    """Sort a table by a categorical key in a given order, then by other columns (stable)."""
    if df.empty:
        return df
    order = list(order)
    rank = {k: i for i, k in enumerate(order)}
    df = df.assign(_rank=df[key].map(rank)).sort_values(["_rank", *then], kind="stable")
    return df.drop(columns="_rank").reset_index(drop=True)
