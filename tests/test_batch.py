"""Runs in a batch: the same tables as alone, the dense layer's classes, failures kept apart."""

from __future__ import annotations

import textwrap
import uuid

import pandas as pd
import pytest
from conftest import small_science_raw

from dyad.analysis.classify import classify_arrays
from dyad.batch import batch_key, run_batch
from dyad.config import validate_scenario
from dyad.plugins import load_registry
from dyad.simulation import prepare_vision, run_scenario, run_streams, wire_run


def plugin_file(tmp_path, choose: str):
    """A policy plugin file whose ``choose`` body is given; returns (folder, policy name)."""
    name = f"batch_{uuid.uuid4().hex[:8]}"
    source = textwrap.dedent(
        f"""
        from dyad import ParentPolicy, hookimpl

        class Policy(ParentPolicy):
            name = "{name}"
            description = "a test policy"

            def choose(self, t, infant_history):
                {choose}

        @hookimpl
        def dyad_register_policies(register):
            register(Policy)
        """
    )
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"{name}.py").write_text(source)
    return folder, name


def test_runs_give_the_same_tables_alone_and_in_a_batch(tiny_raw, cache_dir, tmp_path):
    folder, name = plugin_file(tmp_path, "return int(infant_history[-1]) if t % 3 else 0")
    scenarios = [
        (validate_scenario(tiny_raw(parent={"policy": "noisy", "params": {"q": 0.2}})), 4),
        (validate_scenario(tiny_raw(parent={"policy": "lagged", "params": {"lag": 3}})), 5),
        (validate_scenario(tiny_raw(parent={"policy": name}, run={"steps": 200})), 6),
        (validate_scenario(tiny_raw(parent={"policy": "perfect"})), 7),
    ]
    together = run_batch(scenarios, cache_dir=cache_dir, plugin_dirs=[folder])
    assert [run.manifest["batch"] for run in together] == [
        {"size": 4, "index": i} for i in range(4)
    ]
    for (scenario, seed), batched in zip(scenarios, together, strict=True):
        alone = run_scenario(
            scenario, seed=seed, cache_dir=cache_dir, plugin_dirs=[folder], figures=False
        )
        assert alone.manifest["batch"] == {"size": 1, "index": 0}
        assert sorted(alone.tables) == sorted(batched.tables)
        for table in alone.tables:
            pd.testing.assert_frame_equal(
                alone.tables[table], batched.tables[table], check_exact=True
            )
        assert alone.summary == batched.summary


def dense_reference(scenario, seed, cache_dir):
    """The run with the dense MirrorLayer stepped one timestep at a time (the reference)."""
    _, training_bank, test_bank = prepare_vision(scenario, cache_dir, run_seed=seed)
    streams = run_streams(seed)
    wiring = wire_run(scenario, streams, load_registry(), training_bank, test_bank)
    brain = wiring.brain
    trials, flip = scenario.run.test_trials, scenario.run.motor_test_flip
    brain.probe(trials, flip, streams["test"])  # the "before" probe draws its flips first
    n_expr = len(scenario.infant.expressions)
    for t in range(scenario.run.steps):
        made = int(wiring.schedule[wiring.preroll + t])
        history = wiring.schedule[: wiring.preroll + t + 1]
        shown = wiring.policies[wiring.parent_schedule[t]].choose(t, history)
        brain.experience(int(wiring.parent_schedule[t]), int(shown), made)
    after = brain.probe(trials, flip, streams["test"])
    visual = after.visual.transpose(1, 0, 2, 3).reshape(n_expr, -1, after.visual.shape[-1])
    return classify_arrays(visual, after.motor).neuron_class


