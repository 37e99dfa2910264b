"""Results folders are replaced safely.

Results folders: replaced only with --overwrite and then whole, one writer at a time,
bad places refused before any work starts, and a crash never loses the old run.
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
from click.testing import CliRunner

from dyad.cli import cli
from dyad.config import load_scenario
from dyad.errors import ResultsError
from dyad.simulation import run_scenario, save_run
from dyad.store import FolderLock, clean_partial, load_run, reserve_run_folder, write_run
from dyad.store import write as store_write

DYAD = str(Path(sys.executable).with_name("dyad"))

TINY = textwrap.dedent(
    """
    name = "tiny"
    seed = 1
    [run]
    steps = {steps}
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
    """
)

SWEEP = TINY + textwrap.dedent(
    """
    [parent]
    policy = "noisy"
    [sweep]
    seeds = 1
    [sweep.grid]
    "parent.params.q" = [0.0, 1.0]
    """
)


@pytest.fixture
def scenario_file(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(steps=100))
    return path


def simulate(scenario: Path, output: Path, cache_dir: Path, *extra: str):
    args = ["simulate", str(scenario), "--output", str(output), "--cache-dir", str(cache_dir)]
    return CliRunner().invoke(cli, [*args, "--quiet", "--no-figures", *extra])


def one_error_line(result) -> str:
    """The single ``Error: ...`` line of a refused command (no traceback)."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --------------------------------------------------------------------------------------------
# replaced only when asked, and then whole


def test_a_rerun_that_drops_a_table_leaves_no_stale_table(scenario_file, tmp_path, cache_dir):
    """The reported bug: mirror_rates.parquet of the old run survived beside the new manifest."""
    out = tmp_path / "run"
    assert simulate(scenario_file, out, cache_dir).exit_code == 0
    assert (out / "mirror_rates.parquet").exists()
    result = simulate(
        scenario_file, out, cache_dir, "--overwrite", "--set", "output.mirror_rates=false"
    )
    assert result.exit_code == 0, result.output
    assert not (out / "mirror_rates.parquet").exists()
    run = load_run(out)
    assert "mirror_rates" not in run.names()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*(f"{name}.parquet" for name in run.names()), "manifest.json"]
    )
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".run")] == []


