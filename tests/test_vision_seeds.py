"""``vision.vary_with_run_seed``: each run seed draws its own VisNet and layer-4 banks."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import TINY_NETWORK_TOML

from dyad.cli import cli
from dyad.config import validate_scenario
from dyad.simulation import prepare_vision, run_scenario, vision_seed
from dyad.store import load_run
from dyad.sweeps import load_sweep, plan_sweep, pretrain_sweep
from dyad.vision.cache import _META


def scenario(tiny_raw, vary: bool):
    return validate_scenario(tiny_raw(vision={"seed": 3, "vary_with_run_seed": vary}))


def weights(pretrained) -> dict[str, np.ndarray]:
    return pretrained.visnet.to_arrays()


def assert_same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_without_the_option_every_run_seed_shares_one_visual_system(tiny_raw, cache_dir):
    fixed = scenario(tiny_raw, vary=False)
    assert vision_seed(fixed, 1) == vision_seed(fixed, 2) == 3
    one, train_1, test_1 = prepare_vision(fixed, cache_dir, run_seed=1)
    two, train_2, test_2 = prepare_vision(fixed, cache_dir, run_seed=2)
    assert one.config.seed == two.config.seed == 3
    assert one.cache_path == two.cache_path
    assert_same_arrays(weights(one), weights(two))
    np.testing.assert_array_equal(train_1, train_2)
    np.testing.assert_array_equal(test_1, test_2)


def test_each_run_seed_draws_its_own_visnet_and_banks(tiny_raw, cache_dir):
    varying = scenario(tiny_raw, vary=True)
    seeds = {run: vision_seed(varying, run) for run in (1, 2)}
    assert len(set(seeds.values()) | {3}) == 3  # distinct from each other and from vision.seed
    # derived from vision.seed too: another base gives another family of visual systems
    other_base = validate_scenario(tiny_raw(vision={"seed": 4, "vary_with_run_seed": True}))
    assert vision_seed(other_base, 1) != seeds[1]

    one, train_1, test_1 = prepare_vision(varying, cache_dir, run_seed=1)
    two, train_2, test_2 = prepare_vision(varying, cache_dir, run_seed=2)
    assert (one.config.seed, two.config.seed) == (seeds[1], seeds[2])
    assert one.cache_path != two.cache_path  # cached per vision seed
    for name in weights(one):
        if name.endswith(".weights"):
            assert not np.array_equal(weights(one)[name], weights(two)[name]), name
    assert not np.array_equal(train_1, train_2)
    assert not np.array_equal(test_1, test_2)

    again, train_again, test_again = prepare_vision(varying, cache_dir, run_seed=1)
    assert again.from_cache and again.cache_path == one.cache_path
    assert_same_arrays(weights(again), weights(one))
    np.testing.assert_array_equal(train_again, train_1)
    np.testing.assert_array_equal(test_again, test_1)


def test_same_run_seed_gives_identical_tables_and_the_manifest_names_the_vision_seed(
    tiny_raw, cache_dir
):
    varying = scenario(tiny_raw, vary=True)
    first = run_scenario(varying, seed=5, cache_dir=cache_dir, figures=False)
    second = run_scenario(varying, seed=5, cache_dir=cache_dir, figures=False)
    for name in first.tables:
        pd.testing.assert_frame_equal(first.tables[name], second.tables[name])
    assert first.manifest["vision_seed"] == vision_seed(varying, 5) != 3
    other = run_scenario(varying, seed=6, cache_dir=cache_dir, figures=False)
    assert other.manifest["vision_seed"] == vision_seed(varying, 6)
    assert other.manifest["vision_seed"] != first.manifest["vision_seed"]
    fixed = run_scenario(scenario(tiny_raw, vary=False), seed=5, cache_dir=cache_dir, figures=False)
    assert fixed.manifest["vision_seed"] == 3


SWEEP = """
name = "tiny_seeds"
seed = 7

[run]
steps = 40
test_trials = 8

[infant]
hold_length = 5

[parent]
policy = "noisy"

[parent.params]
q = 0.0

[vision]
preset = "small"
seed = 2
vary_with_run_seed = {vary}
n_train_transforms = 3
n_test_transforms = 8
bank_size = 6

{network}
[sweep]
seeds = 2

