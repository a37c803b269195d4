"""Issue 14 acceptance: output is never lost, and a killed `compare` resumes to the same tables.

- ``--force`` and ``--resume`` never delete or replace a file the tool did not write: a user's
  file in every subfolder of an output folder (charts/, .parts/ and each kind of part) survives,
  byte for byte, while the tool's own files are replaced;
- ``compare`` killed with SIGKILL (twice, at different points) and resumed writes tables
  byte-identical to an uninterrupted run;
- outdir.py's copy of the chart names is the report's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from dps_sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
KENT = ROOT / "scenarios" / "kent_youth_dps.yaml"
SUBFOLDERS = ("", "charts", ".parts", ".parts/runs", ".parts/timeseries", ".parts/providers", ".parts/events",
              ".parts/points")
"""Every subfolder an output folder of run, compare or sweep may hold."""
USER_NAMES = ("notes.txt", "mine.parquet", ".mine.parquet.abcd1234.tmp", "my_chart.png")
"""A user's own files: none is named as a file or part the tool writes."""
TABLES = ("runs.csv", "summary.csv", "timeseries.parquet", "events.parquet", "providers.parquet")


def plant(out: Path) -> dict[Path, bytes]:
    """A user's file of each kind in every subfolder of ``out``; returns what was written."""
    planted = {}
    for sub in SUBFOLDERS:
        (out / sub).mkdir(parents=True, exist_ok=True)
        for name in USER_NAMES:
            path = out / sub / name
            path.write_bytes(f"the user's own {sub}/{name}".encode())
            planted[path] = path.read_bytes()
    return planted


def assert_kept(planted: dict[Path, bytes]) -> None:
    lost = [str(p) for p, data in planted.items() if not p.is_file() or p.read_bytes() != data]
    assert not lost, f"user files deleted or replaced: {lost}"


@pytest.fixture(scope="module")
def small_kent(tmp_path_factory) -> Path:
    """Kent over 24 months with 60 organisations: five policies, a replication in about 0.06 s."""
    data = yaml.safe_load(KENT.read_text(encoding="utf-8"))
    data["horizon_months"] = 24
    data["market"]["providers"] = 60
    path = tmp_path_factory.mktemp("kent") / "small_kent.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- --force and --resume


def test_force_and_resume_keep_a_users_file_in_every_subfolder(tiny_scenario_file: Path, tmp_path: Path,
                                                               capsys) -> None:
    """run with its report, then user files everywhere: --force replaces the tool's files only,
    --resume of the same command too; an emptied charts/ would go, one holding the user's stays."""
    out = tmp_path / "out"
    argv = ["run", str(tiny_scenario_file), "--reps", "2", "--out", str(out), "--quiet"]
    assert main(argv) == 0, capsys.readouterr().err
    charts = sorted(p.name for p in (out / "charts").iterdir())
    assert charts and all(p.endswith((".png", ".svg")) for p in charts)
    planted = plant(out)
    old_manifest = json.loads((out / "manifest.json").read_text())

    assert main(argv + ["--force", "--seed", "5", "--no-report"]) == 0, capsys.readouterr().err
    assert_kept(planted)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5 != old_manifest["seed"] and manifest["status"] == "finished"
    assert sorted(p.name for p in (out / "charts").iterdir()) == sorted(USER_NAMES), "the tool's charts went"
    assert not (out / "report.html").exists()

    # a user's file named like a chart, which the manifest does not list: never replaced nor deleted
    mine = out / "charts" / "kpi_comparison.png"
    mine.write_bytes(b"my own drawing")
    for command in (["report", str(out)], argv + ["--resume", "--seed", "5"], argv + ["--force", "--seed", "5"]):
        assert main(command) == 2, command
        assert "did not write" in capsys.readouterr().err
    assert mine.read_bytes() == b"my own drawing"
    assert_kept(planted)
    mine.unlink()

    assert main(argv + ["--resume", "--seed", "5"]) == 0, capsys.readouterr().err
    assert_kept(planted)
    assert (out / "report.html").is_file() and (out / "charts" / "kpi_comparison.png").is_file()


