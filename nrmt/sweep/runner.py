"""Run the cases of a sweep on Dask (``dask.distributed``), writing each row as its case finishes.

One Dask task a case (:func:`nrmt.sweep.commands.evaluate_case`: the API in the worker, never the
command line). The engine is a :class:`distributed.LocalCluster` of ``workers`` single-threaded
worker processes (default: one a core), or an existing cluster at ``scheduler``
(``tcp://HOST:PORT``, started with ``dask scheduler`` / ``dask worker``).

* Rows are written as results arrive (:mod:`nrmt.sweep.writers`, flushed), so a killed run loses
  no finished case, and ``resume=True`` runs only the cases whose id is not in the file yet.
* A worker that dies (killed, out of memory) loses its task; the scheduler runs it again on
  another worker (up to Dask's ``distributed.scheduler.allowed-failures`` times). Each case is one
  future, read once, so a retried case still gives one row.
* A case that raises (a solver that does not converge, say) gives no row: it is reported in
  :attr:`SweepResult.failed`, and a later ``resume`` tries it again.
"""

import logging
import os
import sys
import time
import uuid
from dataclasses import dataclass, field

from nrmt.sweep.commands import evaluate_case, make_row
from nrmt.sweep.writers import open_writer

__all__ = ["run_sweep", "SweepResult", "dask_client"]


@dataclass
class SweepResult:
    """What a run did: ``cases`` in the spec, ``skipped`` (already in the file), ``written``,
    ``failed`` (list of ``(case, message)``), wall-clock ``seconds`` and the ``workers`` used."""

    cases: int
    skipped: int
    written: int = 0
    failed: list = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 0


def dask_client(workers=None, scheduler=None):
    """A :class:`distributed.Client` and the cluster it owns (``None`` for an existing one).

    Parameters
    ----------
    workers : int, optional
        Size of the local cluster (default ``os.cpu_count()``): processes with one thread each
        (numpy's own threads are pinned to one by Dask's worker environment).
    scheduler : str, optional
        Address of an existing scheduler; exclusive with ``workers``.
    """
    from distributed import Client, LocalCluster

    if scheduler is not None and workers is not None:
        raise ValueError("give --workers or --scheduler, not both")
    if scheduler is not None:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
    n = workers or os.cpu_count() or 1
    if n < 1:
        raise ValueError(f"workers must be >= 1, got {n}")
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)
    return Client(cluster), cluster


def run_sweep(cases, out, *, workers=None, scheduler=None, resume=False, progress=False,
              client=None, task=evaluate_case, log=None):
    """Run ``cases`` and write their rows to ``out``.

    Parameters
    ----------
    cases : list of Case
        From :meth:`nrmt.sweep.spec.Spec.cases`.
    out : str
        ``.csv`` or ``.parquet`` file; must not exist (or be empty) unless ``resume``.
    workers, scheduler :
        The Dask engine (:func:`dask_client`); ignored when ``client`` is given.
    resume : bool
        Skip the cases whose id is already in ``out``.
    progress : bool
        Show a progress bar on standard error.
    client : distributed.Client, optional
        Use this client (its cluster is left running).
    task : callable
        ``task(command, options) -> result dict``; :func:`evaluate_case` (tests substitute one).
    log : callable, optional
        ``log(text)`` for one-line notices (e.g. a case that failed).

    Returns
    -------
    SweepResult
    """
    from distributed import as_completed

    t0 = time.perf_counter()
    fresh = not os.path.exists(out) or os.path.getsize(out) == 0
    writer = open_writer(out, resume=resume)
    result = SweepResult(cases=len(cases), skipped=0)
    try:
        todo = [c for c in cases if c.id not in writer.done]
        result.skipped = len(cases) - len(todo)
        if not todo:
            return result
        own = client is None
        cluster = None
        if own:
            client, cluster = dask_client(workers, scheduler)
        try:
            result.workers = len(client.scheduler_info().get("workers", {}))
            by_key = {}
            futures = []
            run_id = uuid.uuid4().hex[:8]  # keys of this run only: no stale result of another
            for case in todo:
                fut = client.submit(task, case.command, case.options,
                                    key=f"nrmt-{case.command}-{case.id}-{run_id}")
                by_key[fut.key] = case
                futures.append(fut)
            bar = _progress_bar(len(todo), progress)
            try:
                for fut in as_completed(futures):
                    case = by_key[fut.key]
                    if fut.status == "finished":
                        if case.id not in writer.done:  # one row a case, whatever Dask did
                            writer.write(make_row(case, fut.result()))
                            result.written += 1
                    else:
                        message = _error_line(fut)
                        result.failed.append((case, message))
                        if log:
                            bar.clear()  # the line goes above the bar, not through it
                            log(f"case {case.id} failed: {message}")
                            bar.refresh()
                    fut.release()
                    bar.update(1)
            finally:
                bar.close()
        finally:
            if own:
                client.close()
                if cluster is not None:
                    cluster.close()
    finally:
        writer.close()
        if fresh and not writer.done and os.path.exists(out):
            os.remove(out)  # nothing ran (no scheduler, interrupted): leave no empty file
        result.seconds = time.perf_counter() - t0
    return result


def _error_line(future):
    try:
        exc = future.exception()
    except Exception as err:  # the future itself could not be read (a lost scheduler)
        exc = err
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def _progress_bar(total, show):
    from tqdm import tqdm

    return tqdm(total=total, unit="case", file=sys.stderr, disable=not show, desc="nrmt sweep",
                dynamic_ncols=True)
