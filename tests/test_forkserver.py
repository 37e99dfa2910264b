"""The fork server local sweep workers start from (dyad.forkserver); workers watching the sweep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dyad.forkserver import SERVER_ENVIRONMENT, start_forkserver, start_method
from dyad.sweeps.worker import _process_watch

linux_only = pytest.mark.skipif(start_method() != "forkserver", reason="Linux fork server")


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: v.strip() for k, _, v in (line.partition(":") for line in lines)}


def _ignores_sigint(pid: int) -> bool:
    return bool(int(_status(pid)["SigIgn"], 16) & (1 << (signal.SIGINT - 1)))


def _what_a_worker_starts_with() -> dict:
    """Run in a pool worker at once: what it inherited, before it imports anything itself."""
    from dyad.brain.bank_kernels import chunk_steps

    parent = os.getppid()
    return {
        "parent": parent,
        "parent_threads": int(_status(parent)["Threads"]),
        "ignores_sigint": _ignores_sigint(os.getpid()),
        "compiled": len(chunk_steps.signatures),
        "environment": os.environ.get("DYAD_FORKSERVER_TEST"),
    }


@linux_only
def test_workers_fork_from_a_preloaded_single_threaded_server_that_ignores_ctrl_c(monkeypatch):
    from dyad.sweeps.executors import open_executor

    server = start_forkserver()
    # set after the server started: a worker has the sweep's environment, not the server's
    monkeypatch.setenv("DYAD_FORKSERVER_TEST", "the sweep's")
    assert server is not None and start_forkserver() == server  # started once, then reused
    with open_executor(workers=1) as (executor, described, _):
        seen = executor.submit(_what_a_worker_starts_with).result(timeout=120)
    assert described == "1 local worker process"
    assert seen["parent"] == server
    assert _ignores_sigint(server)  # a Ctrl-C never kills it
    assert seen["parent_threads"] == 1  # safe to fork: no thread of numpy, pyarrow or numba
    assert seen["ignores_sigint"]
    # the mirror layer's compiled loop came loaded from the server (a spawned worker has none)
    assert seen["compiled"] >= 1
    assert seen["environment"] == "the sweep's"


@linux_only
def test_the_servers_environment_is_not_left_in_the_sweep_process(monkeypatch):
    for name in SERVER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    start_forkserver()
    assert [name for name in SERVER_ENVIRONMENT if name in os.environ] == []


def test_a_worker_sees_when_the_sweep_process_ends():
    """Forked workers are the fork server's children: they watch the sweep by its pid."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        running = _process_watch(sleeper.pid)
        assert running()
        sleeper.kill()
        sleeper.wait()
        deadline = time.monotonic() + 5
        while running() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not running()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert not _process_watch(sleeper.pid)()  # a pid that has gone
