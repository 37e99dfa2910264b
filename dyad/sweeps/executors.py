"""Executors and signals: where a sweep's runs go, and how a Ctrl-C stops them.

One code path for any ``concurrent.futures`` executor: :func:`open_executor` gives a local
``ProcessPoolExecutor`` (workers forked from a preloaded fork server on Linux,
:mod:`dyad.forkserver`; spawned elsewhere) or the executor of a Dask ``distributed.Client``.
:class:`StopRequests` counts SIGINT/SIGTERM so the dispatch loop can let running runs finish
on the first signal and stop them on the second.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from dyad.errors import ConfigError, DyadError
from dyad.forkserver import start_forkserver, start_method
from dyad.sweeps.worker import _init_pool_worker

log = logging.getLogger(__name__)


def import_distributed():
    """``distributed`` (Dask), an optional extra; a clear error if it is missing."""
    try:
        import distributed
    except ImportError:
        raise DyadError(
            "--address needs Dask's `distributed` package: pip install 'dyad[dask]'"
        ) from None
    return distributed


@contextlib.contextmanager
def open_executor(
    workers: int | None = None, address: str | None = None, timeout: float = 10.0
) -> Iterator[tuple[Executor, str, int]]:
    """Return an executor for the runs, a description of it and how many runs to keep in flight.

    The executor is a ``concurrent.futures`` one.

    Without ``address``: a local :class:`ProcessPoolExecutor` with ``workers`` processes
    (default ``os.cpu_count()``) and an explicit context, never the global start method:
    ``forkserver`` on Linux (the server is started here unless :func:`dyad.api.sweep` started it
    already, :mod:`dyad.forkserver`), ``spawn`` elsewhere. With ``address``
    (``tcp://host:port``): the executor of a Dask
    ``distributed.Client`` connected to that scheduler. An unreachable scheduler, or one with
    no workers within ``timeout`` seconds, is a one-line :class:`DyadError`.
    """
    if address is None:
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers: expected a positive integer, got {workers}")
        n = workers or os.cpu_count() or 1
        method = start_method()  # forked from the preloaded fork server, or spawned
        start_forkserver()  # unless running already; nothing where workers are spawned
        executor = ProcessPoolExecutor(
            max_workers=n,
            mp_context=multiprocessing.get_context(method),
            initializer=_init_pool_worker,
            # a forked worker has the server's environment: it takes this process's instead,
            # as a spawned one would (plugins and settings read from it)
            initargs=(os.getpid(), dict(os.environ) if method == "forkserver" else None),
        )
        try:
            yield executor, f"{n} local worker process{'es' if n != 1 else ''}", n
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
        return

    if not re.fullmatch(r"[a-z][a-z0-9+]*://[^\s/]+:\d+", address):
        raise ConfigError(f"--address: expected tcp://host:port, got {address!r}")
    distributed = import_distributed()
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DyadError(
            f"--address {address}: cannot reach the Dask scheduler within {timeout:g} s ({message})"
        ) from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            raise DyadError(
                f"--address {address}: the Dask scheduler has no workers (waited {timeout:g} s)"
            ) from None
        workers_info = client.scheduler_info().get("workers", {})
        n_workers = len(workers_info)
        n_threads = sum(int(w.get("nthreads", 1)) for w in workers_info.values()) or 1
        advice = threaded_workers_advice(workers_info, address)
        if advice:
            log.warning("%s", advice)
        executor = client.get_executor(pure=False)
        described = f"Dask cluster at {address} ({n_workers} worker{'s' if n_workers != 1 else ''})"
        try:
            # twice the threads in flight keeps every worker busy while results travel back
            yield executor, described, 2 * n_threads
        finally:
            executor.shutdown(wait=False)
    finally:
        client.close()


def threaded_workers_advice(workers_info: dict[str, Any], address: str) -> str | None:
    """Return advice when Dask workers run several threads each (None when none does).

    A run holds Python's GIL for most of its time (building its tables, writing its
    folder), so the threads of one worker process share about one core: ``dask worker``'s
    default, one process with a thread per core, ran a 330-run sweep 1.45x slower on 2 cores
    than one single-threaded process per core (docs/scaling.md).
    """
    threads = [int(w.get("nthreads", 1)) for w in workers_info.values()]
    threaded = sum(n > 1 for n in threads)
    if not threaded:
        return None
    if len(threads) == 1:
        who = "the Dask worker"
    elif threaded == len(threads):
        who = f"each of the {len(threads)} Dask workers"
    else:
        who = f"{threaded} of the {len(threads)} Dask workers"
    verb = "run" if threaded > 1 and threaded < len(threads) else "runs"
    count = (
        str(max(threads)) if len({n for n in threads if n > 1}) == 1 else f"up to {max(threads)}"
    )
    return (
        f"{who} at {address} {verb} {count} threads, but a worker process gives dyad's "
        "runs about one core (they hold Python's GIL); start one single-threaded worker per "
        f"core instead: dask worker {address} --nworkers -1 --nthreads 1"
    )


#: signals closer together than this count as one: under ``uv run`` a Ctrl-C reaches dyad
#: twice (from the terminal's process group and forwarded by uv) within milliseconds
INTERRUPT_WINDOW_S = 0.5


class StopRequests:
    """Counts SIGINT/SIGTERM during a sweep; a burst within ``window`` seconds counts once.

    The handler only counts; the dispatch loop looks at :attr:`count` between waits. One stop
    request: no new runs start and the running ones finish. Two: the running ones are stopped.
    """

    def __init__(self, window: float = INTERRUPT_WINDOW_S) -> None:
        self.window = window
        self.count = 0
        self._last: float | None = None

    def __call__(self, signum: int, frame: Any = None) -> None:
        """Count a signal, unless it comes within ``window`` seconds of the last one."""
        now = time.monotonic()
        if self._last is not None and now - self._last < self.window:
            return
        self._last = now
        self.count += 1

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopRequests]:
        """Handle SIGINT and SIGTERM with this counter meanwhile (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@contextlib.contextmanager
def interrupt_once_per_burst(window: float = INTERRUPT_WINDOW_S) -> Iterator[None]:
    """Meanwhile SIGINT raises KeyboardInterrupt once per burst (copies within ``window`` s: not).

    Under ``uv run`` one Ctrl-C arrives twice within milliseconds. With Python's default
    handler the second KeyboardInterrupt can land while the first unwinds through a lock's
    wait (``concurrent.futures.as_completed`` while the workers build the visual systems):
    the lock is then never taken back, and the sweep ended with "RuntimeError: release
    unlocked lock" and a traceback instead of "Aborted." (seen once in the suite,
    tests/reliability/test_signals.py). Only where SIGINT has Python's default handler, in
    the main thread; elsewhere (a notebook's own handler, a worker) nothing changes.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    stops = StopRequests(window)  # its rule for what counts as one Ctrl-C

    def interrupt(signum: int, frame: Any = None) -> None:
        counted = stops.count
        stops(signum, frame)
        if stops.count > counted:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _terminate_workers(executor: Executor) -> None:
    """Stop a local pool's workers now (a Dask task cannot be stopped from here).

    Used on a second Ctrl-C (the running runs stop) and once every batch is in (the workers
    are idle, and exit at once instead of tearing down their modules).
    """
    if isinstance(executor, ProcessPoolExecutor):
        # the pool's own worker processes (no public accessor exists)
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            process.terminate()
        executor.shutdown(wait=False, cancel_futures=True)
    else:  # Dask's executor knows no cancel_futures
        executor.shutdown(wait=False)
