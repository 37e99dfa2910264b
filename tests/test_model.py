"""DyadModel built from plain keyword parameters, as Mesa's SolaraViz and batch_run build it."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mesa.experimental.scenarios import Scenario as MesaScenario

from dyad.config import validate_scenario
from dyad.config.reading import find_scenario
from dyad.errors import ConfigError
from dyad.model import DyadModel
from dyad.simulation import run_scenario


def tiny_toml(path: Path, **extra: str) -> Path:
    """A tiny scenario file (small VisNet preset, 32 mirror neurons, few steps)."""
    text = """
name = "tiny"
seed = 1
[run]
steps = 60
test_trials = 8
[infant]
hold_length = 5
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
    path.write_text(text + "".join(extra.values()))
    return path


def test_keyword_model_steps_through_the_same_interaction_as_run_scenario(tiny_raw, cache_dir):
    raw = tiny_raw()
    model = DyadModel(scenario_file=raw, seed=3, cache_dir=cache_dir, probe_every=50)
    model.run_for(raw["run"]["steps"])
    assert not model.running and model.steps == 200
    outcome = run_scenario(validate_scenario(raw), seed=3, cache_dir=cache_dir, figures=False)
    live, batched = model.interaction_table(), outcome.tables["interaction"]
    # the same interaction exactly; the live model's dense mirror layer and the runs' batched
    # one agree to float32 rounding in another order (docs/mirror.md: rates within ~1e-4)
    floats = ["mirror_mean_rate", "visual_drive", "motor_drive"]
    pd.testing.assert_frame_equal(live.drop(columns=floats), batched.drop(columns=floats))
    pd.testing.assert_frame_equal(live[floats], batched[floats], check_exact=False, atol=1e-4)
    # probes at t = 0, every 50 timesteps and at the end
    assert [p["t"] for p in model.probes] == [0, 50, 100, 150, 200]
    # the last probe classifies like the run's test after training (perfect mimicry)
    assert model.probes[-1]["mirror"] == outcome.summary["class_counts"]["mirror"]


def test_probing_never_changes_the_run(tiny_raw, cache_dir):
    raw = tiny_raw(run={"steps": 80, "test_trials": 8})
    often = DyadModel(scenario_file=raw, seed=2, cache_dir=cache_dir, probe_every=7)
    never = DyadModel(scenario_file=raw, seed=2, cache_dir=cache_dir, probe_every=0)
    often.run_for(80)
    never.run_for(80)
    assert len(often.probes) == 13 and len(never.probes) == 2
    pd.testing.assert_frame_equal(often.interaction_table(), never.interaction_table())


def test_fields_override_the_scenario_file(tmp_path, cache_dir):
    path = tiny_toml(tmp_path / "tiny.toml")
    model = DyadModel(
        scenario_file=path,
        seed=0,
        cache_dir=cache_dir,
        overrides={"run.steps": 40},
        **{"parent.policy": "noisy", "parent.params.q": 1.0},
    )
    assert model.n_steps == 40 and model.config.run.steps == 40
    assert model.parents[0].policy_name == "noisy"
    model.run_for(40)
    assert model.congruence == 0.0  # q = 1: the parent always shows the other expression
    assert model.datacollector.get_model_vars_dataframe()["congruence"].iloc[-1] == 0.0


def test_recent_rates_and_neuron_order(tiny_raw, cache_dir):
    model = DyadModel(scenario_file=tiny_raw(), seed=1, cache_dir=cache_dir, recent_steps=10)
    assert model.recent_mirror_rates().shape == (0, 32)
    model.run_for(25)
    recent = model.recent_mirror_rates()
    assert recent.shape == (10, 32)
    np.testing.assert_array_equal(recent[-1], model.infant.rates)
    logged = model.recorder.mirror_rates[15:25]
    np.testing.assert_array_equal(recent, logged)
    order = model.neuron_order()
    assert sorted(order.tolist()) == list(range(32))
    ranks = [model.neuron_class[i] for i in order]
    from dyad.analysis import NEURON_CLASSES

    assert [NEURON_CLASSES.index(c) for c in ranks] == sorted(
        NEURON_CLASSES.index(c) for c in ranks
    )


