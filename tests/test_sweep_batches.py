"""Sweeps in batches: runs of one visual system step together, with the tables of a run alone."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_sweep import FLAKY_PLUGIN, invoke, write_scenario

from dyad.config import validate_scenario
from dyad.errors import ConfigError
from dyad.simulation import run_scenario
from dyad.store import load_run
from dyad.sweeps import RUNS_MANIFEST, load_sweep, plan_sweep
from dyad.sweeps.batching import MAX_AUTO_BATCH, batch_size_for, check_batch_size, make_batches


def test_a_batched_sweep_writes_the_tables_of_dyad_simulate(tmp_path, cache_dir):
    path = write_scenario(tmp_path, '"parent.params.q" = [0.0, 0.3, 1.0]', seeds=2)
    output = tmp_path / "sweep"
    result = invoke(
        path, "--workers", 1, "--batch-size", 4, "--output", output, "--cache-dir", cache_dir
    )
    assert result.exit_code == 0, result.output + result.stderr
    assert "6 runs done" in result.stdout and "2 batches of <= 3" in result.stdout
    records = [json.loads(line) for line in (output / RUNS_MANIFEST).read_text().splitlines()]
    assert sorted(r["batch"]["size"] for r in records) == [3] * 6
    plan = plan_sweep(path)
    for spec in (plan.runs[1], plan.runs[4]):
        swept = load_run(output / "runs" / spec.run_id)
        assert swept.manifest["batch"]["size"] == 3
        alone = run_scenario(
            validate_scenario(spec.scenario().to_dict()),
            seed=spec.seed,
            output=tmp_path / f"alone-{spec.run_id}",
            cache_dir=cache_dir,
            figures=False,
        )
        reread = load_run(alone.folder)
        assert sorted(swept.tables) == sorted(reread.tables)
        for name in reread.tables:
            pd.testing.assert_frame_equal(
                getattr(swept, name), getattr(reread, name), check_exact=True
            )
        assert swept.manifest["summary"] == reread.manifest["summary"]


def test_one_failing_run_does_not_lose_its_batch(tmp_path, cache_dir):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "flaky.py").write_text(FLAKY_PLUGIN)
    path = write_scenario(
        tmp_path, '"parent.params.fail_at" = [-1, 25]', policy="flaky", params="", seeds=2
    )
    output = tmp_path / "sweep"
    result = invoke(
        path, "--workers", 1, "--batch-size", 8, "--output", output, "--cache-dir", cache_dir,
        "--plugins-dir", plugins, "--quiet",
    )  # fmt: skip
    assert result.exit_code == 3, result.output + result.stderr
    summary = load_sweep(output).summary
    assert summary.set_index("run_id")["status"].to_dict() == {
        "fail_at=-1__seed=0": "ok",
        "fail_at=-1__seed=1": "ok",
        "fail_at=25__seed=0": "failed",
        "fail_at=25__seed=1": "failed",
    }
    assert sorted(p.name for p in (output / "runs").iterdir()) == [
        "fail_at=-1__seed=0",
        "fail_at=-1__seed=1",
    ]
    records = [json.loads(line) for line in (output / RUNS_MANIFEST).read_text().splitlines()]
    assert {r["batch"]["id"] for r in records} == {0}  # all four ran in one task
    assert all("broke down at timestep 25" in r["error"] for r in records if r["status"] != "ok")


@pytest.mark.parametrize("bad", ["0", "-3", "many", "2.5", ""])
def test_bad_batch_sizes_are_refused_with_exit_2(tmp_path, bad):
    path = write_scenario(tmp_path)
    result = invoke(path, "--batch-size", bad, "--output", tmp_path / "out")
    assert result.exit_code == 2
    assert "--batch-size: expected 'auto' or a positive integer" in result.output + result.stderr
    assert not (tmp_path / "out").exists()


def test_batch_size_values():
    assert check_batch_size("auto") is None and check_batch_size(None) is None
    assert check_batch_size("12") == 12 and check_batch_size(3) == 3
    for bad in (0, "x", 1.5, True, "-1"):
        with pytest.raises(ConfigError, match="batch_size: expected"):
            check_batch_size(bad, "batch_size")
    # auto: at least two tasks per executor slot, never more than MAX_AUTO_BATCH runs
    assert batch_size_for(160, 2, None) == MAX_AUTO_BATCH
    assert batch_size_for(55, 2, None) == 14
    assert batch_size_for(3, 4, None) == 1
    assert batch_size_for(1000, 4, 5) == 5


def test_batches_hold_runs_of_one_visual_system_in_even_sizes(tmp_path):
    path = write_scenario(
        tmp_path, '"vision.seed" = [0, 1]\n"parent.params.q" = [0.0, 0.5]', seeds=5
    )
    plan = plan_sweep(path)
    batches = make_batches(plan.runs, 4, lambda run: False)
    # 10 runs per vision seed: 3 batches each (4, 3, 3 runs), never mixing vision seeds
    assert sorted(len(b) for b in batches) == [3, 3, 3, 3, 4, 4]
    for batch in batches:
        assert len({run.overrides["vision.seed"] for run in batch}) == 1
    assert sorted(run.run_id for b in batches for run in b) == sorted(plan.run_ids)
    # a run seed that draws its own visual system keeps each seed's runs apart
    own = plan_sweep(path, {"vision.vary_with_run_seed": True})
    seeded = make_batches(own.runs, 32, lambda run: True)
    assert len(seeded) == 10 and all(len(b) == 2 for b in seeded)


def test_a_folder_that_fails_to_write_fails_its_run_only(tmp_path, cache_dir, monkeypatch):
    """A run whose folder cannot be written fails alone; the others of its batch are written."""
    from dyad.sweeps import worker

    plan = plan_sweep(write_scenario(tmp_path, '"parent.params.q" = [0.0, 0.3, 1.0]', seeds=1))
    broken = plan.runs[1]
    real = worker._save

    def save(spec, folder, outcome, writer):
        if spec is broken:
            (folder.parent / f".{folder.name}.new-half").mkdir(parents=True)
            raise OSError("disk full")
        real(spec, folder, outcome, writer)

    monkeypatch.setattr(worker, "_save", save)
    folders = [str(tmp_path / "runs" / spec.run_id) for spec in plan.runs]
    records = worker.execute_batch(plan.runs, folders, str(cache_dir))
    assert [record["status"] for record in records] == ["ok", "failed", "ok"]
    assert "OSError: disk full" in records[1]["error"]
    assert all("finished" in record and record["batch"]["size"] == 3 for record in records)
    # every folder is complete when the batch returns; the failed run left nothing behind
    assert load_run(folders[0]).manifest["run_id"] == plan.runs[0].run_id
    assert load_run(folders[2]).manifest["run_id"] == plan.runs[2].run_id
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted(
        [plan.runs[0].run_id, plan.runs[2].run_id]
    )


def test_a_run_that_fails_to_swap_in_at_the_batch_end_fails_alone(tmp_path, cache_dir, monkeypatch):
    """The batch's folders appear at its end (one sync); a rename failing there fails one run."""
    from dyad.store import write as store_write
    from dyad.sweeps import worker

    plan = plan_sweep(write_scenario(tmp_path, '"parent.params.q" = [0.0, 0.3, 1.0]', seeds=1))
    folders = [str(tmp_path / "runs" / spec.run_id) for spec in plan.runs]
    real_rename, seen = store_write._rename, []

    def rename(source, target):
        # every run of the batch was made before the first one appears
        seen.append(sorted(p.name for p in target.parent.iterdir() if p.name.startswith(".")))
        if target.name == plan.runs[2].run_id:
            raise OSError("rename failed")
        real_rename(source, target)

    monkeypatch.setattr(store_write, "_rename", rename)
    records = worker.execute_batch(plan.runs, folders, str(cache_dir))
    assert len(seen[0]) == 3
    assert [record["status"] for record in records] == ["ok", "ok", "failed"]
    assert "OSError: rename failed" in records[2]["error"] and "summary" not in records[2]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted(
        [plan.runs[0].run_id, plan.runs[1].run_id]
    )
