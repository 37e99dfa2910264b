"""More than two expressions: every expression gets its share of mirror neurons.

With happy, sad and surprise, a mirror layer at a fixed sparseness of 0.5 let every input
recruit half the layer, so two expressions had to share neurons (happy and sad merged into
bimodal-unselective cells), and classic VisNet's layer 4 coded surprise against the rest.
The defaults now derive from S what depends on it: the mirror layer's and VisNet's
sparseness are 1 − 1/S, so each expression can own N/S neurons. Perfect mimicry then gives
mirror neurons for all three expressions, each with about a third of the layer, on the
parent's face and on a face never seen, when the faces change in lighting only
(photometric changes; small size, two run seeds; measured 255/255 in both with the default
255 neurons, a multiple of S: docs/results.md). The test uses 66, also a multiple of 3.

With the faces also moving, scaling and tilting (the science tests' halved ranges), VisNet's
classic order lets fear share the layer-4 code of happy or sad: with happy, sad and fear, fear
got no mirror neurons in 5 of 6 runs (vision seeds 0, 1, 2 × run seeds 1, 2). For three or
more expressions the defaults therefore learn with a conscience in shuffled trace blocks
(``vision.visnet.conscience`` and ``trace_block`` "auto"; docs/results.md, "Shuffled trace
blocks"): 66 of 66 in both run seeds for vision seeds 0 and 2, asserted below against the
classic order of vision seed 2 (22 of 66 in both, fear none).

What does not hold, and is not asserted here: vision seed 1 at this size gives 22 and 44 of
66 with the defaults (fear none); at full size happy, sad and fear give 255 of 255 with run
seeds 1 and 3 but 168 with run seed 2 (the happy group at the active threshold); six
expressions fail (docs/results.md).
"""

from __future__ import annotations

import pytest
from conftest import small_science_raw

from dyad.config import scenario_warnings, validate_scenario
from dyad.simulation import UNSEEN_FACE, run_scenario

N_NEURONS = 66  # a multiple of 3 and of 6 (see mirror.n_neurons)
THREE = ["happy", "sad", "surprise"]


def scenario(expressions: list[str]):
    raw = small_science_raw(
        run={"steps": 1500},
        infant={"expressions": expressions, "hold_length": 10},
        vision={
            # lighting changes only: see the module docstring for the geometric case
            "faces": {
                "transforms": {
                    "translation": 0.0,
                    "scale": [1.0, 1.0],
                    "rotation": 0.0,
                    "compression": [1.0, 1.0],
                }
            },
        },
        mirror={"n_neurons": N_NEURONS},
        parent={"policy": "perfect"},
    )
    return validate_scenario(raw)


@pytest.mark.parametrize("seed", [1, 2])
def test_three_expressions_each_get_mirror_neurons(seed, cache_dir):
    outcome = run_scenario(scenario(THREE), seed=seed, cache_dir=cache_dir)
    neurons = outcome.tables["neurons"].query("phase == 'after'")
    mirror = neurons[neurons["neuron_class"] == "mirror"]
    assert len(mirror) >= 0.9 * N_NEURONS, outcome.summary["class_counts"]
    shares = mirror["preferred_visual"].value_counts()
    for expression in THREE:
        # at least half of an even share (1/S) of the mirror neurons
        assert shares.get(expression, 0) >= 0.5 * len(mirror) / len(THREE), shares.to_dict()
    assert outcome.summary["mirror_by_parent"][UNSEEN_FACE] >= 0.9 * N_NEURONS
    assert scenario_warnings(scenario(THREE)) == []


def test_six_expressions_are_run_with_a_warning():
    six = [*THREE, "anger", "fear", "disgust"]
    (warning,) = scenario_warnings(scenario(six))
    assert "6 expressions" in warning and "docs/results.md" in warning


def moving(expressions: list[str], vision_seed: int, **visnet: object):
    """Perfect mimicry at the small size with the science tests' moving faces."""
    raw = small_science_raw(
        run={"steps": 1500},
        infant={"expressions": expressions, "hold_length": 10},
        mirror={"n_neurons": N_NEURONS},
        parent={"policy": "perfect"},
    )
    raw["vision"]["seed"] = vision_seed
    if visnet:
        raw["vision"]["visnet"] = visnet
    return validate_scenario(raw)


def mirror_shares(outcome) -> tuple[int, dict[str, int]]:
    neurons = outcome.tables["neurons"].query("phase == 'after'")
    mirror = neurons[neurons["neuron_class"] == "mirror"]
    return len(mirror), mirror["preferred_visual"].value_counts().to_dict()


HAPPY_SAD_FEAR = ["happy", "sad", "fear"]


@pytest.mark.parametrize("vision_seed", [0, 2])
def test_fear_gets_its_own_mirror_neurons_with_moving_faces(vision_seed, cache_dir):
    for seed in (1, 2):
        outcome = run_scenario(moving(HAPPY_SAD_FEAR, vision_seed), seed=seed, cache_dir=cache_dir)
        n_mirror, shares = mirror_shares(outcome)
        assert n_mirror >= 0.9 * N_NEURONS, shares
        for expression in HAPPY_SAD_FEAR:
            assert shares.get(expression, 0) >= 0.5 * n_mirror / 3, shares


def test_in_the_classic_order_fear_shares_another_expressions_code(cache_dir):
    """The control: the same visual system learnt in the classic order, no conscience."""
    classic = moving(HAPPY_SAD_FEAR, 2, conscience=0.0, trace_block=0)
    warnings = scenario_warnings(classic)
    assert any(w.startswith("vision.visnet.conscience, trace_block: 0, 0, 0, 0") for w in warnings)
    for seed in (1, 2):
        n_mirror, shares = mirror_shares(run_scenario(classic, seed=seed, cache_dir=cache_dir))
        assert shares.get("fear", 0) == 0 and n_mirror <= N_NEURONS // 2, shares
