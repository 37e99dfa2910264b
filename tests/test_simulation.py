import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from dyad.cli import cli
from dyad.config import validate_scenario
from dyad.errors import PluginError
from dyad.simulation import run_scenario
from dyad.store import load_run


def run(raw, cache_dir, **kwargs):
    return run_scenario(validate_scenario(raw), cache_dir=cache_dir, **kwargs)


def test_same_scenario_and_seed_give_identical_tables(tiny_raw, cache_dir):
    raw = tiny_raw(parent={"policy": "noisy", "params": {"q": 0.3}})
    first, second = run(raw, cache_dir), run(raw, cache_dir)
    assert first.tables.keys() == second.tables.keys()
    for name in first.tables:
        pd.testing.assert_frame_equal(first.tables[name], second.tables[name])
    other = run(raw, cache_dir, seed=2)
    assert not other.tables["interaction"].equals(first.tables["interaction"])


def test_each_timestep_follows_the_stated_order_of_events(tiny_raw, cache_dir):
    # lag = hold length: the parent always shows what the infant showed one hold ago
    raw = tiny_raw(parent={"policy": "lagged", "params": {"lag": 10}})
    interaction = run(raw, cache_dir).tables["interaction"]
    infant = interaction["infant_expression"].cat.codes.to_numpy()
    parent = interaction["parent_expression"].cat.codes.to_numpy()
    expected_infant = (np.arange(200) // 10) % 2
    np.testing.assert_array_equal(infant, expected_infant)
    np.testing.assert_array_equal(parent, 1 - expected_infant)
    assert not interaction["congruent"].any()
    assert (interaction["mirror_active"] > 0).all()


def test_tables_are_tidy_and_complete(tiny_raw, cache_dir):
    outcome = run(tiny_raw(), cache_dir)
    tables = outcome.tables
    assert len(tables["interaction"]) == 200
    assert len(tables["mirror_rates"]) == 200 * 32
    assert set(tables["mirror_rates"].columns) == {"t", "neuron", "rate"}
    responses = tables["test_responses"]
    # 2 phases x (2 visual + 2 motor expressions) x 8 trials x 32 neurons
    assert len(responses) == 2 * 4 * 8 * 32
    assert set(responses["condition"]) == {"visual", "motor"}
    assert (responses["rate"].between(0, 1)).all()
    neurons = tables["neurons"]
    assert len(neurons) == 2 * 32 and set(neurons["phase"]) == {"before", "after"}
    assert sum(outcome.summary["class_counts"].values()) == 32
    assert outcome.summary["congruence"] == 1.0


def test_two_parents_share_the_infant_in_blocks(tiny_raw, cache_dir):
    raw = tiny_raw(
        parents=[
            {"name": "mother", "identity_seed": 0, "policy": "perfect"},
            {"name": "father", "identity_seed": 1, "policy": "lagged", "params": {"lag": 10}},
        ],
        sharing={"mode": "alternate", "block_length": 50},
    )
    outcome = run(raw, cache_dir)
    interaction = outcome.tables["interaction"]
    assert list(interaction["parent"].iloc[[0, 50, 100, 150]]) == [
        "mother",
        "father",
        "mother",
        "father",
    ]
    by_parent = interaction.groupby("parent", observed=True)["congruent"].mean()
    assert by_parent["mother"] == 1.0 and by_parent["father"] == 0.0
    visual = outcome.tables["test_responses"].query("condition == 'visual'")
    assert set(visual["parent"]) == {"mother", "father"}
    # every neuron is also judged on each face separately, and on a face never seen
    per_parent = outcome.tables["neurons_by_parent"]
    assert len(per_parent) == 2 * 3 * 32  # phases x (parents + unseen face) x neurons
    after = per_parent.query("phase == 'after'")
    counts = after.groupby("parent", observed=True).size()
    assert counts["mother"] == counts["father"] == counts["unseen face"] == 32
    assert outcome.summary["mirror_by_parent"] == {
        name: int((group["neuron_class"] == "mirror").sum())
        for name, group in after.groupby("parent", observed=True)
    }


def test_neurons_are_also_judged_on_a_face_no_phase_showed(tiny_raw, cache_dir):
    outcome = run(tiny_raw(), cache_dir)
    per_face = outcome.tables["neurons_by_parent"]
    assert list(dict.fromkeys(per_face["parent"])) == ["parent", "unseen face"]
    assert len(per_face) == 2 * 2 * 32  # phases x faces x neurons
    # the run's own classes and its test table stay about the parent's face
    responses = outcome.tables["test_responses"]
    assert set(responses.query("condition == 'visual'")["parent"]) == {"parent"}
    assert list(responses["parent"].cat.categories) == ["parent"]
    assert set(outcome.summary["mirror_by_parent"]) == {"parent", "unseen face"}
    # the unseen face's trials differ from the parent's (another person), the motor ones not
    after = per_face.query("phase == 'after'").set_index(["parent", "neuron"])
    motor_means = [c for c in after.columns if c.startswith("mean_motor")]
    visual_means = [c for c in after.columns if c.startswith("mean_visual")]
    assert after.loc["parent"][motor_means].equals(after.loc["unseen face"][motor_means])
    assert not after.loc["parent"][visual_means].equals(after.loc["unseen face"][visual_means])
    # the test can be switched off
    off = run(tiny_raw(run={"steps": 200, "test_trials": 8, "test_unseen_face": False}), cache_dir)
    assert "neurons_by_parent" not in off.tables and "mirror_by_parent" not in off.summary


def test_run_folder_has_a_manifest_with_scenario_seed_and_version(tiny_raw, cache_dir, tmp_path):
    from dyad.analysis.figures import draw_run_figures

    outcome = run(tiny_raw(), cache_dir, output=tmp_path / "run", seed=7, figures=draw_run_figures)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["seed"] == 7
    assert manifest["dyad_version"]
    assert manifest["scenario"]["run"]["steps"] == 200
    assert manifest["plugin_sources"] == {"perfect": "built-in"}
    assert (tmp_path / "run" / "figures" / "firing_rates.png").stat().st_size > 0
    loaded = load_run(tmp_path / "run")
    pd.testing.assert_frame_equal(
        loaded.neurons.reset_index(drop=True),
        outcome.tables["neurons"].reset_index(drop=True),
        check_categorical=False,
        check_dtype=False,
    )


def test_a_policy_that_fails_mid_run_is_reported_and_leaves_no_complete_result(
    tiny_raw, cache_dir, tmp_path
):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "fragile.py").write_text(
        "from dyad import ParentPolicy, hookimpl\n\n"
        "class Fragile(ParentPolicy):\n"
        "    name = 'fragile'\n"
        "    description = 'breaks at timestep 25, after the trial before the run'\n"
        "    def choose(self, t, infant_history):\n"
        "        if t == 25:\n"
        "            raise RuntimeError('lost interest')\n"
        "        return int(infant_history[-1])\n\n"
        "@hookimpl\n"
        "def dyad_register_policies(register):\n"
        "    register(Fragile)\n"
    )
    raw = tiny_raw(parent={"policy": "fragile"})
    scenario = validate_scenario(raw)
    with pytest.raises(PluginError, match="fragile.*timestep 25.*lost interest"):
        run_scenario(scenario, cache_dir=cache_dir, plugin_dirs=[plugins], output=tmp_path / "r")
    assert not (tmp_path / "r" / "manifest.json").exists()