def test_a_shipped_scenario_is_found_by_name():
    assert find_scenario("perfect").name == "perfect.toml"
    with pytest.raises(ConfigError, match="no such scenario file or shipped scenario.*lagged"):
        find_scenario("no_such_scenario")


def test_bad_fields_name_the_field_and_what_was_expected(tiny_raw, cache_dir):
    with pytest.raises(ConfigError, match=r"run\.steps: Input should be greater than 0"):
        DyadModel(scenario_file=tiny_raw(), cache_dir=cache_dir, **{"run.steps": -1})
    with pytest.raises(ConfigError, match=r"parent\.params\.lag: unknown key"):
        DyadModel(scenario_file=tiny_raw(), cache_dir=cache_dir, **{"parent.params.lag": 2})
    with pytest.raises(ConfigError, match="scenario_file="):
        DyadModel(scenario="perfect")
    with pytest.raises(ConfigError, match="need a scenario_file"):
        DyadModel(**{"run.steps": 5})
    with pytest.raises(ConfigError, match="seed: expected a non-negative integer"):
        DyadModel(scenario_file=tiny_raw(), cache_dir=cache_dir, seed=-1)


def test_mesa_scenario_passed_by_solaraviz_on_reset_is_ignored(tiny_raw, cache_dir):
    model = DyadModel(
        scenario_file=tiny_raw(), seed=4, cache_dir=cache_dir, scenario=MesaScenario()
    )
    assert model.config.name == "tiny" and model.seed == 4


def test_mesa_batch_run_runs_the_keyword_model(tmp_path, cache_dir):
    from mesa.batchrunner import batch_run

    path = tiny_toml(tmp_path / "tiny.toml")
    method = multiprocessing.get_start_method(allow_none=True)
    try:
        rows = batch_run(
            DyadModel,
            parameters={
                "scenario_file": str(path),
                "cache_dir": str(cache_dir),
                "parent.policy": "noisy",
                "parent.params.q": [0.0, 1.0],
                "probe_every": 20,
            },
            rng=[5, 6],
            max_steps=100,
            number_processes=1,
            data_collection_period=-1,
            display_progress=False,
        )
    finally:
        multiprocessing.set_start_method(method, force=True)  # batch_run forces "spawn"
    table = pd.DataFrame(rows)
    assert len(table) == 4
    assert sorted(table["seed"]) == [5, 5, 6, 6]
    assert (table["t"] == 60).all()  # the scenario's 60 timesteps, then running is False
    by_q = table.groupby("parent.params.q")["congruence"].agg(["min", "max"])
    assert by_q.loc[0.0].tolist() == [1.0, 1.0] and by_q.loc[1.0].tolist() == [0.0, 0.0]
    counts = table[["mirror", "anti-mirror", "visual-only", "motor-only"]].sum(axis=1)
    assert (counts <= 32).all()
    # no mirror neurons when the parent always shows the other expression
    assert table.loc[table["parent.params.q"] == 1.0, "mirror"].max() == 0


def test_a_model_built_from_parts_does_not_probe(tiny_raw, cache_dir):
    """run_scenario's path: it tests the layer itself, so the model spends no time on probes."""
    from dyad.model import build_from_scenario

    parts = build_from_scenario(tiny_raw(), 1, {}, cache_dir, [])
    model = DyadModel(
        parts["brain"],
        parts["schedule"],
        parts["parent_schedule"],
        parts["policies"],
        parts["parent_names"],
        parts["expressions"],
        rng=parts["rng"],
    )
    model.run_for(200)
    assert not model.probing and model.probes == []
    assert model.recent_mirror_rates().shape == (60, 32)
