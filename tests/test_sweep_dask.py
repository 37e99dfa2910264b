"""Sweeps on a real Dask cluster: a scheduler and two workers started as subprocesses."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dyad.store import load_run
from dyad.sweeps import import_distributed, load_sweep

sys.path.insert(0, str(Path(__file__).parent))
from test_sweep import invoke, write_scenario  # noqa: E402

DASK = Path(sys.executable).parent / "dask"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"dask scheduler did not listen on port {port} within {timeout} s")


@pytest.fixture(scope="module")
def dask_address(tmp_path_factory):
    """``tcp://127.0.0.1:<port>`` of a scheduler with two single-threaded workers."""
    distributed = import_distributed()
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask")
    processes: list[subprocess.Popen] = []

    def start(*args: str, name: str) -> subprocess.Popen:
        log = (logs / f"{name}.log").open("w")
        process = subprocess.Popen(
            [str(DASK), *args], stdout=log, stderr=subprocess.STDOUT, cwd=logs
        )
        processes.append(process)
        return process

    try:
        scheduler = start(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
            name="scheduler",
        )
        wait_for_port(port, scheduler, timeout=60)
        for i in range(2):
            start(
                "worker",
                address,
                "--nthreads",
                "1",
                "--no-dashboard",
                "--local-directory",
                str(logs / f"worker{i}"),
                name=f"worker{i}",
            )
        with distributed.Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=120)
            assert len(client.scheduler_info()["workers"]) == 2
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def comparable(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary without timings (which differ between any two runs)."""
    return summary.drop(columns=["wall_time_s"]).reset_index(drop=True)


def test_dask_cluster_gives_the_same_results_as_the_local_pool(
    tmp_path, tmp_path_factory, dask_address
):
    path = write_scenario(tmp_path, '"parent.params.q" = [0.0, 1.0]', seeds=2)
    cache = tmp_path_factory.getbasetemp() / "dyad-cache"  # shared with the other sweep tests
    on_dask, local = tmp_path / "dask", tmp_path / "local"

    result = invoke(
        path, "--address", dask_address, "--output", on_dask, "--cache-dir", cache, "--quiet"
    )
    assert result.exit_code == 0, result.output + result.stderr
    assert "4 runs done, 0 skipped, 0 failed" in result.stdout
    assert "Dask cluster" in result.stdout
    result = invoke(path, "--workers", 2, "--output", local, "--cache-dir", cache, "--quiet")
    assert result.exit_code == 0, result.output + result.stderr

    dask_sweep, local_sweep = load_sweep(on_dask), load_sweep(local)
    assert (dask_sweep.summary["status"] == "ok").all()
    pd.testing.assert_frame_equal(comparable(dask_sweep.summary), comparable(local_sweep.summary))
    workers = {record["worker"] for record in dask_sweep.records.values()}
    assert len(workers) == 2, workers  # both Dask workers took runs
    for run_id in dask_sweep.summary["run_id"]:
        a = load_run(dask_sweep.run_folder(run_id))
        b = load_run(local_sweep.run_folder(run_id))
        pd.testing.assert_frame_equal(a.neurons, b.neurons)
        pd.testing.assert_frame_equal(a.interaction, b.interaction)


def test_unreachable_scheduler_is_a_quick_exit_2(tmp_path):
    path = write_scenario(tmp_path)
    output, cache = tmp_path / "out", tmp_path / "cache"
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    result = invoke(
        path,
        "--address",
        address,
        "--timeout",
        1,
        "--output",
        output,
        "--cache-dir",
        cache,
        "--quiet",
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == 2, result.output + result.stderr
    assert f"--address {address}: cannot reach the Dask scheduler" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert elapsed < 20
    assert not output.exists() and not cache.exists()


def test_malformed_address_is_an_error(tmp_path):
    path = write_scenario(tmp_path)
    result = invoke(path, "--address", "127.0.0.1", "--output", tmp_path / "out")
    assert result.exit_code == 2
    assert "--address: expected tcp://host:port" in result.stderr


def test_threaded_dask_workers_get_advice():
    from dyad.sweeps.executors import threaded_workers_advice

    address = "tcp://10.0.0.1:8786"
    single = {"a": {"nthreads": 1}, "b": {"nthreads": 1}}
    assert threaded_workers_advice(single, address) is None
    advice = threaded_workers_advice({"a": {"nthreads": 1}, "b": {"nthreads": 8}}, address)
    assert advice.startswith("1 of the 2 Dask workers at tcp://10.0.0.1:8786 runs 8 threads,")
    assert advice.endswith(f"dask worker {address} --nworkers -1 --nthreads 1")
    assert "\n" not in advice
    both = threaded_workers_advice({"a": {"nthreads": 2}, "b": {"nthreads": 4}}, address)
    assert both.startswith("each of the 2 Dask workers at tcp://10.0.0.1:8786 runs up to 4 threads")
    one = threaded_workers_advice({"a": {"nthreads": 2}}, address)
    assert one.startswith("the Dask worker at tcp://10.0.0.1:8786 runs 2 threads")


def test_connecting_to_threaded_workers_warns_once(caplog):
    """A real cluster whose one worker has two threads: one warning, and the description."""
    from dyad.sweeps.executors import open_executor

    distributed = import_distributed()
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        dashboard_address=":0",  # any free port: another cluster may hold 8787
    ) as cluster:
        with caplog.at_level("WARNING", logger="dyad.sweeps.executors"):
            with open_executor(address=cluster.scheduler_address) as (_, described, capacity):
                assert described.endswith("(1 worker)")
                assert capacity == 4
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "the Dask worker at tcp://" in warnings[0] and "runs 2 threads" in warnings[0]
