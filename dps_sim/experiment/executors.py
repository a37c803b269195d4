"""Where replications run: in this process, on a local process pool, or on a Dask cluster.

Every executor takes chunks of tasks and yields results as chunks finish; the caller writes
each result to disk at once. Results never depend on the executor: seeds come with tasks.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import socket
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterator

from .tasks import Payload, Task, TaskResult, init_worker, run_chunk, run_chunk_in_worker


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def backend_label(workers: int, scheduler: str | None) -> str:
    """How runs were executed, for the manifest: in-process, process-pool:K or dask:ADDRESS."""
    if scheduler:
        return f"dask:{scheduler}" + (f" ({workers} workers)" if scheduler == "local" else "")
    return "in-process" if workers <= 1 else f"process-pool:{workers}"


SCHEDULER_ADDRESS = re.compile(r"(?:(tcp|tls)://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})")
"""A Dask scheduler address: [tcp:// or tls://]host:port."""


def check_scheduler(address: str, timeout: float = 3.0) -> str | None:
    """Why ``address`` is no usable Dask scheduler ('local' always is), or None: checked in seconds, by
    its form and by opening a TCP connection to it, before any output is written."""
    if address == "local":
        return None
    match = SCHEDULER_ADDRESS.fullmatch(address)
    if match is None or not 0 < int(match.group(3)) < 65536:
        shown = address if len(address) <= 60 and address.isprintable() else repr(address[:60])
        return (f"{shown!r} is not a scheduler address: give 'local', or host:port such as tcp://10.0.0.5:8786")
    host, port = match.group(2).strip("[]"), int(match.group(3))
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"no Dask scheduler answers at {address} ({exc.strerror or type(exc).__name__}); start one or check the address"


def chunked(tasks: list[Task], workers: int, per_worker: int = 8, largest: int = 10) -> list[list[Task]]:
    """Split tasks into chunks: several per worker for balance, none too large for progress."""
    if not tasks:
        return []
    size = max(1, min(largest, -(-len(tasks) // (max(1, workers) * per_worker))))
    return [tasks[i:i + size] for i in range(0, len(tasks), size)]


def run_serial(payload: Payload, chunks: list[list[Task]]) -> Iterator[list[TaskResult]]:
    """Run chunks one after another in this process."""
    for chunk in chunks:
        yield run_chunk(payload, chunk)


POOL_WORK: Callable[[list[Task]], list[TaskResult]] = run_chunk_in_worker
"""What a pool worker runs per chunk (a test swaps in a worker that kills itself once)."""
DASK_WORK: Callable[[Payload, list[Task]], list[TaskResult]] = run_chunk
"""What a Dask task runs per chunk (a test swaps in one whose worker dies once)."""
POOL_RESTARTS = 3
"""Most times a sweep restarts a broken process pool before it stops (and says how to resume)."""


def run_pool(payload: Payload, chunks: list[list[Task]], workers: int,
             lost: list[dict[str, Any]] | None = None, restarts: int = POOL_RESTARTS) -> Iterator[list[TaskResult]]:
    """Run chunks on a local process pool; the payload is sent once per worker (spawn context).

    A worker that dies (killed, out of memory) breaks the whole pool: the chunks not yet returned
    are run again on a new pool, up to ``restarts`` times, and each loss is appended to ``lost``
    (time, chunks and runs re-run, the error). Seeds travel with the tasks, so the re-run chunks
    give the numbers they would have given."""
    ctx = mp.get_context("spawn")
    todo = dict(enumerate(chunks))
    attempt = 0
    while todo:
        broken: BaseException | None = None
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker,
                                 initargs=(payload, os.getpid())) as pool:
            pending = {pool.submit(POOL_WORK, c): i for i, c in todo.items()}
            try:
                while pending and broken is None:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        i = pending.pop(fut)
                        try:
                            result = fut.result()
                        except BrokenProcessPool as exc:
                            broken = exc
                            continue
                        del todo[i]
                        yield result
            finally:
                for fut in pending:
                    fut.cancel()
        if broken is None:
            continue
        attempt += 1
        if attempt > restarts:
            raise broken
        if lost is not None:
            lost.append({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "restart": attempt,
                         "chunks_rerun": len(todo), "runs_rerun": sum(len(c) for c in todo.values()),
                         "error": f"{type(broken).__name__}: {broken}"[:300]})


DASK_MISSING = ("Dask is not installed: cluster execution (--scheduler) needs the optional extra, "
                "pip install 'dps_sim[cluster]'; everything else runs without it")


def dask_available() -> bool:
    """Whether Dask distributed can be imported (the optional extra ``cluster``)."""
    import importlib.util

    try:
        return importlib.util.find_spec("distributed") is not None and importlib.util.find_spec("dask") is not None
    except (ImportError, ValueError):
        return False


def run_dask(payload: Payload, tasks: list[Task], scheduler: str, workers: int) -> Iterator[list[TaskResult]]:
    """Run chunks on Dask: ``scheduler`` is 'local' (start a LocalCluster) or a scheduler address. On a
    running cluster the chunks are sized for its worker threads (at least ``workers``); a chunk lost with
    its worker is re-run by the scheduler (Dask's ``distributed.scheduler.allowed-failures``)."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise RuntimeError(DASK_MISSING) from None

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")  # any free port: no clash on a shared machine
        client = Client(cluster)
    else:
        client = Client(scheduler, timeout=10)
        workers = max(workers, sum(client.nthreads().values()))
    chunks = chunked(tasks, workers)
    try:
        shared = client.scatter(payload, broadcast=True)
        futures = client.map(DASK_WORK, [shared] * len(chunks), chunks, pure=False)
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def execute(payload: Payload, tasks: list[Task], workers: int = 1, scheduler: str | None = None,
            lost: list[dict[str, Any]] | None = None) -> Iterator[list[TaskResult]]:
    """Run tasks on the chosen backend, yielding each chunk's results as it finishes; ``lost`` collects
    the chunks re-run after a lost pool worker."""
    if scheduler:
        return run_dask(payload, tasks, scheduler, workers)
    chunks = chunked(tasks, workers)
    if workers <= 1 or len(chunks) <= 1:
        return run_serial(payload, chunks)
    return run_pool(payload, chunks, workers, lost)