def test_save_run_over_a_run_with_other_tables_replaces_it_whole(tmp_path):
    """The path resumed sweep runs take (save_run with overwrite): no old table survives."""
    folder = tmp_path / "run"
    table = pd.DataFrame({"t": range(5)})
    write_run(folder, {"interaction": table, "extra": table}, {"seed": 1})
    scenario = None  # figures=False: the scenario is not consulted
    save_run(folder, {"interaction": table}, {"seed": 2}, scenario, figures=False, overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == ["interaction.parquet", "manifest.json"]
    assert load_run(folder).manifest["seed"] == 2


def test_a_complete_run_is_refused_without_overwrite(scenario_file, tmp_path, cache_dir):
    out = tmp_path / "run"
    assert simulate(scenario_file, out, cache_dir).exit_code == 0
    before = snapshot(out)
    line = one_error_line(simulate(scenario_file, out, cache_dir, "--seed", "5"))
    assert str(out) in line and "already holds a complete run" in line and "--overwrite" in line
    assert snapshot(out) == before
    replaced = simulate(scenario_file, out, cache_dir, "--seed", "5", "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert load_run(out).manifest["seed"] == 5


def test_a_crash_while_overwriting_leaves_the_old_run_intact(
    scenario_file, tmp_path, cache_dir, monkeypatch
):
    out = tmp_path / "run"
    assert simulate(scenario_file, out, cache_dir).exit_code == 0
    before = snapshot(out)
    calls = {"n": 0}
    real = store_write._write_parquet

    def crash_on_third_table(table, handle):
        calls["n"] += 1
        if calls["n"] == 3:
            handle.write(b"half a table")
            raise KeyboardInterrupt  # like kill: nothing after this line runs in the writer
        real(table, handle)

    monkeypatch.setattr(store_write, "_write_parquet", crash_on_third_table)
    with pytest.raises(KeyboardInterrupt):
        run_scenario(
            load_scenario(scenario_file),
            seed=9,
            output=out,
            cache_dir=cache_dir,
            figures=False,
            overwrite=True,
        )
    assert calls["n"] == 3
    assert snapshot(out) == before
    load_run(out)  # every checksum still holds
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "tiny.toml"]


def test_a_crash_between_the_two_renames_is_undone_by_the_next_writer(tmp_path, monkeypatch):
    folder = write_run(tmp_path / "run", {"interaction": pd.DataFrame({"t": [1]})}, {"seed": 1})

    def die(source, target):  # the old run is aside, the new one not yet in
        raise SystemExit("killed")

    monkeypatch.setattr(store_write, "_rename", die)
    monkeypatch.setattr(store_write.os, "rename", _rename_only_aside(os.rename))
    with pytest.raises(SystemExit):
        write_run(folder, {"interaction": pd.DataFrame({"t": [2]})}, {"seed": 2}, overwrite=True)
    assert not folder.exists()  # the crash came between the renames
    (aside,) = [p for p in tmp_path.iterdir() if ".old-" in p.name]
    monkeypatch.undo()
    with reserve_run_folder(folder, overwrite=True):
        assert load_run(folder).manifest["seed"] == 1  # restored before anything else
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert not aside.exists()


def _rename_only_aside(real):
    """os.rename that performs the first rename (old run aside) and then stops working."""

    def rename(source, target):
        if ".old-" in str(target):
            return real(source, target)
        raise SystemExit("killed")

    return rename


def test_leftover_staging_folders_are_removed(tmp_path):
    folder = write_run(tmp_path / "run", {"interaction": pd.DataFrame({"t": [1]})}, {})
    (tmp_path / ".run.new-123-abcdef01").mkdir()
    (tmp_path / ".run.new-123-abcdef01" / "interaction.parquet").write_bytes(b"half")
    removed = clean_partial(folder)
    assert [p.name for p in removed] == [".run.new-123-abcdef01"]
    load_run(folder)


# --------------------------------------------------------------------------------------------
# bad places are refused before any work starts


@pytest.mark.parametrize(
    "place, expected",
    [
        ("file", "exists and is not a folder"),
        ("sweep", "is a sweep folder"),
        ("foreign", "not empty and not a dyad run folder"),
        ("under-a-file", "cannot be created"),
        ("proc", "cannot"),
    ],
)
def test_simulate_refuses_a_bad_output_before_any_work(scenario_file, tmp_path, place, expected):
    target = {
        "file": tmp_path / "results.txt",
        "sweep": tmp_path / "sweep",
        "foreign": tmp_path / "notes",
        "under-a-file": tmp_path / "results.txt" / "run",
        "proc": Path("/proc/dyad-results/run"),
    }[place]
    (tmp_path / "results.txt").write_text("my notes")
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "sweep.json").write_text("{}")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.tex").write_text("chapter 1")
    before = snapshot(tmp_path)
    fresh_cache = tmp_path / "cache"  # pre-training would fill it
    started = time.perf_counter()
    line = one_error_line(simulate(scenario_file, target, fresh_cache))
    assert str(target) in line and expected in line
    assert not fresh_cache.exists()  # refused before pre-training
    assert time.perf_counter() - started < 5
    assert snapshot(tmp_path) == before


def test_sweep_refuses_a_bad_output_before_any_work(tmp_path):
    scenario = tmp_path / "sweep.toml"
    scenario.write_text(SWEEP.format(steps=40))
    (tmp_path / "results.txt").write_text("my notes")
    fresh_cache = tmp_path / "cache"
    for target, expected in [
        (tmp_path / "results.txt", "not a folder"),
        (tmp_path / "results.txt" / "sweep", "cannot be created"),
        (Path("/proc/dyad-results/sweep"), "cannot"),
    ]:
        result = CliRunner().invoke(
            cli,
            ["sweep", str(scenario), "--output", str(target), "--cache-dir", str(fresh_cache)],
        )
        line = one_error_line(result)
        assert str(target) in line and expected in line
    assert not fresh_cache.exists()
    assert (tmp_path / "results.txt").read_text() == "my notes"


# --------------------------------------------------------------------------------------------
# one writer at a time


def test_a_folder_being_written_is_refused_naming_the_writer(scenario_file, tmp_path, cache_dir):
    out = tmp_path / "run"
    with FolderLock(out):
        line = one_error_line(simulate(scenario_file, out, cache_dir, "--overwrite"))
        assert "another dyad process (pid" in line and str(os.getpid()) in line
        sweep_file = tmp_path / "sweep.toml"
        sweep_file.write_text(SWEEP.format(steps=40))
        result = CliRunner().invoke(cli, ["sweep", str(sweep_file), "--output", str(out)])
        assert "another dyad process" in one_error_line(result)
    assert not out.exists()
    assert not list(tmp_path.glob(".run*"))  # the lock file went with the lock


