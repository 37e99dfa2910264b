"""The fork server local sweep workers start from: started early, with a worker's modules loaded.

A sweep's local workers used to be spawned at dispatch, each a new interpreter that imported
numpy, pandas, pyarrow, numba and dyad and loaded the compiled mirror-layer loop (about 1.5 s)
before its first run, while the sweep process had already spent a second or more importing and
planning with the other core idle. On Linux the workers now fork from multiprocessing's fork
server instead: :func:`start_forkserver` launches it as the sweep starts, it imports
:data:`PRELOAD` (``dyad.preload``) while the sweep is planned, and each worker forked
from it at dispatch has all of that already (milliseconds to start).

The server is a fresh interpreter (not a copy of the sweep process), single-threaded when it
forks: BLAS and OpenMP limited to one thread and pyarrow's jemalloc without its background
thread, so forking from it is safe. It ignores SIGINT from its first import on (a Ctrl-C in
the few milliseconds before that ends it, but that Ctrl-C aborts the sweep too), and so does
everything it forks (a worker's initializer ignores SIGINT too,
:func:`dyad.sweeps.worker._init_pool_worker`): a Ctrl-C never kills a starting worker; the
sweep process decides what stops.

Workers watch the sweep process and exit when it ends (kill -9 included); the server exits once
the process that started it and every worker it forked have ended. In a notebook it stays up
between sweeps, so later sweeps start their workers at once (with the modules it loaded first:
restart the kernel after changing dyad's code).

Elsewhere (macOS, Windows), where forking a process that loaded system frameworks is not
safe, workers are spawned as before. This module imports the standard library only, so
starting the server costs the sweep process nothing.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Iterator

#: modules the fork server imports before forking workers (the last one loads compiled code)
PRELOAD = ["dyad.preload"]

#: set in the server's environment only: ``dyad.preload`` acts on import only where it is "1"
SERVER_FLAG = "DYAD_FORK_SERVER"

#: the server's environment: its libraries must not start threads it would fork
SERVER_ENVIRONMENT = {
    SERVER_FLAG: "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}


def start_method() -> str:
    """``"forkserver"`` on Linux, where workers fork from the preloaded server; else ``"spawn"``."""
    if sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods():
        return "forkserver"
    return "spawn"


def start_forkserver() -> int | None:
    """Start the fork server now unless it runs already; return its pid if known.

    Cheap and idempotent: the server imports its modules in the background, so the caller
    goes on planning the sweep meanwhile. Nothing happens where workers are spawned
    (:func:`start_method`), and None is returned.
    """
    if start_method() != "forkserver":
        return None
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)  # no public accessor for its state
    if getattr(server, "_forkserver_pid", None) is None:
        forkserver.set_forkserver_preload(PRELOAD)
    with _environment(SERVER_ENVIRONMENT):
        forkserver.ensure_running()
    return getattr(server, "_forkserver_pid", None)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` meanwhile (the server inherits them), then restore."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
