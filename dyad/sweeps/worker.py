"""The worker side of a sweep: a batch of runs in a worker process, and the worker's lifetime.

:func:`execute_batch` is what every executor calls (a local process pool or a Dask worker):
it runs :class:`~dyad.sweeps.plan.RunSpec` objects that share a visual system as one batch,
writes each run's folder and returns one small JSON-safe record per run, never raising for a
failing run. :func:`_init_pool_worker` makes a local pool worker ignore SIGINT and die with
the sweep process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dyad._io import to_json, utc_now
from dyad.sweeps.plan import RunSpec

if TYPE_CHECKING:
    from dyad.store import BatchWriter


def execute_run(spec: RunSpec, folder: str, cache_dir: str | None = None) -> dict[str, Any]:
    """Run one sweep run in a worker and write its folder; return a small JSON-safe record.

    A batch of one (:func:`execute_batch`). Never raises for a failing run: the error and
    traceback are returned with ``status="failed"``.
    """
    return execute_batch([spec], [folder], cache_dir)[0]


def execute_batch(
    specs: list[RunSpec], folders: list[str], cache_dir: str | None = None, batch_id: int = 0
) -> list[dict[str, Any]]:
    """Run sweep runs that share a visual system as one batch; one JSON-safe record per run.

    The runs go through :func:`dyad.batch.run_batch` (their mirror layers stepped together)
    with BLAS/OpenMP limited to one thread (parallelism comes from the processes); each run's
    folder is staged as soon as its tables are made (manifest last), and the batch's folders
    are made durable by one filesystem sync and swapped in at its end
    (:class:`dyad.store.BatchWriter`): a batch killed midway leaves none of its runs. Never
    raises for a failing run: its record has ``status="failed"``, the error and traceback,
    and any partial files are removed, so one bad run does not stop the others of its batch
    or the sweep.
    """
    from threadpoolctl import threadpool_limits

    from dyad.batch import run_batch
    from dyad.store import BatchWriter

    started = time.perf_counter()
    started_at = time.time()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    records: list[dict[str, Any]] = [
        {
            "run_id": spec.run_id,
            "seed_index": spec.seed_index,
            "seed": spec.seed,
            "parameters": spec.overrides,
            "worker": worker,
        }
        for spec in specs
    ]
    valid: list[int] = []
    scenarios = []
    for index, spec in enumerate(specs):
        try:
            scenarios.append((spec.scenario(), spec.seed))
            valid.append(index)
        except Exception as exc:  # recorded and reported; the sweep goes on
            _failed(records[index], exc, folders[index])
    size = len(valid)

    writer = BatchWriter()

    def save(position: int, outcome: Any) -> dict[str, Any]:
        index = valid[position]
        record = records[index]
        try:
            if isinstance(outcome, BaseException):
                raise outcome
            _save(specs[index], Path(folders[index]), outcome, writer)
        except Exception as exc:
            _failed(record, exc, folders[index])
        else:
            record.update(
                status="ok",
                summary=to_json(outcome.summary),
                timings=to_json(outcome.manifest.get("timings", {})),
                vision_seed=outcome.manifest.get("vision_seed"),
            )
        record["batch"] = {"id": batch_id, "size": size}
        record["finished"] = utc_now()
        return record

    if scenarios:
        plugin_dirs = tuple(Path(p) for p in specs[valid[0]].plugin_dirs)
        cache = None if cache_dir is None else Path(cache_dir)
        with writer:
            try:
                with threadpool_limits(limits=1), _numba_threads(1):
                    run_batch(scenarios, cache_dir=cache, plugin_dirs=plugin_dirs, consume=save)
            except Exception as exc:  # shared by the batch (e.g. its visual system): all fail
                for position, index in enumerate(valid):
                    if "status" not in records[index]:
                        save(position, exc)
            # the batch's runs appear together, made durable by one sync (BatchWriter)
            unwritten = writer.commit()
        for index in valid:
            error = unwritten.get(Path(folders[index]))
            if error is not None:
                records[index].pop("summary", None)
                _failed(records[index], error, folders[index])
    wall = time.perf_counter() - started
    for record in records:
        record["wall_time_s"] = round(wall / len(records), 3)  # the run's share of its batch
        record["batch_wall_time_s"] = round(wall, 3)
        # when the task ran (seconds since the epoch): the scheduler's share of a sweep's wall
        # time is what the tasks' windows leave uncovered (benchmarks/bench_sweep.py)
        batch = record.setdefault("batch", {"id": batch_id, "size": size})
        batch.update(started_at=round(started_at, 3), ended_at=round(time.time(), 3))
        record.setdefault("finished", utc_now())
    return records


def warm_up() -> None:
    """Import what a batch needs and load the mirror layer's compiled loop; never raises.

    Run by the fork server local workers fork from (``dyad.preload``), so that a
    worker's first batch does not pay for it. The loop is loaded in the version for batches of
    several networks (:func:`dyad.brain.batched.load_compiled_loop`), the one sweep batches
    use; a batch of one run loads its own in the worker. No numba threads are started (the
    loop is not parallel): the server must stay single-threaded to fork safely. Anything that
    fails here is simply done again by the worker that needs it.
    """
    try:
        import pyarrow.parquet  # noqa: F401
        import scipy.special  # noqa: F401
        import threadpoolctl  # noqa: F401

        import dyad.analysis.classify  # noqa: F401
        import dyad.batch  # noqa: F401
        import dyad.brain.infant  # noqa: F401
        import dyad.decisions  # noqa: F401
        import dyad.recording  # noqa: F401
        import dyad.schedules  # noqa: F401
        import dyad.simulation  # noqa: F401
        import dyad.store.write  # noqa: F401
        import dyad.tables  # noqa: F401
        from dyad.brain.batched import load_compiled_loop

        load_compiled_loop()
        _write_tiny_tables()
    except Exception:  # the worker imports or does it itself
        pass


def _write_tiny_tables() -> None:
    """Classify a few neurons and write their table into memory, as a run's tables are.

    The first table a process classifies and writes pays for pandas' and pyarrow's first
    calls (pyarrow's pandas conversion module is imported then, ...), each worker anew unless
    the fork server paid them once. Measured only together with the server's ``gc.freeze()``
    (``dyad.preload``): a worker's first batch 64-72 ms a run instead of 77-100 ms.
    """
    import io

    import numpy as np
    import pandas as pd

    from dyad.analysis.classify import analyse_modality, analysed_columns
    from dyad.store.write import _write_parquet, categorize

    rates = np.random.default_rng(0).random((2, 8, 4), dtype=np.float32)
    analysis = analyse_modality(rates)
    columns = analysed_columns(analysis, analysis, ["happy", "sad"])
    table = categorize(pd.DataFrame(columns))
    _write_parquet(table, io.BytesIO())


def _failed(record: dict[str, Any], exc: BaseException, folder: str) -> None:
    """Mark ``record`` failed with ``exc`` and remove any partial files of its run folder."""
    from dyad.store import clean_partial

    with contextlib.suppress(OSError):
        clean_partial(folder)
    record.update(
        status="failed",
        error=f"{type(exc).__name__}: {exc}",
        traceback="".join(traceback.format_exception(exc)),
    )


def _save(spec: RunSpec, folder: Path, outcome, writer: BatchWriter) -> None:
    """Stage one run's folder with the sweep's facts in its manifest (no figures)."""
    # run_id and parameters make load_runs() and the run's own manifest self-describing
    manifest = dict(outcome.manifest)
    manifest.update(
        run_id=spec.run_id,
        parameters=spec.overrides,
        sweep={"seed_index": spec.seed_index, "source": spec.source},
    )
    # categorize_strings=False: dyad.tables.run_tables returns its tables categorized already
    writer.write_run(folder, outcome.tables, manifest, overwrite=True, categorize_strings=False)


@contextlib.contextmanager
def _numba_threads(n: int) -> Iterator[None]:
    """Limit numba's parallel kernels to ``n`` threads meanwhile (numba is imported lazily)."""
    import numba

    try:
        previous = numba.get_num_threads()
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    except (ValueError, RuntimeError):  # no threading layer available
        yield
        return
    try:
        yield
    finally:
        numba.set_num_threads(previous)


#: seconds between checks that a pool worker's sweep process is still alive
PARENT_POLL_S = 0.5
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def prepare_visual_system(scenario: Any, cache_dir: str | None, run_seed: int) -> None:
    """Build (or load) one visual system of a sweep and its layer-4 banks into the cache.

    A task of :func:`dyad.sweeps.pretrain_sweep` when a sweep has several visual systems:
    the same :func:`dyad.simulation.prepare_vision` call as in the sweep process, run on a
    worker on one numba thread (the workers, one per core, share the cores, as for runs; two
    threads each would make every worker's threads wait for one another); nothing but the
    cache files comes back. The weights do not depend on the number of threads.
    """
    from dyad.simulation import prepare_vision

    with _numba_threads(1):
        prepare_vision(scenario, None if cache_dir is None else Path(cache_dir), run_seed=run_seed)


def _init_pool_worker(
    sweep_pid: int | None = None, environment: dict[str, str] | None = None
) -> None:
    """Set up a local pool worker: ignore SIGINT, and never outlive the sweep process.

    ``environment``: the sweep process's environment, for a worker forked from the fork
    server (which has the environment of the moment it started); a spawned worker inherits
    the sweep's own.

    SIGINT: a Ctrl-C in the terminal reaches the whole process group; the sweep process
    decides what finishes. Lifetime: a spawned worker is the sweep process's child, and on
    Linux the kernel sends it SIGTERM when its parent dies (``prctl(PR_SET_PDEATHSIG)``); a
    worker forked from the fork server (:mod:`dyad.forkserver`) is the server's child, and the
    server lives as long as any of its workers, so such a worker watches the sweep process
    itself. Everywhere a daemon thread checks every :data:`PARENT_POLL_S` seconds that the
    sweep process is alive and exits the worker when it is not (``kill -9`` of the sweep left
    its workers running as orphans).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked by _shielded_submit
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if environment is not None:  # forked from the fork server
        os.environ.clear()
        os.environ.update(environment)
        # the start method a spawned worker reports. A forked one reports "forkserver", and
        # numba then guards its thread start-up with a named semaphore that the resource
        # tracker, shared with the sweep, reports as leaked when the worker is terminated
        multiprocessing.set_start_method("spawn", force=True)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    if sweep_pid is None:
        return
    _die_with_parent(signal.SIGTERM)
    if os.getppid() == sweep_pid:  # spawned by the sweep process

        def sweep_alive() -> bool:
            return os.getppid() == sweep_pid

    else:  # forked from the fork server
        sweep_alive = _process_watch(sweep_pid)
    if not sweep_alive():  # the sweep died before the lines above
        os._exit(1)
    threading.Thread(
        target=_watch_sweep, args=(sweep_alive,), name="dyad-parent-watch", daemon=True
    ).start()


def _process_watch(pid: int) -> Callable[[], bool]:
    """Return a check that process ``pid`` (not this one's parent) is still running.

    A pidfd where the platform has one (it becomes readable when the process ends, and
    cannot be fooled by a reused pid); else ``os.kill(pid, 0)``.
    """
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return lambda: False
    except (AttributeError, OSError):

        def exists() -> bool:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:  # another user's process, but one that exists
                pass
            return True

        return exists

    def running() -> bool:
        ready, _, _ = select.select([handle], [], [], 0)
        return not ready

    return running


def _shielded_submit(executor: Executor, fn: Callable[..., Any], *args: Any) -> Future:
    """``executor.submit`` with SIGINT blocked in this thread meanwhile.

    A process pool starts its workers inside ``submit``; they inherit the signal mask, so a
    Ctrl-C during their start-up (seconds of imports, before :func:`_init_pool_worker` runs)
    no longer kills them: it stays blocked until the initializer ignores it. A SIGINT sent
    to the sweep process meanwhile is delivered when the mask is restored.
    """
    if not hasattr(signal, "pthread_sigmask"):
        return executor.submit(fn, *args)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return executor.submit(fn, *args)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _die_with_parent(signum: int) -> bool:
    """Ask Linux to send ``signum`` to this process when its parent dies (False elsewhere)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_sweep(sweep_alive: Callable[[], bool]) -> None:
    while True:
        time.sleep(PARENT_POLL_S)
        if not sweep_alive():
            os._exit(1)
