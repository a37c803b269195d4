"""The Python API from a plain script (issue 15): the README's example runs as written, a script
without the `__main__` guard gets a clear error before any worker starts, `dir(dps_sim)` lists the
API, and `import dps_sim` stays light."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import dps_sim

ROOT = Path(__file__).resolve().parents[1]


def readme_python_example() -> str:
    """The first ```python block of the README's "Python API" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's Python API section has no ```python block"
    return match.group(1)


def run_script(path: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(path)], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_readme_example_runs_as_a_script(tmp_path: Path) -> None:
    """Pasted into a file and run from the project folder (with 2 replications instead of 50)."""
    code = readme_python_example()
    assert 'if __name__ == "__main__":' in code and "workers=2" in code
    assert "reps=50" in code
    script = tmp_path / "what_if.py"
    script.write_text(code.replace("reps=50", "reps=2"), encoding="utf-8")
    proc = run_script(script, ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["policy", "mean", "diff", "diff_ci_low", "diff_ci_high"]
    assert [line.split()[0] for line in lines[1:]] == ["baseline", "pay_monthly_in_arrears"]


def _unguarded(tmp_path: Path, scenario: Path, workers: int) -> Path:
    script = tmp_path / f"unguarded_{workers}.py"
    script.write_text("import dps_sim\n\n"
                      f"scenario = dps_sim.load_scenario({str(scenario)!r})\n"
                      f"res = dps_sim.compare(scenario, reps=2, workers={workers}, out={str(tmp_path / 'out')!r})\n"
                      "print('policies', ','.join(res.policies))\n", encoding="utf-8")
    return script


def test_a_script_without_the_guard_gets_a_clear_error(tmp_path: Path, tiny_scenario_file: Path) -> None:
    proc = run_script(_unguarded(tmp_path, tiny_scenario_file, workers=2), tmp_path)
    assert proc.returncode == 1
    assert "MainGuardMissing" in proc.stderr and 'if __name__ == "__main__":' in proc.stderr
    assert "line 4 of unguarded_2.py" in proc.stderr and "workers=1" in proc.stderr
    assert "bootstrapping" not in proc.stderr and "BrokenProcessPool" not in proc.stderr
    assert not (tmp_path / "out").exists(), "stopped before writing anything"


def test_a_script_without_the_guard_runs_in_process_with_one_worker(tmp_path: Path, tiny_scenario_file: Path) -> None:
    proc = run_script(_unguarded(tmp_path, tiny_scenario_file, workers=1), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "policies baseline,pay_monthly_in_arrears"


def test_dir_lists_the_public_api() -> None:
    names = dir(dps_sim)
    for name in ("load_scenario", "run", "compare", "sweep", "simulate", "resolve_policy", "Scenario", "Results",
                 "ScenarioError", "KPI_NAMES", "__version__"):
        assert name in names
    assert set(dps_sim.__all__) <= set(names)
    assert "TYPE_CHECKING" not in names and "_LAZY" not in names
    assert all(callable(getattr(dps_sim, n)) or n in ("KPI_NAMES", "__version__") for n in dps_sim.__all__)


def test_import_stays_light() -> None:
    """`import dps_sim` (and dir()) loads none of numpy, pandas, pydantic, matplotlib or dask."""
    code = ("import sys, dps_sim; dir(dps_sim); "
            "print(sorted(m for m in ('numpy', 'pandas', 'pydantic', 'matplotlib', 'dask', 'scipy') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_guard_spans_are_found_in_their_variants(tmp_path: Path) -> None:
    """Lines under `if __name__ == "__main__":` (either order, or `in (...)`) count as guarded; others not."""
    from dps_sim.experiment.mainguard import _guarded_lines

    script = tmp_path / "s.py"
    script.write_text("import dps_sim\n"                      # 1
                      "x = 1\n"                               # 2
                      "if __name__ == '__main__':\n"          # 3
                      "    main()\n"                          # 4
                      "if '__main__' == __name__:\n"          # 5
                      "    main()\n"                          # 6
                      "    more()\n"                          # 7
                      "if __name__ in ('__main__',):\n"       # 8
                      "    main()\n"                          # 9
                      "if x:\n"                               # 10
                      "    main()\n", encoding="utf-8")       # 11
    assert _guarded_lines(str(script)) == [(4, 4), (6, 7), (9, 9)]
    assert _guarded_lines(str(tmp_path / "missing.py")) is None