def test_a_lock_held_by_a_killed_process_is_free_again(scenario_file, tmp_path, cache_dir):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from dyad.store import FolderLock\n"
            f"lock = FolderLock({str(out)!r}).acquire(); print('locked', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert "another dyad process" in one_error_line(simulate(scenario_file, out, cache_dir))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (tmp_path / ".run.lock").exists()  # a stale lock file ...
    result = simulate(scenario_file, out, cache_dir)  # ... does not stop the next run
    assert result.exit_code == 0, result.output
    load_run(out)


def test_two_concurrent_simulate_processes_exactly_one_wins(tmp_path, cache_dir):
    """Two real `dyad simulate` processes on one --output, started together, three times."""
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY.format(steps=2000))
    # warm the cache so both processes reach the folder check at about the same time
    run_scenario(load_scenario(scenario), cache_dir=cache_dir, figures=False)
    lock_conflicts = 0
    for trial in range(3):
        out = tmp_path / f"run{trial}"
        processes = {
            seed: subprocess.Popen(
                [DYAD, "simulate", str(scenario), "--output", str(out), "--seed", str(seed)]
                + ["--cache-dir", str(cache_dir), "--quiet", "--no-figures"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for seed in (10 + trial, 20 + trial)
        }
        results = {seed: (p.wait(timeout=120), *p.communicate()) for seed, p in processes.items()}
        winners = [seed for seed, (code, _, _) in results.items() if code == 0]
        losers = [seed for seed, (code, _, _) in results.items() if code != 0]
        assert len(winners) == 1 and len(losers) == 1, results
        code, stdout, stderr = results[losers[0]]
        assert code == 2 and stdout == ""
        (line,) = stderr.strip().splitlines()
        assert line.startswith(f"Error: {out}: ")
        assert "another dyad process" in line or "already holds a complete run" in line
        lock_conflicts += "another dyad process" in line
        assert f"results in {out}" in results[winners[0]][1]
        assert load_run(out).manifest["seed"] == winners[0]  # the winner's run, complete
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(f".run{trial}")) == []
    # with 2,000 timesteps the runs overlap: the lock, not the finished run, decides
    assert lock_conflicts >= 1


# --------------------------------------------------------------------------------------------
# sweeps: --overwrite replaces whole, and an interrupted overwrite keeps the old sweep


def test_an_interrupted_sweep_overwrite_keeps_the_old_sweep_and_resumes(tmp_path, cache_dir):
    from dyad.sweeps import load_sweep, plan_sweep, run_sweep

    scenario = tmp_path / "sweep.toml"
    scenario.write_text(SWEEP.format(steps=40))
    out = tmp_path / "sweep"
    first = run_sweep(plan_sweep(scenario), out, workers=1, cache_dir=cache_dir)
    assert first.done == 2
    old = snapshot(out)
    with pytest.raises(ResultsError, match="already holds this sweep, complete"):
        run_sweep(plan_sweep(scenario), out, workers=1, cache_dir=cache_dir)

    changed = plan_sweep(scenario, {"run.steps": 60})

    def interrupt_after_first(record):
        raise KeyboardInterrupt

    stopped = run_sweep(
        changed, out, workers=1, cache_dir=cache_dir, overwrite=True, on_run=interrupt_after_first
    )
    assert stopped.interrupted and "previous sweep" in stopped.describe()
    assert snapshot(out) == old  # the old sweep, untouched
    resumed = run_sweep(changed, out, workers=1, cache_dir=cache_dir, overwrite=True)
    # one stop request lets a run already in flight finish, so one or both may be done
    assert resumed.skipped >= 1 and resumed.skipped + resumed.done == 2
    assert not resumed.interrupted
    sweep = load_sweep(out)
    assert json.loads((out / "sweep.json").read_text())["scenario"]["run"]["steps"] == 60
    assert (sweep.summary["status"] == "ok").all()
    for run_id in sweep.summary["run_id"]:
        assert load_run(out / "runs" / run_id).manifest["scenario"]["run"]["steps"] == 60
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep", "sweep.toml"]
