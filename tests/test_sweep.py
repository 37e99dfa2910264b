"""Sweeps: expansion and validation of grids, and running them on a local process pool."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import TINY_NETWORK_TOML

from dyad.cli import cli
from dyad.errors import ConfigError
from dyad.store import load_run
from dyad.sweeps import (
    EXIT_RUNS_FAILED,
    RUNS_MANIFEST,
    SUMMARY_FILE,
    SWEEP_FILE,
    axis_names,
    load_sweep,
    plan_sweep,
    run_seeds,
)
from dyad.sweeps.plan import _point_labels

# A tiny but complete scenario: 32 px faces, an 8x8 VisNet trained 1 epoch per layer,
# a 16-neuron mirror layer, 40 timesteps.
TINY = """
name = "tiny"
seed = 7

[run]
steps = 40
test_trials = 8

[infant]
hold_length = 5

[parent]
policy = "{policy}"

[parent.params]
{params}

[vision]
preset = "small"
n_train_transforms = 3
n_test_transforms = 8
bank_size = 6

{network}
[sweep]
seeds = {seeds}

[sweep.grid]
{grid}
"""

FLAKY_PLUGIN = """
from pydantic import Field

from dyad.hookspecs import hookimpl
from dyad.policies import ParentPolicy, PolicyParams


class Flaky(ParentPolicy):
    name = "flaky"
    description = "Mimics the infant, but breaks down at timestep fail_at (a test policy)."

    class Params(PolicyParams):
        fail_at: int = Field(-1, description="timestep at which to raise; -1: never")

    def choose(self, t, infant_history):
        if t == self.params.fail_at:
            raise RuntimeError(f"the flaky parent broke down at timestep {t}")
        return int(infant_history[-1])


@hookimpl
def dyad_register_policies(register):
    register(Flaky)
"""

# A parent that takes wall time per timestep, so a run lasts as long as a test needs whatever
# the machine's speed (a long run of the fast built-in policies may finish before a signal lands).
PACED_PLUGIN = """
import time

from pydantic import Field

from dyad.hookspecs import hookimpl
from dyad.policies import ParentPolicy, PolicyParams


class Paced(ParentPolicy):
    name = "paced"
    description = "Mimics the infant, pausing `pause` seconds every timestep (a test policy)."

    class Params(PolicyParams):
        pause: float = Field(0.0, ge=0, description="seconds to wait per timestep")

    def choose(self, t, infant_history):
        time.sleep(self.params.pause)
        return int(infant_history[-1])


@hookimpl
def dyad_register_policies(register):
    register(Paced)
