"""Issue 14 acceptance: every file of a generated corpus of malformed scenario and sweep files exits 2
from `validate` (and from `run --reps 1` or `sweep`) with a message naming the file (and, where the
corpus knows them, the key path and line), no traceback, in seconds, and nothing written.

The corpus (``corpus.py``, ``corpus_text.py``, ``corpus_sweeps.py``) mutates the shipped scenarios and sweep. Cases run
in-process through ``dps_sim.cli.main``; a few of the heaviest run as a user would, in a
subprocess, under a memory limit.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from corpus import Bad, dump, extends_cases, issue_cases, policy_name_cases, shipped, structure_cases, value_cases
from corpus_sweeps import SWEEP, sweep_cases
from corpus_text import text_cases
from dps_sim.cli import main

SCENARIO_CASES = (value_cases() + issue_cases() + structure_cases() + policy_name_cases() + extends_cases()
                  + text_cases())
SWEEP_CASES = sweep_cases()
CASES = SCENARIO_CASES + SWEEP_CASES
SECONDS = 10.0
"""Most time one file may take to be refused (validate and run together)."""


def materialise(case: Bad, root: Path) -> None:
    """Write the case's files under ``root``: bytes, or a folder, FIFO or symlink."""
    for rel, content in case.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif content[0] == "dir":
            path.mkdir()
        elif content[0] == "fifo":
            os.mkfifo(path)
        else:
            path.symlink_to(content[1])


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def check_message(err: str, case: Bad, root: Path) -> None:
    """Exit-2 message: the file, the key path and line where known, short lines, nothing hidden."""
    assert "Traceback" not in err and "unexpected error" not in err, err
    named = root / (case.named or case.arg)
    assert str(named) in err, f"the message must name {named}:\n{err}"
    if case.path is not None:
        assert f"{'near' if case.near else 'at'} key '{case.path}'" in err, err
    if case.line is not None:
        assert re.search(rf"\bline {case.line}\b", err), f"expected line {case.line}:\n{err}"
    for text in case.also:
        assert text in err, err
    for text in case.hidden:
        assert text not in err, f"the message shows {text!r}:\n{err}"
    lines = err.splitlines()
    assert len(lines) <= 40 and max(map(len, lines)) <= 600, f"{len(lines)} lines, longest {max(map(len, lines))}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_file_exits_2(case: Bad, tmp_path: Path, capsys) -> None:
    root = tmp_path / "in"
    root.mkdir()
    materialise(case, root)
    before = listing(root)
    arg = str(root / case.arg)
    started = time.perf_counter()
    code = main(["validate", arg])
    out, err = capsys.readouterr()
    assert code == 2, f"validate exited {code}:\n{out}{err}"
    check_message(err, case, root)
    if case.runnable:
        out_dir = tmp_path / "out"
        argv = (["sweep", arg, "--workers", "1"] if case.kind == "sweep" else ["run", arg, "--reps", "1"])
        code = main(argv + ["--out", str(out_dir), "--no-report", "--quiet"])
        out, err = capsys.readouterr()
        assert code == 2, f"{argv[0]} exited {code}:\n{out}{err}"
        check_message(err, case, root)
        assert not out_dir.exists(), "a bad file must not create its output folder"
    assert time.perf_counter() - started < SECONDS
    assert listing(root) == before, "refusing a file writes nothing"


def test_the_corpus_is_big_and_varied() -> None:
    """Issue 14: at least 250 files; here every kind the issue names is among them."""
    assert len(CASES) >= 250 and len(SWEEP_CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES), "case ids are unique"
    ids = " ".join(c.id for c in CASES)
    for kind in ("=inf", "=nan", "=1e308", "=negative", "=huge", "=text", "unknown", "extra_indent", "nul",
                 "esc", "bel", "extends_etc_shadow", "extends_dev_zero", "policy_name_traversal", "policy_name_nul",
                 "policy_name_300_chars", "policy_name_slash", "samples_2_30", "issue_1e9", "fifo", "over_1_mib"):
        assert kind in ids, kind


def test_the_unmutated_files_are_valid(tmp_path: Path, capsys) -> None:
    """Each mutation alone makes a file bad: the shipped scenarios as the corpus writes them (dumped by
    PyYAML, or as shipped) and the shipped sweep beside its scenario all validate."""
    for stem, text, data in shipped():
        for name, body in ((f"{stem}.yaml", text), (f"{stem}_dumped.yaml", dump(data))):
            (tmp_path / name).write_bytes(body)
            assert main(["validate", str(tmp_path / name)]) == 0, capsys.readouterr().err
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "sweeps" / "sweep.yaml").write_bytes(dump(yaml.safe_load(SWEEP.read_text(encoding="utf-8"))))
    assert main(["validate", str(tmp_path / "sweeps" / "sweep.yaml")]) == 0, capsys.readouterr().err
    assert "valid sweep" in capsys.readouterr().out


HEAVY = ["file:billion_laughs", "file:deep_nesting", "file:over_1_mib", "file:fifo", "file:dev_zero",
         "kent_youth_dps:procurement.admission.reopen_months=issue_10k_items", "sweep:samples_2_30",
         "sweep:grid_6e10_runs", "extends_symlink_dev_zero"]


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("case_id", HEAVY)
def test_heavy_files_are_refused_in_bounded_memory(case_id: str, tmp_path: Path) -> None:
    """The command line as a user runs it, under a 1 GB address-space limit and a time limit:
    exit 2, never a hang, never a MemoryError."""
    (case,) = [c for c in CASES if c.id == case_id]
    materialise(case, tmp_path)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env.pop("DPS_SIM_DEBUG", None)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "dps_sim", "validate", str(tmp_path / case.arg)], env=env,
                          capture_output=True, text=True, timeout=60, preexec_fn=_limit_memory)
    assert proc.returncode == 2, proc.stderr
    check_message(proc.stderr, case, tmp_path)
    assert time.perf_counter() - started < 30


WHOLE_FILE_FAULTS = {"empty", "only_comments", "null_document", "billion_laughs", "deep_nesting", "over_1_mib",
                     "folder", "fifo", "symlink_dev_zero", "symlink_shadow", "dangling_symlink", "dev_zero",
                     "etc_passwd", "no_suffix"}
"""Faults of the whole file (what it is, where it points, its size), with no key or line known beforehand: the
message names the file and the fault only."""


def test_only_whole_file_faults_name_no_line() -> None:
    """Every case whose message is not checked for a key path or a line is a fault of the whole file; all
    others are checked for their line (and key path where the key can be known)."""
    unplaced = {c.id for c in CASES if c.path is None and c.line is None}
    assert unplaced == {f"file:{label}" for label in WHOLE_FILE_FAULTS}
    assert sum(c.line is not None for c in CASES) >= 500
