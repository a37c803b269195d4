"""Dask clusters on SLURM and PBS (dask-jobqueue, the optional extra ``cluster``), set up for sweeps.

    from dps_sim.experiment.cluster import jobqueue_cluster
    cluster = jobqueue_cluster("slurm", jobs=20, cores=16, memory="16GB", walltime="02:00:00", account="my-proj")
    dps_sim.sweep("big.yaml", scheduler=cluster.scheduler_address, workers=20 * 16, out="results/big")

(``workers``: the most worker processes the cluster will have, jobs x cores, which sizes the chunks.)

Each batch job runs ``cores`` single-threaded worker processes (a Kent run is pure Python: threads
would share one core). Workers retire ``margin`` minutes before the job's walltime (``--lifetime``),
their retirements spread over ``stagger`` minutes (``--lifetime-stagger``) so that they do not all
leave at once; the scheduler moves their work elsewhere, and ``adapt`` submits new jobs to replace
ended ones, up to ``jobs``. A chunk lost with a worker (preemption, a node failure) is run again by
the scheduler (``distributed.scheduler.allowed-failures``, 3 by default); its seeds travel with it,
so the table is the same.
"""

from __future__ import annotations

from typing import Any, Literal

KINDS = {"slurm": "SLURMCluster", "pbs": "PBSCluster"}


def _minutes(walltime: str) -> int:
    """'HH:MM:SS' (or 'MM:SS', or minutes) as whole minutes."""
    parts = [int(p) for p in walltime.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    hours, minutes, seconds = parts
    return hours * 60 + minutes + (1 if seconds else 0)


def worker_args(walltime: str, margin: int = 5, stagger: int = 4) -> list[str]:
    """The dask worker options that retire workers before the walltime, staggered."""
    total = _minutes(walltime)
    lifetime = total - margin - stagger
    if lifetime < 1:
        raise ValueError(f"walltime {walltime} is too short for a {margin}-minute margin and {stagger}-minute stagger")
    return ["--lifetime", f"{lifetime}m", "--lifetime-stagger", f"{stagger}m"]


def jobqueue_cluster(kind: Literal["slurm", "pbs"], jobs: int, cores: int = 8, memory: str = "8GB",
                     walltime: str = "01:00:00", queue: str | None = None, account: str | None = None,
                     margin: int = 5, stagger: int = 4, minimum_jobs: int = 0, adapt: bool = True,
                     **options: Any) -> Any:
    """A dask-jobqueue cluster of ``cores`` one-thread workers per job, adapting between ``minimum_jobs`` and
    ``jobs`` jobs, workers retiring before the walltime (see the module). ``options`` go to the cluster
    (e.g. ``job_extra_directives=["--constraint=cpu"]``, ``job_script_prologue=["module load python"]``)."""
    try:
        import dask_jobqueue
    except ImportError:
        raise RuntimeError("dask-jobqueue is not installed: pip install 'dps_sim[cluster]'") from None
    cls = getattr(dask_jobqueue, KINDS[kind])
    extra = worker_args(walltime, margin, stagger) + list(options.pop("worker_extra_args", []))
    cluster = cls(cores=cores, processes=cores, memory=memory, walltime=walltime, queue=queue, account=account,
                  worker_extra_args=extra, **options)
    if adapt:
        cluster.adapt(minimum_jobs=minimum_jobs, maximum_jobs=jobs)
    return cluster
