"""Issue 14: Ctrl-C under `compare` exits 1 and prints the exact command that resumes; that command, typed
as printed, finishes the job with the tables of an uninterrupted run. A lost pool worker is replaced
(issue 16) and the run ends with the same tables."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from dps_sim.cli import main
from test_workers import children

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("runs.csv", "summary.csv", "timeseries.parquet", "events.parquet", "providers.parquet")


@pytest.fixture(scope="module")
def small_kent(tmp_path_factory) -> Path:
    """Kent over 24 months with 60 organisations (five policies; about 0.06 s a replication)."""
    data = yaml.safe_load((ROOT / "scenarios" / "kent_youth_dps.yaml").read_text(encoding="utf-8"))
    data["horizon_months"], data["market"]["providers"] = 24, 60
    path = tmp_path_factory.mktemp("kent") / "small_kent.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(small_kent: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "out"
    assert main(["compare", str(small_kent), "--reps", "8", "--seed", "3", "--workers", "1", "--out", str(out),
                 "--quiet", "--no-report"]) == 0
    return out


def _compare(small_kent: Path, out: Path, workers: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DPS_SIM_DEBUG"}
    return subprocess.Popen([sys.executable, "-m", "dps_sim", "compare", str(small_kent), "--reps", "8", "--seed", "3",
                             "--workers", str(workers), "--out", str(out), "--quiet", "--no-report"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for_parts(proc: subprocess.Popen, out: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((out / ".parts" / "runs").glob("*.parquet"))) >= 1:
            return
        time.sleep(0.01)
    raise AssertionError(f"compare made no part to resume from: {proc.poll()} {proc.stderr.read()}")


def _resume(err: str, out: Path, reference: Path) -> None:
    """The command printed after 'To go on, run:' is the same compare with --resume; typed, it finishes."""
    words = shlex.split(err.split("To go on, run:", 1)[1].strip().splitlines()[0])
    assert words[:2] == ["dps-sim", "compare"] and words[-3:] == ["--out", str(out), "--resume"], words
    assert main(words[1:] + ["--quiet", "--no-report"]) == 0
    for table in TABLES:
        assert (out / table).read_bytes() == (reference / table).read_bytes(), f"{table} differs"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_a_lost_pool_worker_is_replaced_and_the_tables_are_those_of_an_uninterrupted_run(
        small_kent: Path, reference: Path, tmp_path: Path) -> None:
    """A worker killed under the pool: its chunks are run again on a new pool (issue 16), so compare ends
    normally with the tables of an uninterrupted run; if the pool kept breaking it would exit 1 with the
    resume command (executors.POOL_RESTARTS)."""
    out = tmp_path / "out"
    proc = _compare(small_kent, out, workers=2)
    _wait_for_parts(proc, out)
    workers = [k for k in children(proc.pid) if "spawn_main" in Path(f"/proc/{k}/cmdline").read_text()]
    assert workers and proc.poll() is None, "the pool's workers are running"
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    for table in TABLES:
        assert (out / table).read_bytes() == (reference / table).read_bytes(), f"{table} differs"


def test_ctrl_c_exits_1_with_the_command_that_resumes(small_kent: Path, reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _compare(small_kent, out, workers=1)
    _wait_for_parts(proc, out)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "interrupted; the finished replications are kept" in err and "Traceback" not in err
    _resume(err, out, reference)
