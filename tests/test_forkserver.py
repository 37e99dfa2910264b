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
    import gc

    from dyad.brain.bank_kernels import chunk_steps

    parent = os.getppid()
    return {
        "parent": parent,
        "parent_threads": int(_status(parent)["Threads"]),
        "ignores_sigint": _ignores_sigint(os.getpid()),
        "compiled": len(chunk_steps.signatures),
        "frozen": gc.get_freeze_count(),
        "arrow_from_pandas": "pyarrow.pandas_compat" in sys.modules,
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
    # and what a first batch would pay for again in every worker: a table classified and
    # written, the server's objects frozen for the GC (git is not asked there: its processes
    # would be the server's children beside the workers)
    assert seen["arrow_from_pandas"]
    assert seen["frozen"] > 10_000
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


PRELOAD_PROBE = (
    "import signal, sys\n"
    "import dyad.preload\n"
    "print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN, flush=True)\n"
    "sys.exit(3)\n"
)


def test_the_preload_module_acts_only_in_the_fork_server(monkeypatch):
    """Imported elsewhere it must not ignore Ctrl-C or replace the process's exit code.

    Its exit handler, ``os._exit(0)``, once ran in the test suite's own process (a test imports
    every dyad module) and made a failing suite exit with 0.
    """
    from dyad.forkserver import SERVER_FLAG

    monkeypatch.delenv(SERVER_FLAG, raising=False)
    elsewhere = subprocess.run(
        [sys.executable, "-c", PRELOAD_PROBE], capture_output=True, text=True, timeout=120
    )
    assert (elsewhere.stdout.strip(), elsewhere.returncode) == ("False", 3), elsewhere.stderr
    in_server = subprocess.run(
        [sys.executable, "-c", PRELOAD_PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **SERVER_ENVIRONMENT},
    )
    # the server ignores Ctrl-C and exits at once, with 0, when its work is over
    assert (in_server.stdout.strip(), in_server.returncode) == ("True", 0), in_server.stderr


def test_a_failing_test_fails_the_suite_after_every_dyad_module_is_imported(tmp_path):
    """The suite's exit code is what CI acts on; importing dyad's modules must leave it alone."""
    test = tmp_path / "test_imports_then_fails.py"
    test.write_text(
        "import importlib, pkgutil\n"
        "import dyad\n\n\n"
        "def test_imports_every_module_then_fails():\n"
        "    for module in pkgutil.walk_packages(dyad.__path__, 'dyad.'):\n"
        "        if not module.name.startswith(('dyad.view', 'dyad.experiments')):\n"
        "            importlib.import_module(module.name)\n"
        "    assert False\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout + done.stderr
