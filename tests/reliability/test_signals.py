"""Ctrl-C and kill -9 on a running sweep, with real processes.

Under ``uv run`` one Ctrl-C reaches dyad twice within milliseconds (the terminal signals the
whole process group, and uv forwards the SIGINT it got to its child). The tests reproduce that
by starting ``dyad sweep`` in its own session and sending SIGINT to the group and then
directly to the process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_helpers import write_tiny

from dyad.forkserver import start_method
from dyad.sweeps import RUNS_MANIFEST, SWEEP_FILE, StopRequests

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

GRID = '[sweep]\nseeds = 2\n[sweep.grid]\n"parent.params.q" = [0.0, 0.5]\n'

#: A parent that copies the infant and takes a millisecond per decision, so that a run lasts
#: (steps) milliseconds whatever the speed of the machine and of the mirror layer: the tests
#: need runs still going when their signals arrive.
SLOW_POLICY = """
import time

from pydantic import Field

from dyad import ParentPolicy, PolicyParams, hookimpl


class Slow(ParentPolicy):
    name = "slow"
    description = "Copies the infant, a millisecond per decision (a test policy)."

    class Params(PolicyParams):
        q: float = Field(0.0, ge=0.0, le=1.0, description="unused: the sweep's grid axis")

    def choose(self, t, infant_history):
        time.sleep(0.001)
        return int(infant_history[-1])


@hookimpl
def dyad_register_policies(register):
    register(Slow)
"""


def slow_plugin(tmp_path: Path) -> Path:
    """Write the slow parent's plugin file; its path for ``--plugins-dir``."""
    path = tmp_path / "plugins" / "slow_parent.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SLOW_POLICY)
    return path


def test_signals_within_the_window_count_once():
    stops = StopRequests(window=0.5)
    stops(signal.SIGINT)
    stops(signal.SIGINT)  # uv's forwarded copy, a few ms later
    assert stops.count == 1
    time.sleep(0.6)
    stops(signal.SIGINT)
    assert stops.count == 2


def test_a_burst_of_sigints_raises_one_keyboard_interrupt():
    """A Ctrl-C under uv (two SIGINTs within milliseconds) interrupts a wait once, not twice.

    A second KeyboardInterrupt while the first unwinds through a lock's wait left the lock
    released and ended the sweep with "RuntimeError: release unlocked lock".
    """
    from dyad.sweeps.executors import interrupt_once_per_burst

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    interrupted = 0
    with interrupt_once_per_burst(window=0.5):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs here
        except KeyboardInterrupt:
            interrupted += 1
        os.kill(os.getpid(), signal.SIGINT)  # uv's forwarded copy: ignored
        time.sleep(0.05)
        assert interrupted == 1
        time.sleep(0.5)  # a Ctrl-C after the window interrupts again
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def default_sigint() -> None:
    """In the child before exec: SIGINT back to its default action.

    A process started with SIGINT ignored (a background job of a non-interactive shell, nohup)
    passes that on, and Python then never raises KeyboardInterrupt: the tests would measure
    how they were launched, not dyad.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def launch(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a dyad command in its own session (its pid is its process group), SIGINT default."""
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,
        env=env,
    )


def ctrl_c_under_uv(process: subprocess.Popen) -> None:
    """One Ctrl-C as uv delivers it: SIGINT to the group, then uv's forwarded copy."""
    os.killpg(process.pid, signal.SIGINT)
    os.kill(process.pid, signal.SIGINT)


def assert_aborted(process: subprocess.Popen, stdout: str, stderr: str) -> None:
    """Exit code 130 and the one line "Aborted.", no traceback."""
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == "Aborted."


def start_sweep(tmp_path: Path, cache_dir: Path, steps: int) -> tuple[subprocess.Popen, Path]:
    """``dyad sweep`` with 2 workers in its own session (its pid is its process group).

    The parent is the slow one: a run lasts about ``steps`` milliseconds.
    """
    scenario = write_tiny(tmp_path, policy="slow", steps=steps, sweep=GRID)
    output = tmp_path / "sweep"
    command = [str(Path(sys.executable).parent / "dyad"), "sweep", str(scenario)]
    command += ["--workers", "2", "--output", str(output), "--cache-dir", str(cache_dir)]
    command += ["--plugins-dir", str(slow_plugin(tmp_path))]
    command += ["--quiet"]
    return launch(command, env={**os.environ, "DYAD_LOAD_PLUGINS": ""}), output