"""


def write_scenario(
    folder: Path,
    grid: str = '"parent.params.q" = [0.0, 1.0]',
    *,
    policy: str = "noisy",
    params: str = "q = 0.0",
    seeds: int = 2,
    name: str = "tiny.toml",
) -> Path:
    path = folder / name
    text = TINY.format(
        policy=policy, params=params, seeds=seeds, grid=grid, network=TINY_NETWORK_TOML
    )
    path.write_text(textwrap.dedent(text))
    return path


def invoke(*args: str):
    return CliRunner().invoke(cli, ["sweep", *map(str, args)])


# --------------------------------------------------------------------------------------------
# expansion


def test_grid_expands_to_product_times_seeds_in_order(tmp_path):
    path = write_scenario(
        tmp_path, '"parent.params.q" = [0.0, 0.5, 1.0]\n"run.steps" = [10, 20]', seeds=2
    )
    plan = plan_sweep(path)
    assert len(plan.runs) == 3 * 2 * 2
    assert plan.run_ids[:5] == [
        "q=0.0__steps=10__seed=0",
        "q=0.0__steps=10__seed=1",
        "q=0.0__steps=20__seed=0",
        "q=0.0__steps=20__seed=1",
        "q=0.5__steps=10__seed=0",
    ]
    assert len(set(plan.run_ids)) == len(plan.runs)
    combos = {(r.overrides["parent.params.q"], r.overrides["run.steps"]) for r in plan.runs}
    assert combos == {(q, s) for q in (0.0, 0.5, 1.0) for s in (10, 20)}
    # each run's scenario really carries its grid values and its seed
    run = plan.runs[7]
    scenario = run.scenario()
    assert scenario.parent.params["q"] == run.overrides["parent.params.q"]
    assert scenario.run.steps == run.overrides["run.steps"]
    assert scenario.seed == run.seed
    assert scenario.sweep is None


def test_seeds_are_deterministic_and_shared_across_grid_points(tmp_path):
    path = write_scenario(tmp_path, '"parent.params.q" = [0.0, 0.3, 1.0]', seeds=4)
    first, again = plan_sweep(path), plan_sweep(path)
    assert [r.seed for r in first.runs] == [r.seed for r in again.runs]
    assert first.run_ids == again.run_ids
    by_index: dict[int, set[int]] = {}
    for run in first.runs:
        by_index.setdefault(run.seed_index, set()).add(run.seed)
    assert all(len(seeds) == 1 for seeds in by_index.values())  # same seed at every q
    per_index = [by_index[k].pop() for k in range(4)]
    assert len(set(per_index)) == 4
    expected = [
        int(c.generate_state(1, dtype=np.uint32)[0]) for c in np.random.SeedSequence(7).spawn(4)
    ]
    assert per_index == expected == run_seeds(7, 4)
    assert run_seeds(7, 2) == run_seeds(7, 4)[:2]  # more seeds extend, never reshuffle
    assert run_seeds(8, 4) != run_seeds(7, 4)


def test_seeds_option_and_set_overrides(tmp_path):
    path = write_scenario(tmp_path, seeds=2)
    plan = plan_sweep(path, overrides={"run.steps": 12}, seeds=3)
    assert len(plan.runs) == 2 * 3
    assert all(run.scenario().run.steps == 12 for run in plan.runs)
    with pytest.raises(ConfigError, match=r"--set parent.params.q: .*swept"):
        plan_sweep(path, overrides={"parent.params.q": 0.2})


def test_unquoted_dotted_grid_keys_mean_the_same(tmp_path):
    quoted = plan_sweep(write_scenario(tmp_path, '"parent.params.q" = [0.0, 1.0]', name="a.toml"))
    nested = plan_sweep(write_scenario(tmp_path, "parent.params.q = [0.0, 1.0]", name="b.toml"))
    assert nested.grid == quoted.grid == {"parent.params.q": [0.0, 1.0]}
    assert nested.run_ids == quoted.run_ids


def test_clashing_axis_names_get_longer_ids(tmp_path):
    grid = '"parent.params.q" = [0.0, 1.0]\n"vision.seed" = [0, 1]\n"mirror.slope" = [5.0]'
    plan = plan_sweep(write_scenario(tmp_path, grid, seeds=1))
    # "seed" alone would read like the seed index
    assert plan.run_ids[0] == "q=0.0__vision.seed=0__slope=5.0__seed=0"
    labels = _point_labels(
        {"a": [-1, 1], "b": ["x y", "x/y"], "c": [True]},
        [{"a": -1, "b": "x y", "c": True}, {"a": 1, "b": "x/y", "c": True}],
    )
    assert labels == ["a=-1__b=x-y~0__c=true", "a=1__b=x-y~1__c=true"]
    assert axis_names(["parents.0.params.q", "parents.1.params.q", "run.steps"]) == [
        "0.params.q",
        "1.params.q",
        "steps",
    ]


@pytest.mark.parametrize(
    ("grid", "expected"),
    [
        (
            '"parent.params.qq" = [0.1]',
            r"tiny\.toml: sweep\.grid\.parent\.params\.qq: value 0\.1: parent\.params\.qq: "
            r"unknown key",
        ),
        (
            '"run.stepz" = [10]',
            r"tiny\.toml: sweep\.grid\.run\.stepz: value 10: run\.stepz: unknown key",
        ),
        (
            '"parent.params.q" = []',
            r"tiny\.toml: sweep\.grid\.parent\.params\.q: expected a non-empty list of values",
        ),
        (
            '"parent.params.q" = 0.5',
            r"tiny\.toml: sweep\.grid\.parent\.params\.q: expected a non-empty list of values, "
            r"got 0\.5",
        ),
        (
            '"parent.params.q" = [0.0, 1.5]',
            r"tiny\.toml: sweep\.grid\.parent\.params\.q: value 1\.5: parent\.params\.q: "
            r"Input should be less than or equal to 1",
        ),
        (
            '"run.steps" = [10, "ten"]',
            r"sweep\.grid\.run\.steps: value 'ten': run\.steps: Input should be a valid integer",
        ),
        ('"seed" = [1, 2]', r"sweep\.grid\.seed: cannot be a grid axis"),
        ("", r"sweep\.grid: expected a \[sweep\.grid\] table"),
    ],
)
def test_bad_grids_exit_2_and_write_nothing(tmp_path, grid, expected):
    path = write_scenario(tmp_path, grid)
    output, cache = tmp_path / "out", tmp_path / "cache"
    result = invoke(path, "--output", output, "--cache-dir", cache, "--quiet")
    assert result.exit_code == 2, result.output
    assert re.search(expected, result.stderr), result.stderr
    assert result.stderr.startswith("Error: ")
    assert not output.exists() and not cache.exists()


def test_every_bad_value_is_reported_at_once(tmp_path):
    path = write_scenario(tmp_path, '"parent.params.q" = [-0.5, 0.5, 2.0]')
    with pytest.raises(ConfigError) as error:
        plan_sweep(path)
    assert len(error.value.problems) == 2
    assert "value -0.5" in error.value.problems[0] and "value 2.0" in error.value.problems[1]


def test_missing_sweep_table_is_an_error(tmp_path):
    path = tmp_path / "plain.toml"
    path.write_text('name = "plain"\n[run]\nsteps = 10\n')
    result = invoke(path, "--output", tmp_path / "out")
    assert result.exit_code == 2
    assert "plain.toml: sweep: missing [sweep] table" in result.stderr
    assert not (tmp_path / "out").exists()


def test_workers_and_address_together_is_an_error(tmp_path):
    path = write_scenario(tmp_path)
    result = invoke(path, "--workers", 2, "--address", "tcp://127.0.0.1:1", "--output", tmp_path)
    assert result.exit_code == 2
    assert "--workers" in result.stderr


# --------------------------------------------------------------------------------------------
# running on the local process pool


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """One pre-training cache for the test session: the tiny VisNet is trained once."""
    return tmp_path_factory.getbasetemp() / "dyad-cache"


def run_local(path: Path, output: Path, cache: Path, *extra):
    return invoke(path, "--workers", 2, "--output", output, "--cache-dir", cache, "--quiet", *extra)


def comparable(summary: pd.DataFrame) -> pd.DataFrame:
    """A summary without its timings, which differ between any two runs."""
    return summary.drop(columns=["wall_time_s"]).reset_index(drop=True)


def class_counts_of(folder: Path) -> dict[str, int]:
    neurons = load_run(folder).neurons
    after = neurons[neurons["phase"] == "after"]
    return after["neuron_class"].astype(str).value_counts().to_dict()


def test_local_sweep_completes_skips_and_resumes_to_the_same_results(tmp_path, cache_dir):
    path = write_scenario(tmp_path, '"parent.params.q" = [0.0, 1.0]', seeds=2)
    output = tmp_path / "sweep"
    result = run_local(path, output, cache_dir)
    assert result.exit_code == 0, result.output + result.stderr
    assert "tiny: 4 runs done, 0 skipped, 0 failed of 4" in result.stdout
    assert "2 local worker processes" in result.stdout

    sweep = load_sweep(output)
    summary = sweep.summary
    assert list(summary["run_id"]) == plan_sweep(path).run_ids
    assert (summary["status"] == "ok").all()
    assert json.loads((output / SWEEP_FILE).read_text())["seeds"] == 2
    assert len((output / RUNS_MANIFEST).read_text().splitlines()) == 4
    for row in summary.to_dict("records"):
        run = load_run(output / "runs" / row["run_id"])
        q = row["parent.params.q"]
        assert run.manifest["run_id"] == row["run_id"]
        assert run.manifest["seed"] == row["seed"]
        assert run.manifest["parameters"] == {"parent.params.q": q}
        counts = class_counts_of(run.folder)
        assert sum(counts.values()) == row["n_neurons"]
        for name, count in counts.items():
            column = name.replace("-", "_")
            assert row[f"count_{column}"] == count
            assert row[f"fraction_{column}"] == count / row["n_neurons"]
        # the noisy parent with q = 0 always mimics, with q = 1 never
        assert row["congruence"] == 1.0 - q
        assert run.interaction["congruent"].mean() == 1.0 - q
    # paired seeds: the same seed index has the same seed at both values of q
    assert summary.groupby("seed_index")["seed"].nunique().eq(1).all()

    # a complete sweep is not run again without --overwrite: one line, exit 2, nothing touched
    manifests = {p: p.stat().st_mtime_ns for p in output.glob("runs/*/manifest.json")}
    again = run_local(path, output, cache_dir)
    assert again.exit_code == 2, again.output + again.stderr
    assert again.stderr.count("\n") == 1 and "already holds this sweep, complete" in again.stderr
    assert "--overwrite" in again.stderr
    assert {p: p.stat().st_mtime_ns for p in manifests} == manifests
    pd.testing.assert_frame_equal(comparable(load_sweep(output).summary), comparable(summary))

    # an interrupted run: its files are there but its manifest is not
    victim = output / "runs" / "q=1.0__seed=1"
    before = load_run(victim).neurons
    (victim / "manifest.json").unlink()
    resumed = run_local(path, output, cache_dir)
    assert resumed.exit_code == 0, resumed.output + resumed.stderr
    assert "1 runs done, 3 skipped, 0 failed" in resumed.stdout
    pd.testing.assert_frame_equal(load_run(victim).neurons, before)
    pd.testing.assert_frame_equal(comparable(load_sweep(output).summary), comparable(summary))
    for p, mtime in manifests.items():
        if p.parent != victim:
            assert p.stat().st_mtime_ns == mtime  # the others were not run again

    # a different sweep definition in the same folder is refused, unless --overwrite
    changed = run_local(path, output, cache_dir, "--seeds", 1)
    assert changed.exit_code == 2
    assert "holds a different sweep" in changed.stderr and "seeds 2 != 1" in changed.stderr
    assert len(list(output.glob("runs/*"))) == 4
    replaced = run_local(path, output, cache_dir, "--seeds", 1, "--overwrite")
    assert replaced.exit_code == 0, replaced.output + replaced.stderr
    assert "2 runs done, 0 skipped, 0 failed of 2" in replaced.stdout
    assert sorted(p.name for p in output.glob("runs/*")) == ["q=0.0__seed=0", "q=1.0__seed=0"]
    assert len(load_sweep(output).summary) == 2


def test_spawned_workers_give_the_same_results_as_forked_ones(tmp_path, cache_dir, monkeypatch):
    """Workers spawned, as on macOS and Windows (dyad.forkserver.start_method): the same sweep."""
    import dyad.sweeps.executors as executors

    path = write_scenario(tmp_path, '"parent.params.q" = [0.0, 1.0]', seeds=2)
    forked = run_local(path, tmp_path / "forked", cache_dir)
    assert forked.exit_code == 0, forked.output + forked.stderr
    monkeypatch.setattr(executors, "start_method", lambda: "spawn")
    spawned = run_local(path, tmp_path / "spawned", cache_dir)
    assert spawned.exit_code == 0, spawned.output + spawned.stderr
    assert "4 runs done, 0 skipped, 0 failed of 4" in spawned.stdout
    for name in ("forked", "spawned"):
        assert (load_sweep(tmp_path / name).summary["status"] == "ok").all()
    pd.testing.assert_frame_equal(
        comparable(load_sweep(tmp_path / "spawned").summary),
        comparable(load_sweep(tmp_path / "forked").summary),
    )
    for run in (tmp_path / "forked" / "runs").iterdir():
        pd.testing.assert_frame_equal(
            load_run(tmp_path / "spawned" / "runs" / run.name).neurons, load_run(run).neurons
        )


def test_a_sweep_from_the_command_line_says_nothing_on_stderr(tmp_path, cache_dir):
    """A complete sweep leaves nothing for its helpers to clean up or warn about.

    A real process: the resource tracker and the fork server print to the sweep's stderr.
    """
    path = write_scenario(tmp_path, '"parent.params.q" = [0.0, 1.0]', seeds=2)
    output = tmp_path / "sweep"
    dyad = str(Path(sys.executable).parent / "dyad")
    command = [dyad, "sweep", str(path), "--workers", "2", "--output", str(output)]
    command += ["--cache-dir", str(cache_dir), "--quiet"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "4 runs done" in finished.stdout
    assert finished.stderr == ""


def test_a_failing_run_is_recorded_and_the_others_complete(tmp_path, cache_dir):
    # fails at timestep 25: after the 20-timestep trial of each policy before the sweep
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "flaky_parent.py").write_text(FLAKY_PLUGIN)
    path = write_scenario(
        tmp_path, '"parent.params.fail_at" = [-1, 25]', policy="flaky", params="", seeds=1
    )
    output = tmp_path / "sweep"
    result = run_local(path, output, cache_dir, "--plugins-dir", plugins)
    assert result.exit_code == EXIT_RUNS_FAILED == 3, result.output + result.stderr
    assert "1 runs done, 0 skipped, 1 failed of 2" in result.stdout
    assert "failed fail_at=25__seed=0: " in result.stderr
    assert "the flaky parent broke down at timestep 25" in result.stderr

    failures = json.loads((output / "failures.json").read_text())
    assert [f["run_id"] for f in failures] == ["fail_at=25__seed=0"]
    assert "broke down at timestep 25" in failures[0]["traceback"]
    summary = pd.read_parquet(output / SUMMARY_FILE)
    assert list(summary["status"]) == ["ok", "failed"]
    assert "RuntimeError: the flaky parent broke down" in summary["error"].iloc[1]
    assert pd.isna(summary["count_mirror"].iloc[1])
    assert (output / "runs" / "fail_at=-1__seed=0" / "manifest.json").is_file()
    assert not (output / "runs" / "fail_at=25__seed=0").exists()  # no partial folder left

    # a resume retries only the failed run
    again = run_local(path, output, cache_dir, "--plugins-dir", plugins)
    assert again.exit_code == 3
    assert "0 runs done, 1 skipped, 1 failed of 2" in again.stdout


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_the_sweep_resumes(tmp_path, cache_dir):
    """SIGTERM (like Ctrl-C): pending runs are cancelled, only complete runs stay, exit 130."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "paced_parent.py").write_text(PACED_PLUGIN)
    # 200 timesteps of 5 or 10 ms: runs of 1 s and 2 s, so the signal that follows the first
    # finished run lands while later runs are running or waiting
    path = write_scenario(
        tmp_path, '"parent.params.pause" = [0.005, 0.01]', policy="paced", params="", seeds=2
    )
    output = tmp_path / "sweep"
    options = ["--set", "run.steps=200", "--plugins-dir", str(plugins)]
    command = [
        str(Path(sys.executable).parent / "dyad"),
        "sweep",
        str(path),
        *options,
        "--workers",
        "1",
        "--batch-size",
        "1",  # one run per task, so runs not yet started remain when the signal lands
        "--output",
        str(output),
        "--cache-dir",
        str(cache_dir),
        "--quiet",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        journal = output / RUNS_MANIFEST
        deadline = time.monotonic() + 240
        while not (journal.is_file() and journal.read_text().strip()):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no run finished in time"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stdout + stderr
    assert "interrupted" in stdout and "run again to resume" in stdout
    assert "leaked" not in stderr  # terminated workers leave nothing for the resource tracker
    recorded = [json.loads(line)["run_id"] for line in journal.read_text().splitlines()]
    assert 1 <= len(recorded) < 4
    folders = sorted(p.name for p in (output / "runs").iterdir())
    assert folders == sorted(recorded)  # no partial or unrecorded run folder
    assert all((output / "runs" / name / "manifest.json").is_file() for name in folders)
    assert not (output / SUMMARY_FILE).exists()

    resumed = run_local(path, output, cache_dir, *options)
    assert resumed.exit_code == 0, resumed.output + resumed.stderr
    assert f"{4 - len(recorded)} runs done, {len(recorded)} skipped, 0 failed" in resumed.stdout
    assert (load_sweep(output).summary["status"] == "ok").all()