def test_a_file_changed_after_the_tool_wrote_it_is_the_users(tiny_scenario_file: Path, tmp_path: Path,
                                                              capsys) -> None:
    """The manifest records each file's SHA-256: runs.csv edited by hand, or a chart replaced by the
    user's own, is no longer the tool's, so --force, --resume and report refuse to replace it; a folder
    copied elsewhere (new times, same content) is still the tool's."""
    import shutil

    from dps_sim.experiment import outdir

    out = tmp_path / "out"
    argv = ["run", str(tiny_scenario_file), "--reps", "1", "--out", str(out), "--quiet"]
    assert main(argv) == 0, capsys.readouterr().err
    sums = json.loads((out / "manifest.json").read_text())["sha256"]
    assert {"runs.csv", "report.html", "charts/kpi_comparison.png"} <= set(sums) and "manifest.json" not in sums
    copy = tmp_path / "copy"
    shutil.copytree(out, copy, copy_function=shutil.copyfile)  # new modification times
    assert main(["run", str(tiny_scenario_file), "--reps", "1", "--out", str(copy), "--quiet", "--force",
                 "--seed", "4", "--no-report"]) == 0, capsys.readouterr().err
    assert not (copy / "report.html").exists(), "the copied folder's files were still the tool's"

    (out / "runs.csv").write_text((out / "runs.csv").read_text() + "my note\n")
    edited = (out / "runs.csv").read_bytes()
    for command in (argv + ["--force"], argv + ["--resume"]):
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert "did not write" in err and "runs.csv" in err
    assert (out / "runs.csv").read_bytes() == edited
    (out / "runs.csv").unlink()
    (out / "charts" / "survival.png").write_bytes(b"my own drawing")
    assert main(["report", str(out)]) == 2 and "survival.png" in capsys.readouterr().err
    assert main(argv + ["--force"]) == 2
    assert (out / "charts" / "survival.png").read_bytes() == b"my own drawing"
    (out / "charts" / "survival.png").unlink()
    assert main(argv + ["--force", "--seed", "4", "--no-report"]) == 0, capsys.readouterr().err
    new = json.loads((out / "manifest.json").read_text())["sha256"]
    assert new["runs.csv"] == outdir.digest(out / "runs.csv") != sums["runs.csv"]


def test_sweep_force_keeps_user_files_and_run_force_replaces_a_sweep(tiny_scenario_file: Path, tmp_path: Path,
                                                                    capsys) -> None:
    """A sweep folder with user files in every subfolder: sweep --force keeps them; run --force over
    the sweep's folder removes the sweep's own files (sensitivity.md too) and keeps them."""
    sweep_file = tmp_path / "grid.yaml"
    sweep_file.write_text(yaml.safe_dump({"scenario": tiny_scenario_file.name, "method": "grid", "replications": 1,
                                          "parameters": {"market.providers": {"levels": [20, 30]}},
                                          "kpis": ["hhi"]}), encoding="utf-8")
    out = tmp_path / "sweep"
    argv = ["sweep", str(sweep_file), "--workers", "1", "--out", str(out), "--quiet", "--no-report"]
    assert main(argv) == 0, capsys.readouterr().err
    planted = plant(out)
    assert main(argv) == 2 and "--force" in capsys.readouterr().err
    assert main(argv + ["--force"]) == 0, capsys.readouterr().err
    assert_kept(planted)
    assert (out / "sensitivity.md").is_file() and (out / "points.parquet").is_file()
    # the audit: `sweep --resume` replaced a user's report.html; it is refused, as is a folder with no manifest
    (out / "report.html").write_text("my report")
    assert main(argv + ["--resume"]) == 2 and "report.html" in capsys.readouterr().err
    (out / "report.html").unlink()
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "report.html").write_text("my report")
    (theirs / "points.parquet").write_bytes(b"my points")
    assert main(argv[:-4] + ["--out", str(theirs), "--quiet", "--no-report", "--resume"]) == 2
    assert "no dps-sim manifest" in capsys.readouterr().err
    assert (theirs / "points.parquet").read_bytes() == b"my points" and len(list(theirs.iterdir())) == 2
    run = ["run", str(tiny_scenario_file), "--reps", "1", "--out", str(out), "--quiet", "--no-report", "--force"]
    assert main(run) == 0, capsys.readouterr().err
    assert_kept(planted)
    for name in ("sensitivity.md", "sensitivity.csv", "points.parquet"):
        assert not (out / name).exists(), f"run --force left the sweep's {name}"
    assert json.loads((out / "manifest.json").read_text())["command"] == "run"


def test_report_removes_only_its_own_stale_charts(tiny_scenario_file: Path, tmp_path: Path, capsys) -> None:
    """Redrawing charts removes an earlier build's chart it does not draw this time only if the manifest
    says the tool wrote it; build_report refuses a folder where a report file is a user's own."""
    from dps_sim.experiment.errors import OutputExistsError
    from dps_sim.report import build
    from dps_sim.report.data import ResultsFolder

    sweep_file = tmp_path / "grid.yaml"
    sweep_file.write_text(yaml.safe_dump({"scenario": tiny_scenario_file.name, "method": "grid", "replications": 1,
                                          "parameters": {"market.providers": {"levels": [20, 30]}},
                                          "kpis": ["hhi"]}), encoding="utf-8")
    out = tmp_path / "sweep"
    assert main(["sweep", str(sweep_file), "--workers", "1", "--out", str(out), "--quiet", "--no-report"]) == 0
    capsys.readouterr()
    (out / "charts").mkdir()
    ours, users = out / "charts" / "survival.png", out / "charts" / "service_gap.png"  # charts a sweep never draws
    ours.write_bytes(b"an earlier build's chart")
    users.write_bytes(b"the user's own chart")
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "files": [*manifest["files"], "charts/survival.png"]}))
    with pytest.raises(OutputExistsError, match="service_gap.png"):
        build.build_report(out)
    drawn = {c.name for c in build.render_charts(ResultsFolder.open(out), workers=1)}
    assert drawn == {"sweep_scatter"} or drawn == {"sweep_scatter", "sensitivity"}
    assert not ours.exists(), "the tool's stale chart is removed"
    assert users.read_bytes() == b"the user's own chart", "a user's file is never removed"


