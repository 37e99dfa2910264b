"""Resource estimates: checked against measured allocations, and oversized input is refused.

Estimates must stay within a factor of 2 of what is measured (peak resident memory of a
fresh process). The refusals are the issue's cases: ``run.steps = 10**7``,
``mirror.n_neurons = 10**7``, ``vision.bank_size = 10**9``, a 1000 x 1000 sweep grid and
``--seeds 100000000``, each refused in seconds with one line and exit 2, before any file is
written.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from reliability_helpers import write_tiny

from dyad.cli import cli
from dyad.config import load_scenario
from dyad.errors import ConfigError, ResourceError
from dyad.resources import (
    BASELINE_BYTES,
    check_run,
    estimate_run,
    format_bytes,
    memory_limit,
    parse_bytes,
)
from dyad.sweeps import plan_sweep

ROOT = Path(__file__).resolve().parents[2]
FACTOR = 2.0

MEASURE = textwrap.dedent(
    """
    import io, resource, sys
    import numpy as np, pandas as pd, pyarrow  # noqa: F401
    from dyad.brain.mirror import MirrorConfig, MirrorLayer
    from dyad.recording import InteractionRecorder

    def peak():
        # VmHWM: this process's own high-water mark. ru_maxrss would start at the RSS of the
        # process that forked this one (Linux carries it over through exec), so a large pytest
        # process would hide the allocation.
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    part, *sizes = sys.argv[1:]
    sizes = [int(s) for s in sizes]
    before = peak()
    if part == "mirror weights":
        n, n_visual, n_motor = sizes
        config = MirrorConfig(n_neurons=n).for_expressions(2)
        layer = MirrorLayer(config, n_visual, n_motor, np.random.default_rng(0))
    elif part == "test responses":  # both test phases' table, classified, then Parquet
        from types import SimpleNamespace
        from dyad.analysis.classify import classify_neurons
        from dyad.simulation import probe_table
        n, trials = sizes
        rng = np.random.default_rng(0)
        responses = SimpleNamespace(
            visual=rng.random((1, 2, trials, n), dtype=np.float32),
            motor=rng.random((2, trials, n), dtype=np.float32),
        )
        table = pd.concat(
            [probe_table(responses, phase, ("happy", "sad"), ["parent"])
             for phase in ("before", "after")],
            ignore_index=True,
        )
        for phase in ("before", "after"):
            classify_neurons(table[table["phase"] == phase], ("happy", "sad"))
        table.to_parquet(io.BytesIO(), engine="pyarrow", compression="zstd", index=False)
    else:  # the rate log, its table as DyadModel.mirror_rates_table builds it, then Parquet
        steps, n = sizes
        recorder = InteractionRecorder(steps, n, 1, True)
        recorder.mirror_rates[...] = np.arange(n, dtype=np.float32)
        rates = recorder.mirror_rates
        table = pd.DataFrame({
            "t": np.repeat(np.arange(rates.shape[0], dtype=np.int32), n),
            "neuron": np.tile(np.arange(n, dtype=np.int32), rates.shape[0]),
            "rate": rates.reshape(-1),
        })
        table.to_parquet(io.BytesIO(), engine="pyarrow", compression="zstd", index=False)
    print(peak() - before)
    """
)


def measured(part: str, *sizes: int) -> int:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, part, *map(str, sizes)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip())


def tiny(tmp_path: Path, sets: dict) -> object:
    return load_scenario(write_tiny(tmp_path), overrides=sets)


@pytest.mark.parametrize(
    ("part", "sets", "sizes"),
    [
        # 200,000 neurons x (64 visual + 16 motor + 64 initial block) float32
        ("mirror weights", {"mirror.n_neurons": 200_000, "vision.visnet.layer_side": 8}, None),
        ("mirror weights", {"mirror.n_neurons": 20_000, "vision.visnet.layer_side": 32}, None),
        # 8,000 timesteps x 1,024 neurons logged
        # 2 phases x (1 parent + motor) x 2 expressions x 20 trials x 20,000 neurons rows
        ("test responses", {"mirror.n_neurons": 20_000, "run.test_trials": 20}, None),
        (
            "mirror-rate log",
            {"run.steps": 8000, "mirror.n_neurons": 1024, "output.mirror_rates": True},
            None,
        ),
    ],
)
def test_estimated_parts_match_measured_allocations(tmp_path, part, sets, sizes):
    scenario = tiny(tmp_path, sets)
    estimate = estimate_run(scenario).parts[part]
    if part == "mirror weights":
        n_visual = scenario.vision.visnet.layer_side**2
        n_motor = scenario.motor.units_per_expression * len(scenario.infant.expressions)
        actual = measured(part, scenario.mirror.n_neurons, n_visual, n_motor)
    elif part == "test responses":
        actual = measured(part, scenario.mirror.n_neurons, scenario.run.test_trials)
    else:
        actual = measured(part, scenario.run.steps, scenario.mirror.n_neurons)
    ratio = estimate / actual
    print(f"{part}: estimated {format_bytes(estimate)}, measured {format_bytes(actual)}")
    assert 1 / FACTOR <= ratio <= FACTOR, (estimate, actual)


@pytest.mark.slow
def test_a_whole_run_peaks_within_the_estimate_factor(tmp_path, cache_dir):
    """A run dominated by the rate log: peak resident memory of the dyad process."""
    sets = ["run.steps=8000", "mirror.n_neurons=1024", "output.mirror_rates=true"]
    path = write_tiny(tmp_path)
    estimate = estimate_run(load_scenario(path, dict(s.split("=") for s in sets))).peak_bytes
    code = textwrap.dedent(
        """
        import resource, subprocess, sys
        subprocess.run(sys.argv[1:], check=True, capture_output=True)
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
        """
    )
    command = [str(Path(sys.executable).parent / "dyad"), "simulate", str(path)]
    command += ["--cache-dir", str(cache_dir), "--output", str(tmp_path / "out"), "--quiet"]
    command += ["--no-figures", *(a for s in sets for a in ("--set", s))]
    done = subprocess.run(
        [sys.executable, "-c", code, *command], capture_output=True, text=True, check=True
    )
    actual = int(done.stdout.strip())
    print(f"whole run: estimated {format_bytes(estimate)}, measured {format_bytes(actual)}")
    assert 1 / FACTOR <= estimate / actual <= FACTOR


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "part"),
    [
        (["run.steps=10000000"], "mirror-rate log"),
        (["mirror.n_neurons=10000000"], "mirror-rate log"),
        (["mirror.n_neurons=10000000", "output.mirror_rates=false"], "test responses"),
        (
            ["mirror.n_neurons=10000000", "output.mirror_rates=false", "run.test_trials=5"],
            "mirror weights",
        ),
        (["vision.bank_size=1000000000"], "layer-4 banks"),
        (["vision.n_train_transforms=10000000"], "pre-training images"),
    ],
)
def test_oversized_runs_are_refused_before_any_work(tmp_path, monkeypatch, settings, part):
    monkeypatch.delenv("DYAD_MAX_MEMORY", raising=False)
    output, cache = tmp_path / "out", tmp_path / "cache"
    started = time.monotonic()
    result = CliRunner().invoke(
        cli,
        ["simulate", str(ROOT / "scenarios" / "perfect.toml")]
        + [a for s in settings for a in ("--set", s)]
        + ["--output", str(output), "--cache-dir", str(cache), "--quiet"],
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert f"({part} " in lines[0] and "--max-memory" in lines[0], lines[0]
    assert time.monotonic() - started < 10
    assert not output.exists() and not cache.exists()


def test_the_limit_can_be_raised_or_lowered(tmp_path, monkeypatch):
    sets = {"run.steps": 10**7, "mirror.n_neurons": 256, "output.mirror_rates": True}
    scenario = tiny(tmp_path, sets)
    monkeypatch.delenv("DYAD_MAX_MEMORY", raising=False)
    with pytest.raises(ResourceError, match="more than the limit"):
        check_run(scenario)
    assert check_run(scenario, "100T").peak_bytes > 60 * 2**30
    monkeypatch.setenv("DYAD_MAX_MEMORY", "100T")
    check_run(scenario)
    small = tiny(tmp_path, {})
    with pytest.raises(ResourceError, match=r"limit of 100\.0 MiB \(--max-memory\)"):
        check_run(small, "100M")


def test_memory_sizes_parse():
    assert parse_bytes("8G") == 8 * 2**30
    assert parse_bytes("512MiB") == 512 * 2**20
    assert parse_bytes("2.5 GB") == int(2.5 * 2**30)
    assert parse_bytes("1000") == 1000
    assert parse_bytes(4096) == 4096
    for bad in ("eight", "8X", "-1G", "0", ""):
        with pytest.raises(ConfigError, match="--max-memory"):
            parse_bytes(bad)


def test_the_default_limit_is_a_share_of_this_machines_memory(monkeypatch):
    monkeypatch.delenv("DYAD_MAX_MEMORY", raising=False)
    limit, origin = memory_limit()
    assert limit is not None and BASELINE_BYTES < limit
    assert "of this machine's" in origin
    monkeypatch.setenv("DYAD_MAX_MEMORY", "3G")
    assert memory_limit() == (3 * 2**30, "$DYAD_MAX_MEMORY")
    assert memory_limit("1G") == (2**30, "--max-memory")


def grid_scenario(tmp_path: Path, n1: int, n2: int, seeds: int = 1) -> Path:
    steps = ", ".join(str(10 + i) for i in range(n1))
    vision_seeds = ", ".join(str(i) for i in range(n2))
    sweep = f'[sweep]\nseeds = {seeds}\n[sweep.grid]\n"run.steps" = [{steps}]\n'
    sweep += f'"vision.seed" = [{vision_seeds}]\n'
    return write_tiny(tmp_path, sweep=sweep, name=f"grid_{n1}x{n2}.toml")


def test_a_million_point_grid_is_refused_in_milliseconds(tmp_path):
    path = grid_scenario(tmp_path, 1000, 1000)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["sweep", str(path), "--output", str(tmp_path / "s")])
    took = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert "1,000,000 grid points x 1 seeds (sweep.seeds) = 1,000,000 runs" in result.stderr
    assert "--max-runs" in result.stderr and len(result.stderr.splitlines()) == 1
    assert took < 3
    assert not (tmp_path / "s").exists()


def test_a_huge_seeds_option_is_refused_at_once(tmp_path):
    path = grid_scenario(tmp_path, 2, 1)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["sweep", str(path), "--seeds", "100000000"])
    assert result.exit_code == 2, result.output
    assert "x 100,000,000 seeds (--seeds) = 200,000,000 runs" in result.stderr
    assert time.monotonic() - started < 3


def test_a_large_grid_within_the_limit_plans_in_seconds(tmp_path):
    """300 x 300 points: each axis value validated once, combinations only within a table."""
    path = grid_scenario(tmp_path, 300, 300)
    started = time.monotonic()
    plan = plan_sweep(path)
    took = time.monotonic() - started
    print(f"planned {len(plan.runs):,} runs in {took:.2f} s")
    assert len(plan.runs) == 90_000 and len(set(plan.run_ids)) == 90_000
    assert took < 20
    ((label, worst),) = plan.estimates.items()
    assert "run.steps = 309" in label  # the longest run is the largest
    with pytest.raises(ResourceError, match="90,000 runs, more than the limit of 1,000"):
        plan_sweep(path, max_runs=1000)


def test_a_sweep_whose_workers_together_exceed_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("DYAD_MAX_MEMORY", raising=False)
    path = grid_scenario(tmp_path, 2, 1)
    args = ["sweep", str(path), "--output", str(tmp_path / "s"), "--max-memory", "1G"]
    result = CliRunner().invoke(cli, [*args, "--workers", "3"])
    assert result.exit_code == 2, result.output
    assert "2 runs at once need about" in result.stderr
    assert "use fewer --workers" in result.stderr
    assert not (tmp_path / "s").exists()


def test_resource_use_of_this_process_is_not_touched():
    """The estimator only reads the scenario: it allocates nothing of the run's size."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from dyad.config import Scenario

    huge = Scenario.model_validate({"name": "huge", "run": {"steps": 10**9}})
    assert estimate_run(huge).peak_bytes > 2**40
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB


def test_a_worker_stepping_a_batch_counts_each_runs_own_memory(tmp_path):
    """A batch shares the visual system but holds every run's weights, logs and tables."""
    from dyad.resources import PER_RUN_PARTS, check_sweep

    sets = {"run.steps": 200_000, "mirror.n_neurons": 256, "output.mirror_rates": True}
    estimate = estimate_run(tiny(tmp_path, sets))
    per_run = sum(estimate.parts.get(part, 0) for part in PER_RUN_PARTS)
    assert per_run > 0.5 * (estimate.peak_bytes - BASELINE_BYTES)  # the rate log dominates
    shared = estimate.parts["layer-4 banks"] + BASELINE_BYTES
    # room for one worker with a batch of 4, not 32
    limit = estimate.peak_bytes + shared + 3 * per_run + per_run // 2
    check_sweep({"": estimate}, 64, 1, limit, "sweep.toml", batch_size=1)
    check_sweep({"": estimate}, 64, 1, limit, "sweep.toml", batch_size=4)
    with pytest.raises(ResourceError, match="batches of up to 32 runs") as refused:
        check_sweep({"": estimate}, 64, 1, limit, "sweep.toml", batch_size=32)
    assert "use a smaller --batch-size" in str(refused.value)
    # a batch never counts more runs than a worker gets
    check_sweep({"": estimate}, 4, 1, limit, "sweep.toml", batch_size=32)
