"""The core install has no Dask: it is in the extra 'cluster', and everything but cluster execution works
without it (checked in a process where importing dask or distributed fails, as it would there)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
KENT = ROOT / "scenarios" / "kent_youth_dps.yaml"

BLOCK = """
import sys, importlib.abc
class NoDask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('dask', 'distributed', 'dask_jobqueue'):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, NoDask())
"""


def test_dask_is_only_in_the_extras():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith(("dask", "distributed"))]
    cluster = " ".join(project["optional-dependencies"]["cluster"])
    assert "dask[distributed]" in cluster and "dask-jobqueue" in cluster
    assert any(d.startswith("scikit-learn") for d in project["optional-dependencies"]["discover"])


def test_everything_but_cluster_execution_works_without_dask(tmp_path):
    data = yaml.safe_load(KENT.read_text())
    data.update(horizon_months=12)
    data["market"]["providers"] = 40
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({
        "scenario": "small.yaml", "method": "lhs", "samples": 10, "replications": 1, "seed": 1,
        "policies": ["bid_writing_support"], "parameters": {"market.entry_per_year": {"low": 4, "high": 24}},
        "kpis": ["insolvencies_small"]}))
    script = BLOCK + f"""
from dps_sim.cli import main
out = {str(tmp_path / 'out')!r}
assert main(['sweep', {str(tmp_path / 's.yaml')!r}, '--workers', '2', '--out', out, '--quiet', '--no-report']) == 0
import pandas as pd
points = pd.read_parquet(out + '/points.parquet')
split = float(points['insolvencies_small'].median())   # a condition that holds in some futures, not all
assert main(['discover', out, '--kpi', 'insolvencies_small', '--where', f'value > {{split}}', '--method', 'prim',
             '--no-report']) == 0
assert main(['sweep', {str(tmp_path / 's.yaml')!r}, '--scheduler', 'local', '--out', out + '2', '--quiet']) == 2
assert 'dask' not in sys.modules and 'distributed' not in sys.modules
print('ok')
"""
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "ok" in res.stdout
    assert "pip install 'dps_sim[cluster]'" in res.stderr
    assert (tmp_path / "out" / "robustness.csv").is_file()
