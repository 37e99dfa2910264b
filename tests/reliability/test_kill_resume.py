"""A sweep killed with SIGKILL at several points resumes to exactly the uninterrupted tables.

The whole process group is killed (the sweep and its pool workers, as an out-of-memory
killer or a power cut would), so no handler runs: whatever is on disk at that instant is what
the resume finds. Every run's tables must then be byte-identical (same SHA-256) to those of an
uninterrupted sweep, and the summary equal apart from wall times.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from dyad.store import load_run
from dyad.sweeps import RUNS_MANIFEST, load_sweep

DYAD = str(Path(sys.executable).with_name("dyad"))

SWEEP = textwrap.dedent(
    """
    name = "killed"
    seed = 3
    [run]
    steps = 3000
    test_trials = 8
    [vision]
    preset = "small"
    n_train_transforms = 8
    n_test_transforms = 8
    bank_size = 16
    [vision.visnet]
    epochs = [1, 1, 1, 1]
    [mirror]
    n_neurons = 32
    [parent]
    policy = "noisy"
    [sweep]
    seeds = 2
    [sweep.grid]
    "parent.params.q" = [0.0, 1.0]
    """
)
N_RUNS = 4
#: kill when this many runs are recorded; "staged" = as soon as a run folder is being written.
#: Not 3: the 2 workers run the runs in pairs that end within milliseconds of each other, so
#: the 4th run was sometimes recorded before the kill at 3 landed (1 sweep in 4).
KILL_POINTS = ["started", "staged", 1, 2]


def sweep_command(scenario: Path, output: Path, cache_dir: Path) -> list[str]:
    return [DYAD, "sweep", str(scenario), "--output", str(output), "--workers", "2"] + [
        "--cache-dir",
        str(cache_dir),
        "--quiet",
    ]


def tables_by_run(output: Path) -> dict[str, dict[str, str]]:
    """Run id -> table name -> SHA-256, for every complete run of a sweep folder."""
    out = {}
    for folder in sorted((output / "runs").iterdir()):
        manifest = load_run(folder).manifest  # verifies every checksum
        out[folder.name] = {name: entry["sha256"] for name, entry in manifest["tables"].items()}
    return out


def comparable(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.drop(columns=["wall_time_s"]).reset_index(drop=True)


def recorded(output: Path) -> int:
    journal = output / RUNS_MANIFEST
    if not journal.is_file():
        return 0
    return sum(1 for line in journal.read_text().splitlines() if line.strip())


def reached(point, output: Path) -> bool:
    if point == "started":
        return (output / "sweep.json").is_file()
    if point == "staged":
        runs = output / "runs"
        return runs.is_dir() and any(".new-" in p.name for p in runs.iterdir())
    return recorded(output) >= point


@pytest.fixture(scope="module")
def reference(tmp_path_factory, cache_dir) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("kill")
    scenario = root / "killed.toml"
    scenario.write_text(SWEEP)
    output = root / "reference"
    done = subprocess.run(
        sweep_command(scenario, output, cache_dir), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return scenario, output


def kill_at(point, command: list[str], output: Path) -> int:
    """Start the sweep, SIGKILL its process group once ``point`` is reached; runs recorded."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the sweep and its workers
    )
    try:
        deadline = time.monotonic() + 300
        while not reached(point, output) and process.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        if process.poll() is None:
            os.killpg(os.getpgid(process.pid), signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL, f"the sweep ended before {point!r}"
    return recorded(output)


@pytest.mark.slow
def test_a_sweep_killed_with_sigkill_again_and_again_resumes_to_identical_tables(
    reference, tmp_path, cache_dir
):
    """Killed as it starts, while a run folder is being written, after 1 and after 2 runs."""
    scenario, reference_output = reference
    output = tmp_path / "sweep"
    command = sweep_command(scenario, output, cache_dir)
    progress = [kill_at(point, command, output) for point in KILL_POINTS]
    assert progress == sorted(progress) and progress[-1] < N_RUNS

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"{progress[-1]} skipped, 0 failed of {N_RUNS}" in resumed.stdout
    assert tables_by_run(output) == tables_by_run(reference_output)
    pd.testing.assert_frame_equal(
        comparable(load_sweep(output).summary), comparable(load_sweep(reference_output).summary)
    )
    leftovers = [p.name for p in (output / "runs").iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert len(json.loads((output / "sweep.json").read_text())["runs"]) == N_RUNS