[sweep.grid]
"parent.params.q" = [0.0, 1.0]
"""


def write_sweep(folder: Path, vary: bool) -> Path:
    path = folder / "tiny_seeds.toml"
    path.write_text(
        textwrap.dedent(SWEEP.format(vary=str(vary).lower(), network=TINY_NETWORK_TOML))
    )
    return path


def test_sweep_pretrains_each_vision_seed_once_before_dispatch(tmp_path, monkeypatch):
    import dyad.vision.pretrained

    plan = plan_sweep(write_sweep(tmp_path, vary=True))
    cache = tmp_path / "cache"
    pretrain_sweep(plan, cache, progress=False)
    assert len(list(cache.glob("pretrain-*.npz"))) == 2  # one per seed index, not per run

    def no_training(*args, **kwargs):
        raise AssertionError("a run pre-trained although the sweep had done it")

    monkeypatch.setattr(dyad.vision.pretrained, "train", no_training)
    for run in plan.runs:
        pretrained, _, _ = prepare_vision(run.scenario(), cache, run_seed=run.seed)
        assert pretrained.from_cache


def test_several_visual_systems_are_built_on_the_workers_as_they_would_be_here(tmp_path):
    from dyad.sweeps.executors import open_executor

    plan = plan_sweep(write_sweep(tmp_path, vary=True))
    here, there = tmp_path / "here", tmp_path / "there"
    pretrain_sweep(plan, here, progress=False)
    with open_executor(workers=2) as (executor, _, _):
        pretrain_sweep(plan, there, progress=False, executor=executor)
    built = sorted(p.name for p in here.glob("*.npz"))
    assert len([name for name in built if name.startswith("pretrain-")]) == 2
    assert sorted(p.name for p in there.glob("*.npz")) == built
    for name in built:  # the same arrays and cache keys (the metadata also holds timings)
        with np.load(here / name) as a, np.load(there / name) as b:
            meta = [json.loads(f[_META].tobytes()) for f in (a, b)]
            assert [m["key"] for m in meta] == [meta[0]["key"]] * 2
            assert_same_arrays(
                {k: a[k] for k in a.files if k != _META}, {k: b[k] for k in b.files if k != _META}
            )


def test_the_sweep_says_it_builds_several_visual_systems_on_its_workers(tmp_path):
    output = tmp_path / "sweep"
    args = ["sweep", str(write_sweep(tmp_path, vary=True)), "--workers", "2"]
    result = CliRunner().invoke(
        cli, [*args, "--output", str(output), "--cache-dir", str(tmp_path / "cache")]
    )
    assert result.exit_code == 0, result.output + result.stderr
    said = "tiny_seeds: loading 2 visual systems on the workers, each trained unless cached ..."
    assert said in result.stderr.splitlines()


def test_a_visual_system_that_fails_on_a_worker_fails_the_sweep_there(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    import dyad.sweeps.runner

    def broken(scenario, cache_dir, run_seed):
        raise ValueError(f"cannot build vision seed {run_seed}")

    monkeypatch.setattr(dyad.sweeps.runner, "prepare_visual_system", broken)
    plan = plan_sweep(write_sweep(tmp_path, vary=True))
    with ThreadPoolExecutor(2) as executor:
        with pytest.raises(ValueError, match="cannot build vision seed"):
            pretrain_sweep(plan, tmp_path / "cache", progress=False, executor=executor)


def test_sweep_table_and_run_manifests_record_the_vision_seed(tmp_path, cache_dir):
    path = write_sweep(tmp_path, vary=True)
    output = tmp_path / "sweep"
    result = CliRunner().invoke(
        cli,
        ["sweep", str(path), "--workers", "2", "--output", str(output)]
        + ["--cache-dir", str(cache_dir), "--quiet"],
    )
    assert result.exit_code == 0, result.output + result.stderr
    summary = load_sweep(output).summary
    assert (summary["status"] == "ok").all()
    # paired across grid points: seed index k has one vision seed at every q
    per_index = summary.groupby("seed_index")["vision_seed"].nunique()
    assert per_index.eq(1).all()
    assert summary["vision_seed"].nunique() == 2
    assert 2 not in set(summary["vision_seed"])
    for row in summary.to_dict("records"):
        manifest = load_run(output / "runs" / row["run_id"]).manifest
        assert manifest["vision_seed"] == row["vision_seed"]
