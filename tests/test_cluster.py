"""The SLURM and PBS recipes: dask-jobqueue job scripts with one-thread workers that retire before the
walltime, staggered, and an adaptive cluster (no batch system needed: the job script is only rendered)."""

from __future__ import annotations

import pytest

from dps_sim.experiment.cluster import jobqueue_cluster, worker_args

pytest.importorskip("dask_jobqueue")


def test_worker_lifetime_leaves_a_margin_and_a_stagger():
    assert worker_args("01:00:00") == ["--lifetime", "51m", "--lifetime-stagger", "4m"]
    assert worker_args("2:30:00", margin=10, stagger=5) == ["--lifetime", "135m", "--lifetime-stagger", "5m"]
    with pytest.raises(ValueError):
        worker_args("00:08:00")


@pytest.mark.parametrize("kind, directive", [("slurm", "#SBATCH -t 01:00:00"), ("pbs", "#PBS -l walltime=01:00:00")])
def test_job_scripts(kind, directive):
    cluster = jobqueue_cluster(kind, jobs=4, cores=8, memory="8GB", walltime="01:00:00", queue="short",
                               account="proj", scheduler_options={"dashboard_address": ":0"})
    try:
        script = cluster.job_script()
        assert directive in script
        assert "--nthreads 1" in script and "--nworkers 8" in script
        assert "--lifetime 51m" in script and "--lifetime-stagger 4m" in script
        assert cluster._adaptive is not None and cluster._adaptive.maximum == 4 * 8
    finally:
        cluster.close()