def _children(pid: int) -> list[tuple[int, bytes]]:
    """``(pid, cmdline)`` of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry.name), cmdline))
    return found


def fork_servers_of(pid: int) -> list[int]:
    """Pids of the multiprocessing fork servers started by ``pid`` (dyad.forkserver)."""
    return [child for child, cmdline in _children(pid) if b"forkserver" in cmdline]


def workers_of(pid: int) -> list[int]:
    """Pids of the pool workers of the sweep ``pid``: forked from its fork server, or spawned."""
    spawned = [child for child, cmdline in _children(pid) if b"spawn_main" in cmdline]
    forked = [child for server in fork_servers_of(pid) for child, _ in _children(server)]
    return spawned + forked


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def left_alive(pids: list[int], within: float = 5.0) -> list[int]:
    """The processes of ``pids`` still alive after up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]


def initialised(pid: int) -> bool:
    """True once a pool worker's initializer ran: it ignores SIGINT (bit 2 of SigIgn)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigIgn:"):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    except OSError:
        pass
    return False


def wait_until_running(process: subprocess.Popen, output: Path, n_workers: int = 2) -> list[int]:
    """Wait until ``n_workers`` initialised workers have runs; their pids."""
    deadline = time.monotonic() + 240
    while True:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the sweep did not start in time"
        workers = workers_of(process.pid)
        if (
            (output / SWEEP_FILE).is_file()
            and len(workers) >= n_workers
            and all(initialised(pid) for pid in workers)
        ):
            time.sleep(1.0)  # the runs are under way
            return workers
        time.sleep(0.1)


def records(output: Path) -> list[dict]:
    path = output / RUNS_MANIFEST
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def stop(process: subprocess.Popen) -> None:
    """Kill whatever is left of the sweep's process group (workers share it)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_one_ctrl_c_under_uv_lets_running_runs_finish(tmp_path, cache_dir):
    """SIGINT to the group and, milliseconds later, uv's forwarded copy: one Ctrl-C."""
    process, output = start_sweep(tmp_path, cache_dir, steps=6000)
    try:
        wait_until_running(process, output)
        assert records(output) == []  # both runs still running
        os.killpg(process.pid, signal.SIGINT)  # the terminal: the whole process group
        os.kill(process.pid, signal.SIGINT)  # uv forwarding it to its child
        stdout, stderr = process.communicate(timeout=240)
    finally:
        stop(process)
    assert process.returncode == 130, stdout + stderr
    assert "interrupted" in stdout
    done = records(output)
    # the two running runs finished and were recorded; the two waiting ones never started
    assert [r["status"] for r in done] == ["ok", "ok"], done
    assert "Traceback" not in stderr


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_second_ctrl_c_stops_the_running_runs(tmp_path, cache_dir):
    process, output = start_sweep(tmp_path, cache_dir, steps=30000)
    try:
        workers = wait_until_running(process, output)
        os.killpg(process.pid, signal.SIGINT)
        time.sleep(1.0)
        started = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        took = time.monotonic() - started
    finally:
        stop(process)
    assert process.returncode == 130, stdout + stderr
    assert took < 20
    assert records(output) == []  # stopped runs are not recorded (a resume re-runs them)
    assert list((output / "runs").iterdir()) == []  # nor left half-written
    assert left_alive(workers) == []


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_workers_exit_when_the_sweep_is_killed(tmp_path, cache_dir):
    """Kill -9 of the sweep process used to leave its pool workers running as orphans."""
    process, output = start_sweep(tmp_path, cache_dir, steps=30000)
    try:
        workers = wait_until_running(process, output)
        assert all(alive(pid) for pid in workers)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        left = left_alive(workers)
    finally:
        stop(process)
    assert left == [], f"workers {left} outlived the sweep"


@pytest.mark.slow
def test_one_ctrl_c_under_uv_stops_simulate_with_one_line(tmp_path, cache_dir):
    """A Ctrl-C under uv stops a simulation with "Aborted." and exit code 130.

    Simulate under uv: the two SIGINTs coalesce into one KeyboardInterrupt (Python's handler
    only sets a flag), so the exit is "Aborted.", 130, no traceback. A regression guard: this
    held before the sweep changes too.
    """
    scenario = write_tiny(tmp_path, policy="slow", steps=30000)
    command = [str(Path(sys.executable).parent / "dyad"), "simulate", str(scenario)]
    command += ["--cache-dir", str(cache_dir), "--output", str(tmp_path / "out"), "--quiet"]
    command += ["--plugins-dir", str(slow_plugin(tmp_path))]
    process = launch(command)
    try:
        time.sleep(8)  # imports, the cached visual system, then the slow parent's decisions
        assert process.poll() is None, process.communicate()
        ctrl_c_under_uv(process)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        stop(process)
    assert_aborted(process, stdout, stderr)
    assert not (tmp_path / "out" / "manifest.json").exists()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_ctrl_c_while_workers_start_does_not_kill_them(tmp_path, cache_dir):
    """Workers used to die of a Ctrl-C that came before their initializer ignored SIGINT.

    The Ctrl-C comes as soon as the first worker exists: a spawned worker is then still
    importing; one forked from the fork server ignores SIGINT from birth.
    """
    process, output = start_sweep(tmp_path, cache_dir, steps=2000)
    try:
        deadline = time.monotonic() + 240
        while not (workers := workers_of(process.pid)):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no worker started in time"
            time.sleep(0.005)
        if fork_servers_of(process.pid):
            assert all(initialised(pid) for pid in workers)  # SIGINT ignored from birth
        ctrl_c_under_uv(process)
        stdout, stderr = process.communicate(timeout=240)
    finally:
        stop(process)
    assert process.returncode == 130, stdout + stderr
    done = records(output)
    assert done and all(r["status"] == "ok" for r in done), done