def test_simulate_command_writes_results_and_prints_a_summary(tiny_raw, cache_dir, tmp_path):
    import tomllib  # noqa: F401  (the scenario below is written as TOML by hand)

    scenario = tmp_path / "tiny.toml"
    scenario.write_text(
        'name = "tiny"\nseed = 1\n[run]\nsteps = 100\ntest_trials = 8\n'
        '[vision]\npreset = "small"\nn_train_transforms = 8\nn_test_transforms = 8\n'
        "bank_size = 16\n[vision.visnet]\nepochs = [1, 1, 1, 1]\n"
        '[mirror]\nn_neurons = 32\n[parent]\npolicy = "lagged"\n[parent.params]\nlag = 5\n'
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["simulate", str(scenario), "--output", str(out), "--cache-dir", str(cache_dir), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert "congruence c = 0.50" in result.stdout
    assert "mirror layer after training (32 neurons)" in result.stdout
    assert (out / "manifest.json").exists() and (out / "figures" / "firing_rates.png").exists()
    assert Path(out / "interaction.parquet").exists()


def test_simulate_says_when_it_compiles_the_mirror_layers_loop(cache_dir, tmp_path, monkeypatch):
    """A first run after installing compiles for seconds: the command says so, and no more."""
    from dyad.analysis import rank_kernel
    from dyad.brain import bank_kernels

    scenario = tmp_path / "tiny.toml"
    scenario.write_text(
        'name = "tiny"\nseed = 1\n[run]\nsteps = 100\ntest_trials = 8\n'
        '[vision]\npreset = "small"\nn_train_transforms = 8\nn_test_transforms = 8\n'
        "bank_size = 16\n[vision.visnet]\nepochs = [1, 1, 1, 1]\n[mirror]\nn_neurons = 32\n"
    )
    args = ["simulate", str(scenario), "--cache-dir", str(cache_dir), "--no-figures"]
    monkeypatch.setattr(bank_kernels, "compiled_loop_cached", lambda: True)
    monkeypatch.setattr(rank_kernel, "kernels_cached", lambda: True)
    result = CliRunner().invoke(cli, [*args, "--output", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert "compiling the mirror layer's loop" not in result.stderr
    monkeypatch.setattr(bank_kernels, "compiled_loop_cached", lambda: False)
    result = CliRunner().invoke(cli, [*args, "--output", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "compiling" in line]
    assert lines == [
        "tiny: compiling the mirror layer's loop and rank test "
        "(once after installing; later runs load them) ..."
    ]
    quiet = CliRunner().invoke(cli, [*args, "--output", str(tmp_path / "c"), "--quiet"])
    assert quiet.exit_code == 0 and "compiling" not in quiet.stderr
    # the rank test alone still to compile (its source changed, say) is said as well
    monkeypatch.setattr(bank_kernels, "compiled_loop_cached", lambda: True)
    monkeypatch.setattr(rank_kernel, "kernels_cached", lambda: False)
    result = CliRunner().invoke(cli, [*args, "--output", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "compiling the mirror layer's loop and rank test" in result.stderr