@pytest.mark.parametrize(
    ("policy", "params", "seed"),
    [("perfect", {}, 1), ("noisy", {"q": 0.3}, 2), ("lagged", {"lag": 4}, 3)],
)
def test_batched_runs_classify_like_the_dense_layer(cache_dir, policy, params, seed):
    scenario = validate_scenario(small_science_raw(parent={"policy": policy, "params": params}))
    (run,) = run_batch([(scenario, seed)], cache_dir=cache_dir)
    after = run.tables["neurons"].query("phase == 'after'")
    expected = dense_reference(scenario, seed, cache_dir)
    assert after["neuron_class"].astype(str).tolist() == list(expected)
    assert (after["neuron_class"] == "mirror").sum() > 0  # a run that learned something


def test_a_failing_run_does_not_lose_the_others_of_its_batch(tiny_raw, cache_dir, tmp_path):
    folder, name = plugin_file(tmp_path, "return 1 // (t - 50) * 0")
    good = validate_scenario(tiny_raw())
    bad = validate_scenario(tiny_raw(parent={"policy": name}))
    outcomes = run_batch(
        [(good, 1), (bad, 2), (good, 3)], cache_dir=cache_dir, plugin_dirs=[folder]
    )
    assert "failed at timestep 50: ZeroDivisionError" in str(outcomes[1])
    assert isinstance(outcomes[1], Exception)
    for outcome, seed in ((outcomes[0], 1), (outcomes[2], 3)):
        alone = run_scenario(good, seed=seed, cache_dir=cache_dir, figures=False)
        pd.testing.assert_frame_equal(outcome.tables["neurons"], alone.tables["neurons"])
        assert outcome.manifest["batch"]["size"] == 2  # the failed run was left out


def test_runs_of_different_visual_systems_are_not_batched(tiny_raw):
    one = validate_scenario(tiny_raw())
    other = validate_scenario(tiny_raw(vision={"seed": 5}))
    longer = validate_scenario(tiny_raw(run={"steps": 300}))
    assert batch_key(one, 1) == batch_key(one, 2)
    assert batch_key(one, 1) != batch_key(other, 1)
    assert batch_key(one, 1) != batch_key(longer, 1)
    with pytest.raises(ValueError, match="batch_key"):
        run_batch([(one, 1), (other, 1)])
    assert run_batch([]) == []


def test_a_process_reads_a_visual_system_from_the_cache_once(tiny_raw, cache_dir, monkeypatch):
    """A worker's next batch of the same visual system skips the cache files; others do not."""
    import dyad.simulation as simulation

    loads = []
    real = simulation.prepare_vision

    def counted(scenario, folder=None, progress=False, run_seed=None):
        loads.append((scenario.vision.bank_size, run_seed))
        return real(scenario, folder, progress, run_seed)

    monkeypatch.setattr(simulation, "prepare_vision", counted)
    monkeypatch.setattr(simulation, "_VISION_MEMO", {})
    one = validate_scenario(tiny_raw(parent={"policy": "perfect"}))
    first = run_batch([(one, 1), (one, 2)], cache_dir=cache_dir)
    second = run_batch([(one, 3)], cache_dir=cache_dir)
    assert len(loads) == 1
    # the shared banks are read-only: no run can change what the next one sees
    _, training, test = simulation.cached_vision(one, cache_dir, run_seed=3)
    assert not training.flags.writeable and not test.flags.writeable
    # and a run from the memory gives the tables of a run that read the cache
    monkeypatch.setattr(simulation, "_VISION_MEMO", {})
    fresh = run_batch([(one, 3)], cache_dir=cache_dir)
    for table in fresh[0].tables:
        pd.testing.assert_frame_equal(
            fresh[0].tables[table], second[0].tables[table], check_exact=True
        )
    assert len(loads) == 2 and len(first) == 2
    # another bank size, or another run seed when it draws the visual system, loads again
    run_batch([(validate_scenario(tiny_raw(vision={"bank_size": 7})), 1)], cache_dir=cache_dir)
    varying = validate_scenario(tiny_raw(vision={"vary_with_run_seed": True}))
    run_batch([(varying, 1)], cache_dir=cache_dir)
    run_batch([(varying, 2)], cache_dir=cache_dir)
    assert len(loads) == 5
