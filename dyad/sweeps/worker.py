"""The worker side of a sweep: one run in a worker process, and the worker's lifetime.

:func:`execute_run` is what every executor calls (a local process pool or a Dask worker): it
runs one :class:`~dyad.sweeps.plan.RunSpec`, writes the run's folder and returns a small
JSON-safe record, never raising for a failing run. :func:`_init_pool_worker` makes a local
pool worker ignore SIGINT and die with the sweep process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

from dyad._io import to_json, utc_now
from dyad.sweeps.plan import RunSpec


def execute_run(spec: RunSpec, folder: str, cache_dir: str | None = None) -> dict[str, Any]:
    """Run one sweep run in a worker and write its folder; return a small JSON-safe record.

    Runs with BLAS/OpenMP limited to one thread (parallelism comes from the processes). Never
    raises for a failing run: the error and traceback are returned with ``status="failed"``
    and any partial files are removed, so one bad run does not stop the sweep.
    """
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    record: dict[str, Any] = {
        "run_id": spec.run_id,
        "seed_index": spec.seed_index,
        "seed": spec.seed,
        "parameters": spec.overrides,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    try:
        with threadpool_limits(limits=1), _numba_threads(1):
            outcome_summary, timings, used_vision_seed = _run_and_save(
                spec, Path(folder), cache_dir
            )
    except Exception as exc:  # recorded and reported; the sweep goes on
        from dyad.store import clean_partial

        with contextlib.suppress(OSError):
            clean_partial(folder)
        record.update(
            status="failed",
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
        )
    else:
        record.update(
            status="ok", summary=outcome_summary, timings=timings, vision_seed=used_vision_seed
        )
    record["wall_time_s"] = round(time.perf_counter() - started, 3)
    record["finished"] = utc_now()
    return record


def _run_and_save(
    spec: RunSpec, folder: Path, cache_dir: str | None
) -> tuple[dict[str, Any], dict[str, Any], int | None]:
    """Run the scenario and write the run folder with the sweep's facts in its manifest.

    Return the run's summary, timings and the vision seed it used.
    """
    from dyad.simulation import run_scenario, save_run

    scenario = spec.scenario()
    outcome = run_scenario(
        scenario,
        seed=spec.seed,
        output=None,
        cache_dir=None if cache_dir is None else Path(cache_dir),
        plugin_dirs=tuple(Path(p) for p in spec.plugin_dirs),
        progress=False,
        figures=False,
    )
    # run_id and parameters make load_runs() and the run's own manifest self-describing
    manifest = dict(outcome.manifest)
    manifest.update(
        run_id=spec.run_id,
        parameters=spec.overrides,
        sweep={"seed_index": spec.seed_index, "source": spec.source},
    )
    save_run(folder, outcome.tables, manifest, scenario, figures=False, overwrite=True)
    return (
        to_json(outcome.summary),
        to_json(outcome.manifest.get("timings", {})),
        outcome.manifest.get("vision_seed"),
    )


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


def _init_pool_worker(sweep_pid: int | None = None) -> None:
    """Set up a local pool worker: ignore SIGINT, and never outlive the sweep process.

    SIGINT: a Ctrl-C in the terminal reaches the whole process group; the sweep process
    decides what finishes. Lifetime: on Linux the kernel sends SIGTERM when the sweep process
    dies (``prctl(PR_SET_PDEATHSIG)``); everywhere a daemon thread also checks every
    :data:`PARENT_POLL_S` seconds that the parent is still ``sweep_pid`` and exits the worker
    when it is not (``kill -9`` of the sweep left its workers running as orphans).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked by _shielded_submit until now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    if sweep_pid is None:
        return
    _die_with_parent(signal.SIGTERM)
    if os.getppid() != sweep_pid:  # the sweep died before the line above
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(sweep_pid,), name="dyad-parent-watch", daemon=True
    ).start()


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


def _watch_parent(sweep_pid: int) -> None:
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != sweep_pid:
            os._exit(1)
