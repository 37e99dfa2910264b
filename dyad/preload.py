"""Imported by the fork server of local sweep workers (:mod:`dyad.forkserver`), never by dyad.

The server imports this module first: from here on it ignores SIGINT, and so does every worker
it forks (a worker is born with the server's handlers), so a Ctrl-C never kills the server or a
starting worker; the sweep process decides what stops. Then it imports what a worker needs
and loads the mirror layer's compiled loop (:func:`dyad.sweeps.worker.warm_up`), and freezes
what it holds for the garbage collector (:func:`gc.freeze`).

When its sweep process has ended, the server exits at once instead of tearing its modules
down (0.4 s, while it still held the sweep's stdout and stderr: whoever read the sweep's
output through a pipe waited for it). It holds nothing that needs cleaning up.

All of that happens only in the server, whose environment has ``DYAD_FORK_SERVER=1``
(:data:`dyad.forkserver.SERVER_FLAG`). Imported anywhere else (a test that imports every
module, a documentation tool) the module does nothing: its exit handler ``os._exit(0)`` once
made the test suite's process exit with 0 whatever its tests did.
"""

import os

if os.environ.get("DYAD_FORK_SERVER") == "1":  # dyad.forkserver.SERVER_FLAG; stdlib only here
    import atexit
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    atexit.register(os._exit, 0)  # runs first (handlers run last-in, first-out)

    import gc

    from dyad.sweeps.worker import warm_up

    warm_up()
    # what the server holds now lives as long as every worker: out of the collector's sight,
    # a worker's collections no longer walk it (with the table warm-up, a worker's first
    # batch took 64-72 ms a run instead of 77-100), and the collector no longer writes to the
    # pages holding it, so they stay shared with the server instead of being copied
    gc.freeze()