@pytest.mark.slow
@pytest.mark.skipif(
    not Path("/proc").is_dir() or start_method() != "forkserver", reason="Linux fork server"
)
def test_a_ctrl_c_while_the_sweep_plans_aborts_and_leaves_no_process(tmp_path, cache_dir):
    """The fork server starts with the sweep and ignores a Ctrl-C; the sweep does not.

    A Ctrl-C while the server still loads its modules (and the sweep plans) aborts the sweep
    with one line, and the server, its only other process, exits after it.
    """
    process, output = start_sweep(tmp_path, cache_dir, steps=2000)
    try:
        deadline = time.monotonic() + 60
        # the server ignores SIGINT as soon as its imports begin; they go on for a second
        while not ((servers := fork_servers_of(process.pid)) and initialised(servers[0])):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no fork server started"
            time.sleep(0.005)
        ctrl_c_under_uv(process)
        stdout, stderr = process.communicate(timeout=60)
        # it sees the sweep gone once its imports are done (about 1.5 s; longer under load)
        left = left_alive(servers, within=60)
    finally:
        stop(process)
    assert_aborted(process, stdout, stderr)
    assert not (output / RUNS_MANIFEST).exists()
    assert left == [], f"fork server {left} outlived the sweep"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_ctrl_c_while_workers_build_the_visual_systems_stops_them(tmp_path):
    """Several visual systems are built on the workers; a Ctrl-C stops them, not waits for them.

    Two small-preset visual systems (about 10 s each) from an empty cache: the signal comes
    while the workers train, so the sweep exits with "Aborted." and 130, its workers gone, no
    pre-training cached and no sweep folder written.
    """
    scenario = tmp_path / "pretrain_stop.toml"
    scenario.write_text(
        'name = "pretrain_stop"\n[run]\nsteps = 200\n[vision]\npreset = "small"\n'
        'vary_with_run_seed = true\n[sweep]\nseeds = 2\n[sweep.grid]\n"parent.params.q" = [0.0]\n'
        '[parent]\npolicy = "noisy"\n'
    )
    cache, output = tmp_path / "cache", tmp_path / "sweep"
    command = [str(Path(sys.executable).parent / "dyad"), "sweep", str(scenario)]
    command += ["--workers", "2", "--output", str(output), "--cache-dir", str(cache), "--quiet"]
    process = launch(command)
    try:
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the workers did not start in time"
            workers = workers_of(process.pid)
            if len(workers) == 2 and all(initialised(pid) for pid in workers):
                break
            time.sleep(0.05)
        time.sleep(1.0)  # both are training now
        ctrl_c_under_uv(process)
        stdout, stderr = process.communicate(timeout=120)
        left = left_alive(workers)
    finally:
        stop(process)
    assert_aborted(process, stdout, stderr)
    assert left == [], f"workers {left} outlived the sweep"
    assert not list(cache.glob("pretrain-*.npz")), "a visual system was finished, not stopped"
    assert not (output / SWEEP_FILE).exists()


def test_stopping_workers_suits_both_kinds_of_executor():
    """A second Ctrl-C on a Dask sweep, or the end of any sweep, stops the executor's workers.

    Dask's executor has no ``cancel_futures``: calling the process pool's shutdown on it raised
    a TypeError.
    """
    from concurrent.futures import Executor

    from dyad.sweeps.executors import _terminate_workers

    class DaskLike(Executor):
        def __init__(self):
            self.calls = []

        def shutdown(self, wait=True):  # the signature of distributed's ClientExecutor
            self.calls.append(wait)

    dask_like = DaskLike()
    _terminate_workers(dask_like)
    assert dask_like.calls == [False]