def test_chart_names_are_the_reports() -> None:
    """outdir.py keeps its own copy of the report's chart names (the experiment layer imports no report
    code); the two must not drift, or --force would leave a chart behind or refuse a folder."""
    from dps_sim.experiment import outdir
    from dps_sim.report import CHART_NAMES
    from dps_sim.report.charts import RUN_CHARTS
    from dps_sim.report.sweep_charts import SWEEP_CHARTS

    assert outdir.CHART_NAMES == CHART_NAMES
    assert {fn.__name__ for fn in (*RUN_CHARTS, *SWEEP_CHARTS)} == set(CHART_NAMES)
    assert {f"charts/{n}.{e}" for n in CHART_NAMES for e in ("png", "svg")} <= set(outdir.REPORT_FILES)


# --------------------------------------------------------------------------- compare: SIGKILL and resume


def _start(args: list[str]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DPS_SIM_DEBUG"}
    return subprocess.Popen([sys.executable, "-m", "dps_sim", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _kill_when(proc: subprocess.Popen, runs: Path, at_least: int) -> int:
    """SIGKILL ``proc`` once ``runs`` holds ``at_least`` parts; returns how many it holds then."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if runs.is_dir() and len(list(runs.glob("*__r*.parquet"))) >= at_least:
            break
        time.sleep(0.01)
    assert proc.poll() is None, f"compare ended before it could be killed: {proc.stderr.read().decode()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    return len(list(runs.glob("*__r*.parquet")))


def test_compare_killed_twice_and_resumed_gives_identical_tables(small_kent: Path, tmp_path: Path, capsys) -> None:
    """Issue 14: compare killed with SIGKILL at different points and resumed gives tables identical to an
    uninterrupted run, byte for byte; the user's files in its subfolders survive the resumes."""
    common = ["--reps", "8", "--seed", "3", "--workers", "1", "--quiet", "--no-report"]
    reference = tmp_path / "reference"
    assert main(["compare", str(small_kent), *common, "--out", str(reference)]) == 0, capsys.readouterr().err
    out = tmp_path / "killed"
    runs = out / ".parts" / "runs"
    first = _kill_when(_start(["compare", str(small_kent), *common, "--out", str(out)]), runs, 1)
    assert 1 <= first < 8 and not (out / "runs.csv").exists()
    planted = plant(out)
    second = _kill_when(_start(["compare", str(small_kent), *common, "--out", str(out), "--resume"]), runs,
                        first + 1)
    assert second > first and not (out / "runs.csv").exists(), "the resumed compare went on from the parts"
    (runs / f".{sorted(runs.glob('*__r*.parquet'))[0].name}.zz9.tmp").write_bytes(b"half a part")  # a kill mid-write
    assert main(["compare", str(small_kent), *common, "--out", str(out), "--resume"]) == 0, capsys.readouterr().err
    for table in TABLES:
        assert (out / table).read_bytes() == (reference / table).read_bytes(), f"{table} differs"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "finished" and 0 < manifest["replications_resumed"] < 40
    assert_kept(planted)
    assert not list(out.rglob("*.zz9.tmp")), "the tool's half-written part was removed"
    assert not list(runs.glob("*__r*.parquet")), "the tool's parts were removed at the end"


def test_compare_killed_at_random_moments_and_resumed_gives_identical_tables(small_kent: Path, tmp_path: Path,
                                                                             capsys) -> None:
    """Issue 14: SIGKILL four times, each a random moment (seeded delay) after that run has saved a part of
    its own, so it may land while a replication runs or while a part is being written; then ``--resume``
    until it finishes: the tables are those of an uninterrupted run, byte for byte."""
    import numpy as np

    common = ["--reps", "8", "--seed", "3", "--workers", "1", "--quiet", "--no-report"]
    reference = tmp_path / "reference"
    assert main(["compare", str(small_kent), *common, "--out", str(reference)]) == 0, capsys.readouterr().err
    out = tmp_path / "killed"
    runs = out / ".parts" / "runs"
    parts = lambda: len(list(runs.glob("*__r*.parquet"))) if runs.is_dir() else 0  # noqa: E731
    rng = np.random.default_rng(20261203)
    args = ["compare", str(small_kent), *common, "--out", str(out)]
    counts = [0]
    for attempt in range(4):
        proc = _start(args + (["--resume"] if attempt else []))
        deadline = time.monotonic() + 120
        while proc.poll() is None and parts() <= counts[-1] and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(float(rng.uniform(0.0, 0.4)))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stderr.close()
        counts.append(parts())
    assert all(b > a for a, b in zip(counts[:-1], counts[1:])), f"each run saved parts before its kill: {counts}"
    assert counts[-1] < 40 and not (out / "runs.csv").exists(), "the compare was still unfinished"
    assert main(args + ["--resume"]) == 0, capsys.readouterr().err
    for table in TABLES:
        assert (out / table).read_bytes() == (reference / table).read_bytes(), f"{table} differs"
    assert json.loads((out / "manifest.json").read_text())["status"] == "finished"


def test_resuming_a_finished_compare_runs_nothing(tiny_scenario_file: Path, tmp_path: Path, monkeypatch,
                                                  capsys) -> None:
    """As for a finished sweep: `compare --resume` on a finished folder reruns no replication and rewrites
    no table (the engine is made to fail here, so a rerun would exit 3)."""
    import dps_sim.experiment.tasks as tasks

    out = tmp_path / "out"
    argv = ["compare", str(tiny_scenario_file), "--reps", "2", "--workers", "1", "--out", str(out), "--quiet",
            "--no-report"]
    assert main(argv) == 0
    before = {t: ((out / t).read_bytes(), (out / t).stat().st_mtime_ns) for t in TABLES}

    def no_runs(*args):
        raise AssertionError("a finished compare was run again")

    monkeypatch.setattr(tasks, "simulate", no_runs)
    assert main(argv + ["--resume"]) == 0, capsys.readouterr().err
    assert "pay_monthly_in_arrears" in capsys.readouterr().out, "the summary is shown as after a run"
    assert {t: ((out / t).read_bytes(), (out / t).stat().st_mtime_ns) for t in TABLES} == before
    # --resume continues the same command only
    other = [a if a != "2" else "3" for a in argv]
    assert main(other + ["--resume"]) == 2 and "different compare" in capsys.readouterr().err
    run = ["run", str(tiny_scenario_file), "--reps", "2", "--out", str(out), "--quiet", "--no-report", "--resume"]
    assert main(run) == 2 and "not a run" in capsys.readouterr().err
    assert {t: ((out / t).read_bytes(), (out / t).stat().st_mtime_ns) for t in TABLES} == before


# --------------------------------------------------------------------------- the explorer, --out and --scheduler


def test_explore_never_replaces_a_users_page_and_force_removes_the_tools(tiny_scenario_file: Path, tmp_path: Path,
                                                                         capsys) -> None:
    pytest.importorskip("plotly")
    out = tmp_path / "out"
    argv = ["run", str(tiny_scenario_file), "--reps", "1", "--out", str(out), "--quiet", "--no-report"]
    assert main(argv) == 0
    (out / "explore.html").write_text("my own page")
    assert main(["explore", str(out)]) == 2 and "explore.html" in capsys.readouterr().err
    assert (out / "explore.html").read_text() == "my own page"
    (out / "explore.html").unlink()
    assert main(["explore", str(out)]) == 0, capsys.readouterr().err
    assert "explore.html" in json.loads((out / "manifest.json").read_text())["files"]
    assert main(argv + ["--force"]) == 0
    assert not (out / "explore.html").exists(), "--force removes the tool's explore.html with its other results"


def test_out_below_a_file_is_bad_input(tiny_scenario_file: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "existing_file").write_text("x")
    code = main(["run", str(tiny_scenario_file), "--reps", "1", "--out", str(tmp_path / "existing_file" / "sub"),
                 "--quiet", "--no-report"])
    assert code == 2 and "is a file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "existing_file").read_text() == "x"


@pytest.mark.parametrize("address", ["bogus", "tcp://127.0.0.1:1"])
def test_a_scheduler_that_does_not_answer_is_bad_input_in_seconds(address: str, tiny_scenario_file: Path,
                                                                  tmp_path: Path, capsys) -> None:
    """The audit's `--scheduler bogus` or a closed port exited 1 after 30 s with a partial folder."""
    sweep_file = tmp_path / "grid.yaml"
    sweep_file.write_text(yaml.safe_dump({"scenario": tiny_scenario_file.name, "method": "grid",
                                          "parameters": {"market.providers": {"levels": [20, 30]}}}))
    started = time.perf_counter()
    code = main(["sweep", str(sweep_file), "--scheduler", address, "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2 and "--scheduler" in capsys.readouterr().err
    assert time.perf_counter() - started < 10 and not (tmp_path / "out").exists()
