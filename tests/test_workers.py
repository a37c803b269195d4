"""Process-pool workers: a killed `compare` leaves no idle workers behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
from dps_sim.experiment import compare
if __name__ == "__main__":
    compare({kent!r}, reps=400, seed=1, workers=2, events="none", out={out!r})
"""


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_workers_exit_when_compare_is_killed(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(kent=str(ROOT / "scenarios" / "kent_youth_dps.yaml"), out=str(tmp_path / "out")))
    parent = subprocess.Popen([sys.executable, str(script)], cwd=ROOT)
    try:
        workers: list[int] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.5)
            workers = [k for k in children(parent.pid) if "spawn_main" in Path(f"/proc/{k}/cmdline").read_text()]
        assert len(workers) >= 2, "the pool's workers did not start"
        time.sleep(1.0)  # workers starting or running replications (both must notice the kill)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(alive(w) for w in workers):
            time.sleep(0.25)
        assert not any(alive(w) for w in workers), "workers outlived their killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
